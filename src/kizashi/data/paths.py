"""Where datasets live: one setting for local copies, and a cache for downloads.

* ``KIZASHI_DATA`` points at a folder holding local copies (``nab/``, ``smd/`` …).
  When it is unset, ``../shared/datasets`` beside the project checkout is used
  if it exists (the team's shared copies).
* ``KIZASHI_CACHE`` is where loaders put what they download from the public
  originals (default ``~/.cache/kizashi``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[3]


def dataset_root() -> Path | None:
    """The folder of local dataset copies, or ``None`` when there is none."""
    configured = os.environ.get("KIZASHI_DATA")
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise ValueError(f"KIZASHI_DATA={configured!r} is not a directory")
        return path
    shared = _REPO_ROOT.parent / "shared" / "datasets"
    return shared if shared.is_dir() else None


def dataset_dir(name: str) -> Path | None:
    """``<dataset_root>/<name>`` when it exists."""
    root = dataset_root()
    if root is None or not (root / name).is_dir():
        return None
    return root / name


def cache_dir() -> Path:
    """Where downloads go; created on demand."""
    path = Path(os.environ.get("KIZASHI_CACHE", Path.home() / ".cache" / "kizashi")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def missing_copy_hint(destination: Path) -> str:
    """What to do when a download for ``destination`` (under the cache) failed.

    Names the dataset folder that ``KIZASHI_DATA`` lacks when it is set (an empty or
    wrong folder is the usual cause), else says to set it.
    """
    configured = os.environ.get("KIZASHI_DATA")
    try:
        name = destination.relative_to(cache_dir()).parts[0]
    except (ValueError, IndexError):
        name = "the dataset"
    if configured:
        return (f"Set KIZASHI_DATA to a folder with a local copy: KIZASHI_DATA={configured} "
                f"has no {name}/ folder")
    return "Set KIZASHI_DATA to a folder with a local copy instead."


def fetch(url: str, destination: Path, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination`` atomically (kept if already there)."""
    if destination.exists():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as src:
            shutil.copyfileobj(src, out)
        os.replace(tmp_name, destination)
    except OSError as error:
        Path(tmp_name).unlink(missing_ok=True)
        raise OSError(
            f"could not download {url}: {error}. {missing_copy_hint(destination)}"
        ) from error
    return destination
