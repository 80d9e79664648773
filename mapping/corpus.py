"""The corpus: which seed files are plans, what each plan is called (its slug), and how a seed file
becomes text. One module, one job: it finds and names the plans; ``mapping.build`` builds them.

* **Seeds.** Every file whose suffix is in ``SEED_SUFFIXES`` in each seeds directory (not in
  subdirectories), in the order of the directories given and, within one, of the file names.
  :func:`read_seed` is the one place a seed file becomes text (a reader per suffix: a ``.txt`` as
  shipped; a ``.pdf``, ``.html``/``.htm`` or ``.docx`` through :mod:`mapping.ingest`, with the
  extraction that ties the text to the original). A seed named like another seed's extracted text
  (``plan.pdf.txt`` beside ``plan.pdf``) is refused: both would be served at one URL.
* **Metadata.** Beside ``{stem}.txt`` an optional ``{stem}.plan.toml`` with the keys of
  ``METADATA_KEYS``: ``slug`` (overrides the derived one), ``title_en`` (the plan's English title; its
  first words make the short title of a derived slug) and ``legacy_iris`` (true for the one plan whose
  IRIs the first, one-plan release published right under ``{base}id/``: the server answers those with
  a 301 to the plan's IRIs). An unknown key, a slug that is not lower-case ASCII words joined by ``-``
  or a value of the wrong type is a :class:`MetadataError` naming the file, line and column.
* **Slug.** ``{place}-{short title}-{first year}-{last year}``: the key in ``mapping/data/places.toml``
  of the place whose name (or alias) comes first in the title (longest name at that position), else
  ``plan``; the short title from ``title_en`` (its first three words of letters and digits, lower
  case), else the first 6 hex digits of the SHA-256 of the normalised title (stable: the same title
  always gives the same slug; a reader can override it with ``slug``); the period from the title
  (``2023—2025年``), left out when the title names none. Derived from the text, never from the file
  name, so renaming a file does not move its IRIs.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mapping.entities import Catalogue
from mapping.errors import BuildError, DocumentError, Location
from mapping.ingest.model import Extracted
from mapping.layout import extracted_name
from mapping.text import normalise
from mapping.vocab import SLUG

SEED_SUFFIXES = (".txt", ".pdf", ".html", ".htm", ".docx")
METADATA_SUFFIX = ".plan.toml"
METADATA_KEYS = {"slug": str, "title_en": str, "legacy_iris": bool}
_PERIOD = re.compile(r"((?:19|20)\d\d)\s*[—\-–~～至]+\s*((?:19|20)\d\d)\s*年")
_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = {"a", "an", "and", "the", "of", "for", "on", "in", "to", "plan", "action", "three", "year"}


class MetadataError(DocumentError):
    """A plan's metadata file is malformed; the location names the file, line and column."""


@dataclass(frozen=True)
class PlanMetadata:
    """What ``{stem}.plan.toml`` says (all optional) and its bytes (part of the plan's cache key)."""

    slug: str | None = None
    title_en: str | None = None
    legacy_iris: bool = False
    path: Path | None = None
    data: bytes = b""


@dataclass(frozen=True)
class Seed:
    """One plan's files: its text file and its metadata."""

    path: Path
    metadata: PlanMetadata


# --- finding the seeds -----------------------------------------------------------------------------------


def find_seeds(seeds_dirs: Sequence[Path]) -> list[Seed]:
    """The plans of the corpus: every seed file of every directory, with its metadata.

    Raises :class:`BuildError` for a missing directory, a corpus without any plan, two files of the
    same name (their sources would be served at one URL) or of the same content (one plan twice), and
    :class:`MetadataError` for a malformed metadata file.
    """
    paths: list[Path] = []
    for directory in seeds_dirs:
        if not directory.is_dir():
            raise BuildError(f"{directory}: no such seeds directory")
        paths += sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in SEED_SUFFIXES)
    if not paths:
        dirs = ", ".join(str(d) for d in seeds_dirs)
        raise BuildError(f"{dirs}: no plan text ({', '.join('*' + s for s in SEED_SUFFIXES)})")
    by_name: dict[str, Path] = {}
    by_hash: dict[str, Path] = {}
    for path in paths:
        if path.name in by_name:
            raise BuildError(f"{path}: another seed has the same file name: {by_name[path.name]}")
        by_name[path.name] = path
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in by_hash:
            raise BuildError(f"{path}: the same text as {by_hash[digest]} (one plan twice)")
        by_hash[digest] = path
    for path in paths:
        if path.suffix in READERS and path.suffix != ".txt" and extracted_name(path.name) in by_name:
            clash = by_name[extracted_name(path.name)]
            raise BuildError(
                f"{clash}: its name is the name of the text extracted from {path} (both served there)"
            )
    return [Seed(p, read_metadata(p)) for p in paths]


def metadata_path(seed: Path) -> Path:
    return seed.with_name(seed.stem + METADATA_SUFFIX)


