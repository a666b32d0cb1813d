"""``kizashi train`` refuses, before it allocates, a run estimated above its memory cap.

The family of oversized configs: each size a run grows with — the window (training
samples), the batch (activations), the network's widths and depth (parameters) — made
too large for a cap of 64 MiB, and made absurd (terabytes) for the default cap of 3/4
of the machine. Each must be refused in one line naming the config, the estimate, the
cap and what to change; the samples must never be built (the check comes first). The
cap is raised by ``max_memory`` in the config or ``--max-memory``; a malformed size is
refused naming the key. Ordinary configs (every network with its default sizes) are
under the default cap and train as before.

The estimate itself (:func:`~kizashi.dl.memory.estimate_bytes`) is checked against the
training samples counted by hand.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

torch = pytest.importorskip("torch")

from kizashi.dl import NETWORKS, network_class  # noqa: E402
from kizashi.dl.config import RunConfig  # noqa: E402
from kizashi.dl.memory import check_memory, estimate_bytes, parse_bytes  # noqa: E402

#: case → (model section, batch_size, synthetic rows): each too large for 64 MiB
OVER_64_MIB = {
    "autoencoder window": ({"name": "autoencoder", "window": 2000}, 128, 6000),
    "autoencoder hidden": ({"name": "autoencoder", "hidden": 200000}, 128, 2000),
    "autoencoder latent": ({"name": "autoencoder", "latent": 5000000}, 128, 2000),
    "autoencoder batch": ({"name": "autoencoder", "window": 50}, 1000000, 2000),
    "lstm window": ({"name": "lstm", "window": 1500}, 128, 6000),
    "lstm hidden": ({"name": "lstm", "hidden": 2048}, 128, 2000),
    "lstm layers": ({"name": "lstm", "hidden": 256, "layers": 64}, 128, 2000),
    "cnn channels": ({"name": "cnn", "channels": 4096}, 128, 2000),
    "cnn layers": ({"name": "cnn", "channels": 256, "layers": 200}, 128, 2000),
    "cnn batch": ({"name": "cnn"}, 2000000, 2000),
}
#: beyond any machine (terabytes): refused under the default cap
ABSURD = {
    "autoencoder hidden": ({"name": "autoencoder", "hidden": 10**9}, 128),
    "lstm hidden": ({"name": "lstm", "hidden": 10**6}, 128),
    "cnn channels": ({"name": "cnn", "channels": 10**7}, 128),
    "batch": ({"name": "autoencoder"}, 10**13),
    "window": ({"name": "cnn", "window": 10**9}, 128),
}


@pytest.fixture
def no_samples(monkeypatch):
    """Building the samples (the first large allocation) fails the test."""
    for name in NETWORKS:
        def refuse(*args, **kwargs):
            raise AssertionError("the samples were built: the check came too late")
        monkeypatch.setattr(network_class(name), "samples", staticmethod(refuse))


def _config(tmp_path, model, batch_size, rows, cap=None):
    lines = [f"model: {model!r}".replace("'", '"'), f"batch_size: {batch_size}",
             "epochs: 1", "progress: false",
             f"data: {{source: synthetic, n: {rows}, n_series: 4}}"]
    if cap is not None:
        lines.append(f"max_memory: {cap}")
    path = tmp_path / "run.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _train(*args):
    return CliRunner().invoke(cli, ["train", *map(str, args)])


@pytest.mark.parametrize("case", list(OVER_64_MIB))
def test_a_run_over_its_cap_is_refused_in_one_line_before_it_allocates(
        tmp_path, no_samples, case):
    model, batch, rows = OVER_64_MIB[case]
    config = _config(tmp_path, model, batch, rows, cap="64MiB")
    result = _train(config, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert re.search(rf"{re.escape(str(config))}: training would take about [0-9.]+ [KMGT]iB "
                     r"\(samples .*, network .*, batch .*\), above max_memory of 64 MiB: "
                     r".*--max-memory", lines[0]), lines[0]
    assert not (tmp_path / "out" / "model.pt").exists()


@pytest.mark.parametrize("case", list(ABSURD))
def test_an_absurd_run_is_refused_under_the_default_cap(tmp_path, no_samples, case):
    model, batch = ABSURD[case]
    result = _train(_config(tmp_path, model, batch, 2000), "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1, result.output
    assert "of this machine's memory" in result.output and "--max-memory" in result.output


def test_the_cap_is_raised_by_the_option_or_the_config(tmp_path):
    model = {"name": "autoencoder", "window": 8, "hidden": 16, "latent": 4}
    small = _config(tmp_path, model, 32, 400, cap="1KiB")
    refused = _train(small, "--out", tmp_path / "a")
    assert refused.exit_code == 1 and "above max_memory of 1 KiB" in refused.output
    raised = _train(small, "--out", tmp_path / "b", "--max-memory", "2GiB")
    assert raised.exit_code == 0, raised.output
    assert (tmp_path / "b" / "model.pt").exists()
    in_config = _train(_config(tmp_path, model, 32, 400, cap="2GiB"), "--out", tmp_path / "c")
    assert in_config.exit_code == 0, in_config.output


@pytest.mark.parametrize("value", ["lots", "-1", "0", "true", "8XB", "[1]"])
def test_a_malformed_cap_is_refused_naming_it(tmp_path, value):
    config = _config(tmp_path, {"name": "lstm"}, 32, 400, cap=value)
    result = _train(config, "--out", tmp_path / "o")
    assert result.exit_code == 2 and "max_memory must be a size" in result.output, \
        result.output
    option = _train(_config(tmp_path, {"name": "lstm"}, 32, 400), "--out", tmp_path / "o",
                    "--max-memory", value)
    assert option.exit_code == 2 and "--max-memory must be a size" in option.output


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_ordinary_configs_are_under_the_default_cap(name):
    """Every network at its default sizes, on a few thousand rows of a few dozen metrics
    (an SMD machine: 28 000 rows of 38): far under 3/4 of any machine we run on."""
    config = RunConfig.from_dict({"model": {"name": name}})
    check_memory(config, 28_000, 38)
    assert sum(estimate_bytes(config, 28_000, 38).values()) < 2 * 2**30


@pytest.mark.parametrize(("name", "span"), [("autoencoder", 10), ("lstm", 33), ("cnn", 33)])
def test_the_samples_are_counted_as_built(name, span):
    """Windows of ``span`` rows (the autoencoder's window; the forecasters' window and the
    next row), every feature, float32, built once and copied once, with a byte of mask."""
    config = RunConfig.from_dict({"model": {"name": name}})
    rows, features = 1000, 3
    assert estimate_bytes(config, rows, features)["samples"] == \
        (rows - span + 1) * span * features * (4 + 4 + 1)
    assert estimate_bytes(config, span - 1, features)["samples"] == 0


def test_sizes_are_read_in_their_usual_spellings():
    assert [parse_bytes(v) for v in ("8GiB", "8 gib", "512MB", "4096", 4096, "1e3")] == \
        [8 * 2**30, 8 * 2**30, 512 * 10**6, 4096, 4096, 1000]
