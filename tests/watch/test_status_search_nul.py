"""The overview's label search against a plain reading of its rule, for label values and
words with NUL and other odd characters (docs/watch.md, "Dashboard": every word must
match; ``key=value`` wants that label to contain the value, ``key!=value`` not to, a
bare word any label's value; case-insensitive substrings).

Before, a NUL at the end of a value or a word was lost (numpy's fixed-width text takes a
trailing NUL for padding): ``?q=%00`` listed every series, and ``key=a%00`` matched a
label ``a``. The reference below is Python's ``in`` on the lower-cased texts.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from kizashi.watch.status import SeriesTable

VALUES = ["a", "a\x00", "\x00a", "a\x00b", "\x00", "", "A.*(", "ノード\x00", "b\\", "x y",
          "a\x00\x00"]
WORD_PARTS = ["a", "\x00", "b", ".*", "(", "ノード", "\\", "A", "="]


def reference(labels: list[dict[str, str]], query: str) -> list[int]:
    out = []
    for j, lab in enumerate(labels):
        low = {k.lower(): str(v).lower() for k, v in lab.items()}
        ok = True
        for word in query.lower().split():
            if "!=" in word:
                key, value = word.split("!=", 1)
                ok &= not (key in low and value in low[key])
            elif "=" in word:
                key, value = word.split("=", 1)
                ok &= key in low and value in low[key]
            else:
                ok &= any(word in v for v in low.values())
        if ok:
            out.append(j)
    return out


def table(labels: list[dict[str, str]]) -> SeriesTable:
    n = len(labels)
    return SeriesTable(np.arange(1, n + 1), labels, np.zeros(n), np.zeros(n), {})


def words(rng: random.Random) -> str:
    def text() -> str:
        return "".join(rng.choice(WORD_PARTS) for _ in range(rng.randint(1, 3)))

    forms = [lambda: text(), lambda: f"host={text()}", lambda: f"rack!={text()}",
             lambda: f"host={text()}\x00", lambda: "\x00"]
    return " ".join(rng.choice(forms)() for _ in range(rng.randint(1, 2)))


@pytest.mark.parametrize("seed", range(6))
def test_the_search_is_its_rule_for_values_and_words_with_nul(seed):
    rng = random.Random(seed)
    labels = [{"host": rng.choice(VALUES), **({"rack": rng.choice(VALUES)}
                                              if rng.random() < 0.7 else {})}
              for _ in range(40)]
    t = table(labels)
    for query in [words(rng) for _ in range(150)] + ["\x00", "a\x00", "host=a\x00",
                                                      "host!=\x00", "a\x00\x00"]:
        assert t.matching(query).tolist() == reference(labels, query), repr(query)


def test_a_nul_word_finds_only_the_values_holding_one():
    labels = [{"host": "web-1"}, {"host": "web-2\x00"}, {"host": "db"}]
    assert table(labels).matching("\x00").tolist() == [1]
    assert table(labels).matching("host=web-1\x00").tolist() == []
    assert table(labels).matching("host=web-2\x00").tolist() == [1]
