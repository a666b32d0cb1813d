"""``kizashi fit`` of an entity with a single metric says what is missing in the operator's
terms (at least 2 metrics of the entity; it has 1), not "needs rows of at least 2 metrics,
got shape (600, 1)".

Family: one metric as a wide file, as a long file, and as the one metric of the entity
picked with --entity from a file whose other entity has two.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

T0 = 1_704_067_200


def _wide(n: int = 300) -> str:
    return "timestamp,cpu\n" + "".join(f"{T0 + 60 * i},{50 + i % 7}\n" for i in range(n))


def _long(pairs: list[tuple[str, str]], n: int = 300) -> str:
    return "timestamp,entity,metric,value\n" + "".join(
        f"{T0 + 60 * i},{e},{m},{50 + i % 7}\n" for i in range(n) for e, m in pairs)


CASES = {"wide": (_wide(), []), "long": (_long([("n1", "cpu")]), []),
         "picked": (_long([("n1", "cpu"), ("n2", "cpu"), ("n2", "mem")]), ["--entity", "n1"])}


@pytest.mark.parametrize("case", list(CASES))
def test_one_metric_is_refused_in_the_operators_terms(tmp_path, case):
    text, options = CASES[case]
    source = tmp_path / "train.csv"
    source.write_text(text)
    result = CliRunner().invoke(cli, ["fit", str(source), "--out", str(tmp_path / "m"), "-q",
                                      *options])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0] == (f"Error: {source}: fitting 'ensemble' needs at least 2 metrics of the "
                        f"entity (its model relates them), got 1; give a file with more of "
                        f"its metrics")
    assert not (tmp_path / "m").exists()
