"""Request counters and durations in the Prometheus text exposition format (version 0.0.4).

One :class:`Metrics` per app (``app.state.metrics``); no global registry. The access-log middleware
records every request; the SPARQL route counts query timeouts.

With several server processes on one port (``server.ops.processes``) each process's metrics are its
own, and the process a scrape reaches must answer for all of them: given a shared directory, a
``Metrics`` writes its state there (``<pid>.json``, replaced atomically) at most every
``flush_interval`` seconds while it changes, and ``render`` sums the counters of every file with its
own live ones (those of a process that has exited are kept, so a counter never goes down) and the
gauges of the live processes (``merge="max"`` for a gauge every process reads from the same place,
like the store's triple count). So a request answered by one process shows in a scrape that another
answers within ``flush_interval``.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from starlette.routing import Match
from starlette.types import Scope

# Upper bounds of the duration histogram, in seconds.
BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


# The methods HTTP defines (RFC 9110 §9, PATCH); any other a client sends is counted as OTHER.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
OTHER_METHOD = "OTHER"

NO_ROUTE = "(no route)"  # nothing at the path (a 404): one label, however many paths are probed
STATIC = "static"  # every static file under one label


def leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes of an app, those of included routers (FastAPI wraps them) in their place."""
    for route in routes:
        included = getattr(getattr(route, "original_router", None), "routes", None)
        if included is not None:
            yield from leaf_routes(included)
        else:
            yield route


def route_label(scope: Scope) -> str:
    """The route label of a request: the path template of the route it reached or would have reached.

    A request answered before routing (a CORS preflight) is matched against the app's routes here
    (its method aside); static files share the label ``static``; a path no route takes, ``(no route)``.
    """
    route: Any = scope.get("route")
    if route is None:
        app = scope.get("app")
        for candidate in leaf_routes(getattr(getattr(app, "router", None), "routes", ())):
            match, _ = candidate.matches(scope)
            if match is not Match.NONE:
                route = candidate
                break
    if route is None:
        return NO_ROUTE
    if getattr(route, "name", None) == STATIC:
        return STATIC
    return str(getattr(route, "path", NO_ROUTE))


