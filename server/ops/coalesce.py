"""One write per answer: the writes a response makes in one turn of the event loop go out together.

uvicorn writes an answer's status line and headers, then its body, as two ``transport.write`` calls;
each is a ``send`` system call and, with ``TCP_NODELAY``, a TCP segment of its own. On a small answer
that second system call was the largest single cost of the server process (py-spy: 22% of its
samples in the header write on distinct one-subject lookups; the kernel's loopback send, waking the
client, is charged to the sender). :class:`CoalescingTransport` wraps the connection's transport for
the HTTP protocol: a write is held until the end of the current turn of the event loop
(``call_soon``), and the writes of that turn are handed to the real transport at once with
``writelines`` (one ``writev`` under uvloop). Nothing waits longer than that turn: a response's
``send`` calls do not yield between the head and a body that is not flow-controlled, and a streamed
body's chunks each end a turn of their own.

Everything else is the real transport's: ``close`` first hands over what is held (so an answer
written just before its connection is closed is sent whole), ``abort`` drops it (as the real
transport drops its buffer), and the write buffer size counts it.
"""

from __future__ import annotations

import asyncio
from typing import Any


class CoalescingTransport(asyncio.Transport):
    """The writes of one event-loop turn handed to ``transport`` together (see the module)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: list[bytes | bytearray | memoryview] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Hand what is held to the real transport now."""
        if not self._held:
            return
        held, self._held = self._held, []
        if not self._transport.is_closing():
            self._transport.writelines(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(d) for d in self._held)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()


__all__ = ["CoalescingTransport"]
