"""The memory estimate of scoring a file (kizashi.engine.memory), and its refusal by the CLI.

Expectations are hand-computed array sizes: float64 (8 bytes) windows of ``w`` rows x
``m`` metrics for the ensemble's reference, a window of float64 values per series for a
rolling detector's state, ``(window // 2) · rank · window`` floats of sst's ring.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.engine import memory
from kizashi.engine.memory import BYTES_PER_VALUE, check_detect_memory, estimate_bytes

DETECTORS = [("ensemble", {}), ("ensemble", {"reference_window": 5}),
             ("threshold", {"window": 200}), ("sst", {"window": 40}),
             ("sigma_threshold", {})]
SHAPES = [(500, [1]), (2000, [1] * 20), (2000, [40]), (1000, [8, 8, 3])]


def total(detector, params, n_times, metrics, n_train=None):
    return sum(estimate_bytes(detector, params, n_times, metrics, n_train).values())


@pytest.mark.parametrize(("detector", "params"), DETECTORS)
@pytest.mark.parametrize(("n_times", "metrics"), SHAPES)
def test_estimate_grows_with_rows_metrics_and_entities(detector, params, n_times, metrics):
    base = total(detector, params, n_times, metrics)
    assert total(detector, params, 2 * n_times, metrics) > base
    assert total(detector, params, n_times, [2 * m for m in metrics]) > base
    assert total(detector, params, n_times, [*metrics, 1]) > base
    parts = estimate_bytes(detector, params, n_times, metrics)
    assert parts["arrays"] == n_times * sum(metrics) * BYTES_PER_VALUE


@pytest.mark.parametrize(("detector", "key", "small", "large"), [
    ("threshold", "window", 100, 1000), ("sst", "window", 20, 80),
    ("ensemble", "reference_window", 1, 10), ("ensemble", "reference_window", "1,5", "1,30"),
])
@pytest.mark.parametrize(("n_times", "metrics"), [(600, [4]), (3000, [30, 2])])
def test_estimate_grows_with_the_window(detector, key, small, large, n_times, metrics):
    # (never shrinks; the ensemble's members may outweigh a reference of short windows)
    assert total(detector, {key: large}, n_times, metrics) >= \
        total(detector, {key: small}, n_times, metrics)
    part = "reference" if detector == "ensemble" else "state"
    assert estimate_bytes(detector, {key: large}, n_times, metrics)[part] > \
        estimate_bytes(detector, {key: small}, n_times, metrics)[part]


@pytest.mark.parametrize(("n_times", "metrics", "n_train", "params", "expected"), [
    # fitted on the first 300 rows (8 arrays a row) or 700 scored (4 arrays a row)
    (1000, [50], None, {}, 8 * 20 * 50 * 2800),
    # a training file of 1000 rows (8 arrays a row) beats the 500 rows scored
    (500, [50], 1000, {}, 8 * 20 * 50 * 8000),
    (1000, [50, 10], None, {"reference_window": "1,7"}, 8 * 7 * 50 * 2800),
    (1000, [1] * 50, None, {}, 0),  # entities of one metric: no reference
    (1000, [50], None, {"reference": False}, 0),
])
def test_reference_part_is_the_widest_windows_of_the_widest_entity(
        n_times, metrics, n_train, params, expected):
    assert estimate_bytes("ensemble", params, n_times, metrics, n_train)["reference"] == expected


@pytest.mark.parametrize(("params", "metrics", "expected"), [
    ({"reference": False}, [1000], 384 * 2000 * 1000),  # one block of 1000 metrics
    ({"reference": False}, [10, 30, 5], 384 * 2000 * 30),  # the widest entity's block
    ({}, [1] * 50, 384 * 2000),  # entities of one metric: one column at a time
    ({}, [50], 0),  # the fixed reference instead, larger (20-row windows)
    ({"reference_window": 1}, [50],  # a reference of 1-row windows: the members' is larger
     384 * 2000 * 50 - 8 * 1 * 50 * 4 * 1400),
])
def test_members_part_is_the_widest_entitys_block(params, metrics, expected):
    assert estimate_bytes("ensemble", params, 2000, metrics)["members"] == expected
    assert estimate_bytes("threshold", {}, 2000, metrics)["members"] == 0


@pytest.mark.parametrize(("detector", "params", "one_state"), [
    ("threshold", {"window": 1000}, 8 * 1000),  # its window of float64 values
    ("sst", {"window": 40}, 8 * 20 * 5 * 40),  # the ring of lag x rank x window floats
])
@pytest.mark.parametrize("n_series", [1, 6, 100])
def test_state_part_is_each_series_state_twice(detector, params, one_state, n_series):
    state = estimate_bytes(detector, params, 100, [1] * n_series)["state"]
    assert 2 * one_state * n_series <= state <= 2 * 1.1 * one_state * n_series


@pytest.mark.parametrize(("n_times", "metrics", "n_train", "params"), [
    (22695, [1], None, {"window": 1000, "discord_weight": 1}),  # NAB's longest file
    (28479, [38], 28479, {}),  # an SMD machine with its training rows
    (28479, [38], None, {}),
    (10080, [6] * 12, None, {}),  # five weeks of 5-minute samples, 12 nodes of 6 metrics
])
def test_ordinary_runs_are_not_refused_with_1_5_gib(n_times, metrics, n_train,
                                                             params):
    # the largest, an SMD machine fitted on its 28,479 training rows: 8 arrays of
    # 28,479 x 20 x 38 float64 (1.39 GB), 48 B a value and 64 MiB whatever the data
    assert total("ensemble", params, n_times, metrics, n_train) <= \
        8 * 20 * 38 * 8 * 28479 + 28479 * 38 * 48 + 64 * 2**20 < 1.5 * 2**30
    check_detect_memory("ensemble", params, n_times, metrics, n_train, cap=int(1.5 * 2**30))


def test_unknown_available_memory_checks_nothing(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: None)
    check_detect_memory("sst", {"window": 40}, 10**6, [10**3])


def _wide(path, n_rows, n_columns):
    path.write_text("timestamp," + ",".join(f"m{j}" for j in range(n_columns)) + "\n" + "".join(
        f"{i * 60},{','.join(str((i * (j + 1)) % 7) for j in range(n_columns))}\n"
        for i in range(n_rows)))
    return path


@pytest.mark.parametrize(("args", "columns", "told"), [
    (["detect"], 6, "detector ensemble on 60 rows x 6 series (an entity of 6 metrics, "
                    "reference_window up to 20) needs about"),
    (["detect", "-d", "threshold", "--param", "window=1000", "--param", "min_periods=10"], 6,
     "detector threshold with window=1000, min_periods=10 on 6 series (7.9 KiB of state "
     "each, kept twice) needs about"),
    (["detect", "-d", "sst", "--param", "window=40"], 1,
     "detector sst with window=40 on 1 series (33 KiB of state each, kept twice) needs about"),
    (["fit", "--out", "{tmp}/model"], 6,
     "detector ensemble on 60 rows x 6 series (an entity of 6 metrics, reference_window up "
     "to 20) needs about"),
])
@pytest.mark.parametrize("cap", ["1000", "1k"])
def test_cli_refuses_in_one_line_naming_detector_and_shape(tmp_path, args, columns, told, cap):
    source = _wide(tmp_path / "in.csv", 60, columns)
    argv = [args[0], str(source), *(a.format(tmp=tmp_path) for a in args[1:]),
            "--max-memory", cap]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {source}: {told}")
    assert "more than --max-memory of 1000 B: " in lines[0]
    assert not (tmp_path / "model").exists()


def test_cli_default_cap_is_one_and_a_half_times_the_available_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 4096)
    source = _wide(tmp_path / "in.csv", 60, 3)
    result = CliRunner().invoke(cli, ["detect", str(source), "-d", "threshold", "--param",
                                      "window=1000"])
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "more than 1.5 times the 4 KiB available: lower --param window (or the state's "
        "sizes) or split the file (--max-memory to override)")


@pytest.mark.parametrize(("available", "refused"), [(60, True), (66, True), (67, False),
                                                     (100, False)])
def test_by_default_a_run_is_refused_only_beyond_one_and_a_half_times_what_is_free(
        monkeypatch, available, refused):
    need = total("sst", {"window": 40}, 1000, [10])
    # (percent of the estimate that is free: refused below 1 / 1.5 = 66.7 %)
    monkeypatch.setattr(memory, "available_memory", lambda: need * available // 100)
    if refused:
        with pytest.raises(ValueError, match="1.5 times the"):
            check_detect_memory("sst", {"window": 40}, 1000, [10])
    else:
        check_detect_memory("sst", {"window": 40}, 1000, [10])
    with pytest.raises(ValueError, match="--max-memory of"):  # a cap given is strict
        check_detect_memory("sst", {"window": 40}, 1000, [10], cap=need - 1)


def _files(folder, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


MEMINFO = "MemTotal:       16000000 kB\nMemFree: 1000 kB\nMemAvailable:    8000000 kB\n"


@pytest.mark.parametrize(("meminfo", "cgroup", "files", "expected"), [
    (MEMINFO, None, {}, 8_192_000_000),                                   # no cgroup file
    (MEMINFO, "0::/job\n", {}, 8_192_000_000),                            # v2, no files
    (MEMINFO, "0::/job\n", {"job/memory.max": "max\n", "job/memory.current": "5\n"},
     8_192_000_000),                                                      # v2, no limit
    (MEMINFO, "0::/job\n", {"job/memory.max": "4000000000\n",
                            "job/memory.current": "1000000000\n"}, 3_000_000_000),
    (MEMINFO, "0::/\n", {"memory.max": "2000000000\n", "memory.current": "500000000\n"},
     1_500_000_000),                                                      # a container's own
    (MEMINFO, "4:memory:/slurm/job7\n3:cpu:/x\n",
     {"memory/slurm/job7/memory.limit_in_bytes": "1000000000\n",
      "memory/slurm/job7/memory.usage_in_bytes": "250000000\n"}, 750_000_000),  # v1
    (MEMINFO, "4:memory:/a\n", {"memory/a/memory.limit_in_bytes": str(2**63 - 4096),
                                "memory/a/memory.usage_in_bytes": "7"}, 8_192_000_000),
    (MEMINFO, "0::/job\n", {"job/memory.max": "100\n", "job/memory.current": "300\n"}, 0),
    ("MemTotal: 16000000 kB\nMemAvailable: 0 kB\n", None, {}, None),   # some containers
    ("MemTotal: 16000000 kB\nMemFree: 9000 kB\n", None, {}, None),      # no MemAvailable
    (None, None, {}, None),                                               # no /proc
])
def test_available_memory_reads_meminfo_and_the_memory_limit_of_the_control_group(
        tmp_path, meminfo, cgroup, files, expected):
    info, groups, root = tmp_path / "meminfo", tmp_path / "cgroup", tmp_path / "sys"
    if meminfo is not None:
        info.write_text(meminfo)
    if cgroup is not None:
        groups.write_text(cgroup)
    root.mkdir()
    _files(root, files)
    assert memory.available_memory(str(info), str(groups), str(root)) == expected


@pytest.mark.parametrize("cap", ["abc", "0", "-5MB", "1 XB"])
@pytest.mark.parametrize("command", ["detect", "fit"])
def test_a_bad_max_memory_is_a_usage_error(tmp_path, cap, command):
    source = _wide(tmp_path / "in.csv", 60, 3)
    extra = ["--out", str(tmp_path / "model")] if command == "fit" else []
    result = CliRunner().invoke(cli, [command, str(source), *extra, "--max-memory", cap])
    assert result.exit_code == 2
    assert "--max-memory must be a size" in result.stderr