def _number(value: float) -> str:
    """A sample value with every digit (``:g`` would round 1234567 to ``1.23457e+06``)."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Metrics:
    def __init__(self, shared_dir: Path | None = None, *, flush_interval: float = 0.25) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._bucket_counts: dict[str, list[int]] = {}
        self._sums: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)
        self._timeouts = 0
        self._gauges: dict[str, tuple[str, str, Callable[[], float], str]] = {}
        self._shared_dir = shared_dir
        self._flush_interval = flush_interval
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        if method not in METHODS:
            method = OTHER_METHOD  # one series, however many methods are made up
        with self._lock:
            self._requests[(route, method, status)] += 1
            buckets = self._bucket_counts.setdefault(route, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self._sums[route] += seconds
            self._counts[route] += 1
        self._changed.set()

    def query_timed_out(self) -> None:
        with self._lock:
            self._timeouts += 1
        self._changed.set()

    @property
    def timeouts(self) -> int:
        return self._timeouts

    def gauge(
        self,
        name: str,
        help_text: str,
        read: Callable[[], float],
        kind: str = "gauge",
        *,
        merge: str = "sum",
    ) -> None:
        """A value read at scrape time (e.g. the triple count); ``kind`` "counter" if it only grows.
        Across processes, ``merge`` "sum" adds the processes' values, "max" takes the largest."""
        self._gauges[name] = (help_text, kind, read, merge)

    # --- sharing between processes

    def start_sharing(self) -> None:
        """Write this process's state to the shared directory while it changes (no-op without one)."""
        if self._shared_dir is None or self._flusher is not None:
            return
        self._stop.clear()
        self._flusher = threading.Thread(target=self._flush_loop, name="plankg-metrics-flush", daemon=True)
        self._flusher.start()
        self._flush()

    def stop_sharing(self) -> None:
        if self._flusher is None:
            return
        self._stop.set()
        self._changed.set()
        self._flusher.join(timeout=5)
        self._flusher = None
        self._flush()

    def _flush_loop(self) -> None:
        while not self._stop.is_set():
            self._changed.wait()
            if self._stop.is_set():
                return
            self._changed.clear()
            with contextlib.suppress(OSError):
                self._flush()
            self._stop.wait(self._flush_interval)

    def _own_file(self) -> Path:
        assert self._shared_dir is not None
        return self._shared_dir / f"{os.getpid()}.json"

    def _flush(self) -> None:
        if self._shared_dir is None:
            return
        path = self._own_file()
        temp = path.with_suffix(".tmp")
        temp.write_text(json.dumps(self._state()), encoding="utf-8")
        os.replace(temp, path)

    def _state(self) -> dict[str, Any]:
        """This process's counters and gauges, as JSON-able values."""
        with self._lock:
            state: dict[str, Any] = {
                "pid": os.getpid(),
                "requests": [[r, m, s, n] for (r, m, s), n in self._requests.items()],
                "buckets": {r: list(b) for r, b in self._bucket_counts.items()},
                "sums": dict(self._sums),
                "counts": dict(self._counts),
                "timeouts": self._timeouts,
            }
        state["gauges"] = {name: float(read()) for name, (_, _, read, _) in self._gauges.items()}
        return state

    def _others(self) -> list[dict[str, Any]]:
        """The states other processes wrote to the shared directory."""
        if self._shared_dir is None:
            return []
        own = self._own_file().name
        states = []
        for path in sorted(self._shared_dir.glob("*.json")):
            if path.name == own:
                continue
            with contextlib.suppress(OSError, ValueError):
                state = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(state, dict):
                    states.append(state)
        return states

    def render(self) -> str:
        own = self._state()
        others = self._others()
        states = [own, *others]
        requests: dict[tuple[str, str, int], int] = defaultdict(int)
        bucket_counts: dict[str, list[int]] = {}
        sums: dict[str, float] = defaultdict(float)
        counts: dict[str, int] = defaultdict(int)
        timeouts = 0
        per_process: dict[int, int] = {}
        for state in states:
            for route, method, status, n in state["requests"]:
                requests[(route, method, int(status))] += int(n)
            for route, buckets in state["buckets"].items():
                total = bucket_counts.setdefault(route, [0] * len(BUCKETS))
                for i, n in enumerate(buckets[: len(BUCKETS)]):
                    total[i] += int(n)
            for route, value in state["sums"].items():
                sums[route] += float(value)
            for route, n in state["counts"].items():
                counts[route] += int(n)
            timeouts += int(state["timeouts"])
            per_process[int(state["pid"])] = sum(int(r[3]) for r in state["requests"])
        live = [own] + [s for s in others if _alive(int(s["pid"]))]
        lines = [
            "# HELP plankg_http_requests_total HTTP requests by route, method and status.",
            "# TYPE plankg_http_requests_total counter",
        ]
        for (route, method, status), n in sorted(requests.items()):
            lines.append(
                f'plankg_http_requests_total{{route="{_label(route)}",method="{method}",'
                f'status="{status}"}} {n}'
            )
        lines += [
            "# HELP plankg_http_request_duration_seconds Time to answer a request, by route.",
            "# TYPE plankg_http_request_duration_seconds histogram",
        ]
        for route, buckets in sorted(bucket_counts.items()):
            r = _label(route)
            for bound, n in zip(BUCKETS, buckets, strict=True):
                lines.append(f'plankg_http_request_duration_seconds_bucket{{route="{r}",le="{bound}"}} {n}')
            count = counts[route]
            lines.append(f'plankg_http_request_duration_seconds_bucket{{route="{r}",le="+Inf"}} {count}')
            lines.append(f'plankg_http_request_duration_seconds_sum{{route="{r}"}} {sums[route]:.6f}')
            lines.append(f'plankg_http_request_duration_seconds_count{{route="{r}"}} {count}')
        lines += [
            "# HELP plankg_query_timeouts_total Queries stopped at their time limit.",
            "# TYPE plankg_query_timeouts_total counter",
            f"plankg_query_timeouts_total {timeouts}",
        ]
        if self._shared_dir is not None:
            lines += [
                "# HELP plankg_server_process_requests_total HTTP requests by server process (its pid).",
                "# TYPE plankg_server_process_requests_total counter",
            ]
            lines += [
                f'plankg_server_process_requests_total{{pid="{pid}"}} {n}'
                for pid, n in sorted(per_process.items())
            ]
            lines += [
                "# HELP plankg_server_processes Server processes answering on the port.",
                "# TYPE plankg_server_processes gauge",
                f"plankg_server_processes {len(live)}",
            ]
        for name, (help_text, kind, _, merge) in sorted(self._gauges.items()):
            # A counter keeps the share of a process that has exited; a gauge is of the live ones.
            sources = states if kind == "counter" else live
            values = [float(s["gauges"][name]) for s in sources if name in s.get("gauges", {})]
            value = max(values) if merge == "max" else sum(values)
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {_number(value)}"]
        return "\n".join(lines) + "\n"
