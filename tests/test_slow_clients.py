"""Slow clients are cut (server.ops.slowclients), over raw sockets on loopback.

A uvicorn with the guarded protocol (short timeouts: 0.5 s) in a thread, over a small ASGI app: a
request trickled a byte at a time, a connection that sends nothing, and a reader that never reads a
large answer are each disconnected; meanwhile, with a hundred such connections open, a normal client
is answered at once.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from server.ops.slowclients import guarded_protocol
from tests.browser.harness import free_port

BIG = 64 * 2**20  # more than any socket buffer holds


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b"x" * BIG if scope["path"] == "/big" else b"ok"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    chosen = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=chosen, http=guarded_protocol(0.5, 0.5), log_level="error", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield chosen
    server.should_exit = True
    thread.join(10)


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within ``seconds`` (reading whatever it sent)."""
    sock.settimeout(0.1)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True
    return False


def normal_get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data


def test_a_trickled_request_is_cut(port: int) -> None:
    request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as s:
        start = time.monotonic()
        cut = False
        for byte in request:
            try:
                s.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            if closed_within(s, 0.05):
                cut = True
                break
        assert cut, "the whole request was trickled in without being cut"
        assert time.monotonic() - start < 3


def test_a_connection_that_sends_nothing_is_cut(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as s:
        assert closed_within(s, 3)


def test_a_reader_that_never_reads_is_cut(port: int) -> None:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    with s:
        s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(2)  # never reading: the server's writes pause, then the write timer fires
        received = 0
        s.settimeout(5)
        try:
            while chunk := s.recv(1 << 20):
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert received < BIG  # cut off, not the whole answer once the reader woke up


def test_slow_connections_do_not_keep_others_out(port: int) -> None:
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    try:
        for s in slow:
            s.send(b"GET / HTTP/1.1\r\n")
        start = time.monotonic()
        assert normal_get(port).endswith(b"ok")
        assert time.monotonic() - start < 1
        assert all(closed_within(s, 3) for s in slow)
    finally:
        for s in slow:
            s.close()
    assert normal_get(port).endswith(b"ok")


@pytest.mark.parametrize(
    "request_line",
    [b"GET /reconcile?queries=" + b"a" * 70_000 + b" HTTP/1.1", b"GET / HTTP/9\x00"],
    ids=["a URL over 64 KiB", "a malformed request line"],
)
def test_a_request_the_parser_refuses_is_a_problem_document(port: int, request_line: bytes) -> None:
    """uvicorn answered these text/plain; the description documents a 400 as application/problem+json
    (schemathesis met a 67 KB reconciliation GET)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(request_line + b"\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\ncontent-type: application/problem+json\r\n" in head
    assert json.loads(body) == {
        "type": "about:blank",
        "title": "Bad HTTP request",
        "status": 400,
        "detail": "the request could not be read as HTTP/1.1: it is malformed, or its request line or a "
        "header is too long (send a long query by POST)",
    }


def test_an_answer_s_head_and_body_leave_in_one_write() -> None:
    """server.ops.coalesce: the writes of one event-loop turn reach the transport as one writelines;
    close hands over what is held first; abort drops it."""
    import asyncio

    from server.ops.coalesce import CoalescingTransport

    class Recording(asyncio.Transport):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[list[bytes]] = []
            self.closed = self.aborted = False

        def writelines(self, data: Any) -> None:
            self.calls.append([bytes(d) for d in data])

        def is_closing(self) -> bool:
            return self.closed or self.aborted

        def close(self) -> None:
            self.closed = True

        def abort(self) -> None:
            self.aborted = True

        def get_write_buffer_size(self) -> int:
            return 0

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        real = Recording()
        transport = CoalescingTransport(real, loop)
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
        transport.write(b"ok")
        assert real.calls == [] and transport.get_write_buffer_size() == 40
        await asyncio.sleep(0)  # the end of the turn
        assert real.calls == [[b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n", b"ok"]]
        transport.write(b"last")
        transport.close()  # before the turn ends: sent first, then closed
        assert real.calls[-1] == [b"last"] and real.closed
        real2 = Recording()
        cut = CoalescingTransport(real2, loop)
        cut.write(b"never")
        cut.abort()
        await asyncio.sleep(0)
        assert real2.calls == [] and real2.aborted

    asyncio.run(scenario())


def test_answers_over_the_guarded_protocol_are_whole(port: int) -> None:
    """Through uvicorn with the coalescing transport: a small and a 64 MB answer arrive complete."""
    assert normal_get(port).endswith(b"\r\n\r\nok")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        size = 0
        while chunk := s.recv(2**20):
            size += len(chunk)
    assert size > BIG
