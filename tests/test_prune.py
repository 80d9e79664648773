"""mapping.prune on a cache laid out by hand (the builds' use of it: tests/test_incremental.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mapping import prune

KEY_A, KEY_B = "a" * 64, "b" * 64


def cache(root: Path) -> Path:
    for kind in ("plans", "resolved"):
        for key in (KEY_A, KEY_B):
            (root / kind / key).mkdir(parents=True)
            (root / kind / key / "plan.json").write_text("{}", encoding="utf-8")
    (root / "chunks" / "aa").mkdir(parents=True)
    (root / "chunks" / "aa" / KEY_A).write_bytes(b"x")
    (root / "chunks" / "bb").mkdir(parents=True)
    (root / "chunks" / "bb" / KEY_B).write_bytes(b"y")
    (root / "chunks" / "index").mkdir()
    (root / "chunks" / "index" / f"{KEY_A}.json").write_text("[]", encoding="utf-8")
    (root / "chunks" / "index" / f"{KEY_B}.json").write_text("[]", encoding="utf-8")
    (root / "ocr" / KEY_B).mkdir(parents=True)  # not the build's: never pruned
    (root / "ocr" / KEY_B / "page-1.json").write_text("{}", encoding="utf-8")
    return root


def listing(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_what_the_journal_names_is_kept_and_the_rest_removed(tmp_path: Path) -> None:
    root = cache(tmp_path / "cache")
    journal = prune.Journal(tmp_path / "used")
    journal.used(f"plans/{KEY_A}", f"resolved/{KEY_A}")
    journal.used(f"chunks/aa/{KEY_A}", f"chunks/index/{KEY_A}.json")
    done = prune.prune(root, journal.path, time.time())
    assert listing(root) == {
        "plans",
        f"plans/{KEY_A}",
        f"plans/{KEY_A}/plan.json",
        "resolved",
        f"resolved/{KEY_A}",
        f"resolved/{KEY_A}/plan.json",
        "chunks",
        "chunks/aa",
        f"chunks/aa/{KEY_A}",
        "chunks/index",
        f"chunks/index/{KEY_A}.json",
        "ocr",
        f"ocr/{KEY_B}",
        f"ocr/{KEY_B}/page-1.json",
    }
    assert (done.entries, done.leftovers) == (4, 0)  # two entries, a chunk, an index (bb/ emptied)


def test_an_entry_is_gone_from_its_key_before_it_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A removal cut short (the process killed in rmtree) leaves no half entry under its key: the
    directory was renamed to a hidden name first, and the next prune removes that leftover."""
    root = cache(tmp_path / "cache")
    journal = prune.Journal(tmp_path / "used")
    monkeypatch.setattr(prune, "_rmtree", lambda path: (path / "plan.json").unlink())  # cut short
    prune.prune(root, journal.path, time.time())
    assert sorted(p.name for p in (root / "plans").iterdir()) == [
        f".{KEY_A}.gone-{os.getpid()}",
        f".{KEY_B}.gone-{os.getpid()}",
    ]
    monkeypatch.undo()
    later = prune.prune(root, journal.path, time.time() + 1)
    assert later.leftovers == 4 and not any((root / "plans").iterdir())


def test_a_young_leftover_is_left_for_the_build_that_may_be_writing_it(tmp_path: Path) -> None:
    root = cache(tmp_path / "cache")
    young = root / "plans" / f".{KEY_A}.new-abc"
    young.mkdir()
    journal = prune.Journal(tmp_path / "used")
    journal.used(f"plans/{KEY_A}")
    done = prune.prune(root, journal.path, time.time() - 60)
    assert young.is_dir() and (root / "plans" / KEY_A).is_dir() and done.leftovers == 0
