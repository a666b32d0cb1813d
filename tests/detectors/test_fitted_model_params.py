"""A `kizashi fit` folder whose count parameters were edited by hand: refused at load.

The family: for every registered detector that can be fitted ahead (those
:func:`~kizashi.detectors.fitted_model.check_fittable` accepts, found by walking the
registry), every parameter that holds a whole number is edited in a copy of the
folder's ``config.json`` into a float of the same value (``288`` → ``288.0``), a
non-integral number, a negative number, a bool, the number as text, and (when the
folder keeps its fitted params) another whole number the detector would run with.
Each edit must be refused by :func:`~kizashi.detectors.fitted_model.load_fitted` in one
line naming ``config.json`` and the parameter, ending with "fit again". A folder of an
older kizashi, whose ``model.npz`` has no copy of the params, is refused the same
invalid values by the checks of ``--param``. An untouched folder (of either kind) loads
and scores bit for bit as the detector that was saved.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kizashi.detectors.fitted_model import (
    ARRAYS,
    FITTED,
    RECORD,
    _model_key,
    check_fittable,
    fit_detector,
    load_fitted,
    save_fitted,
)
from kizashi.detectors.registry import get_class, names, parameters

T0 = 1_700_000_000.0


def _fittable() -> list[str]:
    """The registry's detectors fitted ahead (the deep ones where torch is installed)."""
    out = []
    for name in names():
        if name in DEEP and importlib.util.find_spec("torch") is None:
            continue
        try:
            check_fittable(name, get_class(name).conformance_params)
        except (ValueError, ImportError):
            continue
        out.append(name)
    return out


DEEP = {"autoencoder", "cnn", "lstm"}
FITTABLE = _fittable()


def _rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.sin(np.arange(n) * 2 * np.pi / 50)
    return np.column_stack([base + rng.normal(0, 0.1, n), rng.normal(0, 1, n),
                            0.5 * base + rng.normal(0, 0.2, n)])


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, tuple[Path, Path, Any]]:
    """Per fittable detector: a folder as written today, one as an older kizashi wrote it
    (no copy of the params, a ``model_key`` of the state only), and the saved detector."""
    out = {}
    for name in FITTABLE:
        detector = fit_detector(name, _rows(400, 0), T0 + 60.0 * np.arange(400),
                                get_class(name).conformance_params)
        folder = tmp_path_factory.mktemp(name) / "model"
        save_fitted(detector, folder, ["cpu", "mem", "io"], entity="node1")
        legacy = folder.with_name("legacy")
        shutil.copytree(folder, legacy)
        with np.load(legacy / ARRAYS) as stored:
            arrays = {k: stored[k] for k in stored.files if k != FITTED}
        np.savez(legacy / ARRAYS, **arrays)
        record = json.loads((legacy / RECORD).read_text())
        record["format"] = "kizashi-fitted/1"  # (written before the digests)
        del record["sha256"]
        record["model_key"] = _model_key(record["tree"], arrays)
        (legacy / RECORD).write_text(json.dumps(record))
        out[name] = (folder, legacy, detector)
    return out


def _count_params(name: str) -> list[str]:
    """The parameters of ``name`` that hold a whole number (or None, for 'off')."""
    return [p.name for p in parameters(get_class(name))
            if "int" in (kinds := {t.strip() for t in str(p.annotation).split("|")})
            and kinds <= {"int", "None"}]


def _edits(value: Any, legacy: bool) -> dict[str, Any]:
    """The odd values for a count saved as ``value`` (an int, or None for 'off')."""
    n = 5 if value is None else int(value)
    edits = {"float": float(n), "non-integral": n + 0.5, "negative": -max(n, 1),
             "bool": True, "text": str(n)}
    if not legacy:
        edits["another count"] = n + 1
    return edits


CASES = [(name, param, kind, legacy)
         for name in FITTABLE for param in _count_params(name)
         for legacy in (False, True)
         for kind in _edits(1, legacy)]


