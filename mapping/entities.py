"""Curated entities (organisations, places, named projects, English labels) and their recognition.

The entities are data, not code: ``mapping/data/institutions.toml``, ``places.toml``, ``projects.toml``
and ``labels_en.toml``, read here into frozen dataclasses and checked (an unknown parent, a duplicate
key or alias, a malformed code each raise :class:`CatalogueError` naming the file and the entry).
Organisations and places are entities of the world, used for any plan; the named projects and the
English labels are data about one plan, whose title their files name (``[plan] title``):
:meth:`Catalogue.for_plan` leaves them out for any other plan of the genre.

Recognition works on the normalised text of :mod:`mapping.text` (line breaks, page markers and stray
spaces dropped, full-width brackets folded), one scope at a time: the plan's title, its preamble,
and each task from its marker to its end. Within a scope, each kind of entity is matched on its own,
leftmost-longest over all names and aliases of that kind, so ``山东大学齐鲁医院`` is the hospital and
not the university (the university comes in through :meth:`Catalogue.sub_organisations`). Kinds
overlap on purpose: ``国家电投黄河流域氢能产业基地`` is a project and also names the organisation
``国家电投``. One exception: a place name inside the name of an organisation or project found in the
same scope (``山东`` in ``山东大学``, ``济南`` in ``济南遥墙国际机场二期改扩建工程``) is part of that
proper name and not a mention of the place (projects carry their places in the data instead).
A project's names are looked up in its own task only. Every match maps back to the exact characters
of the source file (:class:`mapping.model.Span`), line breaks and page markers inside it included.
"""

from __future__ import annotations

import enum
import re
import tomllib
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mapping.errors import PlanKGError
from mapping.model import Plan, Span
from mapping.text import NormText, normalise

DATA_DIR = Path(__file__).parent / "data"
INSTITUTIONS_FILE = "institutions.toml"
PLACES_FILE = "places.toml"
PROJECTS_FILE = "projects.toml"
LABELS_FILE = "labels_en.toml"

_KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DIVISION_CODE = re.compile(r"[0-9]{6}")


class CatalogueError(PlanKGError):
    """A curated data file is malformed; the message names the file and the entry."""

    def __init__(self, file: str, entry: str, message: str) -> None:
        super().__init__(f"{file}: {entry}: {message}")
        self.file = file
        self.entry = entry
        self.message = message


class OrgType(enum.Enum):
    """The kinds of organisation the data file distinguishes (each has a class in ontology/entities.ttl)."""

    UNIVERSITY = "university"
    HOSPITAL = "hospital"
    LABORATORY = "laboratory"
    RESEARCH_INSTITUTE = "research-institute"
    GOVERNMENT_BODY = "government-body"
    ENTERPRISE = "enterprise"
    PLATFORM = "platform"
    CAMPUS = "campus"


class PlaceKind(enum.Enum):
    DIVISION = "division"  # an administrative division with its code
    REGION = "region"  # a named place without a code


class EntityKind(enum.Enum):
    ORGANISATION = "org"
    PLACE = "place"
    PROJECT = "project"


class _Named:
    """An entity recognised by its canonical name and its aliases."""

    __slots__ = ()
    name: str
    aliases: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class Organisation(_Named):
    key: str
    name: str  # canonical, zh
    name_en: str
    aliases: tuple[str, ...]
    type: OrgType
    parent: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Place(_Named):
    key: str
    name: str
    name_en: str
    aliases: tuple[str, ...]
    kind: PlaceKind
    code: str | None  # 6-digit division code; None for a region
    level: str | None  # province | prefecture | county, for a division
    broader: str | None  # key of the place that contains it
    note: str | None


@dataclass(frozen=True, slots=True)
class Project(_Named):
    key: str
    name: str
    name_en: str
    aliases: tuple[str, ...]
    task: int
    organisations: tuple[str, ...]
    places: tuple[str, ...]
    note: str | None


@dataclass(frozen=True, slots=True)
class EnglishLabel:
    zh: str  # the title the label translates, as the normalised text gives it
    en: str


