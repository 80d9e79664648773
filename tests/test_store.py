"""server.stores.oxigraph: the narrow interface, data files beside a plan store, the build id, the import
boundary."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pyoxigraph as ox
import pytest

from server.errors import StoreFailure, StoreMissing
from server.protocol.results import Iri, Solutions
from server.stores.oxigraph import BUILD_INFO_FILE, OxigraphStore, Store

SERVER = Path(__file__).parent.parent / "server"
EX = "http://example.org/"


def test_only_the_store_module_imports_pyoxigraph() -> None:
    offenders = []
    for path in sorted(SERVER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            reaches = any(n.split(".")[0] in {"pyoxigraph", "oxrdflib"} for n in names)
            if reaches and path != SERVER / "stores" / "oxigraph.py":
                offenders.append(path.name)
    assert offenders == []


# Records which module runs each `import pyoxigraph` (or oxrdflib), directly or through any chain of
# imports, while every server module is imported in a fresh interpreter.
_IMPORTERS_PROBE = """
import builtins, importlib, json, pkgutil, sys
real_import = builtins.__import__
importers = set()
def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.split(".")[0] in ("pyoxigraph", "oxrdflib"):
        importers.add((globals or {}).get("__name__"))
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = recording_import
import server
for module in pkgutil.walk_packages(server.__path__, "server."):
    if module.name not in sys.argv[1:]:
        importlib.import_module(module.name)
print(json.dumps(sorted(importers)))
"""

# The CLI also runs the build (the whole mapping pipeline, which writes the store with pyoxigraph).
_BUILDS = ["server.cli"]


def _pyoxigraph_importers(*skip: str) -> list[str]:
    run = subprocess.run(
        [sys.executable, "-c", _IMPORTERS_PROBE, *skip],
        capture_output=True,
        text=True,
        check=True,
        cwd=SERVER.parent,
    )
    importers: list[str] = json.loads(run.stdout)
    return importers


def test_only_the_store_module_reaches_pyoxigraph_even_transitively() -> None:
    """Serving needs pyoxigraph only through server.stores.oxigraph (a remote store would replace it)."""
    assert _pyoxigraph_importers(*_BUILDS) == ["server.stores.oxigraph"]


def test_the_transitive_check_sees_indirect_imports() -> None:
    assert "mapping.build" in _pyoxigraph_importers()


# Imports every server module except the Oxigraph implementation and the two places that choose it
# (the app factory and the CLI) with pyoxigraph made unimportable: a route that reached pyoxigraph in
# any way, even only through server.stores.oxigraph's types, would fail here.
_WITHOUT_PYOXIGRAPH_PROBE = """
import importlib, pkgutil, sys
sys.modules["pyoxigraph"] = None
sys.modules["oxrdflib"] = None
import server
for module in pkgutil.walk_packages(server.__path__, "server."):
    if module.name not in ("server.stores.oxigraph", "server.app", "server.cli"):
        importlib.import_module(module.name)
print("ok")
"""


def test_routes_import_without_pyoxigraph() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PYOXIGRAPH_PROBE],
        capture_output=True,
        text=True,
        cwd=SERVER.parent,
    )
    assert (run.returncode, run.stdout.strip()) == (0, "ok"), run.stderr[-2000:]


@pytest.fixture(scope="module")
def plan_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the built store: one triple in the default graph and a build record."""
    directory = tmp_path_factory.mktemp("plan") / "store"
    store = ox.Store(str(directory))
    store.add(
        ox.Quad(ox.NamedNode(EX + "plan"), ox.NamedNode(EX + "title"), ox.Literal("方案", language="zh"))
    )
    store.flush()
    del store
    (directory / BUILD_INFO_FILE).write_text('{"build_id": "plan-build-7"}', encoding="utf-8")
    return directory


def names(store: Store, query: str) -> list[str]:
    value = store.query(query).value
    assert isinstance(value, Solutions)
    return sorted(t.value for row in value.rows for t in row if isinstance(t, Iri))


def test_the_plan_store_is_served_with_its_build_id(plan_store: Path) -> None:
    store = OxigraphStore(plan_store, workers=1)
    try:
        assert store.build_id == "plan-build-7"
        description = store.describe_dataset()
        assert (description.triple_count, description.default_graph_triples) == (1, 1)
        assert description.named_graphs == ()
    finally:
        store.close()


