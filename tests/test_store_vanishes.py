"""The store taken from under a running server (a real ``plankg serve`` process on a loopback port).

Deleted, or replaced by a directory that is not an Oxigraph store or by one whose build record is
unreadable: every query, the Service Description and ``/healthz`` answer 503 naming the cause, the query
workers (which still hold the deleted files open) are killed, a query running at that moment gets the
503 and not its answer, and a cached answer is not served. A good build back at the path (the build's
swap, or a directory renamed into place) is served again without a restart. A build killed between its
two swaps leaves the previous build served (consistent with the previous dumps) until the next build or
start rolls it back. With two server processes, each notices and recovers on its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from mapping import build
from mapping.swap import journal_path, recover_interrupted_swap
from tests.conftest import BuiltPlan
from tests.test_faults import KILLED_BETWEEN_SWAPS
from tests.test_server_processes import free_port, wait_for

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
HOSTILE = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(12)) + " }"
JSON = {"Accept": "application/sparql-results+json"}
PROBLEM = "application/problem+json"
OTHER_BUILD = "feedfacefeedface"


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    store: Path
    dist: Path
    spare: Path  # a copy of the good build, to put back

    def query(self, sparql: str = COUNT, **params: str) -> httpx.Response:
        return httpx.get(self.url + "/sparql", params={"query": sparql, **params}, headers=JSON, timeout=30)

    def health(self) -> httpx.Response:
        return httpx.get(self.url + "/healthz", timeout=10)

    def good_copy(self, name: str) -> Path:
        """A copy of the good build beside the store, as a build or a person prepares one."""
        copy = self.store.parent / name
        shutil.copytree(self.spare, copy)
        return copy


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (server processes and their query workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def query_workers(pid: int) -> set[int]:
    return {p for p in descendants(pid) if b"worker_entry" in _cmdline(p)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def layout(tmp_path: Path, built_plan: BuiltPlan) -> tuple[Path, Path, Path]:
    store, dist, spare = tmp_path / "var" / "store", tmp_path / "dist", tmp_path / "spare"
    shutil.copytree(built_plan.settings.store_dir, store)
    shutil.copytree(built_plan.dist, dist)
    shutil.copytree(built_plan.settings.store_dir, spare)
    return store, dist, spare


@contextmanager
def serving(tmp_path: Path, store: Path, dist: Path, spare: Path, processes: int = 1) -> Iterator[Served]:
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    scratch = tmp_path / f"tmp-{port}"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PLANKG_QUERY_WORKERS": "1", "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "server.cli", "serve", "--store", str(store), "--dist", str(dist)]
    argv += ["--port", str(port), "--processes", str(processes), "--query-timeout", "20"]
    with log.open("wb") as sink:
        process = subprocess.Popen(argv, cwd=tmp_path, stdout=sink, stderr=sink, env=env)
    served = Served(f"http://127.0.0.1:{port}", process, log, store, dist, spare)

    def ready() -> bool:
        return log.read_text(errors="replace").count("Application startup complete") >= processes

    if not wait_for(ready, 90):
        process.kill()
        pytest.fail(f"the server did not start:\n{log.read_text(errors='replace')}")
    try:
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"the server did not stop:\n{log.read_text(errors='replace')[-3000:]}")


def unavailable(detail: str) -> dict[str, Any]:
    return {"type": "about:blank", "title": "Store unavailable", "status": 503, "detail": detail}


def assert_refused(served: Served, detail: str) -> None:
    """A query, the Service Description and /healthz: 503 with the cause, to come back in 5 s."""
    for reply in (
        served.query(),
        httpx.get(served.url + "/sparql", headers={"Accept": "text/turtle"}),
        served.health(),
    ):
        assert reply.status_code == 503, reply.text
        assert reply.headers["content-type"] == PROBLEM
        assert reply.headers["retry-after"] == "5"
        assert reply.json() == unavailable(detail)


def assert_serving(served: Served, built_plan: BuiltPlan, build_id: str | None = None) -> None:
    health = served.health()
    assert health.status_code == 200, health.text
    assert health.json() == {
        "status": "ok",
        "build_id": build_id or built_plan.result.build_id,
        "triples": store_quads(built_plan),
    }
    reply = served.query()
    assert reply.status_code == 200, reply.text
    assert int(reply.json()["results"]["bindings"][0]["n"]["value"]) == built_plan.result.triples


def store_quads(built_plan: BuiltPlan) -> int:
    """Quads in the built store (every graph: the plan's, the linksets', the build's own)."""
    import pyoxigraph as ox

    return len(ox.Store.read_only(str(built_plan.settings.store_dir)))


def delete_during_a_query(served: Served) -> dict[str, Any]:
    """Delete the store while a long query runs; the query's status, body and duration."""
    running: dict[str, Any] = {}

    def hostile() -> None:
        started = time.monotonic()
        reply = served.query(HOSTILE)
        running.update(status=reply.status_code, body=reply.json(), seconds=time.monotonic() - started)

    thread = threading.Thread(target=hostile)
    thread.start()
    time.sleep(0.5)
    shutil.rmtree(served.store)
    thread.join(15)
    return running


def none_alive(pids: set[int]) -> bool:
    return not any(alive(pid) for pid in pids)


def refused(served: Served) -> bool:
    return served.query().status_code == 503


def alive(pid: int) -> bool:
    """Running, not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def test_a_deleted_store_is_refused_naming_it_until_a_good_build_returns(
    tmp_path: Path, built_plan: BuiltPlan
) -> None:
    with serving(tmp_path, *layout(tmp_path, built_plan)) as served:
        assert_serving(served, built_plan)
        missing = f"the store at {served.store} is missing"
        for put_back in ("the build's swap", "a directory renamed into place"):
            assert served.query().headers["x-cache"] == "hit"  # the count is cached
            workers = query_workers(served.process.pid)
            assert len(workers) == 1

            # A query running when the store goes: its answer is not given, it fails as the store does.
            running = delete_during_a_query(served)
            assert running["status"] == 503 and running["body"] == unavailable(missing), put_back
            assert running["seconds"] < 5  # not the time limit of 20 s

            assert_refused(served, missing)  # the cached count is not served either
            # The worker that held the deleted files is gone, and none is started on nothing.
            assert wait_for(partial(none_alive, workers), 5)
            assert query_workers(served.process.pid) == set()
            time.sleep(1.5)
            assert_refused(served, missing)  # it stays so

            if put_back == "the build's swap":
                build._swap_in([(served.good_copy(".store.new-x"), served.store)])
            else:
                served.good_copy("store.restored").rename(served.store)
            assert wait_for(lambda: served.health().status_code == 200, 30), served.log.read_text()[-2000:]
            assert_serving(served, built_plan)
            assert query_workers(served.process.pid).isdisjoint(workers)
            assert sorted(p.name for p in served.store.parent.iterdir()) == ["store"]
    log = served.log.read_text()
    assert len(re.findall(rf"ERROR plankg\.store: {re.escape(missing)}: queries are refused", log)) == 2


def replace_by(store: Path, broken: Path) -> None:
    """As `mv` would: the old directory away, the broken one in its place."""
    store.rename(store.parent / "old")
    broken.rename(store)
    shutil.rmtree(store.parent / "old")


def test_a_store_replaced_by_a_broken_one_is_refused_naming_why_until_a_good_one_returns(
    tmp_path: Path, built_plan: BuiltPlan
) -> None:
    with serving(tmp_path, *layout(tmp_path, built_plan)) as served:
        assert_serving(served, built_plan)
        store = served.store
        cannot = f"the store at {store} cannot be opened: "

        # Not an Oxigraph store (garbage files beside a good build record); the build's swap repairs it.
        workers = query_workers(served.process.pid)
        garbage = store.parent / "garbage"
        garbage.mkdir()
        (garbage / "notes.txt").write_text("not a store\n")
        (garbage / "000001.sst").write_bytes(bytes(range(256)) * 4)
        shutil.copy(served.spare / "plankg-build.json", garbage / "plankg-build.json")
        replace_by(store, garbage)
        assert wait_for(lambda: refused(served), 30), served.log.read_text()[-2000:]
        assert_refused(
            served,
            cannot + "IO error: No such file or directory: While opening a file for sequentially reading: "
            f"{store}/CURRENT: No such file or directory",
        )
        assert wait_for(partial(none_alive, workers), 5)
        assert query_workers(served.process.pid) == set()
        build._swap_in([(served.good_copy(".store.new-x"), store)])  # the garbage to its backup, then away
        assert wait_for(lambda: served.health().status_code == 200, 30), served.log.read_text()[-2000:]
        assert_serving(served, built_plan)

        # A good store whose build record is unreadable; a good directory renamed into place repairs it.
        workers = query_workers(served.process.pid)
        unreadable = served.good_copy("unreadable")
        (unreadable / "plankg-build.json").write_text("{build_id: 7}")
        replace_by(store, unreadable)
        assert wait_for(lambda: refused(served), 30), served.log.read_text()[-2000:]
        assert_refused(
            served,
            cannot + "its build record plankg-build.json is unreadable "
            "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        )
        assert wait_for(partial(none_alive, workers), 5)
        replace_by(store, served.good_copy("restored"))
        assert wait_for(lambda: served.health().status_code == 200, 30), served.log.read_text()[-2000:]
        assert_serving(served, built_plan)
        assert sorted(p.name for p in store.parent.iterdir()) == ["store"]


def killed_build(store: Path, dist: Path, spare: Path) -> None:
    """A build of another build id killed between its two swaps: the new store in place, the old
    dumps, the old store in a backup, the journal beside them."""
    new_store = store.parent / ".store.new-x"
    shutil.copytree(spare, new_store)
    record = json.loads((new_store / "plankg-build.json").read_text())
    (new_store / "plankg-build.json").write_text(json.dumps({**record, "build_id": OTHER_BUILD}))
    new_dist = dist.parent / ".dist.new-x"
    shutil.copytree(dist, new_dist)
    (new_dist / "NEW").write_text("new")
    arguments = [str(new_store), str(store), str(new_dist), str(dist)]
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_SWAPS, *arguments],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
    )
    assert done.returncode == -9, done.stderr
    assert journal_path(store).exists()
    assert OTHER_BUILD in (store / "plankg-build.json").read_text()


def test_a_build_killed_between_its_swaps_leaves_the_previous_build_served(
    tmp_path: Path, built_plan: BuiltPlan
) -> None:
    with serving(tmp_path, *layout(tmp_path, built_plan)) as served:
        assert_serving(served, built_plan)
        workers = query_workers(served.process.pid)
        killed_build(served.store, served.dist, served.spare)
        # Never the new store beside the old dumps: the previous build stays served, by the same worker.
        deadline = time.monotonic() + 2.5  # five checks of the store
        while time.monotonic() < deadline:
            assert_serving(served, built_plan)
        assert query_workers(served.process.pid) == workers
        # The next build (or start) rolls the swap back: the same store again, nothing to restart.
        assert recover_interrupted_swap(served.store) is True
        time.sleep(1.0)
        assert_serving(served, built_plan)
        assert query_workers(served.process.pid) == workers
        # And the next complete build is served.
        new_store = served.good_copy(".store.new-y")
        record = json.loads((new_store / "plankg-build.json").read_text())
        (new_store / "plankg-build.json").write_text(json.dumps({**record, "build_id": OTHER_BUILD}))
        build._swap_in([(new_store, served.store)])
        assert wait_for(lambda: served.health().json().get("build_id") == OTHER_BUILD, 30)
        assert_serving(served, built_plan, OTHER_BUILD)


def test_two_server_processes_each_refuse_and_recover_after_a_start_over_a_killed_swap(
    tmp_path: Path, built_plan: BuiltPlan
) -> None:
    store, dist, spare = layout(tmp_path, built_plan)
    killed_build(store, dist, spare)
    # `plankg serve` over the killed build's mix: rolled back at start to the previous store and dumps.
    with serving(tmp_path, store, dist, spare, processes=2) as served:
        assert not journal_path(store).exists()
        assert not (dist / "NEW").exists()
        assert json.loads((store / "plankg-build.json").read_text())["build_id"] == built_plan.result.build_id
        assert_serving(served, built_plan)
        workers = query_workers(served.process.pid)
        assert len(workers) == 2  # one per server process

        shutil.rmtree(store)
        missing = f"the store at {store} is missing"

        def both_refused() -> bool:
            # New connections: the kernel spreads them over the two processes' sockets.
            replies = [served.query(COUNT, x=str(i)) for i in range(12)]
            return all(r.status_code == 503 for r in replies)

        assert wait_for(both_refused, 10)
        assert wait_for(partial(none_alive, workers), 5)
        for i in range(20):
            reply = served.query(COUNT, x=f"refused {i}")
            assert (reply.status_code, reply.json()) == (503, unavailable(missing))
        log = served.log.read_text(errors="replace")
        refusing = set(re.findall(r"\[(\d+)\] plankg\.access: GET /sparql 503 ", log))
        assert len(refusing) == 2, log[-3000:]  # each process noticed on its own

        # One process dies meanwhile: the one started in its place waits for the store, not listening
        # (it used to die at once, five times, and the supervisor stopped the whole server).
        victim = int(sorted(refusing)[0])
        os.kill(victim, 9)
        waiting = re.compile(
            rf"\[(\d+)\] plankg\.processes: no store at {re.escape(str(store))}: run `plankg build` first; "
            r"not listening, trying again in 2 s"
        )

        def replacement_waits() -> set[str]:
            return set(waiting.findall(served.log.read_text(errors="replace")))

        assert wait_for(lambda: len(waiting.findall(served.log.read_text(errors="replace"))) >= 3, 60)
        (replacement,) = replacement_waits()
        assert served.process.poll() is None
        for i in range(10):
            reply = served.query(COUNT, x=f"still refused {i}")  # the survivor answers every connection
            assert (reply.status_code, reply.json()) == (503, unavailable(missing))

        served.good_copy("store.restored").rename(store)

        def both_serving() -> bool:
            if served.log.read_text(errors="replace").count("Application startup complete") < 3:
                return False
            return all(served.query(COUNT, x=str(i)).status_code == 200 for i in range(12))

        assert wait_for(both_serving, 60), served.log.read_text(errors="replace")[-3000:]
        for _ in range(10):
            assert_serving(served, built_plan)
        log = served.log.read_text(errors="replace")
    # The survivor answered again on its own; the replacement opened the store that came back.
    (survivor,) = refusing - {str(victim)}
    assert set(re.findall(r"\[(\d+)\] plankg\.store: serving build ", log)) == {survivor}
    answering = set(re.findall(r"\[(\d+)\] plankg\.access: GET /sparql 200 ", log))
    assert {survivor, replacement} <= answering
