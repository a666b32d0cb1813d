"""Atomic, code-free checkpoint files: ``torch.save`` to a temporary file, then rename.

Everything saved is tensors, numbers, strings, lists and dicts, so files load with
``torch.load(..., weights_only=True)``: opening one never runs code.

Faults, and what they give:

* A write is never seen half done: the bytes go to ``.NAME.XXXXXXXX`` beside the
  file, are flushed to disk, and only then renamed over ``NAME``. A ``kill -9``
  mid-write leaves that temporary behind; :func:`remove_temporaries` deletes
  such leftovers when the next run starts.
* ``atomic_save(..., keep_previous=True)`` first keeps the file it replaces as
  ``NAME.prev.SUFFIX`` (``checkpoint.prev.pt``; a hard link, so no copy), so one
  good checkpoint is left even if the newest is later damaged on disk. The
  :class:`~kizashi.dl.trainer.Trainer` falls back to it on ``--resume``, with a
  :class:`CheckpointWarning` naming the bad file.
* Every file ends with its own SHA-256, kept in the zip archive's comment
  (``kizashi-sha256:<hex>``, which ``torch.load`` ignores). :func:`load` checks it,
  so a changed byte anywhere is found: in a tensor, in the zip headers, or in the
  alignment padding that the records' CRC-32 does not cover. Files without it
  (written before, or by other programs) get the CRC-32 check of every record.
* A damaged, truncated, empty, foreign or mismatched file is a :class:`ValueError`
  naming the file and what is wrong (:func:`load`, :func:`check_state_dict`,
  :func:`config_changes`), never a raw PyTorch error.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> atomic_save({"step": 1}, folder / "checkpoint.pt")
>>> atomic_save({"step": 2}, folder / "checkpoint.pt", keep_previous=True)
>>> load(folder / "checkpoint.pt")["step"], load(previous_path(folder / "checkpoint.pt"))["step"]
(2, 1)
>>> _ = (folder / "empty.pt").write_bytes(b"")
>>> load(folder / "empty.pt")
Traceback (most recent call last):
...
ValueError: checkpoint .../empty.pt is empty (0 bytes): its write was cut short; ...
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kizashi.integrity import append_zip_digest, check_zip

__all__ = [
    "CheckpointWarning",
    "atomic_save",
    "atomic_write_text",
    "check_state_dict",
    "config_changes",
    "load",
    "previous_path",
    "remove_temporaries",
    "rng_states",
    "set_rng_states",
]


_REMEDY = "resume from an older checkpoint or train afresh"


class CheckpointWarning(UserWarning):
    """A checkpoint was damaged or missing and an older one is used instead."""


def previous_path(path: str | Path) -> Path:
    """Where :func:`atomic_save` keeps the file it replaces: ``checkpoint.pt`` →
    ``checkpoint.prev.pt``.

    Parameters
    ----------
    path : path-like
        The checkpoint.

    Returns
    -------
    Path
    """
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def atomic_save(obj: Any, path: str | Path, keep_previous: bool = False) -> None:
    """``torch.save(obj, path)`` so that ``path`` is either the old or the new file, never half.

    Parameters
    ----------
    obj : object
        Tensors, numbers, strings, lists and dicts (loadable with ``weights_only``).
    path : path-like
        The file; its folder is created.
    keep_previous : bool
        Keep the file being replaced as :func:`previous_path` ``(path)``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w+b") as out:
            torch.save(obj, out)
            out.flush()
            append_zip_digest(out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        if keep_previous and path.is_file():
            _keep(path, previous_path(path))
        os.replace(tmp, path)
        _sync_folder(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _keep(path: Path, target: Path) -> None:
    """Make ``target`` the current content of ``path`` (a hard link, else a copy), atomically."""
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        os.unlink(tmp)
        try:
            os.link(path, tmp)
        except OSError:  # no hard links here (some network or FUSE filesystems)
            shutil.copyfile(path, tmp)
            with open(tmp, "rb") as copy:
                os.fsync(copy.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows opening folders)."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def remove_temporaries(folder: str | Path, names: tuple[str, ...]) -> list[Path]:
    """Delete the temporaries that writes of ``names`` left in ``folder`` when killed.

    Parameters
    ----------
    folder : path-like
        The output folder (a missing folder has none).
    names : tuple of str
        File names written atomically there, e.g. ``("checkpoint.pt", "model.pt")``.

    Returns
    -------
    list of Path
        The files removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    prefixes = tuple(f".{name}." for name in names)
    removed = []
    for entry in folder.iterdir():
        if entry.name.startswith(prefixes) and entry.is_file():
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed.append(entry)
    return sorted(removed)


def atomic_write_text(text: str, path: str | Path) -> None:
    """Write a text file atomically.

    Parameters
    ----------
    text : str
        The content (UTF-8).
    path : path-like
        The file; its folder is created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | Path, map_location: Any = "cpu") -> Any:
    """Load a file written by :func:`atomic_save` without executing code.

    Parameters
    ----------
    path : path-like
        The file.
    map_location : str or torch.device
        Where tensors go.

    Returns
    -------
    object
        What was saved.

    Raises
    ------
    ValueError
        Naming the file when it is missing, empty, truncated, not a PyTorch file, or
        holds objects other than tensors and plain data (never unpickled).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValueError(f"checkpoint {path} does not exist") from None
    except OSError as error:
        raise ValueError(f"cannot read checkpoint {path}: {error.strerror or error}") from None
    if path.is_dir():
        raise ValueError(f"checkpoint {path} is a folder, not a file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as error:
        raise ValueError(f"cannot read checkpoint {path}: {error.strerror or error}") from None
    if size == 0:
        raise ValueError(f"checkpoint {path} is empty (0 bytes): its write was cut short; "
                         "resume from an older checkpoint or train afresh")
    check_zip(path, "checkpoint", _REMEDY)
    try:
        with warnings.catch_warnings():  # torch's notes on odd pickles: the error says it all
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many kinds (even OSError) for a bad file
        raise ValueError(_load_error(path, size, head, error)) from None


def _load_error(path: Path, size: int, head: bytes, error: Exception) -> str:
    text = str(error)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = first.split(". ")[0].rstrip(".")[:120]
    if "unsupported global" in text.lower():
        return (f"checkpoint {path} holds objects other than tensors and plain data; it is "
                "refused: checkpoints are loaded with weights_only=True and nothing is "
                "unpickled (was it written by another program?)")
    if head == b"PK\x03\x04":
        detail = (error.strerror if isinstance(error, OSError) and error.strerror
                  else first or type(error).__name__)
        return (f"checkpoint {path} is damaged or truncated ({size} bytes of a zip archive "
                f"that does not read back: {detail}); resume from an older checkpoint or "
                "train afresh")
    return (f"checkpoint {path} is not a PyTorch checkpoint or is damaged ({size} bytes; "
            f"{type(error).__name__}{': ' + first if first else ''})")


def check_state_dict(saved: Any, model: torch.nn.Module, path: str | Path,
                     what: str = "model") -> None:
    """Check that ``saved`` is a state dict of ``model``'s shape, before loading it.

    Parameters
    ----------
    saved : object
        The state dict read from the checkpoint.
    model : torch.nn.Module
        The network it must fit.
    path : path-like
        The checkpoint (for the message).
    what : str
        Which entry of the checkpoint (for the message).

    Raises
    ------
    ValueError
        Naming the file and the first missing, unexpected or differently shaped tensor.
    """
    expected = model.state_dict()
    if not isinstance(saved, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in saved.values()):
        raise ValueError(f"checkpoint {path}: its {what!r} entry is not a state dict of tensors")
    missing = [k for k in expected if k not in saved]
    unexpected = [k for k in saved if k not in expected]
    if missing or unexpected:
        parts = ([f"missing {', '.join(missing[:3])}"] if missing else []) + (
            [f"unexpected {', '.join(unexpected[:3])}"] if unexpected else [])
        raise ValueError(f"checkpoint {path} was written for another model ({'; '.join(parts)}"
                         f" in {what!r}); resume with the config that wrote it, or train "
                         "afresh in another folder")
    for key, tensor in expected.items():
        if tuple(saved[key].shape) != tuple(tensor.shape):
            raise ValueError(
                f"checkpoint {path} was written for another model: {what!r} tensor {key} has "
                f"shape {tuple(saved[key].shape)} there but {tuple(tensor.shape)} here; "
                "resume with the config that wrote it, or train afresh in another folder")


def config_changes(saved: str | None, current: Any, ignore: frozenset[str]) -> list[str]:
    """Keys whose values differ between a checkpoint's config and the current one.

    Parameters
    ----------
    saved : str or None
        The JSON config stored in the checkpoint (None: none stored, nothing to compare).
    current : object
        The current config (JSON-able).
    ignore : frozenset of str
        Key names that may change between a run and its resumption (e.g. ``epochs``).

    Returns
    -------
    list of str
        ``"key: A there, B here"`` per difference (dotted keys), at most five.

    Examples
    --------
    >>> config_changes('{"model": {"hidden": 16}, "epochs": 3}',
    ...                {"model": {"hidden": 32}, "epochs": 9}, frozenset({"epochs"}))
    ['model.hidden: 16 there, 32 here']
    """
    if saved is None or current is None:
        return []
    before = _flatten(json.loads(saved))
    after = _flatten(json.loads(json.dumps(current)))
    out = []
    for key in sorted(set(before) | set(after)):
        if key.rsplit(".", 1)[-1] in ignore or before.get(key) == after.get(key):
            continue
        out.append(f"{key}: {before.get(key, '(absent)')!r} there, "
                   f"{after.get(key, '(absent)')!r} here")
    return out[:5]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): value}


def rng_states() -> dict[str, Any]:
    """The torch, CUDA, numpy and Python random states as plain tensors and numbers.

    Returns
    -------
    dict
        What :func:`set_rng_states` restores.
    """
    kind, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002
    version, internal, gauss_next = random.getstate()
    states = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss_next},
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Restore what :func:`rng_states` returned.

    Parameters
    ----------
    states : dict
        From :func:`rng_states` (possibly through a checkpoint).
    """
    torch.set_rng_state(states["torch"].cpu())
    n = states["numpy"]
    numpy_state = (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                   n["gauss"])
    np.random.set_state(numpy_state)  # noqa: NPY002
    p = states["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss_next"]))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in states["cuda"]])
