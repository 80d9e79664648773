"""The curator's review of machine-found entities: list them, accept one into the catalogue, reject one.

``plankg entities --unreviewed | --accept NAME | --reject NAME`` (server/cli.py) is a thin layer over
:func:`unreviewed`, :func:`accept` and :func:`reject`. Every function takes the data directory
(``mapping/data/`` by default) so that tests work on a copy.

* :func:`unreviewed`: the machine-found entities of the seed plans, grouped by candidate (kind and
  name), highest confidence first, each with its quotes (``file:line:column``, the sentence).
* :func:`accept`: appends the entity to the catalogue file of its kind (``institutions.toml``, or
  ``places.toml`` as a ``[[region]]``: the rules find no division code; or ``projects.toml``, when the
  candidate is found in exactly one task of the plan that file is written for), after loading the
  catalogue with the new entry from a scratch copy of the data directory: whatever the loader refuses
  (a duplicate key or name, a malformed key) is refused here with its message, and the file is left
  as it was.
* :func:`reject`: appends the name to ``stoplist.toml``, validated the same way.

Files are edited by appending a table (comments and order kept) and replaced atomically.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from mapping.discover import STOPLIST_FILE, Found, discover, found_key, load_rules, load_stoplist, plan_scopes
from mapping.entities import (
    DATA_DIR,
    INSTITUTIONS_FILE,
    PLACES_FILE,
    PROJECTS_FILE,
    CatalogueError,
    EntityKind,
    OrgType,
    load_catalogue,
)
from mapping.errors import Location, PlanKGError
from mapping.parser import parse_plan
from mapping.text import normalise

_SENTENCE_ENDS = "。;!?"


class ReviewError(PlanKGError):
    """An accept or reject the catalogue cannot take; the message says why."""


@dataclass(frozen=True, slots=True)
class Quote:
    """Where a candidate is found: the file, line and column of its first character, and its sentence."""

    location: Location
    task: int | None
    sentence: str  # normalised
    method: str
    rule: str
    confidence: Decimal


@dataclass(frozen=True, slots=True)
class Candidate:
    """A machine-found entity of the seeds with all its quotes."""

    kind: EntityKind
    name: str
    confidence: Decimal  # the highest of its quotes'
    org_type: OrgType | None
    quotes: tuple[Quote, ...]

    @property
    def key(self) -> str:
        return found_key(self.name)

    @property
    def tasks(self) -> frozenset[int | None]:
        return frozenset(q.task for q in self.quotes)


def _sentence(norm_text: str, i: int) -> str:
    start = max(norm_text.rfind(c, 0, i) for c in _SENTENCE_ENDS) + 1
    ends = [e for e in (norm_text.find(c, i) for c in _SENTENCE_ENDS) if e >= 0]
    end = min(ends) + 1 if ends else len(norm_text)
    return norm_text[start:end]


def _seed_files(seeds_dir: Path) -> list[Path]:
    files = sorted(seeds_dir.glob("*.txt"))
    if not files:
        raise ReviewError(f"{seeds_dir}: no plan text (*.txt) to review")
    return files


def unreviewed(seeds_dir: Path, data_dir: Path = DATA_DIR) -> list[Candidate]:
    """The machine-found entities of every plan in ``seeds_dir`` that the catalogue and the stop list
    of ``data_dir`` leave, highest confidence first (then by kind and name)."""
    rules, stoplist, full = load_rules(data_dir), load_stoplist(data_dir), load_catalogue(data_dir)
    groups: dict[tuple[EntityKind, str], list[tuple[Found[int | None], Quote]]] = {}
    for path in _seed_files(seeds_dir):
        raw = path.read_text(encoding="utf-8")
        plan = parse_plan(raw, source_name=path.name)
        catalogue, _notices = full.for_plan(plan.title)
        norm = normalise(raw)
        for f in discover(raw, plan_scopes(plan), catalogue=catalogue, rules=rules, stoplist=stoplist):
            i = bisect_right(norm.origins, f.span.start) - 1
            quote = Quote(
                Location.at(path.name, raw, f.span.start),
                f.context,
                _sentence(norm.text, i),
                f.method,
                f.rule,
                f.confidence,
            )
            groups.setdefault((f.kind, f.name), []).append((f, quote))
    kinds = list(EntityKind)
    out = [
        Candidate(
            kind,
            name,
            max(q.confidence for _, q in items),
            next((f.org_type for f, _ in items if f.org_type is not None), None),
            tuple(q for _, q in items),
        )
        for (kind, name), items in groups.items()
    ]
    out.sort(key=lambda c: (-c.confidence, kinds.index(c.kind), c.name))
    return out


def format_unreviewed(candidates: list[Candidate]) -> str:
    """The review list as text: one block per candidate, one line per quote."""
    if not candidates:
        return "no unreviewed machine-found entities\n"
    lines: list[str] = []
    for c in candidates:
        suggested = f", suggested type {c.org_type.value}" if c.org_type is not None else ""
        lines.append(f"{c.kind.value} {c.name}  confidence {c.confidence}  key {c.key}{suggested}")
        for q in c.quotes:
            where = "title/preamble" if q.task is None else f"task {q.task}"
            lines.append(f"  {q.location}: [{where}, {q.method} {q.rule}, {q.confidence}] {q.sentence}")
    return "\n".join(lines) + "\n"


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _candidate(name: str, kind: EntityKind | None, seeds_dir: Path, data_dir: Path) -> Candidate:
    norm = normalise(name).text
    matches = [
        c for c in unreviewed(seeds_dir, data_dir) if c.name == norm and (kind is None or c.kind is kind)
    ]
    if not matches:
        what = f"{kind.value} " if kind is not None else ""
        raise ReviewError(f"{name!r} is not an unreviewed machine-found {what}entity of {seeds_dir}")
    if len(matches) > 1:
        kinds = ", ".join(c.kind.value for c in matches)
        raise ReviewError(f"{name!r} is found as {kinds}: say which with --type")
    return matches[0]


def _append(data_dir: Path, file: str, block: str, check: Callable[[Path], object]) -> Path:
    """Append ``block`` to ``data_dir/file`` once ``check`` accepts a scratch copy with it."""
    target = data_dir / file
    text = target.read_text(encoding="utf-8")
    new = text + ("" if text.endswith("\n") or not text else "\n") + "\n" + block
    with tempfile.TemporaryDirectory() as scratch:
        for f in data_dir.glob("*.toml"):
            shutil.copy(f, Path(scratch) / f.name)
        (Path(scratch) / file).write_text(new, encoding="utf-8")
        try:
            check(Path(scratch))
        except CatalogueError as err:
            raise ReviewError(f"refused, the catalogue would not load: {err}") from None
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(new, encoding="utf-8")
    os.replace(partial, target)
    return target


def accept(
    name: str,
    *,
    key: str | None,
    name_en: str | None,
    kind: EntityKind | None = None,
    seeds_dir: Path,
    data_dir: Path = DATA_DIR,
) -> Path:
    """Write the machine-found entity ``name`` into the catalogue file of its kind; returns that file.

    ``key`` (the catalogue key: lower-case ASCII words joined by hyphens) and ``name_en`` are what the
    catalogue needs and the text cannot give; without them, or when the loader refuses the new entry,
    raises :class:`ReviewError` and writes nothing.
    """
    candidate = _candidate(name, kind, seeds_dir, data_dir)
    if key is None:
        raise ReviewError(
            f"accepting {candidate.name!r} needs --key (lower-case ASCII words joined by hyphens)"
        )
    if name_en is None:
        raise ReviewError(
            f"accepting {candidate.name!r} needs --name-en, its English name (the catalogue has one)"
        )
    rule = ", ".join(sorted({f"{q.method} {q.rule}" for q in candidate.quotes}))
    note = f"Accepted from a machine-found candidate ({rule})."
    fields = f"key = {_toml(key)}\nname = {_toml(candidate.name)}\nname_en = {_toml(name_en)}\n"
    if candidate.kind is EntityKind.ORGANISATION:
        org_type = candidate.org_type or OrgType.PLATFORM
        block = f"[[organisation]]\n{fields}type = {_toml(org_type.value)}\nnote = {_toml(note)}\n"
        return _append(data_dir, INSTITUTIONS_FILE, block, load_catalogue)
    if candidate.kind is EntityKind.PLACE:
        note += " No division code: a [[region]] until one is verified from a named source."
        return _append(data_dir, PLACES_FILE, f"[[region]]\n{fields}note = {_toml(note)}\n", load_catalogue)
    tasks = candidate.tasks
    if len(tasks) != 1 or None in tasks:
        where = ", ".join("title/preamble" if t is None else f"task {t}" for t in sorted(tasks, key=str))
        raise ReviewError(
            f"a catalogued project belongs to exactly one task; {candidate.name!r} is found in {where}"
        )
    (task,) = tasks
    titles = {
        parse_plan(p.read_text(encoding="utf-8"), source_name=p.name).title for p in _seed_files(seeds_dir)
    }
    projects_plan = load_catalogue(data_dir).projects_plan
    if projects_plan is None or normalise(projects_plan).text not in {normalise(t).text for t in titles}:
        raise ReviewError(
            f"{PROJECTS_FILE} is written for another plan ({projects_plan}): not for these seeds"
        )
    block = f"[[project]]\n{fields}task = {task}\nnote = {_toml(note)}\n"
    return _append(data_dir, PROJECTS_FILE, block, load_catalogue)


def reject(
    name: str,
    *,
    kind: EntityKind | None = None,
    note: str | None = None,
    seeds_dir: Path,
    data_dir: Path = DATA_DIR,
) -> Path:
    """Put the machine-found entity ``name`` on the stop list (as its kind); returns the file.

    Raises :class:`ReviewError` when ``name`` is not an unreviewed candidate of the seeds (so a typo
    does not add a dead entry) or when the stop list would not load with it.
    """
    candidate = _candidate(name, kind, seeds_dir, data_dir)
    block = f"[[stop]]\nname = {_toml(candidate.name)}\ntype = {_toml(candidate.kind.value)}\n"
    if note is not None:
        block += f"note = {_toml(note)}\n"
    return _append(data_dir, STOPLIST_FILE, block, load_stoplist)