def read_metadata(seed: Path) -> PlanMetadata:
    """The metadata beside ``seed`` (``{stem}.plan.toml``), or empty metadata when there is none."""
    path = metadata_path(seed)
    if not path.is_file():
        return PlanMetadata()
    data = path.read_bytes()
    text = data.decode("utf-8", errors="replace")
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message, _, position = str(err).partition(" (at ")
        found = re.match(r"line (\d+), column (\d+)", position)
        line, column = (int(found[1]), int(found[2])) if found else (1, 1)
        raise MetadataError(message, Location(str(path), line, column, 0)) from err
    for key, value in table.items():
        where = _key_location(path, text, key)
        expected = METADATA_KEYS.get(key)
        if expected is None:
            known = ", ".join(sorted(METADATA_KEYS))
            raise MetadataError(f"unknown key {key!r} (known: {known})", where)
        if not isinstance(value, expected):
            raise MetadataError(f"{key} must be a {expected.__name__}, not {type(value).__name__}", where)
    slug = table.get("slug")
    if slug is not None and not SLUG.fullmatch(slug):
        raise MetadataError(
            f"slug {slug!r}: lower-case ASCII letters and digits in words joined by '-'",
            _key_location(path, text, "slug"),
        )
    return PlanMetadata(slug, table.get("title_en"), bool(table.get("legacy_iris", False)), path, data)


def _key_location(path: Path, text: str, key: str) -> Location:
    found = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.MULTILINE)
    if found is None:
        return Location(str(path), 1, 1, 0)
    return Location.at(str(path), text, found.start() + len(found[0]) - len(found[0].lstrip()))


# --- a seed file as text ----------------------------------------------------------------------------------


def read_text_file(path: Path) -> tuple[str, bytes]:
    """The text of a UTF-8 file exactly as shipped (no newline translation) and its bytes."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError as err:
        before = data[: err.start].decode("utf-8", errors="replace")
        location = Location.at(str(path), before, len(before))
        raise DocumentError(
            f"not UTF-8: byte 0x{data[err.start]:02x} cannot start a character", location
        ) from err


@dataclass(frozen=True)
class SeedFile:
    """A seed file read: its text (the offsets of every span count its code points), its bytes (hashed
    into the plan's cache key) and, for a plan read from a published original (PDF, HTML, DOCX), the
    extraction with its map back to the original (None for a ``.txt``, whose text is the file)."""

    text: str
    data: bytes
    extracted: Extracted | None = None


def read_text_seed(path: Path) -> SeedFile:
    text, data = read_text_file(path)
    return SeedFile(text, data)


def read_published(path: Path) -> SeedFile:
    """The text :mod:`mapping.ingest` extracts from a plan as published (PDF, scanned pages by OCR
    cached by the file's hash, HTML, DOCX), the original's bytes and the extraction."""
    from mapping.ingest import extract  # the PDF, HTML and DOCX libraries only when a seed needs them

    extracted = extract(path)
    return SeedFile(extracted.text, path.read_bytes(), extracted)


# The readers by suffix: the only place a seed file becomes text.
READERS: dict[str, Callable[[Path], SeedFile]] = {
    ".txt": read_text_seed,
    **{suffix: read_published for suffix in (".pdf", ".html", ".htm", ".docx")},
}


def read_seed(path: Path) -> SeedFile:
    """The seed file ``path`` read by the reader of its suffix."""
    reader = READERS.get(path.suffix)
    if reader is None:
        raise BuildError(f"{path}: no reader for {path.suffix!r} files")
    return reader(path)


def seed_text(path: Path) -> tuple[str, bytes]:
    """The text of the seed file ``path`` (the offsets of every span count its code points) and the
    file's bytes (hashed into the source's ``pk:sha256`` and the plan's cache key)."""
    read = read_seed(path)
    return read.text, read.data


# --- slugs ------------------------------------------------------------------------------------------------


def title_period(title: str) -> tuple[int, int] | None:
    found = _PERIOD.search(normalise(title).text)
    return (int(found[1]), int(found[2])) if found else None


def issuing_place(title: str, catalogue: Catalogue) -> str | None:
    """The key of the catalogued place whose name or alias comes first in ``title`` (longest there)."""
    text = normalise(title).text
    best: tuple[int, int, str] | None = None  # (position, -length, key)
    for place in catalogue.places.values():
        for name in (place.name, *place.aliases):
            at = text.find(name)
            if at >= 0 and (best is None or (at, -len(name)) < best[:2]):
                best = (at, -len(name), place.key)
    return best[2] if best else None


def short_title(title: str, title_en: str | None) -> str:
    if title_en:
        words = [w for w in _WORD.findall(title_en.lower()) if w not in _STOP_WORDS][:3]
        if words:
            return "-".join(words)
    return hashlib.sha256(normalise(title).text.encode("utf-8")).hexdigest()[:6]


def derive_slug(title: str, catalogue: Catalogue, title_en: str | None = None) -> str:
    """``{place}-{short title}-{first}-{last}`` (see the module's documentation)."""
    parts = [issuing_place(title, catalogue) or "plan", short_title(title, title_en)]
    period = title_period(title)
    if period is not None:
        parts.append(f"{period[0]}-{period[1]}")
    return "-".join(parts)


def plan_slug(seed: Seed, title: str, catalogue: Catalogue) -> str:
    """The slug of the plan: its metadata's, else derived from its title."""
    return seed.metadata.slug or derive_slug(title, catalogue, seed.metadata.title_en)


def check_unique(named: Iterable[tuple[str, Seed]]) -> None:
    """Raise :class:`BuildError` when two plans claim one slug (naming both files) or more than one
    claims the legacy IRIs."""
    seen: dict[str, Seed] = {}
    legacy: Seed | None = None
    for slug, seed in named:
        if slug in seen:
            where = seed.metadata.path if seed.metadata.slug else seed.path
            raise BuildError(f"{where}: plan slug {slug!r} is already the slug of {seen[slug].path}")
        seen[slug] = seed
        if seed.metadata.legacy_iris:
            if legacy is not None:
                raise BuildError(
                    f"{seed.metadata.path}: legacy_iris is already claimed by {legacy.metadata.path}"
                )
            legacy = seed
