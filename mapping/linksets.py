"""Researchers' linksets: identifiers they know for our entities, one small CSV per source.

A linkset is ``{name}.csv`` with a sidecar ``{name}.toml`` in the linksets directory (``linksets/`` by
default). The CSV has one header row and the columns

* ``entity`` — our IRI (absolute under the configured base, or base-relative such as
  ``id/place/370100``) or the exact name (a Chinese or English label) of exactly one entity;
* ``target`` — the external identifier or IRI: a Wikidata item ID (``Q170247``), an absolute
  ``http(s)`` IRI, or an 18-character unified social credit code (统一社会信用代码, GB 32100-2015);
* ``relation`` — ``skos:exactMatch``, ``skos:closeMatch`` or ``owl:sameAs`` for an IRI or a QID;
  ``org:identifier`` for a credit code, which names an organisation and is not a resource;
* ``justification`` — why the link holds (where it was verified), never empty.

The sidecar says who made the linkset and when: ``title``, ``creator``, ``created`` (a date),
``objects_target`` (the dataset the targets belong to, e.g. ``http://www.wikidata.org/``) and an
optional ``description``. Everything is checked before anything is merged; a ``LinksetError`` names
the file and line (and column, for a cell) of every problem, one a line: an unknown or ambiguous entity, a
malformed identifier or IRI, a wrong check character, a relation that does not fit the target,
a duplicate row, or a conflict (one entity matched exactly to two different items of one dataset,
or one item to two entities, or one organisation given two credit codes), across files too.

Parsing (this module) knows files, not RDF; ``mapping.linksets_rdf`` maps resolved links to triples.
"""

from __future__ import annotations

import csv
import datetime
import enum
import hashlib
import io
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mapping.errors import Location, PlanKGError

