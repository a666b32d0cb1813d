"""YAML read strictly: a mapping that gives one key twice is refused, not silently merged.

Plain YAML lets the last of two equal keys win, so a config that sets ``interval`` twice
runs with one of them and says nothing. Every kizashi config read from YAML (the watch
config, the training configs) goes through :func:`load_yaml`.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["EXPONENT", "load_yaml"]

#: A plain scalar in exponent notation (``1e308``, ``-2.5E-3``, ``.5e2``): a float.
EXPONENT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


def load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, refusing a mapping that gives one key twice, and reading
    numbers in exponent notation (``1e308``) as numbers (one past the largest float,
    ``1e400``, stays the text written, so that the error naming it quotes it).

    >>> load_yaml("a: 1\\nb: 2\\nc: 5e11\\nd: '5e11'\\ne: 1e400\\nf: .inf")
    {'a': 1, 'b': 2, 'c': 500000000000.0, 'd': '5e11', 'e': '1e400', 'f': inf}
    >>> try:
    ...     load_yaml("a: 1\\na: 2")
    ... except Exception as error:
    ...     print(error.problem)
    key 'a' is given twice (the first at line 1)
    """
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, Any] = {}
                for key_node, _ in node.value:  # (before merging `<<:`, which may override)
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=deep)
                    try:
                        first = seen.setdefault(key, key_node)
                    except TypeError:  # an unhashable key: yaml's own error follows
                        continue
                    if first is not key_node:
                        raise yaml.constructor.ConstructorError(
                            "while reading a mapping", node.start_mark,
                            f"key {key!r} is given twice (the first at line "
                            f"{first.start_mark.line + 1})", key_node.start_mark)
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_float(self, node):
            value = super().construct_yaml_float(node)
            if math.isinf(value) and EXPONENT.match(node.value):
                return node.value  # 1e400: past the floats; kept as written, for the error
            return value

    # numbers in exponent notation without a dot or without the exponent's sign (1e308,
    # 5e11, 1.5e3, 1e-3) are numbers, as in YAML 1.2; YAML 1.1 read them as text, so
    # `limit: 5e11` was refused as "must be a number, got '5e11'"
    UniqueKeyLoader.add_implicit_resolver("tag:yaml.org,2002:float", EXPONENT,
                                          list("-+.0123456789"))
    UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float",
                                    UniqueKeyLoader.construct_yaml_float)
    return yaml.load(text, Loader=UniqueKeyLoader)

