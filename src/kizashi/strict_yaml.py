"""YAML read strictly: a mapping that gives one key twice is refused, not silently merged.

Plain YAML lets the last of two equal keys win, so a config that sets ``interval`` twice
runs with one of them and says nothing. Every kizashi config read from YAML (the watch
config, the training configs) goes through :func:`load_yaml`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_yaml"]


def load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, refusing a mapping that gives one key twice.

    >>> load_yaml("a: 1\\nb: 2")
    {'a': 1, 'b': 2}
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

    return yaml.load(text, Loader=UniqueKeyLoader)

