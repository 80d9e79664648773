"""Injected faults in the build's swap: a build process killed between its two swaps is rolled back
(by the next build or the next start) to the previous store and dumps, never a new store beside old
dumps; a build out of disk space fails and leaves the previous output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mapping.swap import recover_interrupted_swap
from tests.browser.harness import REPO
from tests.conftest import BuiltPlan

# Runs _swap_in in a child process that SIGKILLs itself right after the first target is replaced.
KILLED_BETWEEN_SWAPS = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from mapping import build

    real_rename = Path.rename
    def rename(self, target):
        result = real_rename(self, target)
        if Path(target) == Path(sys.argv[2]):  # the new store is in place, the dumps are not
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    Path.rename = rename
    a = [Path(p) for p in sys.argv[1:]]
    build._swap_in([(a[0], a[1]), (a[2], a[3])])
    """
)


def layout(tmp_path: Path, built_plan: BuiltPlan) -> tuple[Path, Path, Path, Path]:
    """A previous build (store, dist) and a new one marked as such, as the build leaves them."""
    store, dist = tmp_path / "var" / "store", tmp_path / "dist"
    shutil.copytree(built_plan.settings.store_dir, store)
    shutil.copytree(built_plan.dist, dist)
    new_store, new_dist = tmp_path / "var" / ".store.new-x", tmp_path / ".dist.new-x"
    shutil.copytree(store, new_store)
    shutil.copytree(dist, new_dist)
    (new_store / "NEW").write_text("new")
    (new_dist / "NEW").write_text("new")
    return store, dist, new_store, new_dist


def test_a_build_killed_between_its_swaps_is_rolled_back(tmp_path: Path, built_plan: BuiltPlan) -> None:
    store, dist, new_store, new_dist = layout(tmp_path, built_plan)
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_SWAPS, str(new_store), str(store), str(new_dist), str(dist)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
    )
    assert done.returncode == -9, done.stderr  # killed, as planned
    # The mix the kill left: the new store in place, the old dumps, the old store in a backup.
    assert (store / "NEW").exists() and not (dist / "NEW").exists()
    assert any(p.name.startswith(".store.old-") for p in store.parent.iterdir())
    assert recover_interrupted_swap(store) is True
    assert not (store / "NEW").exists() and not (dist / "NEW").exists()  # the previous build, both
    assert (store / "plankg-build.json").read_text() == (
        built_plan.settings.store_dir / "plankg-build.json"
    ).read_text()
    leftovers = [p.name for p in [*store.parent.iterdir(), *dist.parent.iterdir()] if p.name.startswith(".")]
    assert leftovers == []
    assert recover_interrupted_swap(store) is False  # nothing left to do


def test_the_next_start_recovers_before_opening_the_store(tmp_path: Path, built_plan: BuiltPlan) -> None:
    import dataclasses

    from server.app import open_store

    store, dist, new_store, new_dist = layout(tmp_path, built_plan)
    subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_SWAPS, str(new_store), str(store), str(new_dist), str(dist)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
    )
    assert (store / "NEW").exists()
    settings = dataclasses.replace(built_plan.settings, store_dir=store, dist_dir=dist, query_workers=1)
    opened = open_store(settings)
    try:
        assert opened.build_id == built_plan.result.build_id
        assert not (store / "NEW").exists()
    finally:
        opened.close()


def test_a_build_that_runs_out_of_disk_leaves_the_previous_output(
    tmp_path: Path, built_plan: BuiltPlan
) -> None:
    """RLIMIT_FSIZE in a child build: writing the dumps fails (EFBIG, as a full disk would); the
    previous store and dumps stay, and no temporary is left behind."""
    store, dist = tmp_path / "var" / "store", tmp_path / "dist"
    shutil.copytree(built_plan.settings.store_dir, store)
    shutil.copytree(built_plan.dist, dist)
    before = {p.name: p.read_bytes() for p in dist.iterdir()}
    script = textwrap.dedent(
        """
        import resource, signal, sys
        from pathlib import Path
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        from mapping.build import build
        build(Path("seeds"), Path(sys.argv[1]), Path(sys.argv[2]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, str(dist), str(store)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1
    assert "File too large" in done.stderr
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == before
    assert (store / "plankg-build.json").read_text() == (
        built_plan.settings.store_dir / "plankg-build.json"
    ).read_text()
    leftovers = [p.name for p in [*store.parent.iterdir(), *dist.parent.iterdir()] if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.parametrize("broken", ["garbage", "empty", "record"])
def test_a_corrupt_store_is_refused_at_start_with_a_clear_message(
    tmp_path: Path, built_plan: BuiltPlan, broken: str
) -> None:
    import dataclasses

    from mapping.errors import PlanKGError
    from server.app import open_store

    store = tmp_path / "store"
    if broken == "record":  # a good store whose build record is not JSON: was served as "unbuilt-…"
        shutil.copytree(built_plan.settings.store_dir, store)
        (store / "plankg-build.json").write_text('{"build_id": "35e8', encoding="utf-8")
    else:
        store.mkdir()
    if broken == "garbage":
        shutil.copy(built_plan.settings.store_dir / "plankg-build.json", store / "plankg-build.json")
        (store / "CURRENT").write_text("MANIFEST-999999\\n")
    settings = dataclasses.replace(built_plan.settings, store_dir=store, query_workers=1)
    with pytest.raises(PlanKGError) as caught:
        open_store(settings).close()
    assert str(store) in str(caught.value)
    if broken == "garbage":  # was 'a query worker exited while opening the store' (the worker crashed)
        assert "could not open the store" in str(caught.value) and "Corruption" in str(caught.value)
    if broken == "record":
        assert str(caught.value) == (
            f"the store at {store} cannot be opened: its build record plankg-build.json is unreadable "
            "(Unterminated string starting at: line 1 column 14 (char 13))"
        )