DEFAULT_LINKSETS = Path("linksets")
COLUMNS = ("entity", "target", "relation", "justification")
_SIDECAR_FIELDS = {"title", "creator", "created", "objects_target", "description"}
_REQUIRED_SIDECAR = ("title", "creator", "created", "objects_target")
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
_QID = re.compile(r"Q[1-9][0-9]*")
_WIKIDATA_IRI = re.compile(r"https?://www\.wikidata\.org/(?:entity|wiki)/(.*)")
# GB 32100-2015: 18 characters from this alphabet (no I, O, S, V, Z); the 18th is a check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"[0-9A-Z]{18}")
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|\\^`]')


class LinksetError(PlanKGError):
    """A linkset file is malformed or does not fit the graph; the message starts with file:line.

    One error carries every problem found (``problems``, in file and line order), one per line of its
    message, so a researcher fixes a file in one round; ``message`` and ``location`` are the first."""

    def __init__(self, message: str, location: Location, more: Sequence[tuple[str, Location]] = ()) -> None:
        super().__init__("\n".join(f"{where}: {text}" for text, where in ((message, location), *more)))
        self.message = message
        self.location = location
        self.problems = ((message, location), *more)

    @classmethod
    def of_all(cls, found: Sequence[LinksetError]) -> LinksetError:
        problems = [p for error in found for p in error.problems]
        return cls(problems[0][0], problems[0][1], problems[1:])


class Relation(enum.Enum):
    """The relations a row may state, by the CURIE written in the file."""

    EXACT_MATCH = "skos:exactMatch"
    CLOSE_MATCH = "skos:closeMatch"
    SAME_AS = "owl:sameAs"
    IDENTIFIER = "org:identifier"

    @property
    def identifies(self) -> bool:
        """True when the relation pins one identity (a second, different target is a conflict)."""
        return self is not Relation.CLOSE_MATCH


class TargetKind(enum.Enum):
    WIKIDATA = "wikidata"  # an item ID, linked as http://www.wikidata.org/entity/Q…
    IRI = "iri"
    CREDIT_CODE = "uscc"  # a literal identifier


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    value: str  # the IRI for WIKIDATA and IRI, the code for CREDIT_CODE

    @property
    def namespace(self) -> str:
        """What a conflict is judged within: Wikidata, one IRI authority, or credit codes."""
        if self.kind is TargetKind.IRI:
            return str(urlsplit(self.value).netloc).lower()
        return str(self.kind.value)


@dataclass(frozen=True, slots=True)
class Row:
    """One link as written, with where it was written."""

    entity: str
    target: Target
    relation: Relation
    justification: str
    location: Location


@dataclass(frozen=True, slots=True)
class Linkset:
    """One source of links: its sidecar's description, the CSV file's hash, its rows."""

    name: str  # the file stem; the linkset's IRI is {base}id/linkset/{name}
    title: str
    creator: str
    created: datetime.date
    objects_target: str
    description: str | None
    file_name: str
    sha256: str
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Link:
    """A row resolved to one entity of the graph."""

    subject: str  # our IRI
    row: Row


def credit_code_check_character(code: str) -> str:
    """The 18th character GB 32100-2015 requires for the first 17 characters of ``code``."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_target(text: str) -> Target:
    """A Wikidata item ID, a credit code or an absolute http(s) IRI; ValueError says what is wrong."""
    if _QID.fullmatch(text):
        return Target(TargetKind.WIKIDATA, WIKIDATA_ENTITY + text)
    wikidata = _WIKIDATA_IRI.fullmatch(text)
    if wikidata:
        if not _QID.fullmatch(wikidata.group(1)):
            raise ValueError(f"{text!r} is not a Wikidata item (Q followed by digits, no leading zero)")
        return Target(TargetKind.WIKIDATA, WIKIDATA_ENTITY + wikidata.group(1))
    if len(text) == 18 and "://" not in text:
        if not _USCC_SHAPE.fullmatch(text) or any(c not in USCC_ALPHABET for c in text):
            raise ValueError(
                f"{text!r} is not a unified social credit code: 18 characters of {USCC_ALPHABET}"
            )
        expected = credit_code_check_character(text)
        if text[17] != expected:
            raise ValueError(
                f"unified social credit code {text!r} fails its check character: "
                f"GB 32100-2015 gives {expected!r}, not {text[17]!r}"
            )
        return Target(TargetKind.CREDIT_CODE, text)
    if re.fullmatch(r"Q\S*", text):
        raise ValueError(f"{text!r} is not a Wikidata item ID (Q followed by digits, no leading zero)")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or _IRI_FORBIDDEN.search(text):
        raise ValueError(
            f"{text!r} is neither a Wikidata item ID, a unified social credit code nor an absolute "
            "http(s) IRI"
        )
    return Target(TargetKind.IRI, text)


def _cell_location(path: Path, raw: str, line: int, column_index: int) -> Location:
    """Where a cell of a CSV line starts (1-based line and column; the column of the cell's start)."""
    lines = raw.split("\n")
    text = lines[line - 1] if line - 1 < len(lines) else ""
    start = 0
    for _ in range(column_index):
        comma = text.find(",", start)
        if comma < 0:
            break
        start = comma + 1
    offset = sum(len(s) + 1 for s in lines[: line - 1]) + start
    return Location(str(path), line, start + 1, offset)


def read_linkset(csv_path: Path) -> Linkset:
    """Read and check one linkset (CSV and sidecar) on its own; entities are resolved later."""
    name = csv_path.stem
    where = Location(str(csv_path), 1, 1, 0)
    if not _NAME.fullmatch(name):
        raise LinksetError(
            "a linkset file is named in lower-case ASCII letters, digits and hyphens (its IRI is "
            f"id/linkset/{{name}}), not {name!r}",
            where,
        )
    data = csv_path.read_bytes()
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as err:
        before = data[: err.start].decode("utf-8", errors="replace")
        raise LinksetError("not UTF-8", Location.at(str(csv_path), before, len(before))) from err
    raw = raw.removeprefix("\ufeff").replace("\r\n", "\n")
    problems: list[LinksetError] = []  # every one is reported, not only the first
    try:
        meta = _read_sidecar(csv_path.with_suffix(".toml"))
    except LinksetError as err:
        problems.append(err)
    reader = csv.reader(io.StringIO(raw, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise LinksetError.of_all(
            [*problems, LinksetError(f"empty file: the header row {','.join(COLUMNS)} is missing", where)]
        ) from None
    if tuple(h.strip() for h in header) != COLUMNS:
        message = f"the header row must be {','.join(COLUMNS)}, not {','.join(header)}"
        raise LinksetError.of_all([*problems, LinksetError(message, where)])
    rows: list[Row] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            try:
                rows.append(_read_row(csv_path, raw, line, cells))
            except LinksetError as err:
                problems.append(err)
    except csv.Error as err:  # the rest of the file cannot be read
        problems.append(LinksetError(f"malformed CSV: {err}", Location(str(csv_path), reader.line_num, 1, 0)))
    if problems:
        raise LinksetError.of_all(problems)
    if not rows:
        raise LinksetError("no links: a linkset needs at least one row", where)
    created = meta["created"]
    assert isinstance(created, datetime.date)
    description = meta.get("description")
    return Linkset(
        name=name,
        title=str(meta["title"]),
        creator=str(meta["creator"]),
        created=created,
        objects_target=str(meta["objects_target"]),
        description=str(description) if description is not None else None,
        file_name=csv_path.name,
        sha256=hashlib.sha256(data).hexdigest(),
        rows=tuple(rows),
    )


def _read_row(path: Path, raw: str, line: int, cells: list[str]) -> Row:
    if len(cells) != len(COLUMNS):
        raise LinksetError(
            f"{len(cells)} cells, the header names {len(COLUMNS)}", Location(str(path), line, 1, 0)
        )
    entity, target_text, relation_text, justification = (c.strip() for c in cells)
    at = [_cell_location(path, raw, line, i) for i in range(len(COLUMNS))]
    if not entity:
        raise LinksetError("no entity: give our IRI or the entity's exact name", at[0])
    try:
        target = parse_target(target_text)
    except ValueError as err:
        raise LinksetError(str(err), at[1]) from err
    try:
        relation = Relation(relation_text)
    except ValueError:
        allowed = ", ".join(r.value for r in Relation)
        raise LinksetError(f"unknown relation {relation_text!r}: one of {allowed}", at[2]) from None
    if (target.kind is TargetKind.CREDIT_CODE) != (relation is Relation.IDENTIFIER):
        message = (
            "a unified social credit code is an identifier, not a resource: its relation is org:identifier"
            if target.kind is TargetKind.CREDIT_CODE
            else f"org:identifier takes a unified social credit code, not {target_text!r}"
        )
        raise LinksetError(message, at[2])
    if not justification:
        raise LinksetError("no justification: say where the link was verified", at[3])
    return Row(entity, target, relation, justification, at[0])


def _read_sidecar(path: Path) -> dict[str, object]:
    where = Location(str(path), 1, 1, 0)
    if not path.is_file():
        raise LinksetError(
            f"no sidecar: every linkset needs {path.name} with {', '.join(_REQUIRED_SIDECAR)}", where
        )
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        line, column = getattr(err, "lineno", 1), getattr(err, "colno", 1)
        raise LinksetError(f"malformed TOML: {err}", Location(str(path), line, column, 0)) from err
    except UnicodeDecodeError as err:
        raise LinksetError("not UTF-8", where) from err
    unknown = sorted(set(meta) - _SIDECAR_FIELDS)
    if unknown:
        raise LinksetError(f"unknown field(s) {', '.join(unknown)}", where)
    for key in _REQUIRED_SIDECAR:
        if key not in meta:
            raise LinksetError(f"missing field {key!r}", where)
    for key in ("title", "creator", "objects_target", "description"):
        if key in meta and (not isinstance(meta[key], str) or not str(meta[key]).strip()):
            raise LinksetError(f"{key} must be a non-empty string", where)
    created = meta["created"]
    if not isinstance(created, datetime.date) or isinstance(created, datetime.datetime):
        raise LinksetError("created must be a TOML date (e.g. 2026-11-26)", where)
    try:
        parse_target(str(meta["objects_target"]))
    except ValueError as err:
        raise LinksetError(f"objects_target: {err}", where) from err
    return meta


def read_linksets(directory: Path) -> list[Linkset]:
    """Every linkset in ``directory`` (none when it does not exist), in file-name order."""
    if not directory.is_dir():
        return []
    stray = sorted(
        p.name for p in directory.iterdir() if p.suffix == ".toml" and not p.with_suffix(".csv").is_file()
    )
    if stray:
        raise LinksetError(
            f"sidecar without its CSV: {stray[0]}", Location(str(directory / stray[0]), 1, 1, 0)
        )
    linksets, problems = [], []
    for path in sorted(directory.glob("*.csv")):
        try:
            linksets.append(read_linkset(path))
        except LinksetError as err:
            problems.append(err)
    if problems:
        raise LinksetError.of_all(problems)
    return linksets


def linkset_files(directory: Path) -> list[Path]:
    """The files a build's output depends on (for the inputs fingerprint)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".csv", ".toml") and p.is_file())


# --- resolution against the graph -------------------------------------------------------------------


@dataclass(frozen=True)
class EntityIndex:
    """What rows are resolved against: the entities of the graph and their exact names."""

    base: str
    iris: frozenset[str]
    names: Mapping[str, frozenset[str]]  # exact label → the entities carrying it

    def resolve(self, row: Row) -> str:
        written = row.entity
        if re.match(r"[a-z][a-z0-9+.-]*://", written):
            iri = written
            if not iri.startswith(self.base):
                raise LinksetError(
                    f"{iri} is not one of our IRIs (they start with {self.base})", row.location
                )
        elif written.startswith("id/"):
            iri = self.base + written
        else:
            found = self.names.get(written, frozenset())
            if not found:
                raise LinksetError(f"unknown entity {written!r}: no entity has this exact name", row.location)
            if len(found) > 1:
                raise LinksetError(
                    f"ambiguous entity {written!r}: {', '.join(sorted(found))} carry this name; give the IRI",
                    row.location,
                )
            return next(iter(found))
        if iri not in self.iris:
            raise LinksetError(f"unknown entity {iri}: the graph has no such entity", row.location)
        return iri


def resolve(linksets: Iterable[Linkset], index: EntityIndex) -> list[Link]:
    """Every row resolved to one entity; duplicates and conflicts refused, across files too (every
    problem of every row in one ``LinksetError``; a refused row is not compared with later ones)."""
    links: list[Link] = []
    problems: list[LinksetError] = []
    seen: dict[tuple[str, Relation, str], Location] = {}
    identity: dict[tuple[str, str], tuple[str, Location]] = {}  # (subject, namespace) → target
    owner: dict[str, tuple[str, Location]] = {}  # identifying target → subject
    for linkset in linksets:
        for row in linkset.rows:
            try:
                subject = index.resolve(row)
                _check(row, subject, seen, identity, owner)
            except LinksetError as err:
                problems.append(err)
                continue
            seen[(subject, row.relation, row.target.value)] = row.location
            if row.relation.identifies:
                identity.setdefault((subject, row.target.namespace), (row.target.value, row.location))
                owner.setdefault(row.target.value, (subject, row.location))
            links.append(Link(subject, row))
    if problems:
        raise LinksetError.of_all(problems)
    return links


def _check(
    row: Row,
    subject: str,
    seen: Mapping[tuple[str, Relation, str], Location],
    identity: Mapping[tuple[str, str], tuple[str, Location]],
    owner: Mapping[str, tuple[str, Location]],
) -> None:
    """Refuse ``row`` if it repeats a link already stated or contradicts an identity already given."""
    key = (subject, row.relation, row.target.value)
    if key in seen:
        raise LinksetError(
            f"duplicate link: {subject} {row.relation.value} {row.target.value} is already stated "
            f"at {seen[key]}",
            row.location,
        )
    if not row.relation.identifies:
        return
    earlier = identity.get((subject, row.target.namespace))
    if earlier is not None and earlier[0] != row.target.value:
        raise LinksetError(
            f"conflict: {subject} is already identified with {earlier[0]} (at {earlier[1]}), "
            f"not also {row.target.value}",
            row.location,
        )
    other = owner.get(row.target.value)
    if other is not None and other[0] != subject:
        raise LinksetError(
            f"conflict: {row.target.value} already identifies {other[0]} (at {other[1]}), not also {subject}",
            row.location,
        )
