"""The server's settings: one frozen value, read once at start (from the environment and the CLI).

Nothing reads the environment at import time; ``Settings.from_env(os.environ, port=8080)`` is called
by the entry point and the value is handed down (``create_app(settings)``).

Environment variables (all optional):

=============================== ==========================================================
PLANKG_HOST / PLANKG_PORT        where to listen (127.0.0.1:8000)
PLANKG_BASE                      base IRI of the graph (mapping.vocab.DEFAULT_BASE)
PLANKG_STORE                     the built on-disk store (var/store)
PLANKG_DIST                      the built dumps (dist)
PLANKG_DATA                      further RDF files, separated by the OS path separator
PLANKG_WITHOUT_PLAN              1/true: serve only the data files
PLANKG_QUERY_TIMEOUT             seconds per query (30); a client may ask for less
PLANKG_QUERY_WORKERS             query processes per server process (2)
PLANKG_SERVER_PROCESSES          server processes on the port (0: one per core)
PLANKG_QUERY_MEMORY_MB           resident memory a query worker may reach (2048; 0: no limit)
PLANKG_MAX_QUERY_LENGTH          characters (100000)
PLANKG_MAX_RESULT_ROWS           rows or triples per result (100000)
PLANKG_MAX_BODY_BYTES            request body bytes (1000000)
PLANKG_ALLOWED_SERVICE_HOSTS     comma-separated hosts SERVICE may reach (none)
PLANKG_ANSWER_CACHE_BYTES        bytes of whole answers kept per build (64000000; 0: off)
PLANKG_SPOOL_BYTES               answers longer than this are written to a temporary file by the
                                 query worker and sent from it, never held in memory (4000000; 0: off)
PLANKG_REMOTE_ENDPOINT           a SPARQL engine's query URL to serve instead of the store (none)
PLANKG_REMOTE_USER / _PASSWORD   credentials for the engine (none); never logged
PLANKG_REMOTE_AUTH               digest (default) or basic
PLANKG_REMOTE_REFRESH            seconds between reads of the engine's published build (5)
PLANKG_CLIENT_QUERIES            queries one client may run at once (0: query workers - 1, at least 1)
PLANKG_CLIENT_QUEUE              queries one client may have waiting (16); past it: 429
PLANKG_CLIENT_QUERY_SECONDS      query seconds one client may use per minute (60; 0: no budget)
PLANKG_QUERY_QUEUE               queries waiting, all clients (128); past it: 503
PLANKG_CLIENT_HEAVY_SECONDS      query seconds per minute past which a client is heavy (15): heavy
                                 clients leave one query worker to the others (0: no reserve)
PLANKG_VERSIONS                  the archive of kept builds (``versions`` beside the store's dir)
PLANKG_TRUSTED_PROXIES           comma-separated proxy addresses/CIDRs whose X-Forwarded-* and
                                 Forwarded headers are honoured (none)
=============================== ==========================================================
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapping.vocab import DEFAULT_BASE


class SettingsError(ValueError):
    """A setting has a value the server cannot run with."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"", "0", "false", "no", "off"}:
        return False
    raise SettingsError(f"not a yes/no value: {value!r}")


def _paths(value: str) -> tuple[Path, ...]:
    return tuple(Path(p) for p in value.split(os.pathsep) if p)


