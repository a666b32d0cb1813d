"""A `kizashi fit` folder whose files were damaged on disk loads exactly as written or is
refused in one line naming the file: never as another model, never with a raw error of
numpy, zipfile or json.

The family (:mod:`kizashi.testing.damage`) is generated from a real folder: a bit flipped
at offsets across each file (and in every zip header of ``model.npz``), 64 random bytes
overwritten, cuts, bytes appended, an empty file, text, JSON of another shape. Before the
digests, ``model.npz`` damage in a zip header or an array's header raised numpy's and
zipfile's own errors (``TokenError``, ``NotImplementedError: That compression method is
not supported``, ``RuntimeError: File ... is encrypted``), and a flipped byte in
``config.json``'s ``entity`` or ``detector`` loaded silently.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kizashi.detectors.fitted_model import (
    ARRAYS,
    FITTED,
    RECORD,
    _model_key,
    fit_detector,
    load_fitted,
    save_fitted,
)
from kizashi.integrity import DIGEST_KEY
from kizashi.testing.damage import check_loader, zip_offsets

SMALL = {"window": 20, "learning_period": 20, "estimation_samples": 10, "discord_history": 50,
         "context_levels": 4, "long_window": None, "discord_window": 8}
TEST = np.random.default_rng(1).normal(0, 1, (30, 3))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    rng = np.random.default_rng(0)
    detector = fit_detector("ensemble", rng.normal(0, 1, (120, 3)), None, SMALL)
    out = tmp_path_factory.mktemp("fit") / "model"
    save_fitted(detector, out, ["cpu", "mem", "io"], entity="node1", rows=120)
    return out


def load(path):
    detector, record = load_fitted(path.parent)
    return detector.score(TEST), record


def same(a, b) -> bool:
    return bool(np.array_equal(a[0], b[0], equal_nan=True)) and a[1] == b[1]


def copy_of(folder: Path, tmp_path: Path) -> tuple[Path, dict]:
    """A copy of the fit folder, and its record to edit."""
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    return copy, json.loads((copy / RECORD).read_text())


#: strides through the files: the default tier's, and a denser one (CI's slow tier)
DENSITY = [pytest.param(1, id="default"), pytest.param(5, id="dense", marks=pytest.mark.slow)]


@pytest.mark.parametrize("density", DENSITY)
def test_a_damaged_record_is_refused_or_loads_the_same(folder, tmp_path, density):
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    good = (copy / RECORD).read_bytes()
    failures = check_loader(copy / RECORD, good, load, same, flip_step=19 // density,
                            overwrite_step=97 // density, cut_step=211 // density, tail=16)
    assert not failures, f"{len(failures)} damaged records, first: {failures[:5]}"


@pytest.mark.parametrize("density", DENSITY)
def test_damaged_arrays_are_refused_or_load_the_same(folder, tmp_path, density):
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    good = (copy / ARRAYS).read_bytes()
    step = max(7, len(good) // (200 * density)) | 1
    failures = check_loader(copy / ARRAYS, good, load, same, flip_step=step,
                            overwrite_step=step * 2 + 1, cut_step=step * 3 + 2,
                            also=zip_offsets(good)[::61 // density])
    assert not failures, f"{len(failures)} damaged model files, first: {failures[:5]}"


def test_the_record_and_the_arrays_carry_their_digests(folder):
    record = json.loads((folder / RECORD).read_text())
    assert record["format"] == "kizashi-fitted/2" and len(record[DIGEST_KEY]) == 64
    with open(folder / ARRAYS, "rb") as handle:
        assert handle.read()[-79:].startswith(b"kizashi-sha256:")
    with np.load(folder / ARRAYS, allow_pickle=False) as stored:  # plain numpy reads it
        assert FITTED in stored.files


def test_whitespace_of_the_record_may_change(folder, tmp_path):
    copy, record = copy_of(folder, tmp_path)
    (copy / RECORD).write_text(json.dumps(record, indent=4) + "\n\n")
    assert same(load(copy / RECORD), load(folder / RECORD))


@pytest.mark.parametrize(("key", "value"), [("entity", "node2"), ("rows", 121),
                                            ("detector", "Other"), ("extra", 1)])
def test_any_other_change_of_the_record_is_refused(folder, tmp_path, key, value):
    copy, record = copy_of(folder, tmp_path)
    record[key] = value
    (copy / RECORD).write_text(json.dumps(record))
    with pytest.raises(ValueError, match=f"^{copy / RECORD} was changed after it was written"):
        load_fitted(copy)


def test_a_record_of_the_new_format_without_its_digest_is_refused(folder, tmp_path):
    copy, record = copy_of(folder, tmp_path)
    del record[DIGEST_KEY]
    (copy / RECORD).write_text(json.dumps(record))
    with pytest.raises(ValueError, match=f"^{copy / RECORD} lacks its sha256"):
        load_fitted(copy)


def test_a_folder_written_before_the_digests_still_loads(folder, tmp_path):
    """format /1, no sha256 in the record, a model.npz of plain np.savez."""
    copy, record = copy_of(folder, tmp_path)
    del record[DIGEST_KEY]
    record["format"] = "kizashi-fitted/1"
    (copy / RECORD).write_text(json.dumps(record))
    with np.load(folder / ARRAYS) as stored:
        arrays = {k: stored[k] for k in stored.files}
    np.savez(copy / ARRAYS, **arrays)
    assert _model_key(record["tree"], arrays) == record["model_key"]
    assert same(load(copy / RECORD), (load(folder / RECORD)[0], record))
    # and its damage is still found: a flipped bit in an array (CRC-32, the model_key)
    data = bytearray((copy / ARRAYS).read_bytes())
    data[len(data) // 2] ^= 0x08
    (copy / ARRAYS).write_bytes(bytes(data))
    with pytest.raises(ValueError, match=str(copy / ARRAYS)):
        load_fitted(copy)
