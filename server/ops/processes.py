"""Several server processes on one port: a small supervisor over ``SO_REUSEPORT`` listeners.

``serve_processes(settings, n)`` is what ``plankg serve`` runs when more than one server process is
asked for (``PLANKG_SERVER_PROCESSES``, default one per core). The parent binds the port first, with
``SO_REUSEPORT`` and without listening (so that a port in use fails at once, and port 0 is resolved to
one port for all), then starts ``n`` server processes (fresh interpreters, ``spawn``). Each binds its
own listening socket to the same port with ``SO_REUSEPORT`` and runs the whole app over its own store
connection: its own query workers (so the time limit, the memory limit and the network isolation are
those of a single process), its own answer cache, its own watch of the store for rebuilds. The kernel
spreads new connections over the listening sockets by a hash of their addresses, so that a burst of
connections (16 keep-alive clients at once) is shared out evenly; with one socket shared by every
process, whichever process woke first would accept the whole burst.

Each process logs the requests it answers (once: the parent answers none) and writes its metrics to a
shared directory, which ``/metrics`` in any process sums (:mod:`server.ops.metrics`).

The parent restarts a server process that dies, stops them all on SIGTERM or SIGINT (each finishes its
requests and stops its query workers), and removes the metrics directory. A server process whose
parent is gone (SIGKILLed) stops by itself. A process started in place of a dead one while the store
is missing or cannot be opened (the others answer 503 meanwhile, server.stores.oxigraph) waits for a
good store before it listens, instead of dying at once until the parent gives up on them all.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from server.ops.accesslog import configure as configure_logging
from server.settings import Settings

if TYPE_CHECKING:
    from server.stores.interface import Store

log = logging.getLogger("plankg.processes")

LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
# A process that dies this soon after its start counts as a failed start; this many in a row and the
# parent gives up (a store that cannot be opened would otherwise be retried for ever).
_QUICK_DEATH = 10.0
_MAX_QUICK_DEATHS = 5
_STOP_GRACE = 20.0
# How often a replacement process tries again to open a store that is missing or cannot be opened.
_STORE_RETRY = 2.0


def cores() -> int:
    """CPUs this process may run on (the affinity mask where the OS has one)."""
    with contextlib.suppress(AttributeError, OSError):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def listening_socket(host: str, port: int, *, listen: bool) -> socket.socket:
    """A TCP socket bound to ``host:port`` with ``SO_REUSEPORT`` (listening or not)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """SIGTERM ourselves (a clean stop: requests finished, query workers stopped) once the supervisor
    is gone."""

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, name="plankg-supervisor-watch", daemon=True).start()


def server_process_main(settings: Settings, metrics_dir: str, parent: int, replacement: bool = False) -> None:
    """One server process: its own listening socket on the shared port, its own store, the app.

    A ``replacement`` (of a process that died) waits for a store it can open before it listens."""
    import uvicorn

    from server.app import create_app, open_store
    from server.ops.slowclients import guarded_protocol

    configure_logging(LOG_FORMAT)
    _exit_with_parent(parent)
    if replacement:
        store = _open_when_good(settings)
        sock = listening_socket(settings.host, settings.port, listen=True)
    else:
        sock = listening_socket(settings.host, settings.port, listen=True)
        store = open_store(settings)
    try:
        app = create_app(settings, store, close_store=True, metrics_dir=Path(metrics_dir))
        # As server.app.serve runs one process: AccessLog logs, server.protocol.forwarded alone reads
        # the proxy headers, slow clients are cut and answers written whole (server.ops.slowclients).
        config = uvicorn.Config(
            app,
            access_log=False,
            proxy_headers=False,
            http=guarded_protocol(),
            log_level="info",
            log_config=None,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        store.close()
        sock.close()


def _open_when_good(settings: Settings) -> Store:
    """The store, once it is there and opens (the server was serving it; it may come back)."""
    from server.app import open_store
    from server.errors import StoreFailure, StoreMissing

    while True:
        try:
            return open_store(settings)
        except (StoreMissing, StoreFailure) as exc:
            log.error("%s; not listening, trying again in %g s", exc, _STORE_RETRY)
            time.sleep(_STORE_RETRY)


def _remove_leftovers(pid: int | None) -> None:
    """The temporary store a dead server process had materialised (it could not remove it itself)."""
    from server.stores.oxigraph import TEMP_STORE_PREFIX

    if pid is None:
        return
    for leftover in Path(tempfile.gettempdir()).glob(f"{TEMP_STORE_PREFIX}{pid}-*"):
        log.info("removing %s, left by server process %d", leftover, pid)
        shutil.rmtree(leftover, ignore_errors=True)


class Supervisor:
    """Starts ``count`` server processes, restarts those that die, stops them all on a signal."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.count = count
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        # Bound, not listening: holds the port (and resolves port 0) without taking connections.
        self._holder = listening_socket(settings.host, settings.port, listen=False)
        self.port: int = self._holder.getsockname()[1]
        self.settings = dataclasses.replace(settings, port=self.port)
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="plankg-metrics-"))
        self.processes: list[tuple[BaseProcess, float]] = []

    def _start_one(self, replacement: bool = False) -> tuple[BaseProcess, float]:
        process = self._context.Process(
            target=server_process_main,
            args=(self.settings, str(self.metrics_dir), os.getpid(), replacement),
            name="plankg-server",
            daemon=False,
        )
        process.start()
        return process, time.monotonic()

    def run(self) -> int:
        """Until SIGTERM or SIGINT; the exit status (1 when the processes kept failing to start)."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        status = 0
        try:
            log.info(
                "starting %d server processes on http://%s:%d", self.count, self.settings.host, self.port
            )
            self.processes = [self._start_one() for _ in range(self.count)]
            quick_deaths = 0
            while not self._stop.wait(0.5):
                for i, (process, started) in enumerate(self.processes):
                    if process.is_alive():
                        continue
                    quick = time.monotonic() - started < _QUICK_DEATH
                    quick_deaths = quick_deaths + 1 if quick else 0
                    log.error(
                        "server process %d exited (%s); starting another", process.pid, process.exitcode
                    )
                    process.join()
                    _remove_leftovers(process.pid)
                    if quick_deaths >= _MAX_QUICK_DEATHS:
                        log.error("server processes keep failing at start; giving up")
                        status = 1
                        self._stop.set()
                        break
                    self.processes[i] = self._start_one(replacement=True)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return status

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    def _stop_all(self) -> None:
        for process, _ in self.processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE
        for process, _ in self.processes:
            process.join(max(deadline - time.monotonic(), 0.1))
            if process.is_alive():
                log.warning("server process %d did not stop in time; killing it", process.pid)
                process.kill()
                process.join()
                _remove_leftovers(process.pid)
        self._holder.close()
        shutil.rmtree(self.metrics_dir, ignore_errors=True)


def serve_processes(settings: Settings, count: int) -> int:
    """Serve ``settings`` from ``count`` processes on one port until interrupted; the exit status."""
    configure_logging(LOG_FORMAT)
    return Supervisor(settings, count).run()
