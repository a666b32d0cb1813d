"""The status as columns: ranking, label search and the heatmap, against hand-built cases."""

from __future__ import annotations

import numpy as np

from kizashi.watch.status import DetectorColumns, SeriesTable


def table_of(rows: list[tuple[dict[str, str], float, float, bool]]) -> SeriesTable:
    """Rows of (labels, score, threshold, firing)."""
    n = len(rows)
    return SeriesTable(
        ids=np.arange(1, n + 1), labels=[r[0] for r in rows], value=np.zeros(n),
        last_seen=np.zeros(n), detectors={"d": DetectorColumns(
            score=np.array([r[1] for r in rows], dtype=float),
            threshold=np.array([r[2] for r in rows], dtype=float),
            firing=np.array([r[3] for r in rows]), seen=np.full(n, 100), needed=10)})


def test_ranking_puts_firing_first_then_score_over_threshold_then_missing():
    table = table_of([
        ({"i": "a"}, 1.0, 4.0, False),      # 0.25
        ({"i": "b"}, 3.0, 2.0, False),      # 1.5
        ({"i": "c"}, np.nan, 4.0, False),   # no score
        ({"i": "d"}, 0.5, 1.0, True),       # firing, 0.5
        ({"i": "e"}, 9.0, 3.0, True),       # firing, 3
    ])
    assert table.ranking().tolist() == [4, 3, 1, 0, 2]
    assert table.ranking(np.array([0, 2, 1])).tolist() == [1, 0, 2]


def test_label_search_words_all_must_match():
    table = table_of([({"instance": "node1", "rack": "r1"}, 0, 1, False),
                      ({"instance": "node2", "rack": "r1"}, 0, 1, False),
                      ({"instance": "node12", "rack": "r2"}, 0, 1, False)])
    assert table.matching("").tolist() == [0, 1, 2]
    assert table.matching("rack=r1").tolist() == [0, 1]
    assert table.matching("instance=node1").tolist() == [0, 2]      # substring
    assert table.matching("instance=node1 rack!=r2").tolist() == [0]
    assert table.matching("NODE2").tolist() == [1]                   # any label, any case
    assert table.matching("missing=x").tolist() == []


def test_heatmap_has_one_cell_per_entity_and_metric_holding_the_worst_ratio():
    labels = [{"instance": e, "__name__": m} for e in ("a", "b") for m in ("cpu", "mem")]
    scores = [1.0, 2.0, 8.0, np.nan]
    table = table_of([(lab, s, 4.0, False) for lab, s in zip(labels, scores, strict=True)])
    entities, metrics, cells, ids = table.heatmap()
    assert entities == ["a", "b"] and metrics == ["cpu", "mem"]
    assert cells[0].tolist() == [0.25, 0.5] and cells[1, 0] == 2.0 and np.isnan(cells[1, 1])
    assert ids.tolist() == [[1, 2], [3, 4]]


def test_row_says_learning_until_the_warm_up_is_over():
    table = table_of([({"i": "a"}, np.nan, 4.0, False)])
    table.detectors["d"].seen[:] = 3
    assert table.row(0)["detectors"]["d"]["learning"] == {"seen": 3, "needed": 10}
    table.detectors["d"].seen[:] = 10
    assert table.row(0)["detectors"]["d"]["learning"] is None
