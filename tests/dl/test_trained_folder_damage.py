"""A `kizashi train` folder whose files were damaged on disk loads exactly as written or
is refused in one line naming the file (:mod:`kizashi.testing.damage`).

``config.json`` holds the input standardisation (each metric's mean and std) as text:
before it carried its ``sha256``, a flipped digit there loaded silently as another model
(other scores). ``model.pt`` carries its SHA-256 since round 9 (checked again here through
:func:`~kizashi.dl.experiment.load_trained` and ``from_trained``, as the watch loads it).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kizashi.detectors.deep.autoencoder_detector import AutoencoderDetector  # noqa: E402
from kizashi.dl.config import RunConfig  # noqa: E402
from kizashi.dl.experiment import load_trained, load_values, train_from_config  # noqa: E402
from kizashi.dl.trainer import MODEL  # noqa: E402
from kizashi.integrity import DIGEST_KEY  # noqa: E402
from kizashi.testing.damage import check_loader, zip_offsets  # noqa: E402

CONFIG = {"epochs": 1, "batch_size": 64, "device": "cpu", "progress": False,
          "checkpoint_every": 0, "data": {"source": "synthetic", "n": 200, "n_series": 2},
          "model": {"name": "autoencoder", "window": 4, "hidden": 4, "latent": 2}}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "run"
    train_from_config(RunConfig.from_dict(CONFIG), out)
    return out


@pytest.fixture(scope="module")
def values():
    return load_values(RunConfig.from_dict(CONFIG).data)[:60]


def loader(values):
    def load(path):
        detector = AutoencoderDetector.from_trained(path.parent, values[:40])
        _, record = load_trained(path.parent)
        return detector.score(values[40:]), record
    return load


def same(a, b) -> bool:
    return bool(np.array_equal(a[0], b[0], equal_nan=True)) and a[1] == b[1]


DENSITY = [pytest.param(1, id="default"), pytest.param(4, id="dense", marks=pytest.mark.slow)]


@pytest.mark.parametrize("density", DENSITY)
def test_a_damaged_record_is_refused_or_loads_the_same(folder, values, tmp_path, density):
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    good = (copy / "config.json").read_bytes()
    failures = check_loader(copy / "config.json", good, loader(values), same,
                            flip_step=13 // density, overwrite_step=89 // density,
                            cut_step=97 // density, tail=16)
    assert not failures, f"{len(failures)} damaged records, first: {failures[:5]}"


@pytest.mark.parametrize("density", DENSITY)
def test_damaged_weights_are_refused_or_load_the_same(folder, values, tmp_path, density):
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    good = (copy / MODEL).read_bytes()
    step = max(7, len(good) // (150 * density)) | 1
    failures = check_loader(copy / MODEL, good, loader(values), same, flip_step=step,
                            overwrite_step=2 * step + 1, cut_step=3 * step + 2,
                            also=zip_offsets(good)[::23 // density])
    assert not failures, f"{len(failures)} damaged model files, first: {failures[:5]}"


def test_the_record_carries_its_digest(folder):
    record = json.loads((folder / "config.json").read_text())
    assert record["format"] == "kizashi-trained/1" and len(record[DIGEST_KEY]) == 64
    assert record["standardise"]["mean"] and record["features"]


def test_a_changed_mean_is_refused(folder, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    record = json.loads((copy / "config.json").read_text())
    record["standardise"]["mean"][0] += 1e-9
    (copy / "config.json").write_text(json.dumps(record, indent=2))
    with pytest.raises(ValueError, match=f"^{copy / 'config.json'} was changed after it"):
        load_trained(copy)


def test_a_record_written_before_the_digest_still_loads(folder, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    record = json.loads((copy / "config.json").read_text())
    del record[DIGEST_KEY], record["format"]
    (copy / "config.json").write_text(json.dumps(record, indent=2))
    assert load_trained(copy)[1] == record


def test_a_damaged_record_written_before_the_digest_raises_no_raw_error(folder, values,
                                                                        tmp_path):
    """Without a digest a changed digit cannot be seen (such a record loads as written
    then); a changed key or a broken structure is still one line naming the file."""
    copy = tmp_path / "run"
    shutil.copytree(folder, copy)
    record = json.loads((copy / "config.json").read_text())
    del record[DIGEST_KEY], record["format"]
    good = json.dumps(record, indent=2).encode()
    failures = check_loader(copy / "config.json", good, loader(values), same, flip_step=7,
                            overwrite_step=89, cut_step=97, tail=16)
    raw = [f for f in failures if not f[1].startswith("loaded other content")]
    assert not raw, f"{len(raw)} damaged records, first: {raw[:5]}"
