"""A YAML parser's error as one line: where (line, column) and what.

PyYAML's messages span several lines (the context, the problem, a snippet with a
caret); a command prints errors on one line, so the configs (``kizashi watch``,
``kizashi train``) say it this way.
"""

from __future__ import annotations


def yaml_reason(error: Exception) -> str:
    """``line L, column C: context: problem`` for a ``yaml.YAMLError`` (any error: its text).

    >>> import yaml
    >>> try:
    ...     yaml.safe_load("watches: [\\n")
    ... except yaml.YAMLError as error:
    ...     print(yaml_reason(error))
    line 2, column 1: while parsing a flow node: expected the node content, but found '<stream end>'
    """
    mark = getattr(error, "problem_mark", None)
    parts = [getattr(error, "context", None), getattr(error, "problem", None)]
    what = ": ".join(" ".join(str(p).split()) for p in parts if p) or " ".join(
        str(error).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {what}" if mark else what


def bounded_repr(value: object, limit: int = 300) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters *without*
    walking all of ``value``: YAML aliases make a list of 10⁸ items in a few lines
    (``&a [x, …]``, ``&b [*a, *a, …]``, …), whose full ``repr`` took gigabytes and
    half a minute before a config error could be said (and one more level, all the
    memory). Small values are shown exactly as ``repr`` shows them.

    >>> bounded_repr([1, "a", {"k": None}])
    "[1, 'a', {'k': None}]"
    >>> nested = ["x"] * 10
    >>> for _ in range(7):
    ...     nested = [nested] * 10
    >>> text = bounded_repr(nested)
    >>> len(text) <= 300, text.endswith("...")
    (True, True)
    """
    import reprlib

    shower = reprlib.Repr()
    shower.maxlevel, shower.maxlist, shower.maxtuple = 4, 12, 12
    shower.maxdict, shower.maxset, shower.maxfrozenset, shower.maxdeque = 12, 12, 12, 12
    shower.maxstring, shower.maxlong, shower.maxother = limit, limit, limit
    text = shower.repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."
