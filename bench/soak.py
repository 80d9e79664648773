"""``make soak``: ten minutes at 64 connections on one ``plankg serve``; errors, memory, latency.

The server runs as deployed (one server process per core, each with its query workers, the answer
cache on) over a built store, with the per-client limits lifted as in ``make bench`` (one load
generator is one client: ``bench.servers.ours``). An asyncio client (httpx, 64 keep-alive connections,
each sending its next request as soon as it has its answer, for the whole run without a break) cycles
through a mix: every canned query once as ``GET /queries/{name}`` with its defaults (the same text each
time: answered from the answer cache after the first) and once as its portable text on ``GET /sparql``
ending with a comment that numbers the request (a text never seen before: a query worker evaluates every
one), and the raw queries of ``bench/queries`` the same way (the hostile one left out). Each request's
start, latency and status are kept; the report gives the percentiles of each minute.

Meanwhile a sampler reads, every ``--sample-seconds``, the resident memory (VmRSS) of every process in
the server's session: the supervisor, the server processes and their query workers (a worker killed
at its time limit and replaced shows up as a new pid), and the load average. After the warm-up the
memory must stay flat.

Pass: zero errors over the whole run (any status other than 200, or a client-side timeout or connection
error) and every process's RSS within ``--flat-tolerance`` (default 10 %) of its value at the end of the
warm-up. Results: ``bench/results/soak-<date>.{json,md}``.

    python -m bench.soak [--store var/store --dist dist] [--minutes 10] [--connections 64] [--replicate 27]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bench import servers
from bench.queries import HOSTILE, canned_queries, raw_queries
from mapping.vocab import DEFAULT_BASE

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
ACCEPT = "application/sparql-results+json"
CHECK_TIMEOUT = 30.0


@dataclass(frozen=True)
class MixEntry:
    name: str
    path: str
    distinct: bool


def fetch(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=CHECK_TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def build_mix(origin: str, base: str) -> tuple[list[MixEntry], dict[str, str]]:
    """The canned queries (both ways) and the raw ones; each checked once (200) before it is used."""
    status, body = fetch(origin + "/queries?format=json")
    if status != 200:
        raise RuntimeError(f"GET /queries: {status}")
    listing = json.loads(body)
    candidates: list[MixEntry] = []
    for q in canned_queries(listing, base):
        assert q.canned_path is not None
        candidates.append(MixEntry(f"{q.name} (canned)", q.canned_path, False))
        candidates.append(MixEntry(f"{q.name} (distinct)", "/sparql?query=" + quote(q.sparql, safe=""), True))
    for name, q in raw_queries(base).items():
        if name != HOSTILE:
            candidates.append(
                MixEntry(f"{name} (distinct)", "/sparql?query=" + quote(q.sparql, safe=""), True)
            )
    mix, left_out = [], {}
    for entry in candidates:
        status, body = fetch(origin + entry.path)
        if status == 200:
            mix.append(entry)
        else:
            left_out[entry.name] = f"{status}: {body[:120].decode('utf-8', 'replace')}"
    return mix, left_out


async def drive(
    origin: str,
    mix: Sequence[MixEntry],
    connections: int,
    seconds: float,
    timeout: float,
    tag: str,
    failures: list[dict[str, Any]],
    retried: list[dict[str, Any]],
) -> list[tuple[float, float, str]]:
    """``connections`` loops, each sending the next request of the mix as soon as it has an answer,
    until ``seconds`` have passed (the requests in flight then are answered, not abandoned). Returns
    (start in seconds from the beginning, latency in ms, status or exception name) per request; each
    failed request is described in ``failures`` (which request, when, the status and body or error)."""
    records: list[tuple[float, float, str]] = []
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Accept": ACCEPT}
    async with httpx.AsyncClient(base_url=origin, limits=limits, timeout=timeout, headers=headers) as client:
        serial = itertools.count()
        start = time.monotonic()

        async def connection() -> None:
            while (now := time.monotonic()) < start + seconds:
                n = next(serial)
                entry = mix[n % len(mix)]
                path = entry.path + (f"%0A%23{tag}-{n}" if entry.distinct else "")
                began = time.perf_counter()
                try:
                    try:
                        response = await client.get(path)
                    except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
                        # A kept-alive connection the server closed as idle just as the request went
                        # out (the race of RFC 9112, 9.3.1): an idempotent GET is sent again once, as
                        # HTTP clients do, and counted; a second failure is an error.
                        retried.append(
                            {"t": round(now - start, 1), "request": entry.name, "error": repr(exc)}
                        )
                        response = await client.get(path)
                    outcome = str(response.status_code)
                    if response.status_code != 200:
                        failures.append(
                            {
                                "t": round(now - start, 1),
                                "request": entry.name,
                                "status": outcome,
                                "body": response.text[:300],
                            }
                        )
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                    failures.append(
                        {
                            "t": round(now - start, 1),
                            "request": entry.name,
                            "error": f"{outcome}: {exc}"[:300],
                            "after_ms": round((time.perf_counter() - began) * 1000),
                        }
                    )
                records.append((now - start, (time.perf_counter() - began) * 1000, outcome))

        await asyncio.gather(*(connection() for _ in range(connections)))
    return records


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def per_minute(
    records: Sequence[tuple[float, float, str]], samples: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Requests, errors, statuses and latency percentiles of the requests started in each minute, with
    the load average sampled nearest the minute's end."""
    minutes: dict[int, list[tuple[float, float, str]]] = {}
    for record in records:
        minutes.setdefault(int(record[0] // 60) + 1, []).append(record)
    out = []
    for minute, rows in sorted(minutes.items()):
        latencies = [ms for _, ms, _ in rows]
        statuses: dict[str, int] = {}
        for _, _, outcome in rows:
            statuses[outcome] = statuses.get(outcome, 0) + 1
        near = min(samples, key=lambda s: abs(s["t"] - minute * 60)) if samples else {"loadavg": []}
        out.append(
            {
                "minute": minute,
                "requests": len(rows),
                "rps": round(len(rows) / 60, 1),
                "errors": sum(n for k, n in statuses.items() if k != "200"),
                "statuses": statuses,
                "p50_ms": round(percentile(latencies, 50), 1),
                "p90_ms": round(percentile(latencies, 90), 1),
                "p99_ms": round(percentile(latencies, 99), 1),
                "max_ms": round(max(latencies), 1),
                "loadavg": near["loadavg"],
            }
        )
    return out


@dataclass
class Sampler:
    """RSS of every process in the server's session, every ``interval`` seconds, in a thread."""

    session: int
    interval: float
    samples: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def processes(self) -> list[dict[str, Any]]:
        found = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
                fields = stat[stat.rfind(")") + 2 :].split()
                if int(fields[3]) != self.session:  # the 6th field of stat: the session id
                    continue
                status = Path(entry.path, "status").read_text()
                cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            pid = int(entry.name)
            ppid = int(fields[1])
            if pid == self.session:
                role = "supervisor"
            elif "worker_entry" in cmdline:
                role = "query worker"
            elif "multiprocessing" in cmdline and "spawn_main" in cmdline:
                role = "server process"
            else:  # multiprocessing's resource tracker and the like
                role = "helper: " + " ".join(cmdline.split()[1:4])[:60]
            found.append({"pid": pid, "ppid": ppid, "role": role, "rss_kib": rss})
        return found

    def run(self, start: float) -> None:
        while not self._stop.is_set():
            self.samples.append(
                {
                    "t": round(time.monotonic() - start, 1),
                    "loadavg": [round(x, 2) for x in os.getloadavg()],
                    "processes": self.processes(),
                }
            )
            self._stop.wait(self.interval)

    def start(self, start: float) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(start,), daemon=True)
        thread.start()
        return thread

    def stop(self, thread: threading.Thread) -> None:
        self._stop.set()
        thread.join()


def memory_summary(samples: list[dict[str, Any]], warmup: float, tolerance: float) -> dict[str, Any]:
    """Per process (pid): RSS at the end of warm-up (first sample at or after it, or its first sample
    when it started later), at the end, its maximum, and whether it stayed within the tolerance."""
    by_pid: dict[int, list[tuple[float, int]]] = {}
    roles: dict[int, str] = {}
    for sample in samples:
        for p in sample["processes"]:
            by_pid.setdefault(p["pid"], []).append((sample["t"], p["rss_kib"]))
            roles[p["pid"]] = p["role"]
    processes: list[dict[str, Any]] = []
    for pid, series in sorted(by_pid.items()):
        after = [(t, rss) for t, rss in series if t >= warmup] or series[-1:]
        base = after[0][1]
        peak = max(rss for _, rss in after)
        end = after[-1][1]
        growth = (peak - base) / base if base else 0.0
        processes.append(
            {
                "pid": pid,
                "role": roles[pid],
                "first_t": series[0][0],
                "last_t": series[-1][0],
                "rss_first_kib": series[0][1],
                "rss_after_warmup_kib": base,
                "rss_end_kib": end,
                "rss_peak_after_warmup_kib": peak,
                "growth_after_warmup": round(growth, 4),
                "flat": growth <= tolerance,
            }
        )
    totals = [
        {
            "t": s["t"],
            "total_kib": sum(p["rss_kib"] for p in s["processes"]),
            "processes": len(s["processes"]),
        }
        for s in samples
    ]
    return {"processes": processes, "totals": totals}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", type=Path, default=Path("var/store"))
    parser.add_argument("--dist", type=Path, default=Path("dist"))
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--warmup-minutes", type=float, default=1.0)
    parser.add_argument("--flat-tolerance", type=float, default=0.10, help="RSS growth after warm-up")
    parser.add_argument("--timeout", type=float, default=60.0, help="the client's per-request timeout (s)")
    parser.add_argument(
        "--answer-cache-bytes",
        type=int,
        default=None,
        help="PLANKG_ANSWER_CACHE_BYTES (default: the server's)",
    )
    parser.add_argument(
        "--replicate",
        type=int,
        default=1,
        help="serve the store's plans copied N times under distinct plan IRIs (bench/replicate.py), "
        "the bench's largest graph with N = 27",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not write bench/results")
    args = parser.parse_args(argv)
    if args.replicate < 1:
        parser.error("--replicate N needs N ≥ 1")

    date = dt.datetime.now(dt.UTC)
    tag = date.strftime("%H%M%S")
    with tempfile.TemporaryDirectory(prefix="plankg-soak-") as tmp:
        work = Path(tmp)
        store = args.store.resolve()
        if args.replicate > 1:
            from bench.replicate import replicate

            copied = replicate(store, work / "store-replicated", args.replicate)
            store = work / "store-replicated"
            args.triples = copied["triples"]
            print(
                f"the store's plans copied {args.replicate} times: {copied['triples']:,} triples", flush=True
            )
        server = servers.ours(
            "ours",
            "plankg serve",
            python=Path(sys.executable),
            source=REPO,
            store=store,
            dist=args.dist.resolve(),
            log_dir=work,
            cache_bytes=args.answer_cache_bytes,
        )
        server.start()
        try:
            server.wait_ready()
            assert server.process is not None
            mix, left_out = build_mix(server.origin, DEFAULT_BASE)
            sampler = Sampler(server.process.pid, args.sample_seconds)
            start = time.monotonic()
            thread = sampler.start(start)
            failures: list[dict[str, Any]] = []
            retried: list[dict[str, Any]] = []
            try:
                seconds = args.minutes * 60
                records = asyncio.run(
                    drive(server.origin, mix, args.connections, seconds, args.timeout, tag, failures, retried)
                )
            finally:
                sampler.stop(thread)
            alive = server.alive()
        finally:
            how = server.stop()
            server_log = server.log_path.read_text(errors="replace")[-4000:]
    memory = memory_summary(sampler.samples, args.warmup_minutes * 60, args.flat_tolerance)
    minutes = per_minute(records, sampler.samples)
    errors = sum(m["errors"] for m in minutes)
    flat = all(bool(p["flat"]) for p in memory["processes"])
    result = {
        "date": date.isoformat(timespec="seconds"),
        "connections": args.connections,
        "requests": len(records),
        "minutes": minutes,
        "mix": [e.name for e in mix],
        "left_out": left_out,
        "failures": failures,
        "retried": retried,
        "memory": memory,
        "errors": errors,
        "memory_flat": flat,
        "server_alive_at_end": alive,
        "server_stopped": how,
        "cpus": os.cpu_count(),
        "pass": errors == 0 and flat and alive,
    }
    if result["pass"] is False:
        result["server_log_tail"] = server_log
    report = render(result, args)
    print(report)
    if not args.no_write:
        stem = RESULTS / f"soak-{date.date().isoformat()}"
        stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
        stem.with_suffix(".md").write_text(report)
    return 0 if result["pass"] else 1


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def render(result: dict[str, Any], args: argparse.Namespace) -> str:
    cache = "" if args.answer_cache_bytes is None else f"; answer cache {args.answer_cache_bytes} bytes"
    copies = (
        ""
        if args.replicate == 1
        else f" with its plans copied {args.replicate} times under distinct plan IRIs "
        f"(bench/replicate.py: {args.triples:,} triples)"
    )
    lines = [
        f"# Soak, {result['date']}",
        "",
        f"`python -m bench.soak --minutes {args.minutes} --connections {args.connections}` (`make soak`): "
        f"plankg serve as deployed (one server process per core, answer cache on; per-client limits "
        f"lifted: one load generator is one client{cache}) over `{args.store}`{copies}, an asyncio client "
        f"(httpx) with {args.connections} keep-alive connections sending without a break, a mix of "
        f"{len(result['mix'])} requests in turn: "
        "each canned query by `/queries/{name}` (cached after the first) and by its text on `/sparql` "
        "made distinct per request (evaluated every time), and the raw bench queries made distinct. "
        f"Machine: {result['cpus']} CPUs, shared with other jobs (load averages below: 1, 5, 15 min).",
        "",
        f"**{'PASS' if result['pass'] else 'FAIL'}**: {result['errors']} errors "
        f"(any status but 200, client timeouts, connection errors) in {result['requests']} requests; "
        "memory flat after warm-up: "
        f"{'yes' if result['memory_flat'] else 'NO'} (every process within "
        f"{args.flat_tolerance:.0%} of its RSS at {args.warmup_minutes:g} min).",
        "",
        "## Latency per minute",
        "",
        "| minute | requests | req/s | errors | p50 ms | p90 ms | p99 ms | max ms | load average |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in result["minutes"]:
        lines.append(
            f"| {m['minute']} | {m['requests']} | {m['rps']} | {m['errors']} | {m['p50_ms']:.1f} | "
            f"{m['p90_ms']:.1f} | {m['p99_ms']:.1f} | {m['max_ms']:.1f} | "
            f"{' '.join(str(x) for x in m['loadavg'])} |"
        )
    lines += [
        "",
        "## Memory (RSS) of the server's processes",
        "",
        "Total of every process in the server's session, one line a minute (the sample nearest the "
        "minute's end):",
        "",
        "| t (s) | processes | total RSS MiB |",
        "|---:|---:|---:|",
    ]
    totals = result["memory"]["totals"]
    for minute in range(0, args.minutes + 1):
        near = min(totals, key=lambda s: abs(s["t"] - minute * 60))
        lines.append(f"| {near['t']:g} | {near['processes']} | {_mib(near['total_kib'])} |")
    lines += [
        "",
        f"Each process: RSS at its first sample, after warm-up ({args.warmup_minutes:g} min, or its first "
        "sample if it started later), at the end, the peak after warm-up and the growth from warm-up "
        "to peak:",
        "",
        "| pid | role | seen (s) | first MiB | after warm-up MiB | end MiB | peak MiB | growth |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for p in result["memory"]["processes"]:
        lines.append(
            f"| {p['pid']} | {p['role']} | {p['first_t']:g}–{p['last_t']:g} | {_mib(p['rss_first_kib'])} | "
            f"{_mib(p['rss_after_warmup_kib'])} | {_mib(p['rss_end_kib'])} | "
            f"{_mib(p['rss_peak_after_warmup_kib'])} | {p['growth_after_warmup']:+.1%} |"
        )
    if result["retried"]:
        lines += [
            "",
            f"## Sent again ({len(result['retried'])})",
            "",
            "A kept-alive connection closed by the server as idle just as the request went out (the "
            "race RFC 9112, 9.3.1 lets a client retry an idempotent request for); sent again once, "
            "and answered (a second failure would be an error above):",
            "",
        ]
        lines += [f"- {json.dumps(f, ensure_ascii=False)}" for f in result["retried"][:40]]
    if result["failures"]:
        lines += ["", "## Failed requests", ""]
        lines += [f"- {json.dumps(f, ensure_ascii=False)}" for f in result["failures"][:40]]
    lines += ["", "## The mix", "", ", ".join(result["mix"]) + "."]
    if result["left_out"]:
        lines += ["", "Left out (the check before the run did not answer 200):", ""]
        lines += [f"- {name}: {why}" for name, why in result["left_out"].items()]
    p50s = [m["p50_ms"] for m in result["minutes"]]
    if p50s:
        lines += ["", f"Median of the per-minute p50s: {statistics.median(p50s):.1f} ms."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
