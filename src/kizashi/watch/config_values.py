"""Typed values of the watch config: each key gets the kind it documents, or a one-line refusal.

YAML turns unquoted text into other things: ``010`` becomes the number 8, ``1.10``
the number 1.1, ``no`` the boolean false, ``[rack, node]`` a list. Converting those back
with ``str()`` would watch a query named ``False`` or group peers by a label called
``['rack', 'node']``; so a name, a path or a label is text and nothing else, and each
mapping and list is one. Every refusal names the file, the key and what is expected.

A mapping that repeats a key (the last one silently winning in plain YAML) is refused
by :func:`load_yaml`, and an unknown key gets the nearest known one as a hint
(:func:`did_you_mean`).

>>> label_name("rack", "c.yaml: peers_by")
'rack'
>>> label_name(["rack", "node"], "c.yaml: peers_by")
Traceback (most recent call last):
...
ValueError: c.yaml: peers_by must be one label name (letters, digits and _, not starting with a digit), got ['rack', 'node']
>>> name_text(False, "c.yaml: watches[0].name", "watch0")
Traceback (most recent call last):
...
ValueError: c.yaml: watches[0].name must be text, got false (YAML reads yes/no/on/off as booleans: quote it)
>>> did_you_mean("intervall", ["interval", "storage"])
" (did you mean 'interval'?)"
"""  # noqa: E501

from __future__ import annotations

import re
from typing import Any

# moved to neutral modules (the training configs use them too); imported from here as before
from kizashi.spelling import did_you_mean as did_you_mean
from kizashi.spelling import nearest as nearest
from kizashi.strict_yaml import load_yaml as load_yaml
from kizashi.yaml_errors import bounded_repr

#: a Prometheus label name
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def shown(value: Any) -> str:
    """``value`` as the config would spell it (``true``, ``5``, ``'x'``, ``[a, b]``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return bounded_repr(value)  # (never the whole of a list an alias bomb made huge)


def _not_text(value: Any, at: str, what: str) -> ValueError:
    hint = ""
    if isinstance(value, bool):
        hint = " (YAML reads yes/no/on/off as booleans: quote it)"
    elif isinstance(value, (int, float)):
        hint = " (YAML reads it as a number, e.g. 010 as 8: quote it)"
    return ValueError(f"{at} must be {what}, got {shown(value)}{hint}")


def name_text(value: Any, at: str, default: str | None) -> str | None:
    """A non-empty text value (a name, a path, a query); ``default`` when absent (null)."""
    if value is None:
        return default
    if not isinstance(value, str):
        raise _not_text(value, at, "text")
    if not value.strip():
        raise ValueError(f"{at} is empty; give a value or leave the key out")
    return value


def label_name(value: Any, at: str) -> str | None:
    """A Prometheus label name, or None when absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not LABEL_NAME.fullmatch(value):
        raise ValueError(f"{at} must be one label name (letters, digits and _, not starting "
                         f"with a digit), got {shown(value)}")
    return value


def mapping(value: Any, at: str, what: str) -> dict:
    """A YAML mapping (``{}`` when absent); ``what`` describes its entries in the message."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{at} must be a mapping of {what}, got {shown(value)}")
    return value


def label_values(value: Any, at: str) -> dict[str, str]:
    """A mapping of label name → text (a number is taken as its text)."""
    out = {}
    for name, text in mapping(value, at, "label name → value").items():
        label_name(name, f"{at}: key")
        if isinstance(text, bool) or not isinstance(text, (str, int, float)):
            raise ValueError(f"{at}.{name} must be text, got {shown(text)}")
        out[name] = str(text)
    return out


def optional_list(value: Any, at: str, what: str) -> list | None:
    """A non-empty list, or None when absent; ``what`` describes its items."""
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise ValueError(f"{at} must be a non-empty list of {what} (or left out), "
                         f"got {shown(value)}")
    return value