@dataclass(frozen=True)
class Catalogue:
    """Everything the data files hold, validated; lookups by key."""

    organisations: Mapping[str, Organisation]
    places: Mapping[str, Place]
    projects: Mapping[str, Project]
    pillar_labels: Mapping[int, EnglishLabel]
    task_labels: Mapping[int, EnglishLabel]
    # The zh title of the plan the English labels and the named projects were curated for (the
    # ``[plan] title`` of their files); None: not tied to a plan. Organisations and places are not
    # plan-specific.
    labels_plan: str | None = None
    projects_plan: str | None = None

    def for_plan(self, title: str) -> tuple[Catalogue, tuple[str, ...]]:
        """The catalogue as it applies to the plan titled ``title``, and a notice for each part left out.

        English labels (keyed by pillar and task number) and named projects (keyed by task number) are
        data about one plan: for a plan with another title they are left out, so that a different
        plan of the genre builds without translations rather than failing or taking another plan's.
        """
        title = normalise(title).text
        catalogue, notices = self, []
        if self.labels_plan is not None and normalise(self.labels_plan).text != title:
            catalogue = replace(catalogue, pillar_labels={}, task_labels={})
            notices.append(f"{LABELS_FILE} is written for {self.labels_plan}: no English labels for {title}")
        if self.projects_plan is not None and normalise(self.projects_plan).text != title:
            catalogue = replace(catalogue, projects={})
            notices.append(
                f"{PROJECTS_FILE} is written for {self.projects_plan}: no named projects for {title}"
            )
        return catalogue, tuple(notices)

    def parents(self, key: str) -> tuple[str, ...]:
        """The organisations ``key`` is part of, nearest first (not including ``key``)."""
        return _chain(key, lambda k: self.organisations[k].parent)

    def broader(self, key: str) -> tuple[str, ...]:
        """The places that contain place ``key``, nearest first (not including ``key``)."""
        return _chain(key, lambda k: self.places[k].broader)

    def sub_organisations(self, key: str) -> frozenset[str]:
        """``key`` and every organisation that is part of it, at any depth."""
        return frozenset(k for k in self.organisations if k == key or key in self.parents(k))

    def narrower(self, key: str) -> frozenset[str]:
        """Place ``key`` and every place within it, at any depth."""
        return frozenset(k for k in self.places if k == key or key in self.broader(k))


def _chain(key: str, up: Callable[[str], str | None]) -> tuple[str, ...]:
    out: list[str] = []
    current = up(key)
    while current is not None:
        out.append(current)
        current = up(current)
    return tuple(out)


# --- loading and validation -----------------------------------------------------------------------


