"""Every failure of a ``kizashi`` command as one line on stderr, never a traceback.

The commands turn the errors they expect (bad data, bad options) into
:class:`click.ClickException` s themselves; :func:`guarded` is the net under all of them,
run by the command group around each sub-command:

* a usage error (a missing file, an option out of range) is one line, exit status 2,
  with the command's ``--help`` named instead of click's three-line usage block;
* an error message of several lines (a YAML parser's, say) is joined into one;
* an :class:`OSError` (an output folder that does not exist, a full disk, a file that
  cannot be read) names the file and the reason, exit status 1;
* anything else is an internal error: one line with its type and message, exit status 1,
  and the hint to rerun with ``KIZASHI_DEBUG=1`` for the traceback;
* Python warnings raised while a command runs (numpy's ``overflow encountered in square``
  on values near 1e308, say) are one ``warning:`` line each, not the source line they came
  from.

>>> one_line("not valid YAML: while parsing\\n  in line 2\\n\\n    ^")
'not valid YAML: while parsing in line 2 ^'
>>> describe_os_error(FileNotFoundError(2, "No such file or directory", "/no/dir/s.csv"))
'/no/dir/s.csv: No such file or directory'
"""

from __future__ import annotations

import errno
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click

T = TypeVar("T")

#: Set to 1 to let unexpected errors end in their traceback (for a bug report).
DEBUG_VARIABLE = "KIZASHI_DEBUG"


class OneLineUsageError(click.ClickException):
    """A usage error shown as one line (exit status 2, as click's own)."""

    exit_code = 2


def one_line(message: str) -> str:
    """``message`` with its lines joined by single spaces (blank lines dropped)."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


def describe_os_error(error: OSError) -> str:
    """``FILE: reason`` for an :class:`OSError` (both files of a failed rename)."""
    reason = error.strerror or one_line(str(error)) or type(error).__name__
    if error.filename is None:
        return reason
    names = str(error.filename)
    if getattr(error, "filename2", None) is not None:
        names += f" -> {error.filename2}"
    return f"{names}: {reason}"


def _usage_message(error: click.UsageError) -> str:
    text = one_line(error.format_message())
    if error.ctx is not None:
        text += f" (see '{error.ctx.command_path} --help')"
    return text


def guarded(run: Callable[[], T]) -> T:
    """``run()``, with every failure turned into a one-line :class:`click.ClickException`."""
    try:
        with one_line_warnings():
            return run()
    except click.exceptions.NoArgsIsHelpError:
        raise
    except click.UsageError as error:
        raise OneLineUsageError(_usage_message(error)) from None
    except click.ClickException as error:
        error.message = one_line(error.message)
        raise
    except (click.exceptions.Exit, click.Abort, KeyboardInterrupt, SystemExit):
        raise
    except OSError as error:
        if os.environ.get(DEBUG_VARIABLE) or error.errno == errno.EPIPE:
            raise  # a closed pipe (kizashi ... | head): click exits quietly
        raise click.ClickException(describe_os_error(error)) from None
    except MemoryError:
        raise click.ClickException("out of memory: the input or a parameter (a window, the "
                                   "horizon) is too large for this machine") from None
    except Exception as error:  # the net: a bug, but still no traceback for the operator
        if os.environ.get(DEBUG_VARIABLE):
            raise
        raise click.ClickException(
            f"internal error ({type(error).__name__}: {one_line(str(error)) or 'no message'}); "
            f"rerun with {DEBUG_VARIABLE}=1 for the traceback and report it") from None


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Show each Python warning as one ``warning: MESSAGE (Category)`` line on stderr.

    Of numpy's floating-point warnings (``RuntimeWarning`` itself: overflow, invalid
    value, mean of an empty slice), which come in bursts from one cause, the first is shown
    with what it means, and the number of the others at the end; subclasses of
    ``RuntimeWarning`` (tqdm's, scipy's) are shown as they are, each.
    """
    previous = warnings.showwarning
    numeric = [0]

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = f"{one_line(str(message))} ({category.__name__})"
        if category is RuntimeWarning:  # numpy's own; not a subclass (tqdm's monitor,
            # scipy's constant input) that says something else
            numeric[0] += 1
            if numeric[0] > 1:
                return
            text += ("; results computed from values that large (or from series without "
                     "values) may be infinite or empty")
        click.echo(f"warning: {text}", err=True)

    warnings.showwarning = show
    try:
        yield
    finally:
        if warnings.showwarning is show:
            warnings.showwarning = previous
        if numeric[0] > 1:
            click.echo(f"warning: {numeric[0] - 1} more numerical warning(s) of the same kind "
                       "(RuntimeWarning) not shown", err=True)