def test_data_files_join_the_plan_triples_to_default_quads_keep_graphs(
    plan_store: Path, tmp_path: Path
) -> None:
    triples = tmp_path / "extra.ttl"
    triples.write_text(f"<{EX}other> <{EX}title> 'other' .\n", encoding="utf-8")
    quads = tmp_path / "extra.nq"
    quads.write_text(f"<{EX}g1> <{EX}p> <{EX}o> <{EX}graph1> .\n", encoding="utf-8")
    store = OxigraphStore(plan_store, data_files=[triples, quads], workers=1)
    try:
        assert names(store, "SELECT ?s WHERE { ?s ?p ?o }") == [EX + "other", EX + "plan"]
        assert names(store, "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }") == [EX + "graph1"]
        description = store.describe_dataset()
        assert description.named_graphs == (EX + "graph1",)
        assert description.sources == (str(plan_store), str(triples), str(quads))
        first_id = store.build_id
        assert first_id != "plan-build-7"  # the data files are part of what is served
    finally:
        store.close()
    triples.write_text(f"<{EX}changed> <{EX}title> 'changed' .\n", encoding="utf-8")
    again = OxigraphStore(plan_store, data_files=[triples, quads], workers=1)
    try:
        assert again.build_id != first_id  # changed data: a new id, so cached answers retire
    finally:
        again.close()


def test_without_the_plan_only_the_data_is_served(tmp_path: Path) -> None:
    data = tmp_path / "only.nt"
    data.write_text(f"<{EX}a> <{EX}p> <{EX}b> .\n", encoding="utf-8")
    store = OxigraphStore(None, data_files=[data], workers=1)
    try:
        assert names(store, "SELECT ?s ?o WHERE { ?s ?p ?o }") == [EX + "a", EX + "b"]
    finally:
        store.close()


def test_bad_inputs_are_reported_before_serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(StoreMissing, match="plankg build"):
        OxigraphStore(tmp_path / "nowhere")
    unknown = tmp_path / "data.xlsx"
    unknown.write_bytes(b"")
    with pytest.raises(StoreFailure, match="unknown RDF file extension"):
        OxigraphStore(None, data_files=[unknown])
    broken = tmp_path / "broken.ttl"
    broken.write_text("<a> <b> .\n", encoding="utf-8")
    with pytest.raises(StoreFailure, match=r"broken\.ttl"):
        OxigraphStore(None, data_files=[broken])
    assert list(scratch.iterdir()) == []  # the half-made temporary stores are gone


def test_json_answers_written_by_the_worker_are_those_of_the_neutral_values(tmp_path: Path) -> None:
    """The worker writes SPARQL JSON straight from the engine's terms; byte for byte what the
    backend-neutral values serialise to, for every kind of term and an unbound variable."""
    from server.protocol import formats as fmts
    from server.protocol.results import serialize_solutions
    from server.stores.interface import FormatChoice

    data = tmp_path / "d.ttl"
    data.write_text('<http://e/s> <http://e/p> "x"@en , "y" , 3 , _:b .\n', encoding="utf-8")
    query = (
        "SELECT ?a ?b ?c ?d ?e ?f ?g ?unbound WHERE { "
        '{ VALUES (?a ?b ?c ?d ?e ?f) { (<http://x/é> "s\\"\\n\\u00e9" "l"@en "r"@ar--rtl 1.5 '
        '<<( <http://s> <http://p> "o"@zh )>>) } BIND(BNODE("k") AS ?g) } '
        "UNION { <http://e/s> <http://e/p> ?a } }"
    )
    store = OxigraphStore(None, data_files=[data], workers=1)
    try:
        neutral = store.query(query).value
        assert isinstance(neutral, Solutions) and len(neutral.rows) == 5
        choice = FormatChoice(results=fmts.SPARQL_JSON, graph=None)
        written = store.query(query, formats=choice)
        assert written.body == serialize_solutions(fmts.SPARQL_JSON, neutral)
        assert written.rows == 5
        doc = json.loads(written.body or b"")
        first = doc["results"]["bindings"][0]
        assert first["d"] == {"type": "literal", "value": "r", "xml:lang": "ar", "its:dir": "rtl"}
        assert first["f"]["type"] == "triple" and first["g"]["type"] == "bnode"
        assert "unbound" not in first
    finally:
        store.close()


