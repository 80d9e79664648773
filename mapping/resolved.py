"""The per-plan cache of the corpus-wide stages: what a build made of one plan once its citations of
other plans were resolved (its sorted spill file, its IRIs, its own dumps, the facts the corpus-level
stages read), keyed so that a plan is done again only when it or the plans it cites change.

The key is the SHA-256 of the plan's own cache key (``build.PlanCache.key``: its file, its metadata,
the code fingerprint, the build's seams) and of its ``swap`` (which of its cited-document stubs became
which plan of the corpus, ``crossrefs.swaps``): a plan is re-resolved when its text changes, or when a
plan whose matching key it cites arrives, leaves or changes its IRI; any other plan of the corpus may
change without touching it. An entry is a directory ``{cache}/resolved/{key}/`` made in a hidden
sibling and renamed in whole, so a build killed while writing it leaves no half entry; its files are
hard-linked into the build's staging directories (copied where the file system refuses), and never
written again (a build writes new files; the staging directories are renamed, not rewritten).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from mapping import crossrefs, dumps

FACTS_FILE = "facts.json"
SPILL_FILE = "spill.nt"
IRIS_FILE = "spill.iris"
DUMPS_DIR = "dumps"


def key(plan_key: str, swap: dict[str, str]) -> str:
    """The key of a plan's resolved results: its own cache key and its stubs' replacements."""
    lines = [plan_key, *(f"{stub} {plan}" for stub, plan in sorted(swap.items()))]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def link(source: Path, target: Path) -> None:
    """``target`` the same bytes as ``source``: a hard link, or a copy where links are refused."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def facts_json(facts: object) -> bytes:
    """A ``build.PlanFacts`` as JSON (its dump files and citation links as objects)."""
    return json.dumps(asdict(facts), ensure_ascii=False, sort_keys=True).encode("utf-8")  # type: ignore[call-overload]


def facts_fields(data: bytes) -> dict[str, object]:
    """The keyword arguments of ``build.PlanFacts`` from ``facts_json``'s bytes."""
    raw = json.loads(data)
    return {
        "size": int(raw["size"]),
        "files": tuple(dumps.DumpFile(**f) for f in raw["files"]),
        "typed": tuple(raw["typed"]),
        "names": {iri: tuple(v) for iri, v in raw["names"].items()},
        "years": tuple(raw["years"]),
        "mentions": tuple(raw["mentions"]),
        "divisions": tuple(raw["divisions"]),
        "links": tuple(crossrefs.Link(**x) for x in raw["links"]),
    }


class ResolvedCache:
    """``{directory}/resolved/{key}/``: ``spill.nt``, ``spill.iris``, ``dumps/`` (the plan's own dump
    files) and ``facts.json``; None as directory: no cache (a cold build)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def entry(self, key: str) -> Path | None:
        if self.directory is None:
            return None
        entry = self.directory / "resolved" / key
        return entry if (entry / FACTS_FILE).is_file() else None

    def take(self, key: str, spill: Path, iris: Path, dist: Path) -> bytes | None:
        """Link a cached entry's files into place (the spill files, the plan's dumps into ``dist``);
        its facts' JSON, or None when there is no whole entry."""
        entry = self.entry(key)
        if entry is None:
            return None
        made: list[Path] = []
        try:
            facts = (entry / FACTS_FILE).read_bytes()
            pairs = [(entry / SPILL_FILE, spill), (entry / IRIS_FILE, iris)]
            pairs += [(path, dist / path.name) for path in sorted((entry / DUMPS_DIR).iterdir())]
            for source, target in pairs:
                link(source, target)
                made.append(target)
        except OSError:
            for target in made:  # never left for the build to write into: it is the cache's file
                target.unlink(missing_ok=True)
            return None
        return facts

    def put(self, key: str, spill: Path, iris: Path, dump_files: list[Path], facts: bytes) -> None:
        """Keep a plan's resolved results (linked from the build's files); a cache that cannot be
        written only costs time."""
        if self.directory is None:
            return
        parent = self.directory / "resolved"
        try:
            parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{key}.new-", dir=parent))
            link(spill, staging / SPILL_FILE)
            link(iris, staging / IRIS_FILE)
            (staging / DUMPS_DIR).mkdir()
            for path in dump_files:
                link(path, staging / DUMPS_DIR / path.name)
            (staging / FACTS_FILE).write_bytes(facts)
            try:
                staging.rename(parent / key)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)  # another build kept it first
        except OSError:
            return