def check_not_input(output: Path | None, *inputs: Path | None) -> None:
    """Refuse an output path that is one of the inputs (it would be overwritten).

    >>> check_not_input(Path("/tmp/a.csv"), Path("/tmp/../tmp/a.csv"))
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: cannot write /tmp/a.csv: it is an input file; give the output another name
    """  # noqa: E501
    if output is None:
        return
    for source in inputs:
        if source is None:
            continue
        same = os.path.abspath(output) == os.path.abspath(source)
        if same or (output.exists() and source.exists() and output.samefile(source)):
            raise click.ClickException(f"cannot write {output}: it is an input file; give the "
                                       "output another name")


def not_empty_path(ctx: click.Context, param: click.Parameter, value: str | None
                   ) -> Path | None:
    """A click callback: the option's path, refusing an empty one (which would mean ``.``).

    >>> not_empty_path(None, None, "out")
    PosixPath('out')
    """
    if value is None:
        return None
    if not str(value).strip():
        raise click.BadParameter("is empty; give a path", ctx, param)
    return Path(value)


def distinct_values(ctx: click.Context | None, param: click.Parameter | None,
                    values: tuple) -> tuple:
    """A click callback for a repeatable option: its values, refusing an empty text and a
    value given twice (a seed scored twice would be counted twice in a benchmark's sums).

    >>> distinct_values(None, None, ("machine-1-1", "machine-1-2"))
    ('machine-1-1', 'machine-1-2')
    >>> distinct_values(None, None, (1, 1))
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 1 is given twice; give each value once
    """
    seen: list = []
    for value in values:
        if isinstance(value, str) and not value.strip():
            raise click.BadParameter("is empty; give a value", ctx, param)
        if value in seen:
            raise click.BadParameter(f"{value!r} is given twice; give each value once", ctx,
                                     param)
        seen.append(value)
    return tuple(values)


def check_writable(path: Path | None, what: str = "file") -> None:
    """Refuse, before any work, an output ``path`` that cannot be written.

    A ``what="folder"`` path may exist as a folder (or be created); a file's folder must
    exist. Raises :class:`click.ClickException` naming the path and the reason.

    >>> check_writable(Path("/no/such/folder/scores.csv"))
    Traceback (most recent call last):
    ...
    click.exceptions.ClickException: cannot write /no/such/folder/scores.csv: folder /no/such/folder does not exist
    """  # noqa: E501
    if path is None:
        return
    resolved = Path(os.path.realpath(path))
    for root in ("/proc", "/sys"):
        if resolved == Path(root) or Path(root) in resolved.parents:
            raise click.ClickException(f"cannot write {path}: {root} is a virtual filesystem; "
                                       f"give a {what} on a disk")
    if what == "file" and path.is_dir():
        raise click.ClickException(f"cannot write {path}: it is a folder; give a file name")
    if what == "folder" and path.exists() and not path.is_dir():
        raise click.ClickException(f"cannot write {path}: it is a file; give a folder")
    parent = path.parent if what == "file" or not path.exists() else path
    while what == "folder" and not parent.exists() and parent != parent.parent:
        parent = parent.parent  # a folder's missing parents are created
    if parent.exists() and not parent.is_dir():
        raise click.ClickException(f"cannot write {path}: {parent} is a file, not a folder")
    if not parent.is_dir():
        raise click.ClickException(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise click.ClickException(f"cannot write {path}: no permission to write in {parent}")
