"""At what CPU priority a query runs: a heavy client's queries run in the background.

:mod:`server.ops.fairness` decides who is heavy; the query path runs the store's ``query`` inside
:func:`run_in_background` for them, and a store that can honour it reads :data:`BACKGROUND` (the
Oxigraph store's query workers then evaluate the query in a thread at the lowest CPU priority,
``nice`` 19, so that a light client's query on the other worker gets the CPU first; a remote engine
cannot be asked, and ignores it). Raising a thread's niceness needs no privilege; the worker's main
thread, which answers the light clients, keeps its own.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar("plankg_background", default=False)
LOWEST = 19  # the niceness of the background thread


def run_in_background(background: bool, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` with :data:`BACKGROUND` set to ``background`` (in the calling thread)."""
    token = BACKGROUND.set(background)
    try:
        return fn(*args)
    finally:
        BACKGROUND.reset(token)


class Lane:
    """A thread at niceness :data:`LOWEST` that runs what it is given, one call at a time; the caller
    waits (asleep) for the result. Exceptions come back to the caller."""

    def __init__(self) -> None:
        self._calls: queue.Queue[Callable[[], Any]] = queue.Queue()
        self._results: queue.Queue[tuple[bool, Any]] = queue.Queue()
        self.niceness: int | None = None
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), name="plankg-background", daemon=True).start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        try:
            # On Linux a thread id names the thread alone: the rest of the process keeps its niceness.
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST)
            self.niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        except (OSError, AttributeError):
            self.niceness = None  # no per-thread priority here: the lane runs at the process's
        ready.set()
        while True:
            call = self._calls.get()
            try:
                self._results.put((True, call()))
            except BaseException as exc:  # handed back to the caller
                self._results.put((False, exc))

    def call(self, fn: Callable[[], T]) -> T:
        self._calls.put(fn)
        ok, value = self._results.get()
        if not ok:
            raise value
        result: T = value
        return result


__all__ = ["BACKGROUND", "LOWEST", "Lane", "run_in_background"]
