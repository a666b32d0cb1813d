"""A `kizashi fit` folder whose ``config.json`` params were edited by hand (or written by
another version) into values the detector cannot run with: refused when the folder is
loaded, in one line saying to fit again — not at the first step of the daemon serving it.

The params were not part of the ``model_key`` (which guarded the arrays only), so before,
such a folder loaded, ``kizashi watch --check`` said ``ok``, and every tick then failed
with "internal error (ValueError: invalid literal for int() …)". The odd values are
generated per parameter kind (text for a count, a negative window, an unknown choice, a
bogus time zone, null, a huge count). Since the fitted params are kept in ``model.npz``
(under the ``model_key``), a value the detector would run with but that differs from the
fit is refused too; the family of edited counts is in ``test_fitted_model_params.py``.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.detectors.fitted_model import RECORD, fit_detector, load_fitted, save_fitted

T0 = 1_700_000_000.0

EDITS = {
    "window as text": ("window", "abc"), "window negative": ("window", -5),
    "window null": ("window", None), "window a list": ("window", [3]),
    "across unknown": ("across", "foo"), "reference_window text": ("reference_window", "x"),
    "timezone unknown": ("timezone", "Mars/Base"), "hold huge": ("hold", 10**30),
    "tolerance text": ("tolerance", "NaN"), "averaging_window negative": ("averaging_window", -1),
    "z_cap text": ("z_cap", "big"),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    rng = np.random.default_rng(0)
    base = np.sin(np.arange(600) * 2 * np.pi / 288) + rng.normal(0, 0.1, 600)
    rows = np.column_stack([base, rng.normal(0, 1, 600)])
    detector = fit_detector("ensemble", rows, T0 + 300.0 * np.arange(600), {})
    out = tmp_path_factory.mktemp("fit") / "model"
    save_fitted(detector, out, features=["cpu", "mem"], entity="node1", rows=600,
                trained_on="test")
    return out


def edited(folder, tmp_path, key, value):
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    record = json.loads((copy / RECORD).read_text())
    record["params"][key] = value
    (copy / RECORD).write_text(json.dumps(record))
    return copy


@pytest.mark.parametrize("case", list(EDITS))
def test_params_edited_into_values_that_fail_are_refused_at_load(folder, tmp_path, case):
    copy = edited(folder, tmp_path, *EDITS[case])
    with pytest.raises(ValueError) as caught:
        load_fitted(copy)
    message = str(caught.value)
    assert "\n" not in message and "fit again" in message and str(copy) in message, message


@pytest.mark.parametrize("case", ["window as text", "across unknown", "window negative"])
def test_watch_check_refuses_such_a_folder_in_one_line(folder, tmp_path, case):
    copy = edited(folder, tmp_path, *EDITS[case])
    (tmp_path / "m.csv").write_text("timestamp,cpu,mem\n" + "".join(
        f"{T0 + 60 * i:.0f},{np.sin(i / 5):.4f},{i % 7}\n" for i in range(50)))
    config = tmp_path / "watch.yaml"
    config.write_text(f"""
interval: 1m
listen: off
storage: {tmp_path / 'state.sqlite'}
sources: {{lab: {{type: csv, path: {tmp_path / 'm.csv'}}}}}
watches:
  - name: m
    detectors: [{{name: ens, model: {copy}, feature_label: series}}]
""")
    for args in (["--check"], ["--once"]):
        result = CliRunner().invoke(cli, ["watch", *args, str(config)])
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "fit again" in lines[0], result.output
        assert "internal error" not in result.output


@pytest.mark.parametrize(("key", "value"), [("window", 2016), ("hold", 3), ("timezone", None)])
def test_params_rewritten_as_fitted_stay_loadable(folder, tmp_path, key, value):
    detector, _ = load_fitted(edited(folder, tmp_path, key, value))
    assert detector.get_params()[key] == value


@pytest.mark.parametrize(("key", "value"), [("window", 2015), ("hold", 4), ("timezone", "UTC")])
def test_params_the_detector_runs_with_but_not_fitted_with_are_refused(folder, tmp_path, key,
                                                                         value):
    copy = edited(folder, tmp_path, key, value)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(copy / RECORD))}: params {key} is "
                                         rf".*fitted with .*fit again$"):
        load_fitted(copy)


@pytest.mark.parametrize(("param", "value"), [("timezone", "Mars/Base"), ("timezone", "+99:00")])
def test_fit_writes_no_model_that_cannot_step(tmp_path, param, value):
    """A parameter the fit itself never reads (the day profile's zone) is still checked
    before the folder is written: before, ``kizashi fit -p timezone=Mars/Base`` wrote a
    model that no watch could load."""
    rng = np.random.default_rng(1)
    (tmp_path / "train.csv").write_text("timestamp,cpu,mem\n" + "".join(
        f"{T0 + 300 * i:.0f},{np.sin(i / 9) + rng.normal(0, 0.1):.5f},{rng.normal():.5f}\n"
        for i in range(400)))
    out = tmp_path / "model"
    result = CliRunner().invoke(cli, ["fit", str(tmp_path / "train.csv"), "--out", str(out),
                                      "-q", "-p", f"{param}={value}"])
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and "--param" in result.output, result.output
    assert not out.exists()


def test_a_fitted_autoencoder_folder_still_loads(tmp_path):
    """Detectors that need training are stepped only as saved (a fresh one cannot step)."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    rows = np.column_stack([np.sin(np.arange(300) / 9), rng.normal(0, 1, 300)])
    detector = fit_detector("autoencoder", rows, T0 + 300.0 * np.arange(300), {})
    save_fitted(detector, tmp_path / "ae", features=["cpu", "mem"])
    assert type(load_fitted(tmp_path / "ae")[0]).__name__ == "AutoencoderDetector"
