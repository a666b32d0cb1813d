"""Checks on a command's output paths taken together, before any work.

:func:`check_distinct_outputs` refuses two output options naming one file (the second
write would replace the first, silently); :func:`check_image_path` refuses a ``--plot``
path whose suffix is no image format matplotlib writes (it would fail only after the
work, with the scores already written) or that has no suffix (matplotlib would add
``.png`` and write another file than the one named).
"""

from __future__ import annotations

import os
from pathlib import Path

import click


def check_distinct_outputs(outputs: dict[str, Path | None]) -> None:
    """Refuse two options of ``outputs`` (option name → path) naming the same file.

    >>> check_distinct_outputs({"--out": Path("s.csv"), "--plot": Path("./s.csv")})
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: cannot write s.csv: --out and --plot both name it; give each output its own file
    """  # noqa: E501
    seen: dict[str, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        key = os.path.realpath(path)
        if key in seen:
            raise click.ClickException(f"cannot write {path}: {seen[key]} and {option} both "
                                       f"name it; give each output its own file")
        seen[key] = option


def image_formats() -> list[str]:
    """The file suffixes (formats) matplotlib's figures can be saved as.

    >>> {"png", "svg", "pdf"} <= set(image_formats())
    True
    """
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())


def check_image_path(path: Path | None, option: str = "--plot") -> None:
    """Refuse an image path without a suffix matplotlib writes.

    >>> check_image_path(Path("cpu.png"))
    >>> check_image_path(Path("cpu.csv"))
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 'cpu.csv': '.csv' is not an image format matplotlib writes; end the name with .png, .svg or .pdf
    """  # noqa: E501
    if path is None:
        return
    suffix = path.suffix.lower().lstrip(".")
    if suffix in image_formats():
        return
    what = (f"'.{suffix}' is not an image format matplotlib writes" if suffix
            else "no suffix names the image format")
    raise click.BadParameter(f"{str(path)!r}: {what}; end the name with .png, .svg or .pdf",
                             param_hint=option)
