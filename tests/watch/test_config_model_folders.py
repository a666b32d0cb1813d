"""A watch's ``model: DIR`` that is broken, of another detector or edited: one line, no crash.

One folder is fitted here with ``kizashi fit``'s own writer; each case changes one thing
about a copy of it (a file missing, cut short or replaced, a record key missing or of the
wrong kind, features that do not match the model) and the config naming it must be
refused by :func:`~kizashi.watch.config.parse_config` with a one-line ``ValueError``
naming the detector's ``model`` key and the thing at fault, before any daemon starts.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from kizashi.detectors.fitted_model import fit_detector, save_fitted
from kizashi.watch.config import parse_config

FEATURES = ["cpu", "mem", "io"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fitted") / "model"
    train = np.random.default_rng(0).normal(0, 1, (400, 3))
    save_fitted(fit_detector("ensemble", train, None, {"window": 50}), folder, FEATURES,
                entity="node1")
    return folder


def edit_record(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        record = json.loads((folder / "config.json").read_text())
        change(record)
        (folder / "config.json").write_text(json.dumps(record))
    return apply


def edit_arrays(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        with np.load(folder / "model.npz") as stored:
            arrays = {k: stored[k] for k in stored.files}
        change(arrays)
        np.savez(folder / "model.npz", **arrays)
    return apply


def cut(name: str, keep: int) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes((folder / name).read_bytes()[:keep])


#: case → (how the copy is changed, regex of what the one line must say)
CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "no-model-npz": (lambda f: (f / "model.npz").unlink(), r"model\.npz.*No such file"),
    "no-config-json": (lambda f: (f / "config.json").unlink(), r"config\.json"),
    "config-not-json": (cut("config.json", 10), r"config\.json"),
    "config-a-list": (lambda f: (f / "config.json").write_text("[1, 2]"), r"config\.json"),
    "npz-cut-short": (cut("model.npz", 1000), r"model\.npz"),
    "npz-empty": (cut("model.npz", 0), r"model\.npz"),
    "npz-pickled": (lambda f: (f / "model.npz").write_bytes(b"\x80\x04K\x01."),
                    r"model\.npz: not an archive of number arrays"),
    "npz-an-array-missing": (edit_arrays(lambda a: a.pop(sorted(a)[0])), r"model_key"),
    "npz-an-array-changed": (edit_arrays(lambda a: a.update({sorted(a)[-1]: np.zeros(3)})),
                             r"model_key"),
    "network-unknown": (edit_record(lambda r: r.update(network="nosuch")), r"nosuch"),
    "network-of-another-detector": (edit_record(lambda r: r.update(network="threshold")),
                                    r"threshold"),
    "network-not-text": (edit_record(lambda r: r.update(network=[1])), r"network"),
    "no-features": (edit_record(lambda r: r.pop("features")), r"features"),
    "features-a-text": (edit_record(lambda r: r.update(features="cpu")), r"'features'"),
    "features-twice": (edit_record(lambda r: r.update(features=["cpu", "cpu", "io"])),
                       r"'features' must be .*distinct"),
    "features-fewer-than-inputs": (edit_record(lambda r: r.update(features=["cpu", "mem"])),
                                   r"names 2 features for a model of 3 inputs"),
    "features-more-than-inputs": (edit_record(lambda r: r.update(features=[*FEATURES, "x"])),
                                  r"names 4 features for a model of 3 inputs"),
    "features-empty-name": (edit_record(lambda r: r.update(features=["cpu", "", "io"])),
                            r"'features'"),
    "no-params": (edit_record(lambda r: r.pop("params")), r"'params' is missing"),
    "params-of-another-detector": (edit_record(lambda r: r["params"].update(speed=3)),
                                   r"params do not fit"),
    "no-format": (edit_record(lambda r: r.pop("format")), r"no-format"),
    "no-model-key": (edit_record(lambda r: r.pop("model_key")), r"'model_key' is missing"),
}


def config_text(folder: Path, detector: str | None) -> str:
    named = f"detector: {detector}, " if detector else ""
    return ("sources: {lab: {type: csv, path: a.csv}}\n"
            f"watches:\n- name: w\n  detectors: [{{{named}model: '{folder}'}}]\n")


def test_the_fitted_folder_itself_loads(fitted):
    config = parse_config(config_text(fitted, None), "c.yaml")
    spec = config.watches[0].detectors[0]
    assert spec.detector == "ensemble" and spec.trained()["features"] == FEATURES


@pytest.mark.parametrize("detector", [None, "ensemble"], ids=["from-the-folder", "named"])
@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_model_folder_is_one_line(fitted, tmp_path, case, detector):
    folder = tmp_path / case
    shutil.copytree(fitted, folder)
    change, what = CASES[case]
    change(folder)
    with pytest.raises(ValueError) as caught:
        parse_config(config_text(folder, detector), "c.yaml")
    message = str(caught.value)
    assert "\n" not in message
    assert re.match(r"c\.yaml: watches\[w\]\.detectors\[\w+\]\.(model|detector)", message), \
        message
    if not (detector and case.startswith("network")):  # named: the network is what differs
        assert re.search(what, message), message


@pytest.mark.parametrize("target", ["missing", "a-file", "empty-folder"])
def test_a_model_path_that_is_no_model_folder_is_one_line(tmp_path, target):
    path = tmp_path / target
    if target == "a-file":
        path.write_text("timestamp,cpu\n")
    elif target == "empty-folder":
        path.mkdir()
    with pytest.raises(ValueError, match=r"^c\.yaml: watches\[w\]\.detectors\[0\]\.model: "
                                         r"cannot read .*config\.json"):
        parse_config(config_text(path, None), "c.yaml")