def test_a_plan_store_served_with_data_files_goes_unavailable_with_it_and_comes_back(
    plan_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan and the data files are served from a temporary copy: the plan store deleted at its path
    still makes the whole store unavailable (the copy is removed), and it is materialised again once
    the plan is back (server.stores.oxigraph.OxigraphStore._watch)."""
    import shutil
    import time

    from server.errors import StoreUnavailable

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    plan = tmp_path / "store"
    shutil.copytree(plan_store, plan)
    data = tmp_path / "extra.ttl"
    data.write_text(f"<{EX}other> <{EX}title> 'other' .\n", encoding="utf-8")
    store = OxigraphStore(plan, data_files=[data], workers=1, watch_interval=0.1)
    try:
        query = "SELECT ?s WHERE { ?s ?p ?o }"
        assert names(store, query) == [EX + "other", EX + "plan"]
        first = store.build_id
        shutil.rmtree(plan)
        assert wait_unavailable(store, query)
        missing = f"the store at {plan} is missing"
        with pytest.raises(StoreUnavailable) as caught:
            store.query(query)
        assert str(caught.value) == missing
        with pytest.raises(StoreUnavailable, match=f"^{re.escape(missing)}$"):
            store.build_id  # noqa: B018 - no answer cached under the gone build's id
        with pytest.raises(StoreUnavailable, match=f"^{re.escape(missing)}$"):
            store.describe_dataset()
        deadline = time.monotonic() + 5
        while (store.worker_pids() or list(scratch.iterdir())) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.worker_pids() == ()
        assert list(scratch.iterdir()) == []  # the copy of the gone plan is removed
        shutil.copytree(plan_store, tmp_path / "back")
        (tmp_path / "back").rename(plan)
        deadline = time.monotonic() + 30
        while wait_unavailable(store, query, 0.0) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert names(store, query) == [EX + "other", EX + "plan"]
        assert store.build_id == first  # the same plan and data: the same id
        assert [p.name[:13] for p in scratch.iterdir()] == ["plankg-store-"]
    finally:
        store.close()


def wait_unavailable(store: OxigraphStore, query: str, seconds: float = 10.0) -> bool:
    """True once the store refuses ``query`` as unavailable (within ``seconds``)."""
    import time

    from server.errors import StoreUnavailable

    deadline = time.monotonic() + seconds
    while True:
        try:
            store.query(query)
        except StoreUnavailable:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def test_large_answers_are_spooled_whole_and_are_the_same_bytes(tmp_path: Path) -> None:
    """An answer longer than ``spool_bytes`` comes through a file the worker wrote whole (never over the
    socket into the server's memory), in every kind of format, byte for byte what an unspooled store
    answers; the file is unlinked as soon as it is opened, and the spool directory goes with the store."""
    from server.protocol import formats as fmts
    from server.stores.interface import FormatChoice

    data = Path(__file__).parent / "fixtures" / "sparql-sample.trig"
    asks = [
        ("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", FormatChoice(results=fmts.SPARQL_JSON, graph=None)),
        ("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", FormatChoice(results=fmts.CSV, graph=None)),
        ("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", FormatChoice(results=fmts.SPARQL_XML, graph=None)),
        ("CONSTRUCT { ?a ?b ?c } WHERE { ?a ?b ?c }", FormatChoice(results=None, graph=fmts.TURTLE)),
    ]
    whole = OxigraphStore(None, data_files=[data], workers=1)
    spooling = OxigraphStore(None, data_files=[data], workers=1, spool_bytes=200)
    spool_dirs = list(Path(tempfile.gettempdir()).glob("plankg-store-*-spool-*"))
    try:
        assert spooling._spool_dir is not None and spooling._spool_dir in spool_dirs
        for query, choice in asks:
            expected = whole.query(query, formats=choice)
            assert expected.body is not None and expected.spooled is None
            assert len(expected.body) > 200
            spooled = spooling.query(query, formats=choice)
            assert spooled.body is None and spooled.spooled is not None, query
            assert list(spooling._spool_dir.iterdir()) == []  # unlinked once opened
            assert spooled.spooled.size == len(expected.body)
            assert spooled.rows == expected.rows and spooled.build_id == expected.build_id
            assert b"".join(spooled.spooled.chunks()) == expected.body
            assert spooled.spooled.file.closed
        # Small answers stay in memory; values (no format asked) are never spooled.
        small = spooling.query("ASK {}", formats=asks[0][1])
        assert json.loads(small.body or b"") == {"head": {}, "boolean": True} and small.spooled is None
        assert isinstance(spooling.query(asks[0][0]).value, Solutions)
        # A query stopped at its time limit leaves no part of an answer behind.
        from server.errors import QueryTimeout

        hostile = "SELECT * WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(6)) + " }"
        with pytest.raises(QueryTimeout):
            spooling.query(hostile, formats=asks[0][1], timeout=0.5)
        assert list(spooling._spool_dir.iterdir()) == []
    finally:
        whole.close()
        spooling.close()
    assert spooling._spool_dir is not None and not spooling._spool_dir.exists()


# --- temporary directories of processes that are gone ----------------------------------------------

SAMPLE = Path(__file__).parent / "fixtures" / "sparql-sample.trig"
HOLD_A_STORE = """
import sys, time
from pathlib import Path
from server.stores.oxigraph import OxigraphStore
store = OxigraphStore(None, data_files=[Path(sys.argv[1])], workers=1, spool_bytes=1000)
print("ready", flush=True)
if sys.argv[2] == "hold":
    time.sleep(600)
"""


def _held_store(scratch: Path, how: str) -> subprocess.Popen[str]:
    """A process with a store over the sample (a temporary store and a spool directory in
    ``scratch``) that holds it (``hold``) or ends without closing it (``exit``)."""
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(Path(__file__).parent.parent)}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_STORE, str(SAMPLE), how], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    with process.stdout:  # it writes nothing more
        assert process.stdout.readline() == "ready\n"
    return process


def test_a_store_that_cannot_be_opened_leaves_no_spool_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server that retries a store that does not open (server.ops.processes) made one each time.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    garbage = tmp_path / "store"
    garbage.mkdir()
    (garbage / "CURRENT").write_text("MANIFEST-999999\n")
    for _ in range(2):
        with pytest.raises(StoreFailure):
            OxigraphStore(garbage, workers=1, spool_bytes=1000)
    assert list(scratch.iterdir()) == []


def test_the_directories_of_a_killed_process_are_swept_by_the_next_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    killed = _held_store(scratch, "hold")
    killed.kill()  # SIGKILL: no cleanup of its own
    killed.wait()
    left = sorted(p.name for p in scratch.iterdir())
    assert len(left) == 2 and all(n.startswith(f"plankg-store-{killed.pid}-") for n in left)
    alive = _held_store(scratch, "hold")  # a live process's directories are never touched
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(scratch))
        store = OxigraphStore(None, data_files=[SAMPLE], workers=1, spool_bytes=1000)
        try:
            owners = sorted(p.name.split("-")[2] for p in scratch.iterdir())
            assert owners == sorted([str(alive.pid)] * 2 + [str(os.getpid())] * 2)
        finally:
            store.close()
    finally:
        alive.kill()
        alive.wait()


def test_a_process_that_ends_without_closing_its_store_leaves_nothing(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    ended = _held_store(scratch, "exit")
    assert ended.wait(timeout=60) == 0
    assert list(scratch.iterdir()) == []


# --- what crosses a worker's socket pair ------------------------------------------------------------


def test_a_query_and_its_answer_cross_the_socket_pair_as_builtins_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request and a worker's answer (whole, spooled, or an error) cross as plain tuples pickled
    once: no class is named on the wire for the worker or the server to look up and build field by
    field (as the request and QueryOutcome dataclasses, with the Format's every field, were), and the
    server names its own Format object again; the answers come whole, spooled or not."""
    import pickletools
    from multiprocessing.connection import Connection

    from server.errors import QuerySyntaxError
    from server.protocol import formats as fmts
    from server.stores.interface import FormatChoice, ResultKind

    data = tmp_path / "d.ttl"
    data.write_text('<http://e/s> <http://e/p> "x"@en , "y" , 3 .\n', encoding="utf-8")
    wire: list[bytes] = []
    real_send, real_recv = Connection._send_bytes, Connection._recv_bytes

    def record_send(self: Connection, buf: memoryview) -> None:
        wire.append(bytes(buf))
        real_send(self, buf)

    def record_recv(self: Connection, maxsize: int | None = None) -> object:
        buf = real_recv(self, maxsize)
        wire.append(buf.getvalue())
        return buf

    store = OxigraphStore(None, data_files=[data], workers=1, spool_bytes=100)
    choice = FormatChoice(results=fmts.SPARQL_JSON, graph=None)
    query = "SELECT ?o WHERE { <http://e/s> <http://e/p> ?o } ORDER BY ?o"
    try:
        monkeypatch.setattr(Connection, "_send_bytes", record_send)
        monkeypatch.setattr(Connection, "_recv_bytes", record_recv)
        small = store.query("ASK { ?s ?p ?o }", formats=choice)
        spooled = store.query(query, formats=choice)
        with pytest.raises(QuerySyntaxError):
            store.query("SELECT nonsense", formats=choice)
        monkeypatch.undo()
        assert len(wire) == 6  # three requests, three replies
        for message in wire:
            named = [
                op.name
                for op, _, _ in pickletools.genops(message)
                if "GLOBAL" in op.name or op.name == "INST"
            ]
            assert named == [], message
        assert small.kind is ResultKind.BOOLEAN and small.format is fmts.SPARQL_JSON
        assert json.loads(small.body or b"") == {"head": {}, "boolean": True}
        assert spooled.spooled is not None and spooled.format is fmts.SPARQL_JSON and spooled.rows == 3
        body = b"".join(spooled.spooled.chunks())
        assert [b["o"]["value"] for b in json.loads(body)["results"]["bindings"]] == ["3", "x", "y"]
        assert spooled.kind is ResultKind.SOLUTIONS and spooled.build_id == store.build_id
    finally:
        store.close()