def _edit(folder: Path, to: Path, param: str, value: Any) -> Path:
    shutil.copytree(folder, to)
    record = json.loads((to / RECORD).read_text())
    record["params"][param] = value
    (to / RECORD).write_text(json.dumps(record))
    return to


def test_the_registry_has_detectors_fitted_ahead():
    assert "ensemble" in FITTABLE and CASES


@pytest.mark.parametrize(("name", "param", "kind", "legacy"), CASES,
                         ids=[f"{n}-{p}-{k}{'-legacy' if old else ''}"
                              for n, p, k, old in CASES])
def test_a_count_edited_by_hand_is_refused_in_one_line(saved, tmp_path, name, param, kind,
                                                       legacy):
    folder, old, _ = saved[name]
    source = old if legacy else folder
    fitted = json.loads((source / RECORD).read_text())["params"][param]
    value = _edits(fitted, legacy)[kind]
    copy = _edit(source, tmp_path / "copy", param, value)
    with pytest.raises(ValueError) as caught:
        load_fitted(copy)
    message = str(caught.value)
    assert "\n" not in message and message.endswith("fit again"), message
    assert message.startswith(f"{copy / RECORD}: params {param} "), message


@pytest.mark.parametrize("legacy", [False, True], ids=["today", "older"])
@pytest.mark.parametrize("windows", [[1.0, 5.0, 20.0], [1, 5.5, 20], [1, -5, 20],
                                     [1, True, 20], [1, "5", 20]])
def test_a_tuple_of_counts_edited_by_hand_is_refused(saved, tmp_path, windows, legacy):
    """The ensemble's ``reference_window`` (a count, a word or counts; saved [1, 5, 20])."""
    folder, old, _ = saved["ensemble"]
    copy = _edit(old if legacy else folder, tmp_path / "copy", "reference_window", windows)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(copy / RECORD))}: .*"
                                         r"reference_window.*fit again$"):
        load_fitted(copy)


@pytest.mark.parametrize("legacy", [False, True], ids=["today", "older"])
@pytest.mark.parametrize("name", FITTABLE)
def test_an_untouched_folder_loads_and_scores_bit_for_bit(saved, name, legacy):
    folder, old, detector = saved[name]
    back, _ = load_fitted(old if legacy else folder)
    assert back.get_params() == {k: list(v) if isinstance(v, tuple) else v
                                 for k, v in detector.get_params().items()}
    test = _rows(120, 1)
    test[80:90, 1] += 8.0
    t = T0 + 60.0 * np.arange(400, 520)
    expected = detector.score(test, t)
    np.testing.assert_array_equal(back.score(test, t), expected)


def test_a_runtime_parameter_may_be_edited(saved, tmp_path):
    """``backend`` chooses how a network computes, not what its weights mean."""
    if "autoencoder" not in saved:
        pytest.skip("no torch")
    folder, _, _ = saved["autoencoder"]
    copy = _edit(folder, tmp_path / "copy", "backend", "eager")
    assert load_fitted(copy)[0].backend == "eager"


@pytest.mark.parametrize(("change", "says"), [
    (lambda r: r.update(features=["mem", "cpu", "io"]), r"features are \['mem', 'cpu', 'io'\]"),
    (lambda r: r["params"].pop("window"), r"params lack 'window'"),
])
def test_features_swapped_or_a_param_removed_are_refused(saved, tmp_path, change, says):
    folder, _, _ = saved["ensemble"]
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    record = json.loads((copy / RECORD).read_text())
    change(record)
    (copy / RECORD).write_text(json.dumps(record))
    with pytest.raises(ValueError, match=re.escape(str(copy / RECORD)) + ": " + says):
        load_fitted(copy)


def test_a_fit_with_a_float_count_is_refused_before_writing(tmp_path):
    """Only whole numbers are written, so that a folder never refuses its own params."""
    detector = check_fittable("ensemble", {"window": 60.0})
    detector.fit(_rows(300, 2), None)
    with pytest.raises(ValueError, match=r"parameter window must be a whole number"):
        save_fitted(detector, tmp_path / "m", ["cpu", "mem", "io"])
    assert not (tmp_path / "m").exists()
