"""``kizashi train`` on a network or batch too large for memory: one line saying so and
what to change, not "internal error (RuntimeError: [enforce fail at alloc_cpu.cpp:127] …)".

Torch's allocators raise RuntimeError (CPU: "can't allocate memory", CUDA: "out of
memory"); Python's raise MemoryError. The failures are injected (a real one would take
all the memory of the machine running the test); any other RuntimeError is still an
internal error, as before.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

pytest.importorskip("torch")

ERRORS = {
    "cpu allocator": RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. "
                                  "DefaultCPUAllocator: can't allocate memory: you tried to "
                                  "allocate 32000000000 bytes."),
    "cuda": RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB"),
    "python": MemoryError(),
}


def run(tmp_path, monkeypatch, error):
    import kizashi.dl.experiment as experiment

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(experiment, "train_from_config", fail)
    config = tmp_path / "run.yaml"
    config.write_text("model: {name: autoencoder, latent: 1000000000}\n")
    return CliRunner().invoke(cli, ["train", str(config), "--out", str(tmp_path / "o")])


@pytest.mark.parametrize("case", list(ERRORS))
def test_a_network_too_large_for_memory_is_one_line(tmp_path, monkeypatch, case):
    result = run(tmp_path, monkeypatch, ERRORS[case])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "does not fit in memory" in lines[0], result.output
    assert "batch_size" in lines[0]


def test_another_runtime_error_is_not_taken_for_memory(tmp_path, monkeypatch):
    result = run(tmp_path, monkeypatch, RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert "does not fit in memory" not in result.output
    assert isinstance(result.exception, RuntimeError) or "internal error" in result.output
