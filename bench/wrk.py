"""Driving ``wrk``: the command line, and its summary as JSON from a Lua ``done`` hook."""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MARK = "WRK_JSON "

# wrk calls done() once, after the run; latencies are in microseconds. errors.status counts the
# responses with a status of 400 or more (wrk's "Non-2xx or 3xx responses").
DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,'
    .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
    .. '"max_us":%d,"mean_us":%.1f}\\n',
    "MARK", summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
""".replace('"MARK"', json.dumps(MARK))

# The distinct-query mode: each request's query ends with a comment naming the run and the request
# (``#<tag>-<n>``, URL-encoded after a line break), so that every request is a query text the server
# has not seen: no answer cache helps, and the query still means the same. wrk's one thread numbers
# the requests; the tag (a script argument) keeps the texts of one run apart from every other run's.
DISTINCT_HOOK = """
tag = "0"
counter = 0
init = function(args)
  if args[1] then tag = args[1] end
end
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "%0A%23" .. tag .. "-" .. counter)
end
"""


@dataclass(frozen=True)
class WrkResult:
    requests: int  # responses received, any status
    seconds: float
    status_errors: int  # responses with status >= 400
    timeouts: int
    socket_errors: int  # connect, read and write errors
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def ok_requests(self) -> int:
        return max(self.requests - self.status_errors, 0)

    @property
    def rps(self) -> float:
        """Successful responses per second (a fast error is not a result)."""
        return self.ok_requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def failures(self) -> int:
        return self.status_errors + self.timeouts + self.socket_errors

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "rps": round(self.rps, 1), "failures": self.failures}


def parse_output(stdout: str) -> WrkResult:
    """The summary our done() hook printed; ValueError if there is none."""
    for line in stdout.splitlines():
        if line.startswith(MARK):
            raw = json.loads(line[len(MARK) :])
            break
    else:
        raise ValueError("wrk printed no summary (did the Lua hook run?)")
    return WrkResult(
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        status_errors=int(raw["status_errors"]),
        timeouts=int(raw["timeouts"]),
        socket_errors=int(raw["connect_errors"]) + int(raw["read_errors"]) + int(raw["write_errors"]),
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=float(raw["mean_us"]) / 1000,
    )


def command(
    url: str,
    *,
    connections: int,
    seconds: float,
    script: Path,
    accept: str,
    timeout: float,
    script_args: tuple[str, ...] = (),
) -> list[str]:
    """One wrk thread (the server needs the other cores more) and ``connections`` connections."""
    return [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{max(round(seconds), 1)}s",
        "--timeout",
        f"{max(round(timeout), 1)}s",
        "--script",
        str(script),
        "--header",
        f"Accept: {accept}",
        url,
        *(("--", *script_args) if script_args else ()),
    ]


def run(
    url: str,
    *,
    connections: int,
    seconds: float,
    script: Path,
    accept: str,
    timeout: float = 5.0,
    script_args: tuple[str, ...] = (),
) -> WrkResult:
    argv = command(
        url,
        connections=connections,
        seconds=seconds,
        script=script,
        accept=accept,
        timeout=timeout,
        script_args=script_args,
    )
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout + 30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse_output(done.stdout)


def write_hook(directory: Path, *, distinct: bool = False) -> Path:
    """The Lua script for wrk: the summary hook, and with ``distinct`` the distinct-query requests."""
    path = directory / ("distinct.lua" if distinct else "done.lua")
    path.write_text(DONE_HOOK + (DISTINCT_HOOK if distinct else ""), encoding="utf-8")
    return path
