"""Pruning the build's caches: after a build has swapped its output in, every cache entry it did not
use is removed, so that ``var/cache/`` holds what the next build may reuse and no more.

The caches (``{cache}/``, ``var/cache`` by default) are the per-plan results (``plans/{key}/``,
``mapping.build.PlanCache``), the plans' resolved results (``resolved/{key}/``, ``mapping.resolved``),
the plans' descriptions (``described/{key}/``, ``mapping.build._describe_plan``),
the dump chunks' forms (``chunks/{key[:2]}/{key}``, ``mapping.chunks``) and the chunk lists of the
N-Quads dumps (``chunks/index/{sha256}.json``, ``mapping.incremental``). A rebuild reuses only
entries of the build now in ``dist/`` and the store: the kept versions (``mapping.versions``) are
copies of their files and never read the caches, so an entry the current build did not use is one
no rebuild from it can use. Other directories of the cache (``ocr/``: tesseract's pages, keyed by
the PDF) are not the build's and are left alone.

A build notes each entry it uses, read or written, in a journal in its staging directory
(``Journal``: one relative path a line, so the build holds none of them); ``prune`` reads it once
the new output is in place. A build that fails never reaches it: it prunes nothing. An entry
directory is first renamed to a hidden name and then removed, so that no reader ever finds half an
entry under its key; a hidden name (an entry being written by a build that was killed, or one whose
removal was cut short) is removed when it is older than the build that prunes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

KINDS = ("plans", "resolved", "described")  # a directory per entry
CHUNKS = "chunks"  # chunks/{key[:2]}/{key} files and chunks/index/{sha256}.json
_GONE = ".gone-"


class Journal:
    """The cache entries a build used, as paths relative to the cache, appended to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch()

    def used(self, *entries: str) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.writelines(f"{entry}\n" for entry in entries)


@dataclass
class Pruned:
    """What ``prune`` removed: entries no build uses any more, and leftovers of killed builds."""

    entries: int = 0
    leftovers: int = 0


def prune(cache: Path, journal: Path, started: float) -> Pruned:
    """Remove from ``cache`` every entry that ``journal`` does not name, and every hidden leftover
    older than ``started`` (a ``time.time()`` from before the build began). Errors are not raised:
    an entry that cannot be removed stays, and costs only disk."""
    used = set(journal.read_text(encoding="utf-8").splitlines())
    done = Pruned()
    for kind in KINDS:
        for entry in _listing(cache / kind):
            _consider(entry, f"{kind}/{entry.name}", used, started, done)
    for group in _listing(cache / CHUNKS):
        for entry in _listing(group):
            _consider(entry, f"{CHUNKS}/{group.name}/{entry.name}", used, started, done)
        with contextlib.suppress(OSError):
            group.rmdir()  # only when it is empty now
    return done


def _listing(directory: Path) -> list[Path]:
    try:
        return sorted(directory.iterdir()) if directory.is_dir() else []
    except OSError:
        return []


def _consider(entry: Path, name: str, used: set[str], started: float, done: Pruned) -> None:
    if entry.name.startswith("."):
        try:
            old = entry.lstat().st_mtime < started
        except OSError:
            return
        if old and _remove(entry):
            done.leftovers += 1
    elif name not in used and _remove(entry):
        done.entries += 1


def _remove(entry: Path) -> bool:
    """Remove a file, or a directory by renaming it to a hidden name first (never half an entry
    under its key); True when it is gone from its name."""
    try:
        if not entry.is_dir() or entry.is_symlink():
            entry.unlink()
            return True
        gone = entry if entry.name.startswith(".") else entry.with_name(f".{entry.name}{_GONE}{os.getpid()}")
        if gone != entry:
            entry.rename(gone)
    except OSError:
        return False
    _rmtree(gone)
    return True


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
