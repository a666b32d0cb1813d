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


def check_table_path(path: Path | None, option: str = "--out") -> None:
    """Refuse a table path whose suffix names no format kizashi writes (before the work).

    >>> check_table_path(Path("scores.csv.gz"))
    >>> check_table_path(Path("scores.xlsx"), "--incidents")
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 'scores.xlsx': '.xlsx' is not a table format kizashi writes; end the name with .csv, .csv.gz, .parquet, .json or .jsonl
    """  # noqa: E501
    from kizashi.engine.table_files import table_format

    if path is None:
        return
    try:
        table_format(path)
    except ValueError as error:
        raise click.BadParameter(f"{str(path)!r}: {error}", param_hint=option) from None


def check_json_path(path: Path | None, option: str = "--json") -> None:
    """Refuse a ``--json`` path whose suffix names another format than JSON (the file holds
    one JSON document; a name without a suffix, such as ``rows``, is no lie and is kept).

    >>> check_json_path(Path("rows.JSON")), check_json_path(Path("rows"))
    (None, None)
    >>> check_json_path(Path("rows.csv"))
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 'rows.csv': '.csv' is not JSON, which this option writes; end the name with .json
    """  # noqa: E501
    if path is None or path.suffix.lower() in (".json", ""):
        return
    raise click.BadParameter(f"{str(path)!r}: {path.suffix!r} is not JSON, which this option "
                             f"writes; end the name with .json",
                             param_hint=option)
