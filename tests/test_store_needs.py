"""bench/store_needs.py: the store's own needs are measured on a store holding exactly what the
build's store holds (its quads, the dataset description among them), loaded, compacted and read once;
bench/corpus.py reports the builds' peaks above them (issue 8, point 5)."""

from __future__ import annotations

import gc
from pathlib import Path

import pyoxigraph as ox

from bench.corpus import memory_lines, slope
from bench.store_needs import probe
from tests.conftest import BuiltPlan


def test_the_probe_holds_what_the_build_s_store_holds(built_plan: BuiltPlan, tmp_path: Path) -> None:
    figures = probe(built_plan.dist, tmp_path / "store")
    gc.collect()
    built = ox.Store.read_only(str(built_plan.settings.store_dir))
    again = ox.Store.read_only(str(tmp_path / "store"))
    assert figures["quads"] == figures["quads_read"] == len(built) == len(again) > 0
    assert set(again) == set(built)  # the same quads, the description graph's included
    marks = [figures[k] for k in ("imports_mib", "loaded_mib", "compacted_mib", "read_mib")]
    assert all(isinstance(m, float) for m in marks)
    assert marks == sorted(marks)  # one high-water mark, read after each step
    assert figures["store_needs_mib"] == figures["read_mib"]


def _run(plans: int, needs: float, cold: float, rebuild: float) -> dict[str, object]:
    return {
        "plans": plans,
        "cold": {"peak_rss_mib": cold, "store_needs": {"store_needs_mib": needs}},
        "rebuild_one_changed": {"peak_rss_mib": rebuild},
    }


def test_the_report_sets_each_peak_against_the_store_s_needs() -> None:
    runs = [_run(10, 100.0, 106.0, 104.0), _run(100, 120.0, 126.0, 130.0), _run(300, 160.0, 166.0, 180.0)]
    lines = memory_lines(runs)
    assert "| 10 | 100.0 | 106.0 | +6.0 | 104.0 | +4.0 |" in lines
    assert "| 300 | 160.0 | 166.0 | +6.0 | 180.0 | +20.0 |" in lines
    assert lines[-1] == (
        "Slopes (least squares, MiB per plan): the store's needs 0.206; the cold peak above them 0.000;"
        " the rebuild's peak above them 0.054."
    )
    assert memory_lines([{"plans": 10, "cold": {"peak_rss_mib": 1.0}, "rebuild_one_changed": {}}]) == []


def test_the_slope_is_the_least_squares_one() -> None:
    assert slope([(0, 1.0), (10, 3.0), (20, 5.0)]) == 0.2
    assert slope([(10, 1.0)]) is None