class _Entry:
    """One table of a data file, read field by field with errors that name the file and the entry."""

    def __init__(self, file: str, section: str, index: int, table: Any) -> None:
        self.file = file
        if not isinstance(table, dict):
            raise CatalogueError(file, f"[[{section}]] #{index}", "is not a table")
        self.table: dict[str, Any] = table
        key = table.get("key")
        self.label = f"{section} {key!r}" if isinstance(key, str) else f"[[{section}]] #{index}"
        self.used: set[str] = set()

    def error(self, message: str) -> CatalogueError:
        return CatalogueError(self.file, self.label, message)

    def text(self, field: str) -> str:
        value = self.optional_text(field)
        if value is None:
            raise self.error(f"missing {field}")
        return value

    def optional_text(self, field: str) -> str | None:
        self.used.add(field)
        value = self.table.get(field)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{field} must be a non-empty string")
        return value

    def texts(self, field: str) -> tuple[str, ...]:
        self.used.add(field)
        value = self.table.get(field, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(f"{field} must be a list of non-empty strings")
        return tuple(value)

    def integer(self, field: str) -> int:
        self.used.add(field)
        value = self.table.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self.error(f"{field} must be a positive integer")
        return value

    def key(self) -> str:
        key = self.text("key")
        if not _KEY.fullmatch(key):
            raise self.error("key must be lower-case ASCII words joined by hyphens")
        return key

    def refuse_links(self) -> None:
        """External identifiers are stated in linksets (mapping/linksets.py), with their justification."""
        for field in ("wikidata", "wikidata_source"):
            if field in self.table:
                raise self.error(
                    f"{field}: links to other datasets are stated in a linkset (linksets/*.csv), "
                    "not in the catalogue"
                )

    def done(self) -> None:
        self.refuse_links()
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self.error(f"unknown field(s) {', '.join(unknown)}")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise CatalogueError(path.name, "file", "not found") from None
    except tomllib.TOMLDecodeError as e:
        raise CatalogueError(path.name, "file", f"not valid TOML: {e}") from None


def _entries(path: Path, data: dict[str, Any], sections: Iterable[str]) -> list[tuple[str, _Entry]]:
    allowed = set(sections)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CatalogueError(path.name, "file", f"unknown section(s) {', '.join(unknown)}")
    out: list[tuple[str, _Entry]] = []
    for section in sections:
        tables = data.get(section, [])
        if not isinstance(tables, list):
            raise CatalogueError(path.name, section, "must be an array of tables ([[" + section + "]])")
        out.extend((section, _Entry(path.name, section, i + 1, t)) for i, t in enumerate(tables))
    return out


def _check_keys_unique(file: str, what: str, keys: Iterable[str]) -> None:
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise CatalogueError(file, f"{what} {key!r}", "duplicate key")
        seen.add(key)


def _check_names_unique(file: str, what: str, entities: Iterable[Organisation | Place | Project]) -> None:
    """No normalised name or alias may belong to two entities of one kind (or twice to one)."""
    owner: dict[str, str] = {}
    for entity in entities:
        for name in entity.names:
            norm = normalise(name).text
            if not norm:
                raise CatalogueError(
                    file, f"{what} {entity.key!r}", f"name {name!r} is empty once normalised"
                )
            if norm in owner:
                other = owner[norm]
                detail = "twice" if other == entity.key else f"also a name of {what} {other!r}"
                raise CatalogueError(
                    file, f"{what} {entity.key!r}", f"duplicate name or alias {name!r}: {detail}"
                )
            owner[norm] = entity.key


def _check_acyclic(file: str, what: str, keys: Iterable[str], up: Callable[[str], str | None]) -> None:
    for key in keys:
        seen = {key}
        current = up(key)
        while current is not None:
            if current in seen:
                raise CatalogueError(file, f"{what} {key!r}", f"cycle through {current!r}")
            seen.add(current)
            current = up(current)


def _load_organisations(path: Path) -> dict[str, Organisation]:
    orgs: list[Organisation] = []
    for _, e in _entries(path, _read(path), ["organisation"]):
        type_text = e.text("type")
        try:
            org_type = OrgType(type_text)
        except ValueError:
            allowed = ", ".join(t.value for t in OrgType)
            raise e.error(f"unknown type {type_text!r} (one of {allowed})") from None
        orgs.append(
            Organisation(
                key=e.key(),
                name=e.text("name"),
                name_en=e.text("name_en"),
                aliases=e.texts("aliases"),
                type=org_type,
                parent=e.optional_text("parent"),
                note=e.optional_text("note"),
            )
        )
        e.done()
    _check_keys_unique(path.name, "organisation", (o.key for o in orgs))
    by_key = {o.key: o for o in orgs}
    for o in orgs:
        if o.parent is not None and o.parent not in by_key:
            raise CatalogueError(path.name, f"organisation {o.key!r}", f"unknown parent {o.parent!r}")
    _check_acyclic(path.name, "organisation", by_key, lambda k: by_key[k].parent)
    _check_names_unique(path.name, "organisation", orgs)
    return by_key


def _load_places(path: Path) -> dict[str, Place]:
    places: list[Place] = []
    for section, e in _entries(path, _read(path), ["division", "region"]):
        kind = PlaceKind(section)
        code = e.optional_text("code")
        level = e.optional_text("level")
        if kind is PlaceKind.DIVISION:
            if code is None or not _DIVISION_CODE.fullmatch(code):
                raise e.error(f"a division needs a 6-digit code, not {code!r}")
            if level not in ("province", "prefecture", "county"):
                raise e.error(f"level must be province, prefecture or county, not {level!r}")
        elif code is not None or level is not None:
            raise e.error("a region has no code or level: make it a [[division]]")
        places.append(
            Place(
                key=e.key(),
                name=e.text("name"),
                name_en=e.text("name_en"),
                aliases=e.texts("aliases"),
                kind=kind,
                code=code,
                level=level,
                broader=e.optional_text("broader"),
                note=e.optional_text("note"),
            )
        )
        e.done()
    _check_keys_unique(path.name, "place", (p.key for p in places))
    _check_keys_unique(path.name, "division code", (p.code for p in places if p.code is not None))
    by_key = {p.key: p for p in places}
    for p in places:
        if p.broader is not None and p.broader not in by_key:
            raise CatalogueError(path.name, f"place {p.key!r}", f"unknown broader place {p.broader!r}")
    _check_acyclic(path.name, "place", by_key, lambda k: by_key[k].broader)
    _check_names_unique(path.name, "place", places)
    return by_key


def _load_projects(
    path: Path, orgs: Mapping[str, Organisation], places: Mapping[str, Place]
) -> tuple[str, dict[str, Project]]:
    data = _read(path)
    title = _plan_title(path, data)
    projects: list[Project] = []
    for _, e in _entries(path, {k: v for k, v in data.items() if k != "plan"}, ["project"]):
        project = Project(
            key=e.key(),
            name=e.text("name"),
            name_en=e.text("name_en"),
            aliases=e.texts("aliases"),
            task=e.integer("task"),
            organisations=e.texts("organisations"),
            places=e.texts("places"),
            note=e.optional_text("note"),
        )
        e.done()
        for org in project.organisations:
            if org not in orgs:
                raise e.error(f"unknown organisation {org!r} (not in {INSTITUTIONS_FILE})")
        for place in project.places:
            if place not in places:
                raise e.error(f"unknown place {place!r} (not in {PLACES_FILE})")
        projects.append(project)
    _check_keys_unique(path.name, "project", (p.key for p in projects))
    by_task: dict[int, list[Project]] = {}
    for p in projects:
        by_task.setdefault(p.task, []).append(p)
    for group in by_task.values():  # names are looked up per task, so they must be unique per task
        _check_names_unique(path.name, "project", group)
    return title, {p.key: p for p in projects}


def _plan_title(path: Path, data: dict[str, Any]) -> str:
    """The ``[plan] title`` of a plan-specific data file: the zh title of the plan it is written for."""
    table = data.get("plan")
    if not isinstance(table, dict) or set(table) != {"title"}:
        raise CatalogueError(path.name, "plan", "must be a table with exactly the field title")
    title = table["title"]
    if not isinstance(title, str) or not title.strip():
        raise CatalogueError(path.name, "plan", "title must be a non-empty string")
    return title


def _load_labels(path: Path) -> tuple[str, dict[int, EnglishLabel], dict[int, EnglishLabel]]:
    data = _read(path)
    title = _plan_title(path, data)
    unknown = sorted(set(data) - {"plan", "pillar", "task"})
    if unknown:
        raise CatalogueError(path.name, "file", f"unknown section(s) {', '.join(unknown)}")
    result: list[dict[int, EnglishLabel]] = []
    for section in ("pillar", "task"):
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise CatalogueError(path.name, section, "must be a table of numbered tables")
        labels: dict[int, EnglishLabel] = {}
        for number, entry in table.items():
            label = f"{section}.{number}"
            if not (number.isascii() and number.isdigit()) or int(number) < 1:
                raise CatalogueError(path.name, label, "the key must be the number, 1 or more")
            if int(number) in labels:
                raise CatalogueError(path.name, label, f"duplicate number {int(number)}")
            if not isinstance(entry, dict) or set(entry) != {"zh", "en"}:
                raise CatalogueError(path.name, label, "must have exactly the fields zh and en")
            zh, en = entry["zh"], entry["en"]
            if not (isinstance(zh, str) and zh.strip() and isinstance(en, str) and en.strip()):
                raise CatalogueError(path.name, label, "zh and en must be non-empty strings")
            labels[int(number)] = EnglishLabel(zh=zh, en=en)
        result.append(dict(sorted(labels.items())))
    return title, result[0], result[1]


def load_catalogue(data_dir: Path = DATA_DIR) -> Catalogue:
    """Read and validate the four data files in ``data_dir``; raises :class:`CatalogueError`."""
    orgs = _load_organisations(data_dir / INSTITUTIONS_FILE)
    places = _load_places(data_dir / PLACES_FILE)
    projects_plan, projects = _load_projects(data_dir / PROJECTS_FILE, orgs, places)
    labels_plan, pillar_labels, task_labels = _load_labels(data_dir / LABELS_FILE)
    return Catalogue(orgs, places, projects, pillar_labels, task_labels, labels_plan, projects_plan)


# --- recognition ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mention:
    """The text of a task (or of the plan's title or preamble) names an entity at ``span``."""

    kind: EntityKind
    key: str
    task: int | None  # the task's number; None for the plan's title and preamble
    span: Span  # the characters of the source file, line breaks included: quote == raw[start:end]
    name: str  # the catalogued name or alias that matched, normalised


class _Matcher:
    """Leftmost-longest matching of a fixed set of names (already normalised) in a text."""

    def __init__(self, names: Mapping[str, tuple[str, str]]) -> None:
        self.names = names  # normalised name -> (key, name)
        self.lengths = sorted({len(n) for n in names}, reverse=True)

    def find(self, text: str) -> list[tuple[int, int, str, str]]:
        found: list[tuple[int, int, str, str]] = []
        i = 0
        while i < len(text):
            for length in self.lengths:
                hit = self.names.get(text[i : i + length])
                if hit is not None:
                    found.append((i, i + length, *hit))
                    i += length
                    break
            else:
                i += 1
        return found


def _matcher(entities: Iterable[Organisation | Place | Project]) -> _Matcher:
    norms = ((e.key, normalise(n).text) for e in entities for n in e.names)
    return _Matcher({norm: (key, norm) for key, norm in norms})


def _scope(norm: NormText, span: Span) -> tuple[int, int]:
    """The range of normalised positions whose source characters lie inside ``span``."""
    return bisect_left(norm.origins, span.start), bisect_left(norm.origins, span.end)


def find_mentions(plan: Plan, raw: str, catalogue: Catalogue) -> tuple[Mention, ...]:
    """Every mention of a catalogued entity in the plan's title, preamble and tasks, in text order.

    ``raw`` is the text of the source file ``plan`` was parsed from.
    """
    if len(raw) != plan.source_length:
        raise ValueError(f"raw text has {len(raw)} characters, the plan was parsed from {plan.source_length}")
    norm = normalise(raw)
    orgs = _matcher(catalogue.organisations.values())
    places = _matcher(catalogue.places.values())
    scopes: list[tuple[int | None, Span]] = [(None, plan.title_span), (None, plan.preamble_span)]
    scopes.extend((task.number, task.span) for task in plan.tasks)
    mentions: list[Mention] = []
    for task, span in scopes:
        lo, hi = _scope(norm, span)
        text = norm.text[lo:hi]
        projects = _matcher(p for p in catalogue.projects.values() if p.task == task)
        found: list[tuple[EntityKind, tuple[int, int, str, str]]] = []
        named = [(EntityKind.ORGANISATION, m) for m in orgs.find(text)]
        named += [(EntityKind.PROJECT, m) for m in projects.find(text)]
        for m in places.find(text):
            if not any(o[0] <= m[0] and m[1] <= o[1] for _, o in named):
                found.append((EntityKind.PLACE, m))
        found += named
        for kind, (i, j, key, name) in found:
            mentions.append(Mention(kind, key, task, norm.span(lo + i, lo + j), name))
    kind_order = list(EntityKind)
    mentions.sort(key=lambda m: (m.span.start, m.span.end, kind_order.index(m.kind), m.key))
    return tuple(mentions)


def tasks_involving(
    mentions: Iterable[Mention], catalogue: Catalogue, kind: EntityKind, key: str
) -> frozenset[int]:
    """Numbers of the tasks that mention ``key`` or, for an organisation, one of its
    sub-organisations, or, for a place, a place within it."""
    if kind is EntityKind.ORGANISATION:
        keys = catalogue.sub_organisations(key)
    elif kind is EntityKind.PLACE:
        keys = catalogue.narrower(key)
    else:
        keys = frozenset({key})
    return frozenset(m.task for m in mentions if m.kind is kind and m.key in keys and m.task is not None)


# --- shared with mapping.discover ----------------------------------------------------------------
# The catalogue's reading (field by field, errors naming file and entry) and its matcher, under public
# names for the module that finds the entities no catalogue lists: one reader, one matcher.

CatalogueEntry = _Entry
read_data_file = _read
catalogue_entries = _entries
name_matcher = _matcher
scope_range = _scope
