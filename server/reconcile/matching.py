"""Matching a query to entities and scoring the candidates, as plain functions over the index.

The score (0–100) and its features, documented in docs/RECONCILIATION.md:

* the **name score** N is the best over the entity's names (after ``normalise``):
  100 the query is its Chinese name or title (``name_exact``), its English name (``name_en_exact``) or
  its code (``code_exact``); 95 an alias (``alias_exact``), or an abbreviation — an alias whose
  characters are a subsequence of the name, as 中科院 of 中国科学院 (``abbreviation``); 95 a parent's
  name or alias followed by the rest of its own name (``sub_organisation``), 85 its own name without the
  parent's (``sub_organisation_part``, e.g. 齐鲁医院 for 山东大学齐鲁医院); otherwise 80 × r when one
  contains the other (``name_contains`` = r, the length ratio, shorter ≥ 2 characters), or 70 × r when
  their similarity r (difflib's ratio) is at least 0.7 (``name_similarity`` = r); else 0.
* with n property constraints of which m hold (``property:{pid}`` true or false):
  score = 0.75 × N + 25 × m / n; without a query text, score = 100 × m / n (and only entities that
  meet every constraint are candidates); without constraints, score = N.
* ``parent_named``: the query text contains the name of the entity's parent organisation (no score).
* with ``type_strict: "should"``, an entity of none of the types scores 0.9 × (``type_mismatch``).

``match`` is true for the top candidate only when it has a decisive feature (an exact name, English
name, alias, abbreviation or code, a parent's name + its own, its own name with a matched ``parent``,
or a matched ``code`` property), meets
every constraint, is of a type asked for, and no other candidate (shown or not) scores within
``MATCH_MARGIN`` of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from server.reconcile.index import Entity, Index, NameKind, Value
from server.reconcile.schema import ValueKind
from server.reconcile.text import is_subsequence, normalise

MATCH_MARGIN = 10.0
SIMILARITY_THRESHOLD = 0.7
PROPERTY_WEIGHT = 25.0
DECISIVE = frozenset(
    {"name_exact", "name_en_exact", "code_exact", "alias_exact", "abbreviation", "sub_organisation"}
)


@dataclass(frozen=True)
class PropertyConstraint:
    pid: str
    values: tuple[str | int | float | bool | dict[str, Any], ...]


@dataclass(frozen=True)
class Query:
    text: str
    types: tuple[str, ...]  # type ids; empty: every type
    limit: int
    properties: tuple[PropertyConstraint, ...] = ()
    type_strict: str = "any"


@dataclass(frozen=True)
class Candidate:
    entity: Entity
    score: float
    features: tuple[tuple[str, bool | float], ...]
    match: bool = False


def name_score(
    index: Index, entity: Entity, query: str, matcher: SequenceMatcher[str] | None = None
) -> tuple[float, tuple[str, bool | float] | None]:
    """The best name score of ``entity`` for the normalised ``query`` and the feature that earned it.

    ``matcher`` may carry the query as its second sequence already (``reconcile`` sets it once).
    """
    if not query:
        return 0.0, None
    if matcher is None:
        matcher = SequenceMatcher(None, "", query, autojunk=False)
    best: tuple[float, tuple[str, bool | float] | None] = (0.0, None)
    primary = [text for text, kind in entity.keys if kind is NameKind.NAME]

    def consider(score: float, feature: tuple[str, bool | float]) -> None:
        nonlocal best
        if score > best[0]:
            best = (score, feature)

    for text, kind in entity.keys:
        if text == query:
            if kind is NameKind.NAME:
                consider(100.0, ("name_exact", True))
            elif kind is NameKind.NAME_EN:
                consider(100.0, ("name_en_exact", True))
            elif kind is NameKind.CODE:
                consider(100.0, ("code_exact", True))
            elif any(len(text) < len(p) and is_subsequence(text, p) for p in primary):
                consider(95.0, ("abbreviation", True))
            else:
                consider(95.0, ("alias_exact", True))
            continue
        if kind is NameKind.CODE:
            continue  # codes match exactly or not at all
        shorter, longer = sorted((text, query), key=len)
        if len(shorter) >= 2 and shorter in longer:
            ratio = len(shorter) / len(longer)
            consider(80.0 * ratio, ("name_contains", round(ratio, 3)))
            continue
        matcher.set_seq1(text)
        quick = matcher.real_quick_ratio() >= SIMILARITY_THRESHOLD
        if quick and matcher.quick_ratio() >= SIMILARITY_THRESHOLD:
            ratio = matcher.ratio()
            if ratio >= SIMILARITY_THRESHOLD:
                consider(70.0 * ratio, ("name_similarity", round(ratio, 3)))
    for parent in entity.values.get("parent", ()):
        score, feature = _sub_organisation(index, entity, parent, query)
        if feature:
            consider(score, (feature, True))
    return best


def _sub_organisation(index: Index, entity: Entity, parent: Value, query: str) -> tuple[float, str | None]:
    """95 (``sub_organisation``) for a parent's name or alias + the rest of the entity's name, 85
    (``sub_organisation_part``) for that rest alone."""
    parent_names = [normalise(n) for n in index.value_names(parent)]
    for own in (normalise(n.text) for n in entity.names if n.kind is NameKind.NAME):
        for p in parent_names:
            if p and own.startswith(p) and len(own) > len(p):
                rest = own[len(p) :]
                if query == rest:
                    return 85.0, "sub_organisation_part"
                if any(query == q + rest for q in parent_names) and query != own:
                    return 95.0, "sub_organisation"
    return 0.0, None


def property_matches(index: Index, entity: Entity, constraint: PropertyConstraint) -> bool:
    """Whether one of the entity's values of ``constraint.pid`` equals one of the given values."""
    spec = next((p for p in entity.spec.properties if p.id == constraint.pid), None)
    if spec is None:
        return False
    have = entity.values.get(constraint.pid, ())
    for wanted in constraint.values:
        for value in have:
            if _value_equals(index, spec.kind, value, wanted):
                return True
    return False


