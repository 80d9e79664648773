"""Request counters and durations in the Prometheus text exposition format (version 0.0.4).

One :class:`Metrics` per app (``app.state.metrics``); no global registry. The access-log middleware
records every request; the SPARQL route counts query timeouts.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
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


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """The routes of an app, those of included routers (FastAPI wraps them) in their place."""
    for route in routes:
        included = getattr(getattr(route, "original_router", None), "routes", None)
        if included is not None:
            yield from _leaf_routes(included)
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
        for candidate in _leaf_routes(getattr(getattr(app, "router", None), "routes", ())):
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


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._bucket_counts: dict[str, list[int]] = {}
        self._sums: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)
        self._timeouts = 0
        self._gauges: dict[str, tuple[str, str, Callable[[], float]]] = {}

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

    def query_timed_out(self) -> None:
        with self._lock:
            self._timeouts += 1

    @property
    def timeouts(self) -> int:
        return self._timeouts

    def gauge(self, name: str, help_text: str, read: Callable[[], float], kind: str = "gauge") -> None:
        """A value read at scrape time (e.g. the triple count); ``kind`` "counter" if it only grows."""
        self._gauges[name] = (help_text, kind, read)

    def render(self) -> str:
        with self._lock:
            lines = [
                "# HELP plankg_http_requests_total HTTP requests by route, method and status.",
                "# TYPE plankg_http_requests_total counter",
            ]
            for (route, method, status), n in sorted(self._requests.items()):
                lines.append(
                    f'plankg_http_requests_total{{route="{_label(route)}",method="{method}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP plankg_http_request_duration_seconds Time to answer a request, by route.",
                "# TYPE plankg_http_request_duration_seconds histogram",
            ]
            for route, buckets in sorted(self._bucket_counts.items()):
                r = _label(route)
                for bound, n in zip(BUCKETS, buckets, strict=True):
                    lines.append(
                        f'plankg_http_request_duration_seconds_bucket{{route="{r}",le="{bound}"}} {n}'
                    )
                count = self._counts[route]
                lines.append(f'plankg_http_request_duration_seconds_bucket{{route="{r}",le="+Inf"}} {count}')
                lines.append(
                    f'plankg_http_request_duration_seconds_sum{{route="{r}"}} {self._sums[route]:.6f}'
                )
                lines.append(f'plankg_http_request_duration_seconds_count{{route="{r}"}} {count}')
            lines += [
                "# HELP plankg_query_timeouts_total Queries stopped at their time limit.",
                "# TYPE plankg_query_timeouts_total counter",
                f"plankg_query_timeouts_total {self._timeouts}",
            ]
        for name, (help_text, kind, read) in sorted(self._gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {_number(read())}"]
        return "\n".join(lines) + "\n"
