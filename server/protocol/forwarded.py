"""The request's public origin behind a reverse proxy, from trusted proxies only.

A proxy in front of the server says which scheme and host the client used: ``Forwarded``
(RFC 7239: ``proto=``, ``host=``, ``for=``) or the older ``X-Forwarded-Proto`` / ``X-Forwarded-Host``
/ ``X-Forwarded-For``. Anyone can send those headers, so they are honoured only when the peer of the
socket is one of the configured proxies (``PLANKG_TRUSTED_PROXIES``, addresses or CIDR blocks); from
any other peer they are ignored and the request keeps the socket's scheme, its ``Host`` and the
peer's address. Of several proxies in a chain, the element the nearest (trusted) proxy appended — the
last one — is used.

:class:`ForwardedHeaders` rewrites the ASGI scope (``scheme``, the ``host`` header, ``server``,
``client``) once, so every reader of ``request.url`` and ``request.client`` sees the public values;
uvicorn's own proxy-header handling (which trusts 127.0.0.1 by default) is switched off in
``server.app.serve`` so this is the one place that decides. Malformed values (a scheme other than
http/https, a host with characters a host cannot have) are ignored, never passed on.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from server.settings import ProxyNetwork

_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)
_SCHEMES = {"http", "https"}


@dataclass(frozen=True)
class Forwarded:
    """What a trusted proxy said of the client's request (None: not said, or not well-formed)."""

    proto: str | None = None
    host: str | None = None
    client: str | None = None


def is_trusted(peer: str | None, proxies: Sequence[ProxyNetwork]) -> bool:
    """True when the socket's peer address is one of the configured proxies."""
    if peer is None or not proxies:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in proxies)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_forwarded(value: str) -> dict[str, str]:
    """The parameters of the last element of an RFC 7239 ``Forwarded`` header (lower-cased names)."""
    elements = [e for e in value.split(",") if e.strip()]
    if not elements:
        return {}
    params: dict[str, str] = {}
    for pair in elements[-1].split(";"):
        name, sep, raw = pair.partition("=")
        if sep:
            params[name.strip().lower()] = _unquote(raw)
    return params


def _last(value: str | None) -> str | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    return items[-1] if items else None


def _client_address(value: str | None) -> str | None:
    """An address from ``for=`` (``"[2001:db8::1]:4711"``, ``192.0.2.1:80``) or X-Forwarded-For."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None  # "unknown", an obfuscated identifier: keep the proxy's address


def read_forwarded(headers: dict[str, str]) -> Forwarded:
    """What the headers (lower-cased names) say; ``Forwarded`` wins over ``X-Forwarded-*``."""
    if "forwarded" in headers:
        params = parse_forwarded(headers["forwarded"])
        proto, host, client = params.get("proto"), params.get("host"), params.get("for")
    else:
        proto = _last(headers.get("x-forwarded-proto"))
        host = _last(headers.get("x-forwarded-host"))
        client = _last(headers.get("x-forwarded-for"))
    proto = proto.lower() if proto is not None and proto.lower() in _SCHEMES else None
    host = host if host is not None and _HOST.fullmatch(host) else None
    return Forwarded(proto, host, _client_address(client))


def _split_host(host: str, scheme: str) -> tuple[str, int]:
    default = 443 if scheme == "https" else 80
    if host.startswith("["):
        end = host.index("]")
        port = host[end + 2 :]
        return host[1:end], int(port) if port else default
    name, _, port = host.partition(":")
    return name, int(port) if port else default


class ForwardedHeaders:
    """ASGI middleware: the public scheme, host and client address, from trusted proxies only."""

    def __init__(self, app: ASGIApp, trusted: Sequence[ProxyNetwork]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and self.trusted:
            client = scope.get("client")
            if is_trusted(client[0] if client else None, self.trusted):
                scope = self._rewrite(scope)
        await self.app(scope, receive, send)

    @staticmethod
    def _rewrite(scope: Scope) -> Scope:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        said = read_forwarded(headers)
        scope = dict(scope)
        if said.proto is not None:
            scope["scheme"] = (
                said.proto if scope["type"] == "http" else {"http": "ws", "https": "wss"}[said.proto]
            )
        if said.host is not None:
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"host"] + [
                (b"host", said.host.encode("latin-1"))
            ]
            scope["server"] = _split_host(said.host, said.proto or scope["scheme"])
        if said.client is not None:
            scope["client"] = (said.client, 0)
        return scope


def public_origin(scheme: str, host: str) -> str:
    """``scheme://host`` of a request as the client addressed it (after :class:`ForwardedHeaders`)."""
    return f"{scheme}://{host}"