def _hosts(value: str | Iterable[str]) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    return frozenset(h.strip().lower() for h in items if h.strip())


ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(value: str | Iterable[str]) -> tuple[ProxyNetwork, ...]:
    """Addresses or CIDR blocks (``10.0.0.0/8``, ``::1``), comma-separated."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())
    except ValueError as exc:
        raise SettingsError(f"not an address or CIDR block: {exc}") from exc


# field name -> (environment variable, parser)
_ENV: dict[str, tuple[str, Any]] = {
    "host": ("PLANKG_HOST", str),
    "port": ("PLANKG_PORT", int),
    "base": ("PLANKG_BASE", str),
    "store_dir": ("PLANKG_STORE", Path),
    "dist_dir": ("PLANKG_DIST", Path),
    "data_files": ("PLANKG_DATA", _paths),
    "without_plan": ("PLANKG_WITHOUT_PLAN", _bool),
    "query_timeout": ("PLANKG_QUERY_TIMEOUT", float),
    "query_workers": ("PLANKG_QUERY_WORKERS", int),
    "server_processes": ("PLANKG_SERVER_PROCESSES", int),
    "query_memory_mb": ("PLANKG_QUERY_MEMORY_MB", int),
    "max_query_length": ("PLANKG_MAX_QUERY_LENGTH", int),
    "max_result_rows": ("PLANKG_MAX_RESULT_ROWS", int),
    "max_body_bytes": ("PLANKG_MAX_BODY_BYTES", int),
    "allowed_service_hosts": ("PLANKG_ALLOWED_SERVICE_HOSTS", _hosts),
    "answer_cache_bytes": ("PLANKG_ANSWER_CACHE_BYTES", int),
    "spool_bytes": ("PLANKG_SPOOL_BYTES", int),
    "remote_endpoint": ("PLANKG_REMOTE_ENDPOINT", str),
    "remote_user": ("PLANKG_REMOTE_USER", str),
    "remote_password": ("PLANKG_REMOTE_PASSWORD", str),
    "remote_auth": ("PLANKG_REMOTE_AUTH", str),
    "remote_refresh": ("PLANKG_REMOTE_REFRESH", float),
    "client_queries": ("PLANKG_CLIENT_QUERIES", int),
    "client_queue": ("PLANKG_CLIENT_QUEUE", int),
    "client_query_seconds": ("PLANKG_CLIENT_QUERY_SECONDS", float),
    "query_queue": ("PLANKG_QUERY_QUEUE", int),
    "client_heavy_seconds": ("PLANKG_CLIENT_HEAVY_SECONDS", float),
    "versions_dir": ("PLANKG_VERSIONS", Path),
    "trusted_proxies": ("PLANKG_TRUSTED_PROXIES", _networks),
    "bounded_lane": ("PLANKG_BOUNDED_LANE", _bool),
}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    base: str = DEFAULT_BASE
    store_dir: Path = Path("var/store")
    dist_dir: Path = Path("dist")
    data_files: tuple[Path, ...] = ()
    without_plan: bool = False
    query_timeout: float = 30.0
    query_workers: int = 2
    server_processes: int = 0  # 0: one per core (server.ops.processes)
    query_memory_mb: int = 2048
    max_query_length: int = 100_000
    max_result_rows: int = 100_000
    max_body_bytes: int = 1_000_000
    allowed_service_hosts: frozenset[str] = field(default_factory=frozenset)
    answer_cache_bytes: int = 64_000_000
    spool_bytes: int = 4_000_000  # the answer cache's largest entry with its default budget
    # A remote SPARQL engine holding a published build (server.stores.remote), served instead of the
    # embedded store; its credentials never appear in a repr.
    remote_endpoint: str | None = None
    remote_user: str | None = None
    remote_password: str | None = field(default=None, repr=False)
    remote_auth: str = "digest"
    remote_refresh: float = 5.0
    client_queries: int = 0  # 0: one less than the query workers (at least 1), so others find one free
    client_queue: int = 16
    client_query_seconds: float = 60.0
    query_queue: int = 128
    client_heavy_seconds: float = 15.0
    versions_dir: Path | None = None  # None: ``versions`` beside the store's directory (as the build)
    trusted_proxies: tuple[ProxyNetwork, ...] = ()
    # Queries of provably bounded work answered by the server process itself (server.stores.bounded).
    bounded_lane: bool = True

    def __post_init__(self) -> None:
        if not self.base.endswith("/"):
            raise SettingsError(f"the base IRI must end with '/': {self.base!r}")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port out of range: {self.port}")
        if not self.query_timeout > 0:
            raise SettingsError(f"the query timeout must be positive: {self.query_timeout}")
        if self.query_workers < 1:
            raise SettingsError(f"at least one query worker is needed: {self.query_workers}")
        if self.server_processes < 0:
            raise SettingsError("server_processes cannot be negative (0: one per core)")
        for name in ("max_query_length", "max_result_rows", "max_body_bytes"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be positive")
        if self.query_memory_mb < 0:
            raise SettingsError("query_memory_mb cannot be negative (0: no limit)")
        if self.answer_cache_bytes < 0:
            raise SettingsError("answer_cache_bytes cannot be negative (0 turns the cache off)")
        if self.spool_bytes < 0:
            raise SettingsError("spool_bytes cannot be negative (0: answers are never spooled)")
        if self.remote_endpoint is not None and not self.remote_endpoint.startswith(("http://", "https://")):
            raise SettingsError(f"the remote endpoint must be an http(s) URL: {self.remote_endpoint!r}")
        if self.remote_auth not in ("digest", "basic"):
            raise SettingsError(f"PLANKG_REMOTE_AUTH is digest or basic, not {self.remote_auth!r}")
        if (self.remote_user is None) != (self.remote_password is None):
            raise SettingsError("PLANKG_REMOTE_USER and PLANKG_REMOTE_PASSWORD go together")
        if not self.remote_refresh > 0:
            raise SettingsError(f"the remote refresh interval must be positive: {self.remote_refresh}")
        for name in (
            "client_queries",
            "client_queue",
            "client_query_seconds",
            "query_queue",
            "client_heavy_seconds",
        ):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name} cannot be negative")
        if self.without_plan and not self.data_files:
            raise SettingsError("--without-plan needs at least one data file to serve")

    @property
    def archive_dir(self) -> Path:
        """Where the kept builds are (``mapping.versions``)."""
        return self.versions_dir if self.versions_dir is not None else self.store_dir.parent / "versions"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``environ`` (default: none), then ``overrides``; ``None`` overrides are skipped."""
        values: dict[str, Any] = {}
        for name, (variable, parse) in _ENV.items():
            raw = (environ or {}).get(variable)
            if raw is not None:
                try:
                    values[name] = parse(raw)
                except ValueError as exc:
                    raise SettingsError(f"{variable}={raw!r}: {exc}") from exc
        known = {f.name for f in dataclasses.fields(cls)}
        for name, value in overrides.items():
            if name not in known:
                raise SettingsError(f"unknown setting {name!r}")
            if value is None:
                continue
            if name == "data_files":
                value = tuple(Path(p) for p in value)
            elif name in ("allowed_service_hosts", "trusted_proxies"):
                value = _hosts(value)
            elif name == "trusted_proxies":
                value = _networks(value)
            elif name in {"store_dir", "dist_dir", "versions_dir"}:
                value = Path(value)
            values[name] = value
        return cls(**values)
