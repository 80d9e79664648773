"""Precision and recall of the machine-found entities (mapping/discover.py), as Markdown tables.

    .venv/bin/python -m bench.discover            # the rules: annotated fictional texts, and the seed
                                                  # with the catalogue off against the catalogue
    .venv/bin/python -m bench.discover --jieba    # also with jieba's nt (organisation) and ns (place)
                                                  # tags added, when jieba is importable (it is not a
                                                  # dependency: pip install jieba==0.42.1 to measure)

Scoring is :mod:`mapping.discover_eval`'s (tests/test_discover.py asserts the rules' figures). With
``--jieba``, every word jieba's part-of-speech tagger tags ``nt`` (or ``ns``), two characters or more,
that overlaps no candidate of the rules, is added as an organisation (or a place).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mapping.discover import Scope, discover, load_rules, plan_scopes
from mapping.discover_eval import gold_annotations, score, table
from mapping.entities import EntityKind, find_mentions, load_catalogue
from mapping.model import Span
from mapping.parser import parse_plan
from mapping.text import normalise

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "discover"
SEED = REPO / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"

Tagger = Callable[[str], Iterable[tuple[str, str]]]  # text -> (word, tag) in order
Hit = tuple[EntityKind, str, int, int]  # kind, name, start, end (raw offsets)


def _found(raw: str, scopes: list[Scope[Any]], tagger: Tagger | None, tags: frozenset[str]) -> list[Hit]:
    rules = load_rules()
    hits: list[Hit] = [
        (h.kind, h.name, h.span.start, h.span.end) for h in discover(raw, scopes, catalogue=None, rules=rules)
    ]
    if tagger is None:
        return hits
    norm = normalise(raw)
    kinds = {"nt": EntityKind.ORGANISATION, "ns": EntityKind.PLACE}
    extra: list[Hit] = []
    for scope in scopes:
        lo = next(i for i, o in enumerate(norm.origins) if o >= scope.span.start)
        hi = next((i for i, o in enumerate(norm.origins) if o >= scope.span.end), len(norm.text))
        i = lo
        for word, tag in tagger(norm.text[lo:hi]):
            j = i + len(word)
            if tag in tags and len(word) >= 2:
                span = norm.span(i, j)
                if not any(s < span.end and span.start < e for _, _, s, e in hits):
                    extra.append((kinds[tag], word, span.start, span.end))
            i = j
    return hits + extra


def run(tagger: Tagger | None, tags: frozenset[str]) -> str:
    label = "rules" if tagger is None else f"rules + jieba {'/'.join(sorted(tags))}"
    found: set[tuple[EntityKind, object]] = set()
    gold: set[tuple[EntityKind, object]] = set()
    for file, pairs in sorted(gold_annotations(FIXTURES).items()):
        raw = (FIXTURES / file).read_text(encoding="utf-8")
        hits = _found(raw, [Scope(None, Span(0, len(raw), raw))], tagger, tags)
        found |= {(kind, (file, name)) for kind, name, _, _ in hits}
        gold |= {(kind, (file, name)) for kind, name in pairs}
    out = table(f"{label}: hand-annotated fictional texts (distinct names)", score(found, gold))
    raw = SEED.read_text(encoding="utf-8")
    plan = parse_plan(raw, source_name=SEED.name)
    hits = _found(raw, list(plan_scopes(plan)), tagger, tags)
    seed_found: set[tuple[EntityKind, object]] = {(kind, (s, e)) for kind, _, s, e in hits}
    seed_gold: set[tuple[EntityKind, object]] = {
        (m.kind, (m.span.start, m.span.end)) for m in find_mentions(plan, raw, load_catalogue())
    }
    out += "\n" + table(
        f"{label}: the Jinan seed, catalogue off, against the catalogue's mentions (exact spans)",
        score(seed_found, seed_gold),
    )
    return out


def _jieba() -> Tagger:
    try:
        jieba = importlib.import_module("jieba")
        posseg = importlib.import_module("jieba.posseg")
    except ImportError:
        raise SystemExit("--jieba: jieba is not importable here (pip install jieba==0.42.1)") from None
    jieba.setLogLevel(logging.ERROR)

    def tag(text: str) -> Iterable[tuple[str, str]]:
        return ((str(p.word), str(p.flag)) for p in posseg.cut(text))

    return tag


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.discover", description=__doc__.split("\n")[0])
    parser.add_argument("--jieba", action="store_true", help="also measure with jieba's nt/ns tags added")
    args = parser.parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = f"## Machine-found entities: precision and recall ({stamp})\n\n" + run(None, frozenset())
    if args.jieba:
        tagger = _jieba()
        for tags in (frozenset({"nt"}), frozenset({"ns"}), frozenset({"nt", "ns"})):
            report += "\n" + run(tagger, tags)
    sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
