"""Precision and recall of :mod:`mapping.discover`: on hand-annotated texts, and on a plan against
the catalogue's own answers.

* Annotated texts (``gold.toml`` beside them: per file, the exact surface form and type of every
  entity the text names): the distinct ``(name, type)`` pairs the rules find in the whole text, the
  catalogue switched off, against the annotation's pairs.
* A catalogued plan: the rules' mentions, catalogue switched off and no stop list, against the
  mentions the curated recognition finds (:func:`mapping.entities.find_mentions`); a mention counts
  as right when its type and its exact span agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TypeGuard

from mapping.discover import Rules, Scope, discover, plan_scopes
from mapping.entities import Catalogue, EntityKind, catalogue_entries, find_mentions, read_data_file
from mapping.model import Plan, Span


@dataclass(frozen=True, slots=True)
class Score:
    """True positives, false positives and false negatives of one type (or of all)."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> Decimal:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> Decimal:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> Decimal:
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)


def _ratio(a: int, b: int) -> Decimal:
    return (Decimal(a) / Decimal(b)).quantize(Decimal("0.001")) if b else Decimal("0.000")


def score(
    found: Iterable[tuple[EntityKind, object]], gold: Iterable[tuple[EntityKind, object]]
) -> dict[str, Score]:
    """Scores by type (``org``, ``place``, ``project``) and over all (``all``) of two sets of
    ``(kind, item)`` pairs."""
    found_set, gold_set = set(found), set(gold)
    out: dict[str, Score] = {}
    for kind in (*EntityKind, None):
        f = {x for x in found_set if kind is None or x[0] is kind}
        g = {x for x in gold_set if kind is None or x[0] is kind}
        out["all" if kind is None else kind.value] = Score(len(f & g), len(f - g), len(g - f))
    return out


def gold_annotations(directory: Path) -> dict[str, set[tuple[EntityKind, str]]]:
    """``gold.toml`` of ``directory``: file name -> its ``(kind, surface form)`` pairs."""
    path = directory / "gold.toml"
    known = [kind.value for kind in EntityKind]
    out: dict[str, set[tuple[EntityKind, str]]] = {}
    for _, e in catalogue_entries(path, read_data_file(path), ["entity"]):
        file = e.text("file")
        e.label = f"entity {file!r}"
        if file in out:
            raise e.error("the file is annotated twice")
        e.used.add("entities")
        pairs = e.table.get("entities")
        if not isinstance(pairs, list):
            raise e.error("entities must be a list of [name, kind] pairs")
        out[file] = set()
        for k, pair in enumerate(pairs, 1):
            if not (_is_pair(pair) and pair[1] in known):
                listed = ", ".join(known)
                raise e.error(f"entities #{k}: {pair!r} is not a [name, kind] pair with kind one of {listed}")
            out[file].add((EntityKind(pair[1]), pair[0]))
        e.done()
    return out


def _is_pair(value: object) -> TypeGuard[list[str]]:
    return (
        isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and v.strip() for v in value)
    )


def score_annotated(directory: Path, rules: Rules) -> dict[str, Score]:
    """The rules (no catalogue, no stop list) on every annotated text of ``directory``, pooled."""
    found: set[tuple[EntityKind, tuple[str, str]]] = set()
    gold: set[tuple[EntityKind, tuple[str, str]]] = set()
    for file, pairs in sorted(gold_annotations(directory).items()):
        raw = (directory / file).read_text(encoding="utf-8")
        hits = discover(raw, [Scope(None, Span(0, len(raw), raw))], catalogue=None, rules=rules)
        found |= {(h.kind, (file, h.name)) for h in hits}
        gold |= {(kind, (file, name)) for kind, name in pairs}
    return score(found, gold)


def score_against_catalogue(plan: Plan, raw: str, catalogue: Catalogue, rules: Rules) -> dict[str, Score]:
    """The rules on ``plan`` with the catalogue switched off, against the catalogue's mentions."""
    hits = discover(raw, plan_scopes(plan), catalogue=None, rules=rules)
    found = {(h.kind, (h.span.start, h.span.end)) for h in hits}
    gold = {(m.kind, (m.span.start, m.span.end)) for m in find_mentions(plan, raw, catalogue)}
    return score(found, gold)


def table(title: str, scores: dict[str, Score]) -> str:
    """A Markdown table of ``scores``."""
    lines = [f"### {title}", "", "| type | found right | found wrong | missed | precision | recall | F1 |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, s in scores.items():
        lines.append(f"| {name} | {s.tp} | {s.fp} | {s.fn} | {s.precision} | {s.recall} | {s.f1} |")
    return "\n".join(lines) + "\n"
