"""The one narrow interface through which the server reaches its data, and its Oxigraph implementation.

:class:`Store` is all the rest of the server knows: run a query and get its answer (serialised in a
negotiated format, or as backend-neutral values from :mod:`server.protocol.results`), describe the dataset,
know the build id (to key caches) and the number of triples. A remote SPARQL store will be a second
implementation of the same protocol.

:class:`OxigraphStore` is the embedded implementation and the only place on the server side that
imports pyoxigraph. pyoxigraph cannot interrupt a running query, so queries are evaluated in a small
pool of worker processes, each holding the on-disk store open read-only. A query that outlives its
time limit has its worker killed (its CPU is freed at once) and a fresh worker is started in the
background; the client gets :class:`~server.errors.QueryTimeout`. Other queries keep being answered by
the other workers meanwhile. A worker sends back the complete serialised answer, so a result is whole
before any HTTP status is chosen; an answer longer than ``spool_bytes`` is written whole to a file in
the store's spool directory instead, and the server sends it from there (``QueryOutcome.spooled``).

Workers, where the OS allows it (Linux network namespaces), run without any network, so even a
SERVICE clause the safety check missed could not connect anywhere; when SERVICE hosts are allowed,
they keep the network.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import hashlib
import json
import logging
import os
import pickle
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from json.encoder import encode_basestring as _json_string  # what json.dumps uses, in C
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

import pyoxigraph as ox
from typing_extensions import Unpack

from mapping.swap import journal_path
from server.errors import (
    NotAcceptable,
    QueryCancelled,
    QueryMemoryExceeded,
    QueryNotSupported,
    QuerySyntaxError,
    QueryTimeout,
    ServerBusy,
    ServerError,
    StoreFailure,
    StoreMissing,
    StoreUnavailable,
    TooManyRows,
)
from server.ops import priority
from server.protocol import formats as fmts
from server.protocol.formats import Format, Kind
from server.protocol.results import (
    XSD_STRING,
    BlankNode,
    Iri,
    Literal,
    Solutions,
    Term,
    Triple,
    TripleTerm,
    serialize_boolean,
    serialize_solutions,
)
from server.stores.bounded import BOUNDED_ROWS, LaneShape, lane_shape
from server.stores.interface import (
    DatasetDescription,
    FormatChoice,
    QueryOptions,
    QueryOutcome,
    ResultKind,
    SpooledBody,
    Store,
)
from server.stores.querytext import QueryForm, query_form, with_bindings

log = logging.getLogger("plankg.store")

# A store materialised with data files, or a spool directory: a temporary directory
# "plankg-store-<pid>-…" named by the server process that made it.
TEMP_STORE_PREFIX = "plankg-store-"
_TEMP_OWNER = re.compile(rf"{re.escape(TEMP_STORE_PREFIX)}(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep_leftovers(directory: Path | None = None) -> list[Path]:
    """Remove the temporary stores and spool directories that processes which are gone left behind
    (in ``directory``, default the temporary directory); the removed paths.

    A process removes its own when it closes its store, or at exit when it never did; one killed
    (SIGKILL, a crash, a supervisor's kill after its grace) cannot, so every store that opens sweeps
    those of pids no longer alive. A live process's directories are never touched (a pid reused by
    another process keeps them until it ends too)."""
    removed = []
    for path in Path(directory or tempfile.gettempdir()).glob(f"{TEMP_STORE_PREFIX}*"):
        owner = _TEMP_OWNER.match(path.name)
        if owner is None or not path.is_dir() or _alive(int(owner.group(1))):
            continue
        log.info("removing %s, left by process %s, which is gone", path, owner.group(1))
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


# Written by mapping.build next to the store: {"build_id": ..., ...}.
BUILD_INFO_FILE = "plankg-build.json"


__all__ = ["DatasetDescription", "FormatChoice", "OxigraphStore", "QueryOutcome", "ResultKind", "Store"]


# --- the worker side -------------------------------------------------------------------------

_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


def _isolate_network() -> bool:
    """Move this (single-threaded, just started) process into an empty network namespace."""
    if not hasattr(os, "getuid") or not os.path.exists("/proc/self/ns/net"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(_CLONE_NEWNET) == 0:
            return True
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) != 0:
            return False
        # Keep our own user and group ids inside the new user namespace, so files stay readable.
        for name, text in (
            ("setgroups", "deny"),
            ("uid_map", f"{uid} {uid} 1"),
            ("gid_map", f"{gid} {gid} 1"),
        ):
            with contextlib.suppress(OSError), open(f"/proc/self/{name}", "w") as fh:
                fh.write(text)
        return True
    except (OSError, AttributeError):
        return False


def _term(term: Any) -> Term:
    if isinstance(term, ox.NamedNode):
        return Iri(term.value)
    if isinstance(term, ox.BlankNode):
        return BlankNode(term.value)
    if isinstance(term, ox.Literal):
        direction = term.direction
        return Literal(
            term.value,
            term.datatype.value,
            term.language,
            None if direction is None else str(direction.value),
        )
    if isinstance(term, ox.Triple):
        return TripleTerm(_term(term.subject), _term(term.predicate), _term(term.object))
    raise TypeError(f"unexpected term {term!r}")


def _ox_term(term: Term) -> Any:
    if isinstance(term, Iri):
        return ox.NamedNode(term.value)
    if isinstance(term, BlankNode):
        return ox.BlankNode(term.id)
    if isinstance(term, Literal):
        if term.language is not None and term.direction is not None:
            direction = ox.BaseDirection.RTL if term.direction == "rtl" else ox.BaseDirection.LTR
            return ox.Literal(term.value, language=term.language, direction=direction)
        if term.language is not None:
            return ox.Literal(term.value, language=term.language)
        return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype))
    return ox.Triple(_ox_term(term.subject), _ox_term(term.predicate), _ox_term(term.object))


_LOCATION = re.compile(r"^error at (\d+):(\d+): ")


class _Request(NamedTuple):
    sparql: str
    default_graph_uris: tuple[str, ...]
    named_graph_uris: tuple[str, ...]
    results_format: str | None
    graph_format: str | None
    serialise: bool
    max_rows: int | None
    base_iri: str | None
    bindings: tuple[tuple[str, Term], ...]
    # (A NamedTuple: it crosses the socket pair as a plain tuple, see _send_request.)
    # A serialised answer longer than spool_bytes is written to spool_path (a file the server names and
    # removes) instead of crossing the socket; 0: never.
    spool_path: str | None = None
    spool_bytes: int = 0
    background: bool = False  # a heavy client's: evaluated at the lowest CPU priority (server.ops.priority)
    # SPARQL JSON written by the engine itself (the bounded lane: its text then carries a LIMIT one past
    # max_rows, so that the engine never reads more than the lane's rows).
    engine_json: bool = False
    # Every row of the answer binds a variable (server.stores.bounded.lane_shape): its rows are counted
    # in the engine's JSON without reading it back (_json_rows).
    rows_bound: bool = False


def _rdf_format(fmt: Format) -> ox.RdfFormat:
    rdf_format = ox.RdfFormat.from_media_type(fmt.media_type)
    if rdf_format is None:
        raise ValueError(f"{fmt.name} is not an RDF format")
    return rdf_format


def _planned_text(sparql: str, bindings: Sequence[tuple[str, Term]]) -> tuple[str, dict[Any, Any] | None]:
    """The text the engine plans and the bindings it is left to substitute: a SELECT's bindings are
    written into its text (``with_bindings``, as a remote engine gets them), so that the engine plans
    with the values. pyoxigraph's ``substitutions`` bind a variable after planning, so a filter or
    pattern that a bound value constrains is planned without it (targets-due-by at 1,000 plans: 1.8
    CPU-s with the year substituted, 0.94 with it in the text; bench/results/2026-12-03-canned-1000-s6.md).
    What the text cannot take (another form, a blank node, a bound variable the query does not
    project) is left to ``substitutions`` as before; an IRI with a character no IRIREF may hold is
    refused there as before (ValueError: the query is not supported). No value is ever written into
    the text unescaped (``sparql_term``)."""
    if not bindings:
        return sparql, None
    if query_form(sparql) is QueryForm.SELECT:
        with contextlib.suppress(QueryNotSupported):
            return with_bindings(sparql, dict(bindings)), None
    return sparql, {ox.Variable(k): _ox_term(v) for k, v in bindings}


def _answer(store: ox.Store, req: _Request, prefixes: Mapping[str, str]) -> tuple[Any, ...]:
    """Evaluate one request in the worker: ("ok", QueryOutcome) or ("error", kind, message, extra)."""
    try:
        sparql, substitutions = _planned_text(req.sparql, req.bindings)
        result = store.query(
            sparql,
            base_iri=req.base_iri,
            default_graph=[ox.NamedNode(u) for u in req.default_graph_uris] or None,
            named_graphs=[ox.NamedNode(u) for u in req.named_graph_uris] or None,
            substitutions=substitutions,
        )
    except SyntaxError as exc:
        message = str(exc)
        found = _LOCATION.match(message)
        if found:
            return ("error", "syntax", message[found.end() :], (int(found[1]), int(found[2])))
        return ("error", "syntax", message, (None, None))
    except (ValueError, TypeError, RuntimeError) as exc:
        # Refused while preparing, before any data is read: a function Oxigraph does not know, a
        # binding for a variable the query does not project (SEP-0007).
        return ("error", "unsupported", str(exc), None)
    except OSError as exc:
        return ("error", "evaluation", f"{type(exc).__name__}: {exc}", None)
    try:
        if isinstance(result, ox.QueryBoolean):
            kind = ResultKind.BOOLEAN
        elif isinstance(result, ox.QuerySolutions):
            kind = ResultKind.SOLUTIONS
        else:
            kind = ResultKind.GRAPH
        name = req.graph_format if kind is ResultKind.GRAPH else req.results_format
        fmt = fmts.by_name(name) if name else None
        if req.serialise and fmt is None:
            return ("error", "not-acceptable", kind.value, None)
        limit = req.max_rows
        if isinstance(result, ox.QueryBoolean):
            value = bool(result)
            if fmt is None:
                return ("ok", QueryOutcome(kind, 1, value=value))
            return ("ok", QueryOutcome(kind, 1, fmt, serialize_boolean(fmt, value)))
        if isinstance(result, ox.QuerySolutions):
            variables = tuple(v.value for v in result.variables)
            if fmt is fmts.SPARQL_JSON:
                if req.engine_json:
                    return _engine_json_answer(result, limit, rows_bound=req.rows_bound)
                return _json_answer(result, variables, limit)
            rows: list[tuple[Term | None, ...]] = []
            for solution in result:
                if limit is not None and len(rows) >= limit:
                    return ("error", "too-many-rows", "rows", limit)
                rows.append(tuple(None if t is None else _term(t) for t in solution))
            solutions = Solutions(variables, tuple(rows))
            if fmt is None:
                return ("ok", QueryOutcome(kind, len(rows), value=solutions))
            return ("ok", QueryOutcome(kind, len(rows), fmt, serialize_solutions(fmt, solutions)))
        triples: list[ox.Triple] = []
        for triple in result:
            if limit is not None and len(triples) >= limit:
                return ("error", "too-many-rows", "triples", limit)
            triples.append(triple)
        if fmt is None:
            neutral = tuple(Triple(_term(t.subject), _term(t.predicate), _term(t.object)) for t in triples)
            return ("ok", QueryOutcome(kind, len(triples), value=neutral))
        rdf_format = _rdf_format(fmt)
        items: Iterable[Any] = triples
        if rdf_format.supports_datasets:
            items = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
        body = ox.serialize(items, format=rdf_format, prefixes=dict(prefixes))
        return ("ok", QueryOutcome(kind, len(triples), fmt, body))
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        # Evaluation errors (a failing SERVICE where allowed, an unreadable store, …).
        return ("error", "evaluation", f"{type(exc).__name__}: {exc}", None)


def _json_term(term: Any) -> str:
    """A term of the engine as SPARQL JSON text: the bytes ``json.dumps`` writes (compact, UTF-8) for
    ``results._json_term(_term(term))``, written directly (the fast path of the most asked-for format:
    building a dict per term and encoding them was a fifth of a one-subject lookup's time). Strings go
    through the encoder json.dumps itself uses for them."""
    if isinstance(term, ox.NamedNode):
        return '{"type":"uri","value":' + _json_string(term.value) + "}"
    if isinstance(term, ox.Literal):
        out = '{"type":"literal","value":' + _json_string(term.value)
        language = term.language
        if language is not None:
            out += ',"xml:lang":' + _json_string(language)
            direction = term.direction
            if direction is not None:
                out += ',"its:dir":' + _json_string(str(direction.value))
        else:
            datatype = term.datatype.value
            if datatype != XSD_STRING:
                out += ',"datatype":' + _json_string(datatype)
        return out + "}"
    if isinstance(term, ox.BlankNode):
        return '{"type":"bnode","value":' + _json_string(term.value) + "}"
    return (
        '{"type":"triple","value":{"subject":'
        + _json_term(term.subject)
        + ',"predicate":'
        + _json_term(term.predicate)
        + ',"object":'
        + _json_term(term.object)
        + "}}"
    )


def _json_answer(result: Any, variables: tuple[str, ...], limit: int | None) -> tuple[Any, ...]:
    """A SELECT answer written as SPARQL JSON bytes straight from the engine's solutions, once (the
    bytes of ``json.dumps(doc, ensure_ascii=False, separators=(",", ":"))``, as serialize_solutions)."""
    keys = [_json_string(var) + ":" for var in variables]
    rows: list[str] = []
    for solution in result:
        if limit is not None and len(rows) >= limit:
            return ("error", "too-many-rows", "rows", limit)
        rows.append(
            "{"
            + ",".join(key + _json_term(t) for key, t in zip(keys, solution, strict=True) if t is not None)
            + "}"
        )
    head = (
        '{"head":{"vars":[' + ",".join(_json_string(var) for var in variables) + ']},"results":{"bindings":['
    )
    body = (head + ",".join(rows) + "]}}").encode()
    return ("ok", QueryOutcome(ResultKind.SOLUTIONS, len(rows), fmts.SPARQL_JSON, body))


# Where a row of the engine's SPARQL JSON starts after another: ``},{"`` and a variable's first
# character. Inside a string a ``"`` is always escaped, so an unescaped ``"`` there is the string's end,
# and after a string's end comes ``,``, ``:``, ``}`` or ``]``, never a name's character; and within a
# row, the objects of a term follow keys (``},"value":{``), never ``},{``.
_NEXT_ROW = re.compile(rb'\},\{"[A-Za-z0-9_]')
_NO_ROWS = b"[]}}"  # the end of an answer without rows (one with rows ends with its last row's "}]}}")


def _json_rows(body: bytes) -> int:
    """The number of rows of the engine's SPARQL JSON ``body`` when every row binds a variable (a row
    ``{}`` would not be told apart from a string's text): 14 rows in ~4 µs instead of ~20 µs for
    ``json.loads`` (tests/test_json_answer.py compares the two over awkward strings)."""
    return 0 if body.endswith(_NO_ROWS) else len(_NEXT_ROW.findall(body)) + 1


def _engine_json_answer(
    result: ox.QuerySolutions, limit: int | None, *, rows_bound: bool = False
) -> tuple[Any, ...]:
    """A SELECT answer as SPARQL JSON written by the engine (the same bytes as :func:`_json_answer`,
    tests/test_json_answer.py), its rows counted by reading it back (or by :func:`_json_rows` when
    ``rows_bound``: every row binds a variable). For a query whose text bounds its rows (the bounded
    lane's): the whole answer is read before the row limit is looked at."""
    body = result.serialize(format=ox.QueryResultsFormat.JSON)
    assert body is not None
    rows = _json_rows(body) if rows_bound else len(json.loads(body)["results"]["bindings"])
    if limit is not None and rows > limit:
        return ("error", "too-many-rows", "rows", limit)
    return ("ok", QueryOutcome(ResultKind.SOLUTIONS, rows, fmts.SPARQL_JSON, body))


def _spool(reply: tuple[Any, ...], req: _Request) -> tuple[Any, ...]:
    """A large answer written whole to the request's spool file: ("spooled", outcome without its
    body, size). The server sends it from there, so the bytes never sit in its memory."""
    if reply[0] != "ok" or req.spool_path is None or req.spool_bytes <= 0:
        return reply
    outcome: QueryOutcome = reply[1]
    body = outcome.body
    if body is None or len(body) <= req.spool_bytes:
        return reply
    try:
        with open(req.spool_path, "xb") as fh:
            fh.write(body)
    except OSError as exc:
        return ("error", "evaluation", f"the answer could not be spooled: {exc}", None)
    return ("spooled", dataclasses.replace(outcome, body=None), len(body))


# What crosses a worker's socket pair, both ways, is a plain tuple pickled once: a request's fields,
# and an answer's kind, rows, format name and body (the server names its own Format again; only a value
# asked for without a format, e.g. Solutions, and bound terms keep their classes). Pickled as
# dataclasses, the request and the answer (with its Format's every field) cost ~10 us more per query in
# the worker and as much in the server process (bench/results/2026-12-03-speed-s8-worker.md).
_PICKLE = pickle.HIGHEST_PROTOCOL


def _send_request(conn: Connection, request: _Request) -> None:
    conn.send_bytes(pickle.dumps(tuple(request), _PICKLE))


def _receive_request(conn: Connection) -> _Request:
    return _Request._make(pickle.loads(conn.recv_bytes()))


def _send_reply(conn: Connection, reply: tuple[Any, ...]) -> None:
    """("ok", outcome) as ("ok", kind, rows, format name, body, value); ("spooled", outcome, size) as
    ("spooled", kind, rows, format name, size); an error as it is (strings and numbers)."""
    if reply[0] in ("ok", "spooled"):
        outcome: QueryOutcome = reply[1]
        name = None if outcome.format is None else outcome.format.name
        head = (reply[0], outcome.kind.value, outcome.rows, name)
        reply = (*head, outcome.body, outcome.value) if reply[0] == "ok" else (*head, reply[2])
    conn.send_bytes(pickle.dumps(reply, _PICKLE))


def _receive_reply(conn: Connection) -> tuple[Any, ...]:
    """A worker's reply in the form _answer and _spool give it (the inverse of _send_reply)."""
    reply: tuple[Any, ...] = pickle.loads(conn.recv_bytes())
    if reply[0] == "ok":
        _, kind, rows, name, body, value = reply
        return ("ok", QueryOutcome(ResultKind(kind), rows, fmts.by_name(name) if name else None, body, value))
    if reply[0] == "spooled":
        _, kind, rows, name, size = reply
        return ("spooled", QueryOutcome(ResultKind(kind), rows, fmts.by_name(name) if name else None), size)
    return reply


def _die_with_parent(interval: float = 0.5) -> None:
    """Exit when the server process is gone, even in the middle of a long query.

    A watchdog thread: pyoxigraph releases the GIL while it evaluates, so the check keeps running.
    (Not PR_SET_PDEATHSIG: that fires when the *thread* that started us ends.)
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="plankg-parent-watch", daemon=True).start()


def _worker_main(conn: Connection, store_dir: str, isolate: bool, prefixes: dict[str, str]) -> None:
    isolated = _isolate_network() if isolate else False  # first: unsharing wants a single thread
    _die_with_parent()
    try:
        store = ox.Store.read_only(store_dir)
        # Counted by the engine: a Python loop over the quads took 20 s per worker at 1,000 plans
        # (2.07M default-graph triples), and a worker killed at its time limit is started again.
        counted = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert isinstance(counted, ox.QuerySolutions)
        (row,) = counted
        count = row["n"]
        assert isinstance(count, ox.Literal)
        default_triples = int(count.value)
        info = {
            "triples": len(store),
            "default_graph_triples": default_triples,
            "named_graphs": sorted(str(g.value) for g in store.named_graphs() if isinstance(g, ox.NamedNode)),
            "network_isolated": isolated,
        }
    except (OSError, RuntimeError) as exc:  # RuntimeError: RocksDB's "Corruption: …" of a broken store
        conn.send(("failed", f"{store_dir}: {exc}"))
        return
    conn.send(("ready", info))
    lane = priority.Lane()  # after the store opened and the network was unshared (single thread then)
    while True:
        try:
            request = _receive_request(conn)
        except (EOFError, OSError):
            return
        if request.background:
            answer = lane.call(partial(_answer, store, request, prefixes))
        else:
            answer = _answer(store, request, prefixes)
        _send_reply(conn, _spool(answer, request))


# --- the server side -------------------------------------------------------------------------


_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_WORKER_NICENESS = 5


def worker_entry() -> None:
    """Entry point of a query worker process: ``python -c '…worker_entry()' FD``; the configuration
    comes as the first message on the connection."""
    conn = Connection(int(sys.argv[1]))
    config: dict[str, Any] = conn.recv()
    # Below the server process: the event loop that answers every client stays responsive while
    # workers (and a replacement worker starting up) compete for the CPU.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(_WORKER_NICENESS)
    _worker_main(conn, config["store_dir"], config["isolate"], config["prefixes"])


class _Worker:
    """A query worker: a fresh interpreter (not a fork, not multiprocessing's re-import of the main
    module) connected by a socket pair."""

    def __init__(self, store_dir: Path, isolate: bool, prefixes: Mapping[str, str]) -> None:
        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from server.stores.oxigraph import worker_entry; worker_entry()",
                    str(child.fileno()),
                ],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            child.close()
        self.conn = Connection(parent.detach())
        self.ready = False
        self.store_dir = store_dir
        self.conn.send({"store_dir": str(store_dir), "isolate": isolate, "prefixes": dict(prefixes)})

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        if not self.conn.poll(timeout):
            self.kill()
            raise StoreFailure(f"a query worker did not start within {timeout:.0f} s")
        try:
            message = self.conn.recv()
        except EOFError as exc:
            self.kill()
            raise StoreFailure("a query worker exited while opening the store") from exc
        if message[0] != "ready":
            self.kill()
            raise StoreUnreadable(
                f"a query worker could not open the store: {message[1]}",
                message[1].removeprefix(f"{self.store_dir}: "),
            )
        info: dict[str, Any] = message[1]
        self.ready = True
        return info

    def kill(self, *, wait: bool = True) -> None:
        """SIGKILL: the CPU is free at once; ``wait=False`` leaves reaping to the caller."""
        if self.process.poll() is None:
            self.process.kill()
        self.conn.close()
        if wait:
            self.reap()

    def reap(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


# How often a waiting query's worker has its memory checked.
_WATCH_INTERVAL = 0.05


class _Cancelled(Exception):
    """The caller no longer wants the answer."""


class _MemoryExceeded(Exception):
    """A worker's resident memory went past the limit (args[0]: its size in bytes)."""


def _resident_bytes(pid: int) -> int | None:
    """Resident set size of a process (Linux /proc); None where unknown."""
    try:
        resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class StoreUnreadable(StoreFailure):
    """A store that cannot be opened; ``reason`` says why, without the store's path."""

    def __init__(self, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


def read_build_id(store_dir: Path) -> str | None:
    """The build id the store's build record gives; None when it has no record (a store not made by
    ``plankg build``). A record that is there but unreadable is a broken store: StoreUnreadable."""
    record = store_dir / BUILD_INFO_FILE
    try:
        text = record.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8
        problem = f"{type(exc).__name__}: {exc}"
    else:
        try:
            info = json.loads(text)
        except ValueError as exc:
            problem = str(exc)
        else:
            build_id = info.get("build_id") if isinstance(info, dict) else None
            if isinstance(build_id, str) and build_id:
                return build_id
            problem = "no build_id in it"
    reason = f"its build record {BUILD_INFO_FILE} is unreadable ({problem})"
    raise StoreUnreadable(f"the store at {store_dir} cannot be opened: {reason}", reason)


def _data_format(path: Path) -> ox.RdfFormat:
    fmt = fmts.by_extension(path.suffix)
    if fmt is None or Kind.GRAPH not in fmt.kinds:
        known = sorted({f.extension for f in fmts.FORMATS if Kind.GRAPH in f.kinds})
        raise StoreFailure(f"{path}: unknown RDF file extension; use one of {', '.join(known)}")
    return _rdf_format(fmt)


def materialise(plan_store: Path | None, data_files: Sequence[Path], target: Path) -> None:
    """Write an on-disk store at ``target``: the plan's quads (if any) and the data files.

    Quads keep their graphs; triples go to the default graph.
    """
    store = ox.Store(str(target))
    if plan_store is not None:
        try:
            plan = ox.Store.read_only(str(plan_store))
        except (OSError, RuntimeError) as exc:  # RuntimeError: RocksDB's "Corruption: …"
            raise StoreUnreadable(f"{plan_store}: {exc}", str(exc)) from exc
        store.bulk_extend(plan.quads_for_pattern(None, None, None, None))
        del plan
    for path in data_files:
        try:
            store.bulk_load(path=str(path), format=_data_format(path))
        except SyntaxError as exc:
            raise StoreFailure(f"{path}: {exc}") from exc
        except OSError as exc:
            raise StoreFailure(f"{path}: cannot be read: {exc}") from exc
    store.flush()
    store.optimize()
    del store


def _stamp(store_dir: Path) -> tuple[int, ...] | None:
    """What changes when a build swaps a new store in: the directory's and the build record's identity
    (zeros for a directory without a record).

    None while the directory is missing (deleted, or a build between its two renames)."""
    try:
        directory = os.stat(store_dir)
    except OSError:
        return None
    try:
        record = os.stat(store_dir / BUILD_INFO_FILE)
    except OSError:
        return (directory.st_dev, directory.st_ino, 0, 0, 0)
    return (directory.st_dev, directory.st_ino, record.st_ino, record.st_mtime_ns, record.st_size)


# The store's directory found missing at this many checks in a row (with no build swapping) is gone,
# not a directory being replaced by hand (two renames).
_MISSING_CHECKS = 2
# A store that could not be opened is tried again after this many seconds, even unchanged.
_RETRY_UNOPENED = 10.0


class _Pool:
    """The query workers over one build of the store.

    A rebuild gives a new pool; the old one is *retired*: its idle workers are stopped at once, its
    busy ones when their query is answered, and nothing of it is replaced any more.
    """

    def __init__(
        self,
        plan_dir: Path | None,
        data_files: Sequence[Path],
        *,
        workers: int,
        isolate: bool,
        prefixes: Mapping[str, str],
        start_timeout: float,
        bounded: bool = True,
    ) -> None:
        self._isolate = isolate
        self.prefixes = prefixes
        self.stamp = _stamp(plan_dir) if plan_dir is not None else None
        self.temp: Path | None = None
        plan_id = read_build_id(plan_dir) if plan_dir is not None else None
        if data_files:
            # Named by the server process, so that its supervisor can remove it should the process be
            # killed before it could (server.ops.processes).
            self.temp = Path(tempfile.mkdtemp(prefix=f"{TEMP_STORE_PREFIX}{os.getpid()}-"))
            weakref.finalize(self, shutil.rmtree, self.temp, ignore_errors=True)  # at exit, if never closed
            try:
                materialise(plan_dir, data_files, self.temp)
            except BaseException:
                shutil.rmtree(self.temp, ignore_errors=True)
                raise
            self.dir = self.temp
            digest = hashlib.sha256((plan_id or "").encode())
            for path in data_files:
                digest.update(_file_digest(path).encode())
            self.build_id = digest.hexdigest()[:16]
        else:
            assert plan_dir is not None
            self.dir = plan_dir
            self.build_id = plan_id or f"unbuilt-{plan_dir.stat().st_mtime_ns}"
        self.idle: queue.Queue[_Worker] = queue.Queue()
        self.lock = threading.Lock()
        self.retired = False
        self.vanished = False  # its store went from under it: no answer of it is given any more
        self.all: set[_Worker] = set()
        started = [self.spawn() for _ in range(workers)]
        try:
            infos = [w.wait_ready(start_timeout) for w in started]
        except BaseException:
            self.close()
            raise
        self.info = infos[0]
        self.network_isolated = all(i["network_isolated"] for i in infos)
        # The server process's own read-only handle on the same store, for the bounded lane
        # (server.stores.bounded): opened here, off the event loop, once per build.
        self.bounded: ox.Store | None = None
        if bounded:
            try:
                self.bounded = ox.Store.read_only(str(self.dir))
            except (OSError, RuntimeError) as exc:  # the workers opened it: not expected
                log.warning("no bounded lane for %s (every query goes to a worker): %s", self.dir, exc)
        for w in started:
            self.idle.put(w)

    def spawn(self) -> _Worker:
        worker = _Worker(self.dir, self._isolate, self.prefixes)
        with self.lock:
            self.all.add(worker)
        return worker

    def _replace(self, killed: _Worker) -> None:
        """Reap a killed worker and start one in its place (runs in a background thread)."""
        killed.reap()
        if self.retired:
            return
        try:
            worker = self.spawn()
            worker.wait_ready(60.0)
        except (ServerError, OSError) as exc:
            if not self.retired:  # closing kills workers still starting: not an error then
                log.error("could not replace a query worker: %s", exc)
            return
        with self.lock:
            if self.retired:
                self.all.discard(worker)
                worker.kill()
                return
            self.idle.put(worker)

    def give_back(self, worker: _Worker) -> None:
        """A worker done with its query: idle again, or stopped if its build was replaced."""
        with self.lock:
            if not self.retired:
                self.idle.put(worker)
                return
            self.all.discard(worker)
            last = not self.all
        worker.kill()
        if last:
            self._cleanup()

    def discard(self, worker: _Worker) -> None:
        """Kill a worker and have it replaced in the background; the caller answers at once."""
        worker.kill(wait=False)
        with self.lock:
            self.all.discard(worker)
            last = self.retired and not self.all
        if self.retired:
            worker.reap()
            if last:
                self._cleanup()
        else:
            threading.Thread(
                target=self._replace, args=(worker,), name="plankg-worker-replace", daemon=True
            ).start()

    def retire(self) -> None:
        """Stop the idle workers now, the busy ones as they finish (``give_back``)."""
        with self.lock:
            self.retired = True
            self.bounded = None  # the build being served has its own
            idle: list[_Worker] = []
            while True:
                try:
                    idle.append(self.idle.get_nowait())
                except queue.Empty:
                    break
            for worker in idle:
                self.all.discard(worker)
            last = not self.all
        for worker in idle:
            worker.kill()
        if last:
            self._cleanup()

    def vanish(self) -> None:
        """The store went from under this pool: stop every worker now, the busy ones too (their
        queries fail as the store does); the workers still open the deleted files, so none may answer."""
        with self.lock:
            self.vanished = True
            self.bounded = None
            busy = list(self.all)
        self.retire()
        for worker in busy:
            if worker.process.poll() is None:
                worker.process.kill()  # its query's thread sees the end of the connection and reaps it

    def close(self) -> None:
        with self.lock:
            self.retired = True
            workers, self.all = self.all, set()
        for worker in workers:
            worker.kill()
        self._cleanup()

    def _cleanup(self) -> None:
        self.bounded = None  # closed with its last reference, before a materialised store is removed
        if self.temp is not None:
            shutil.rmtree(self.temp, ignore_errors=True)
            self.temp = None


class _Retry(Exception):
    """The query's worker belonged to a build that was swapped away meanwhile (ask the new one), or it
    had died before it read the query (ask another)."""


class OxigraphStore:
    """The embedded on-disk Oxigraph store, queried through a pool of killable worker processes.

    The plan store's directory is watched (a stat every ``watch_interval`` seconds): when a build swaps
    a new store in, a new pool of workers is started on it in the background, and once it is ready it
    serves every new query and ``build_id`` changes; queries still running on the old workers finish
    there (or, should the old store fail them, are asked again of the new one), then the old workers
    stop. With data files, the new build is materialised with them again.

    A store that goes from under the server (its directory deleted or moved away, or replaced by one
    that cannot be opened: not an Oxigraph store, an unreadable build record) makes the server
    *unavailable*: every query, ``build_id`` and ``describe_dataset`` raise StoreUnavailable naming the
    cause, and the workers are killed, the busy ones too (they still hold the deleted files open, and
    nothing they answer is given). A directory missing at two checks in a row counts as gone; while a
    build's swap journal is beside the store, the watcher changes nothing (the build is between its two
    swaps; killed there, it is rolled back by the next build or start, and until then the previous
    build, consistent with the previous dumps, is served). Once a store that opens is at the path again
    (a build, or a directory put back), it is served as a rebuild would be; a store that could not be
    opened is tried again when it changes, or after ``_RETRY_UNOPENED`` seconds.
    """

    def __init__(
        self,
        store_dir: Path | None,
        *,
        data_files: Sequence[Path] = (),
        workers: int = 2,
        default_timeout: float = 30.0,
        memory_limit: int = 0,
        isolate_network: bool = True,
        prefixes: Mapping[str, str] | None = None,
        start_timeout: float = 60.0,
        watch_interval: float | None = 0.5,
        spool_bytes: int = 0,
        bounded_lane: bool = True,
    ) -> None:
        if store_dir is None and not data_files:
            raise StoreMissing("nothing to serve: no store and no data files")
        if store_dir is not None and not store_dir.is_dir():
            raise StoreMissing(f"no store at {store_dir}: run `plankg build` first")
        self._default_timeout = default_timeout
        # Answers longer than this are spooled to a file by the worker and streamed from it (0: never).
        self._spool_bytes = spool_bytes
        self._spool_dir: Path | None = None
        sweep_leftovers()
        if spool_bytes > 0:  # named like a temporary store, so a supervisor removes it too
            self._spool_dir = Path(tempfile.mkdtemp(prefix=f"{TEMP_STORE_PREFIX}{os.getpid()}-spool-"))
            # Removed at exit if the store is never closed (an app whose lifespan never ran).
            weakref.finalize(self, shutil.rmtree, self._spool_dir, ignore_errors=True)
        self._memory_limit = memory_limit  # bytes of resident memory per worker; 0: unwatched
        self._plan_dir = store_dir
        self._data_files = tuple(data_files)
        self._size = workers
        self._open_pool = partial(
            _Pool,
            store_dir,
            self._data_files,
            workers=workers,
            isolate=isolate_network,
            prefixes=dict(prefixes or {}),
            start_timeout=start_timeout,
            bounded=bounded_lane,
        )
        sources = [str(store_dir)] if store_dir is not None else []
        self._sources = tuple(sources + [str(p) for p in data_files])
        self._lock = threading.Lock()
        self._closed = False
        self._down: str | None = None  # why the store at its path cannot be served (None: it can)
        self._retired: list[_Pool] = []
        self.timeouts = 0  # queries stopped at their time limit
        try:
            self._pool = self._open_pool()
        except BaseException:  # a store that cannot be served: nothing of it is left behind
            if self._spool_dir is not None:
                shutil.rmtree(self._spool_dir, ignore_errors=True)
            raise
        self.network_isolated = self._pool.network_isolated
        self._stop = threading.Event()
        if store_dir is not None and watch_interval is not None:
            threading.Thread(
                target=self._watch, args=(watch_interval,), name="plankg-store-watch", daemon=True
            ).start()

    def _watch(self, interval: float) -> None:
        """Start serving a new build once it has been swapped in, go unavailable when the store goes
        from under the server, and come back when a good one returns (runs in a background thread)."""
        plan_dir = self._plan_dir
        assert plan_dir is not None
        missing = 0  # checks in a row that found no directory
        failed: tuple[tuple[int, ...], float] | None = None  # a stamp that could not be opened, and when
        while not self._stop.wait(interval):
            if journal_path(plan_dir).exists():
                missing = 0  # a build between its two swaps (see the class)
                continue
            stamp = _stamp(plan_dir)
            if stamp is None:
                missing += 1
                if missing >= _MISSING_CHECKS:
                    self._unavailable(f"the store at {plan_dir} is missing")
                continue
            missing = 0
            if stamp == self._pool.stamp and self._down is None:
                continue
            if failed is not None and failed[0] == stamp and time.monotonic() < failed[1] + _RETRY_UNOPENED:
                continue
            try:
                pool = self._open_pool()
            except (ServerError, OSError) as exc:
                failed = (stamp, time.monotonic())
                reason = exc.reason if isinstance(exc, StoreUnreadable) else str(exc)
                self._unavailable(f"the store at {plan_dir} cannot be opened: {reason}")
                continue
            failed = None
            with self._lock:
                if self._closed:
                    pool.close()
                    return
                old, self._pool = self._pool, pool
                self._down = None
                self._retired = [p for p in self._retired if p.all] + [old]
            old.retire()
            log.info("serving build %s (was %s)", pool.build_id, old.build_id)

    def _unavailable(self, reason: str) -> None:
        """Refuse every query with ``reason`` and stop the workers of the store that went."""
        with self._lock:
            if self._closed or self._down == reason:
                return
            self._down = reason
            pool = self._pool
        log.error("%s: queries are refused until a good build is back there", reason)
        pool.vanish()

    def _check_available(self) -> None:
        down = self._down
        if down is not None:
            raise StoreUnavailable(down)

    @property
    def build_id(self) -> str:
        self._check_available()  # no answer cached for a store that went
        return self._pool.build_id

    def worker_pids(self) -> tuple[int, ...]:
        """Process ids of the query workers that are ready (not those still starting)."""
        pool = self._pool
        with pool.lock:
            return tuple(sorted(w.process.pid for w in pool.all if w.ready))

    @property
    def triple_count(self) -> int:
        return int(self._pool.info["triples"])

    def describe_dataset(self) -> DatasetDescription:
        self._check_available()
        pool = self._pool
        return DatasetDescription(
            build_id=pool.build_id,
            triple_count=int(pool.info["triples"]),
            default_graph_triples=int(pool.info["default_graph_triples"]),
            named_graphs=tuple(pool.info["named_graphs"]),
            sources=self._sources,
        )

    def query(self, sparql: str, **options: Unpack[QueryOptions]) -> QueryOutcome:
        timeout, formats, cancel = options.get("timeout"), options.get("formats"), options.get("cancel")
        limit = self._default_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        request = _Request(
            sparql,
            tuple(options.get("default_graph_uris", ())),
            tuple(options.get("named_graph_uris", ())),
            formats.results.name if formats and formats.results else None,
            formats.graph.name if formats and formats.graph else None,
            formats is not None,
            options.get("max_rows"),
            options.get("base_iri"),
            tuple((options.get("bindings") or {}).items()),
            None if self._spool_dir is None else str(self._spool_dir / uuid.uuid4().hex),
            self._spool_bytes,
            priority.BACKGROUND.get(),
        )
        try:
            while True:
                pool, worker = self._take_worker(limit, deadline, cancel)
                if cancel is not None and cancel.is_set():
                    # The client left while the query waited for a worker: nothing was sent, so the
                    # worker goes back to the pool (killing it would cost a restart of seconds under load).
                    pool.give_back(worker)
                    raise QueryCancelled("the client went away before its query started")
                try:
                    return self._ask(pool, worker, request, formats, limit, deadline, cancel)
                except _Retry:
                    _unlink(request.spool_path)
                    continue
        except BaseException:
            _unlink(request.spool_path)  # a worker killed while writing it leaves part of an answer
            raise

    def query_bounded(self, sparql: str, **options: Unpack[QueryOptions]) -> QueryOutcome | None:
        """The answer of a query in the bounded lane (server.stores.bounded), evaluated here in the
        server process without a worker (call it on the event loop: its work is bounded); None when
        the query is not in the lane, or its answer is longer than the lane reads (ask a worker then).

        Raises as :meth:`query` does for what the engine refuses (a syntax error, an unknown prefix),
        and TooManyRows past a row limit lower than the lane's.
        """
        evaluate = self.bounded_query(sparql, **options)
        return None if evaluate is None else evaluate()

    def bounded_query(
        self, sparql: str, **options: Unpack[QueryOptions]
    ) -> Callable[[], QueryOutcome | None] | None:
        """:meth:`query_bounded` in two steps: None when the query is not in the lane, else what
        evaluates it (so that the caller may admit it in between)."""
        if options.get("default_graph_uris") or options.get("named_graph_uris") or options.get("bindings"):
            return None
        if self._pool.bounded is None:
            return None
        shape = lane_shape(sparql)
        if shape is None:
            return None
        return partial(self._evaluate_bounded, sparql, shape, options)

    def _evaluate_bounded(self, sparql: str, shape: LaneShape, options: QueryOptions) -> QueryOutcome | None:
        self._check_available()
        pool = self._pool
        handle = pool.bounded
        if handle is None:
            return None
        formats, max_rows = options.get("formats"), options.get("max_rows")
        limit = BOUNDED_ROWS if max_rows is None else min(max_rows, BOUNDED_ROWS)
        form, own_limit, rows_bound = shape
        # SELECT as SPARQL JSON: written by the engine, the text bounded to one row past the lane's
        # (after a line break: the text may end in a comment); a LIMIT of its own that reads no more
        # than that is bound enough. Otherwise the rows are read one by one up to the limit.
        results = formats.results if formats else None
        engine_json = form == "select" and results is fmts.SPARQL_JSON
        if engine_json and own_limit is None:
            sparql = f"{sparql}\nLIMIT {limit + 1}"
        elif engine_json and own_limit is not None and own_limit > limit + 1:
            engine_json = False
        request = _Request(
            sparql,
            (),
            (),
            formats.results.name if formats and formats.results else None,
            formats.graph.name if formats and formats.graph else None,
            formats is not None,
            limit,
            options.get("base_iri"),
            (),
            engine_json=engine_json,
            rows_bound=rows_bound,
        )
        reply = _answer(handle, request, pool.prefixes)
        if reply[0] == "error" and reply[1] == "too-many-rows" and limit != max_rows:
            return None  # longer than the lane reads: a worker answers it under the server's limits
        if reply[0] == "error" and reply[1] == "evaluation":
            return None  # the store failing here (a build going away): the workers' path decides
        return _outcome(reply, formats, pool.build_id)

    def _ask(
        self,
        pool: _Pool,
        worker: _Worker,
        request: _Request,
        formats: FormatChoice | None,
        limit: float,
        deadline: float,
        cancel: threading.Event | None,
    ) -> QueryOutcome:
        try:
            _send_request(worker.conn, request)
            self._await_reply(worker, deadline, cancel)
            reply = _receive_reply(worker.conn)
        except _Cancelled:
            pool.discard(worker)
            raise QueryCancelled("the client went away; its query was stopped") from None
        except _MemoryExceeded:
            pool.discard(worker)
            limit_mb = self._memory_limit // 2**20
            raise QueryMemoryExceeded(
                f"the query grew past the memory limit of {limit_mb} MB and was stopped",
                limit_mb=limit_mb,
            ) from None
        except TimeoutError:
            pool.discard(worker)
            with self._lock:
                self.timeouts += 1
            raise QueryTimeout(
                f"the query ran longer than its time limit of {limit:g} s and was stopped", limit=limit
            ) from None
        except (BrokenPipeError, ConnectionResetError) as exc:
            # The worker died before it read the query: its end was closed when the query was sent
            # (EPIPE), or closed with the query unread in it (ECONNRESET; a worker that had read it
            # leaves nothing unread, and its death is an end of file). A worker killed while idle
            # passes the check in _take_worker until the kernel has finished killing it: the leader
            # of its threads is a zombie, but the process is not reaped until every thread has ended.
            # The query never ran: another worker takes it, within its time limit.
            pool.discard(worker)
            log.warning("query worker %d had died before reading its query; replacing it", worker.process.pid)
            raise _Retry from exc
        except (EOFError, OSError) as exc:
            pool.discard(worker)
            if pool.retired and (pool.vanished or time.monotonic() < deadline):
                raise _Retry from exc
            raise StoreFailure("the query worker died while evaluating the query") from exc
        pool.give_back(worker)
        if pool.vanished:  # the store went while the query ran: this answer is not given
            raise _Retry
        if reply[0] == "error" and reply[1] == "evaluation" and pool.retired and time.monotonic() < deadline:
            raise _Retry
        if reply[0] == "spooled":
            assert request.spool_path is not None
            outcome: QueryOutcome = reply[1]
            size: int = reply[2]
            fh = open(request.spool_path, "rb")  # noqa: SIM115 (closed by SpooledBody once sent)
            os.unlink(request.spool_path)  # the bytes stay readable through fh, and nothing is left over
            return dataclasses.replace(outcome, build_id=pool.build_id, spooled=SpooledBody(fh, size))
        return _outcome(reply, formats, pool.build_id)

    def _take_worker(
        self, limit: float, deadline: float, cancel: threading.Event | None
    ) -> tuple[_Pool, _Worker]:
        """An idle worker of the build being served, waiting for one until the deadline (or until the
        client goes away: the wait is given up then)."""
        while True:
            if self._closed:
                raise StoreFailure("the store is closed")
            self._check_available()
            pool = self._pool
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerBusy(
                    f"all {self._size} query workers stayed busy for the query's whole time limit "
                    f"({limit:g} s)"
                )
            try:
                worker = pool.idle.get(timeout=min(remaining, _WATCH_INTERVAL))
            except queue.Empty:
                if cancel is not None and cancel.is_set():
                    raise QueryCancelled("the client went away before its query started") from None
                continue
            if pool.retired:  # taken while the build was being replaced
                pool.give_back(worker)
                continue
            if worker.process.poll() is None:
                return pool, worker
            log.warning("query worker %d had exited while idle; replacing it", worker.process.pid)
            pool.discard(worker)

    def _await_reply(self, worker: _Worker, deadline: float, cancel: threading.Event | None) -> None:
        """Wait for the worker's answer until the deadline, watching its memory and the client."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if worker.conn.poll(min(remaining, _WATCH_INTERVAL)):
                return
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            if self._memory_limit:
                rss = _resident_bytes(worker.process.pid)
                if rss is not None and rss > self._memory_limit:
                    raise _MemoryExceeded(rss)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pools = [self._pool, *self._retired]
        self._stop.set()
        for pool in pools:
            pool.close()
        if self._spool_dir is not None:
            shutil.rmtree(self._spool_dir, ignore_errors=True)


def _unlink(path: str | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _outcome(reply: tuple[Any, ...], formats: FormatChoice | None, build_id: str) -> QueryOutcome:
    if reply[0] == "ok":
        outcome: QueryOutcome = reply[1]
        return dataclasses.replace(outcome, build_id=build_id)
    _, what, message, extra = reply
    if what == "syntax":
        raise QuerySyntaxError(message, extra[0], extra[1])
    if what == "too-many-rows":
        raise TooManyRows(
            f"the result has more than {extra} {message}, the limit of this server; "
            "narrow the query or page through it with LIMIT and OFFSET",
            limit=extra,
        )
    if what == "not-acceptable":
        kind = ResultKind(message)
        raise NotAcceptable(
            fmts.formats_for(kind.format_kind),
            f"the query gives {kind.value} and none of their formats is acceptable",
        )
    if what == "unsupported":
        raise QueryNotSupported(f"this server cannot evaluate the query: {message}")
    raise StoreFailure(f"the query could not be evaluated: {message}")
