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