def _value_equals(
    index: Index, kind: ValueKind, value: Value, wanted: str | int | float | bool | dict[str, Any]
) -> bool:
    if isinstance(wanted, dict):
        if value.id is not None and wanted.get("id") == value.id:
            return True
        wanted = str(wanted.get("name", ""))
        if not wanted:
            return False
    if isinstance(wanted, bool):
        return False
    if kind in (ValueKind.INT, ValueKind.FLOAT):
        try:
            return float(value.text) == float(wanted)
        except (ValueError, OverflowError):  # not a number, or an integer beyond a float
            return False
    text = str(wanted)
    if value.id is not None:
        if text == value.id:
            return True
        return normalise(text) in {normalise(n) for n in index.value_names(value)}
    return normalise(text) == normalise(value.text)


def reconcile(index: Index, query: Query) -> list[Candidate]:
    """The candidates for ``query``, best first, at most ``query.limit``; ``match`` set as documented."""
    text = normalise(query.text)
    if query.types and query.type_strict != "should":
        pool = index.of_types(query.types)
        if query.type_strict == "all":
            pool = [e for e in pool if set(query.types) <= _all_types(index, e)]
    else:
        pool = list(index.entities.values())
    if text:
        sharing = index.sharing(text)
        pool = [e for e in pool if e.id in sharing]
    wanted_types = set(query.types)
    matcher = SequenceMatcher(None, "", text, autojunk=False)  # the query's index is built once
    candidates: list[Candidate] = []
    for entity in pool:
        n, feature = name_score(index, entity, text, matcher)
        if text and n <= 0:
            continue
        features: list[tuple[str, bool | float]] = [feature] if feature else []
        if text and _names_parent(index, entity, text):
            features.append(("parent_named", True))
        matched = 0
        for constraint in query.properties:
            ok = property_matches(index, entity, constraint)
            matched += ok
            features.append((f"property:{constraint.pid}", ok))
        if query.properties:
            if text:
                score = 0.75 * n + PROPERTY_WEIGHT * matched / len(query.properties)
            elif matched == len(query.properties):
                score = 100.0 * matched / len(query.properties)
            else:
                continue
        else:
            score = n
        if query.type_strict == "should" and wanted_types and not (_all_types(index, entity) & wanted_types):
            score *= 0.9
            features.append(("type_mismatch", True))
        candidates.append(Candidate(entity, round(score, 2), tuple(features)))
    candidates.sort(key=lambda c: (-c.score, len(c.entity.name), c.entity.id))
    # Decided on every candidate, before the limit: a close second counts even when it is not shown.
    if candidates and _unambiguous(candidates, query):
        candidates[0] = Candidate(candidates[0].entity, candidates[0].score, candidates[0].features, True)
    return candidates[: query.limit]


def _names_parent(index: Index, entity: Entity, text: str) -> bool:
    """Whether the query text contains the name of the entity's parent organisation (山东大学 in
    山东大学齐鲁医院): a feature that explains, not one that scores."""
    return any(
        len(n) >= 2 and n in text
        for parent in entity.values.get("parent", ())
        for n in (normalise(name) for name in index.value_names(parent))
    )


def _all_types(index: Index, entity: Entity) -> set[str]:
    return {c for c in entity.classes if c in index.type_names}


def _unambiguous(candidates: Sequence[Candidate], query: Query) -> bool:
    top = candidates[0]
    features = dict(top.features)
    decisive = (
        any(features.get(f) is True for f in DECISIVE)
        or features.get("property:code") is True
        or (features.get("sub_organisation_part") is True and features.get("property:parent") is True)
    )
    if not decisive:
        return False
    if any(features.get(f"property:{c.pid}") is False for c in query.properties):
        return False
    if features.get("type_mismatch") is True:
        return False
    return not any(other.score >= top.score - MATCH_MARGIN for other in candidates[1:])


def suggest(index: Index, prefix: str, types: Sequence[str], limit: int, cursor: int = 0) -> list[Entity]:
    """Entities with a name starting with ``prefix`` (then containing it), shortest name first."""
    wanted = normalise(prefix)
    if not wanted:
        return []
    pool = index.of_types(types) if types else list(index.entities.values())
    ranked: list[tuple[int, int, str, Entity]] = []
    for entity in pool:
        if any(t.startswith(wanted) for t, _ in entity.keys):
            rank = 0
        elif any(wanted in t for t, _ in entity.keys):
            rank = 1
        else:
            continue
        ranked.append((rank, len(entity.name), entity.id, entity))
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked[cursor : cursor + limit]]
