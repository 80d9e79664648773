"""bench/corpus.py's generator: fictional plans of both layouts that the readers take as they are
meant (the Jinan genre; the general numbering with frame parts, restarting or running sections, items
and sub-items), the same for the same seed; and its report."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import corpus
from bench.corpus import change_one, fit, generate
from mapping.outline import read_outline
from mapping.outline_model import NumberingStyle, Outline, Role, Sequencing, Shape


def outline(path: Path) -> Outline:
    return read_outline(path.read_text(encoding="utf-8"), source_name=path.name)


def test_the_layouts_alternate_and_read_as_meant(tmp_path: Path) -> None:
    paths = generate(12, tmp_path)
    outlines = [outline(p) for p in paths]
    assert [o.shape for o in outlines[::2]] == [Shape.PILLARS_AND_TASKS] * 6
    general = outlines[1::2]
    assert [o.shape for o in general] == [Shape.GENERAL] * 6
    for o in general:
        first, last = o.divisions[0], o.divisions[-1]
        assert first.role is Role.FRAME and last.role is Role.FRAME, o.title
        assert all(d.role is Role.ACTION for d in o.divisions[1:-1]), o.title
        assert o.period is not None and o.period[1] - o.period[0] in (2, 3, 4)
    sections = [
        next(n.sequencing for n in o.numbering if n.style is NumberingStyle.CHINESE_PAREN) for o in general
    ]
    assert {Sequencing.RESTART, Sequencing.ACROSS} <= set(sections)  # both, in one small corpus
    depths = {max(d.level for top in o.divisions for d in top.walk()) for o in general}
    assert {2, 3, 4} <= depths


def test_the_same_seed_writes_the_same_texts(tmp_path: Path) -> None:
    a = [p.read_bytes() for p in generate(5, tmp_path / "a", seed=3)]
    b = [p.read_bytes() for p in generate(5, tmp_path / "b", seed=3)]
    c = [p.read_bytes() for p in generate(5, tmp_path / "c", seed=4)]
    assert a == b and a != c


def test_changing_one_plan_changes_its_text_in_both_layouts(tmp_path: Path) -> None:
    for path in generate(2, tmp_path):
        before = path.read_text(encoding="utf-8")
        change_one(path)
        assert path.read_text(encoding="utf-8") == before.replace("结合", "紧密结合", 1) != before


def test_the_fit_recovers_a_power_law() -> None:
    fitted = fit([(1, 3.0), (10, 30.0), (100, 300.0)])
    assert fitted is not None
    assert round(fitted[0], 6) == 1.0 and round(fitted[1], 6) == 3.0


def _report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, latencies: dict[str, float]) -> str:
    monkeypatch.setattr(corpus, "RESULTS", tmp_path)
    build = {"seconds": 2.0, "cpu_seconds": 1.5, "peak_rss_mib": 100.0, "stages": {}}
    build |= {"load_before": 1.0, "load_after": 1.0, "plans_read_anew": 10}
    run = {"plans": 10, "cold": build, "rebuild_one_changed": build | {"plans_read_anew": 1}}
    corpus.write_results([run], None, latencies, 10, "report")
    (md,) = tmp_path.glob("*-report.md")
    return md.read_text(encoding="utf-8")


def test_a_run_without_queries_reports_no_empty_query_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "Canned queries" not in _report(tmp_path, monkeypatch, {})
    assert "| plans | 12.5 |" in _report(tmp_path, monkeypatch, {"plans": 12.5})
