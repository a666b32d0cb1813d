"""Damaged checkpoints name the file and the fault; ``--resume`` falls back to the previous
good checkpoint; temporaries of a killed save are removed (issue 13, class 7).

The damaged files are generated from a real checkpoint: truncated at many offsets,
random bytes (with and without a zip header), empty, text, JSON, a plain pickle, a
pickle that would run code, a tensor, a ``model.pt``, and checkpoints of another
model size and of another config.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from kizashi.dl import checkpoint as ckpt  # noqa: E402
from kizashi.dl.trainer import CHECKPOINT, MODEL, Trainer, TrainSettings  # noqa: E402
from kizashi.dl.window_autoencoder import WindowAutoencoder  # noqa: E402

X = np.random.default_rng(0).normal(size=(112, 4, 2)).astype(np.float32)  # 7 steps/epoch
SETTINGS = {"epochs": 2, "batch_size": 16, "device": "cpu", "checkpoint_every": 5,
            "threads": 1, "optimiser": "adam", "lr": 0.01}


def config(hidden: int = 8, lr: float = 0.01) -> dict:
    return {"network": "autoencoder", "params": {"window": 4, "hidden": hidden, "latent": 2},
            "run": {"lr": lr, "epochs": SETTINGS["epochs"]}}


def trainer(out: Path | None, hidden: int = 8, cfg: dict | None = None,
            step_callback: Callable[[int], None] | None = None, **settings) -> Trainer:
    torch.manual_seed(0)
    net = WindowAutoencoder(2, window=4, hidden=hidden, latent=2)
    cfg = config(hidden) if cfg is None else cfg
    return Trainer(net, (X, X), (X[:32], X[:32]), TrainSettings(**{**SETTINGS, **settings}),
                   out_dir=out, config=cfg, step_callback=step_callback)


def crash_at(step: int) -> Callable[[int], None]:
    def callback(now: int) -> None:
        if now == step:
            raise KeyboardInterrupt
    return callback


def interrupted_run(out: Path, at: int = 8) -> None:
    """A run killed at step ``at``.

    Saves happen at steps 5 and 10 (``checkpoint_every``) and 7 and 14 (epoch ends), so
    ``at=8`` leaves checkpoint.pt of step 7 (and prev of step 5), ``at=13`` of step 10
    (and prev of step 7).
    """
    with pytest.raises(KeyboardInterrupt):
        trainer(out, step_callback=crash_at(at)).fit()


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    """The weights of an uninterrupted run."""
    out = tmp_path_factory.mktemp("full")
    trainer(out).fit()
    return ckpt.load(out / MODEL)


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("good")
    interrupted_run(out, at=8)
    return (out / CHECKPOINT).read_bytes()


class Foreign:
    """An object weights_only loading must refuse."""


class Exploit:
    """Unpickling this would run code: it must never be unpickled."""

    def __reduce__(self):
        return (os.system, (f"touch {EXPLOITED}",))


EXPLOITED = Path(f"/tmp/kizashi-checkpoint-exploited-{os.getpid()}")


def _torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def damaged(kind: str, good: bytes, tmp: Path) -> bytes:
    """The bytes of one kind of damaged or foreign checkpoint."""
    rng = np.random.default_rng(zlib.crc32(kind.encode()))
    if kind.startswith("truncated-"):
        fraction = float(kind.split("-")[1])
        return good[:int(len(good) * fraction)]
    if kind.startswith("cut-last-"):
        return good[:-int(kind.split("-")[2])]
    if kind == "zero-bytes":
        return b""
    if kind.startswith("random-"):
        return rng.bytes(int(kind.split("-")[1]))
    if kind == "zip-header-then-random":
        return b"PK\x03\x04" + rng.bytes(5000)
    if kind == "flipped-middle":
        data = bytearray(good)
        middle = len(data) // 2
        data[middle:middle + 64] = rng.bytes(64)
        return bytes(data) if bytes(data) != good else b""
    if kind == "text":
        return b"this is not a checkpoint\njust some notes\n"
    if kind == "json":
        return json.dumps({"model": {}, "loop": 1}).encode()
    if kind == "plain-pickle":
        return pickle.dumps({"model": 1, "optimiser": 2})
    if kind == "foreign-object":
        return _torch_bytes({"model": Foreign()})
    if kind == "code-running-pickle":
        return _torch_bytes({"model": Exploit()})
    if kind == "a-tensor":
        return _torch_bytes(torch.zeros(3))
    if kind == "model-state-dict":
        return _torch_bytes(WindowAutoencoder(2, window=4, hidden=8, latent=2).state_dict())
    if kind == "missing-entries":
        saved = torch.load(io.BytesIO(good), weights_only=True)
        del saved["optimiser"]
        return _torch_bytes(saved)
    if kind == "bad-loop":
        saved = torch.load(io.BytesIO(good), weights_only=True)
        saved["loop"] = "{not json"
        return _torch_bytes(saved)
    if kind == "other-model-size":
        out = tmp / "other-size"
        with pytest.raises(KeyboardInterrupt):
            trainer(out, hidden=16, cfg={}, step_callback=crash_at(6)).fit()
        saved = torch.load(out / CHECKPOINT, weights_only=True)
        saved["config"] = None  # no config to compare: the shapes must tell
        return _torch_bytes(saved)
    if kind == "other-config":
        out = tmp / "other-config"
        with pytest.raises(KeyboardInterrupt):
            trainer(out, cfg=config(lr=0.5), step_callback=crash_at(6)).fit()
        return (out / CHECKPOINT).read_bytes()
    raise AssertionError(kind)


KINDS = ([f"truncated-{f}" for f in (0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)]
         + ["cut-last-1", "cut-last-22", "zero-bytes", "random-1", "random-100", "random-10000",
            "zip-header-then-random", "flipped-middle", "text", "json", "plain-pickle",
            "foreign-object", "code-running-pickle", "a-tensor", "model-state-dict",
            "missing-entries", "bad-loop", "other-model-size", "other-config"])


# ----------------------------------------------------------------- the messages
@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_checkpoint_without_a_previous_one_is_an_error_naming_it(
        tmp_path, good_bytes, kind):
    out = tmp_path / "run"
    interrupted_run(out)
    ckpt.previous_path(out / CHECKPOINT).unlink()
    (out / CHECKPOINT).write_bytes(damaged(kind, good_bytes, tmp_path))
    with pytest.raises(ValueError) as info:
        trainer(out).fit(resume=True)
    message = str(info.value)
    assert str(out / CHECKPOINT) in message, message
    assert "\n" not in message, message
    assert "Traceback" not in message and "PytorchStreamReader failed" not in message[:80]
    assert not EXPLOITED.exists(), "a checkpoint ran code while loading"


@pytest.mark.parametrize(("kind", "says"), [
    ("zero-bytes", "is empty (0 bytes)"), ("truncated-0.5", "damaged or truncated"),
    ("cut-last-1", "damaged or truncated"), ("random-10000", "not a PyTorch checkpoint"),
    ("text", "not a PyTorch checkpoint"), ("foreign-object", "objects other than tensors"),
    ("code-running-pickle", "objects other than tensors"),
    ("a-tensor", "not a training checkpoint"), ("model-state-dict", "not a training checkpoint"),
    ("missing-entries", "not a training checkpoint"), ("bad-loop", "'loop' entry"),
    ("other-model-size", "written for another model"),
    ("other-config", "written with another config (run.lr: 0.5 there, 0.01 here)"),
])
def test_the_message_says_what_is_wrong(tmp_path, good_bytes, kind, says):
    out = tmp_path / "run"
    interrupted_run(out)
    ckpt.previous_path(out / CHECKPOINT).unlink()
    (out / CHECKPOINT).write_bytes(damaged(kind, good_bytes, tmp_path))
    with pytest.raises(ValueError, match="cannot resume") as info:
        trainer(out).fit(resume=True)
    assert says in str(info.value), str(info.value)


def test_load_names_missing_files_and_folders(tmp_path):
    with pytest.raises(ValueError, match=f"checkpoint {tmp_path / 'nope.pt'} does not exist"):
        ckpt.load(tmp_path / "nope.pt")
    with pytest.raises(ValueError, match="is a folder"):
        ckpt.load(tmp_path)


def test_loading_never_runs_code(tmp_path):
    path = tmp_path / "evil.pt"
    path.write_bytes(_torch_bytes({"model": Exploit()}))
    with pytest.raises(ValueError, match=str(path)):
        ckpt.load(path)
    assert not EXPLOITED.exists()


# ------------------------------------------------- damage anywhere in the file
def _every_place(size: int, step: int) -> list[int]:
    """Offsets across the whole file, and every one of its last 128 bytes (the digest)."""
    return sorted(set(range(0, size, step)) | set(range(max(0, size - 128), size)))


def test_one_flipped_bit_anywhere_is_found(tmp_path, good_bytes):
    """Zip records are 64-byte aligned with padding no CRC-32 covers, and torch reads
    only some header fields: a flip there went unseen when one 64-byte overwrite landed
    in them (CI, round 9). Every offset is tried, a different bit each time."""
    path = tmp_path / "checkpoint.pt"
    missed = []
    for offset in _every_place(len(good_bytes), step=3):
        data = bytearray(good_bytes)
        data[offset] ^= 1 << (offset % 8)
        path.write_bytes(bytes(data))
        try:
            ckpt.load(path)
        except ValueError as error:
            assert str(path) in str(error)
        else:
            missed.append(offset)
    assert not missed, f"{len(missed)} flipped bits loaded, first at offsets {missed[:10]}"


def test_random_bytes_overwritten_anywhere_are_found(tmp_path, good_bytes):
    rng = np.random.default_rng(7)
    path = tmp_path / "checkpoint.pt"
    missed = []
    for offset in _every_place(len(good_bytes), step=29):
        data = bytearray(good_bytes)
        width = min(64, len(data) - offset)
        data[offset:offset + width] = rng.bytes(width)
        if bytes(data) == good_bytes:
            continue
        path.write_bytes(bytes(data))
        try:
            ckpt.load(path)
        except ValueError:
            pass
        else:
            missed.append(offset)
    assert not missed, f"{len(missed)} overwrites loaded, first at offsets {missed[:10]}"


@pytest.mark.parametrize("cut", [*range(1, 100), 500])
def test_a_file_cut_anywhere_in_its_end_is_found(tmp_path, good_bytes, cut):
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(good_bytes[:-cut])
    with pytest.raises(ValueError, match="damaged or truncated"):
        ckpt.load(path)


def test_bytes_appended_after_the_end_are_found(tmp_path, good_bytes):
    path = tmp_path / "checkpoint.pt"
    for tail in (b"\x00", b"PK\x05\x06", b"x" * 1000):
        path.write_bytes(good_bytes + tail)
        with pytest.raises(ValueError, match=str(path)):
            ckpt.load(path)


def test_saved_files_carry_their_digest_and_load_with_plain_torch(tmp_path, good_bytes):
    import hashlib
    import zipfile
    with zipfile.ZipFile(io.BytesIO(good_bytes)) as archive:
        comment = archive.comment
    assert comment.startswith(b"kizashi-sha256:")
    as_torch_wrote = good_bytes[:-len(comment) - 2] + b"\x00\x00"
    assert comment.split(b":")[1].decode() == hashlib.sha256(as_torch_wrote).hexdigest()
    saved = torch.load(io.BytesIO(good_bytes), weights_only=True)  # the docs promise this
    assert json.loads(saved["loop"])["step"] == 7


# ------------------------------------------------------------------- fallback
@pytest.mark.parametrize("kind", KINDS)
def test_resume_falls_back_to_the_previous_checkpoint_with_a_warning(
        tmp_path, good_bytes, reference, kind):
    out = tmp_path / "run"
    interrupted_run(out, at=13)          # checkpoint.pt at step 10, checkpoint.prev.pt at 7
    previous = ckpt.previous_path(out / CHECKPOINT)
    assert json.loads(ckpt.load(previous)["loop"])["step"] == 7
    (out / CHECKPOINT).write_bytes(damaged(kind, good_bytes, tmp_path))
    with pytest.warns(ckpt.CheckpointWarning, match=str(out / CHECKPOINT)) as caught:
        result = trainer(out).fit(resume=True)
    assert str(previous) in str(caught[0].message)
    assert not result.interrupted
    assert same_weights(ckpt.load(out / MODEL), reference)   # as if never interrupted
    assert json.loads(ckpt.load(out / CHECKPOINT)["loop"])["done"]
    assert not EXPLOITED.exists()


def test_a_missing_checkpoint_with_a_previous_one_resumes_from_it(tmp_path, reference):
    out = tmp_path / "run"
    interrupted_run(out, at=13)
    (out / CHECKPOINT).unlink()
    with pytest.warns(ckpt.CheckpointWarning, match="is missing"):
        trainer(out).fit(resume=True)
    assert same_weights(ckpt.load(out / MODEL), reference)


def test_both_bad_names_both_files(tmp_path, good_bytes):
    out = tmp_path / "run"
    interrupted_run(out, at=13)
    previous = ckpt.previous_path(out / CHECKPOINT)
    (out / CHECKPOINT).write_bytes(good_bytes[:100])
    previous.write_bytes(b"")
    with pytest.raises(ValueError) as info:
        trainer(out).fit(resume=True)
    assert str(out / CHECKPOINT) in str(info.value) and str(previous) in str(info.value)


def test_every_save_keeps_the_one_it_replaces(tmp_path):
    out = tmp_path / "run"
    interrupted_run(out, at=13)
    steps = [json.loads(ckpt.load(p)["loop"])["step"]
             for p in (out / CHECKPOINT, ckpt.previous_path(out / CHECKPOINT))]
    assert steps == [10, 7]


def test_a_fresh_run_does_not_keep_an_older_runs_checkpoint(tmp_path):
    out = tmp_path / "run"
    interrupted_run(out, at=13)
    with pytest.raises(KeyboardInterrupt):
        trainer(out, step_callback=crash_at(3)).fit()   # no checkpoint of its own yet
    assert not ckpt.previous_path(out / CHECKPOINT).exists()
    with pytest.raises(KeyboardInterrupt):
        trainer(out, step_callback=crash_at(7)).fit()
    assert not ckpt.previous_path(out / CHECKPOINT).exists()   # first save: nothing kept
    assert json.loads(ckpt.load(out / CHECKPOINT)["loop"])["step"] == 5


def test_a_resumed_run_with_other_epochs_is_not_another_config(tmp_path):
    out = tmp_path / "run"
    interrupted_run(out)
    cfg = config()
    cfg["run"]["epochs"] = 3
    result = trainer(out, cfg=cfg, epochs=3).fit(resume=True)
    assert len(result.history) == 3


# ---------------------------------------------------------------- temporaries
def test_temporaries_of_killed_saves_are_removed_at_start(tmp_path, reference):
    out = tmp_path / "run"
    interrupted_run(out, at=13)
    leftovers = [".checkpoint.pt.abcd1234", ".checkpoint.prev.pt.zz_99xyz", ".model.pt.q1w2e3r4",
                 ".config.json.k9k9k9k9", ".curves.csv.aaaaaaaa", ".curves.png.part"]
    for name in leftovers:
        (out / name).write_bytes(b"PK\x03\x04 half a checkpoint")
    kept = [".hidden-user-file", "notes.txt", ".checkpoint.ptx"]
    for name in kept:
        (out / name).write_text("mine")
    trainer(out).fit(resume=True)
    assert not [name for name in leftovers if (out / name).exists()]
    assert all((out / name).exists() for name in kept)
    assert same_weights(ckpt.load(out / MODEL), reference)


def test_a_fresh_run_also_removes_temporaries(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".checkpoint.pt.deadbeef").write_bytes(b"x" * 100)
    trainer(out, max_steps=2).fit()
    assert not (out / ".checkpoint.pt.deadbeef").exists()


_KILLED_SAVE = textwrap.dedent("""
    import io, sys, time
    import numpy as np
    import torch
    sys.path.insert(0, sys.argv[2])
    import test_checkpoint_faults as t

    real_save, saves = torch.save, []

    def slow_save(obj, f, *args, **kwargs):
        saves.append(1)
        if len(saves) < 3 or not hasattr(f, "fileno"):
            return real_save(obj, f, *args, **kwargs)
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        data = buffer.getvalue()
        f.write(data[: len(data) // 2])
        f.flush()
        print("HALF", flush=True)
        time.sleep(600)

    torch.save = slow_save
    t.trainer(t.Path(sys.argv[1])).fit()
""")


def test_sigkill_in_the_middle_of_a_save_leaves_a_loadable_state(tmp_path, reference):
    """A real ``kill -9`` while the third checkpoint is half written (a slow disk)."""
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE, str(out),
                             str(Path(__file__).parent)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "HALF", proc.stderr.read() if proc.poll() is not None else line
        time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    temporaries = list(out.glob(".checkpoint.pt.*"))
    assert len(temporaries) == 1 and temporaries[0].stat().st_size > 0
    saved = ckpt.load(out / CHECKPOINT)                   # the last complete one
    assert json.loads(saved["loop"])["step"] == 7
    assert json.loads(ckpt.load(ckpt.previous_path(out / CHECKPOINT))["loop"])["step"] == 5
    result = trainer(out).fit(resume=True)
    assert not result.interrupted and not list(out.glob(".checkpoint.pt.*"))
    assert same_weights(ckpt.load(out / MODEL), reference)


def test_atomic_save_never_leaves_a_half_file_on_error(tmp_path):
    path = tmp_path / "checkpoint.pt"
    ckpt.atomic_save({"step": 1}, path)

    class Boom:
        def __reduce__(self):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        ckpt.atomic_save({"step": 2, "x": Boom()}, path, keep_previous=True)
    assert ckpt.load(path) == {"step": 1}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("comment", [None, b"made by another tool", b"x", b"y" * 1000,
                                     b"z" * 65535])
def test_an_archive_without_a_digest_loads_with_the_crc_check(tmp_path, comment):
    """Checkpoints written before the digest or by plain ``torch.save`` (no comment), and
    archives with another program's zip comment (not taken for a damaged digest): read,
    with the CRC-32 of every record checked."""
    import zipfile
    path = tmp_path / "other.pt"
    weights = {"w": torch.arange(4096, dtype=torch.float32)}
    path.write_bytes(_torch_bytes(weights))
    if comment is not None:
        with zipfile.ZipFile(path, "a") as archive:
            archive.comment = comment
    assert torch.equal(ckpt.load(path)["w"], weights["w"])
    data = bytearray(path.read_bytes())
    data[data.index(np.arange(4096, dtype=np.float32)[2000:2004].tobytes()) + 1] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="CRC-32"):
        ckpt.load(path)
