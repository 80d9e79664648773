"""``make bench-noisy``: a noisy neighbour beside a quiet client on one plankg server, in one run.

The noisy client (source address 127.0.0.2) keeps 32 connections busy with heavy, distinct queries
(a two-hop join counted, never the same text twice, so the answer cache does not help); the quiet client
(127.0.0.3) asks a cheap distinct query 10 times a second. The run has two phases on the same server,
one after the other: the quiet client alone, then the quiet client beside the noisy one; the load
average is read at the start and end of each. The quiet client runs in a process of its own (so that
its latencies are the server's, not the waits of an event loop shared with 32 noisy connections).
Reported: the quiet client's latency percentiles and errors in each phase, the noisy client's answers
by status. The target of issue 12: the quiet client's p99 under 100 ms with no error beside the noise.
Results go to bench/results/noisy-<date>.{json,md}.

    python -m bench.noisy [--store var/store] [--dist dist] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE {{ ?a ?p ?b . ?b ?q ?c . ?c ?r ?d FILTER(STRLEN(STR(?d)) > {n}) }}"
CHEAP = (
    "SELECT ?label WHERE {{ <http://127.0.0.1:8000/id/plan> ?p ?label "
    "FILTER(isLiteral(?label) && STRLEN(STR(?label)) > {n}) }} LIMIT 5"
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def noisy(url: str, stop: float, counts: Counter[str]) -> None:
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(transport=transport, timeout=60) as client:
        serial = iter(range(10**9))

        async def connection() -> None:
            while time.monotonic() < stop:
                query = HEAVY.format(n=next(serial) % 1000 + 1000 * next(serial))
                try:
                    r = await client.post(url, data={"query": query})
                    counts[str(r.status_code)] += 1
                    if r.status_code == 429:
                        await asyncio.sleep(float(r.headers.get("retry-after", "1")) / 10)
                except httpx.HTTPError as exc:
                    counts[type(exc).__name__] += 1

        await asyncio.gather(*(connection() for _ in range(32)))


async def quiet(url: str, stop: float, rate: float) -> tuple[list[float], Counter[str]]:
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.3")
    latencies: list[float] = []
    counts: Counter[str] = Counter()
    async with httpx.AsyncClient(transport=transport, timeout=30) as client:
        n = 0
        next_at = time.monotonic()
        while next_at < stop:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            n += 1
            start = time.perf_counter()
            try:
                r = await client.get(url, params={"query": CHEAP.format(n=n)})
                counts[str(r.status_code)] += 1
            except httpx.HTTPError as exc:
                counts[type(exc).__name__] += 1
            latencies.append((time.perf_counter() - start) * 1000)
            next_at += 1 / rate
    return latencies, counts


def quiet_summary(latencies: list[float], counts: Counter[str]) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "statuses": dict(counts),
        "errors": sum(v for k, v in counts.items() if k != "200"),
        "p50_ms": round(statistics.median(latencies), 1),
        "p90_ms": round(percentile(latencies, 90), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
    }


def quiet_process(url: str, seconds: float) -> dict[str, Any]:
    """The quiet client in a process of its own (``python -m bench.noisy --quiet-only URL``)."""
    command = [sys.executable, "-m", "bench.noisy", "--quiet-only", url, "--seconds", str(seconds)]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=seconds + 120, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def scenario(url: str, seconds: float, with_noise: bool = True) -> dict[str, Any]:
    load_before = os.getloadavg()
    stop = time.monotonic() + seconds + 2
    noisy_counts: Counter[str] = Counter()
    noise = asyncio.create_task(noisy(url, stop if with_noise else 0, noisy_counts))
    await asyncio.sleep(2)  # the noisy client has filled its slots and queue
    quiet_result = await asyncio.to_thread(quiet_process, url, seconds)
    await noise
    return {
        "seconds": seconds,
        "with_noise": with_noise,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "quiet": quiet_result,
        "noisy": {"connections": 32 if with_noise else 0, "statuses": dict(noisy_counts)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--store", default="var/store")
    parser.add_argument("--dist", default="dist")
    parser.add_argument("--seconds", type=float, default=60, help="of each phase")
    parser.add_argument("--quiet-only", metavar="URL", help=argparse.SUPPRESS)  # the quiet client's process
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PLANKG_X=V",
        help="a server setting for this run (e.g. PLANKG_CLIENT_HEAVY_SECONDS=0: the reserve and the "
        "background priority off); the results file is then named by it",
    )
    args = parser.parse_args(argv)
    if args.quiet_only:
        latencies, counts = asyncio.run(quiet(args.quiet_only, time.monotonic() + args.seconds, rate=10))
        print(json.dumps(quiet_summary(latencies, counts)))
        return 0
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANKG_")}
    overrides = dict(item.split("=", 1) for item in args.set)
    env.update(overrides)
    command = [sys.executable, "-m", "server.cli", "serve", "--store", args.store, "--dist", args.dist]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        origin = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(origin + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        alone = asyncio.run(scenario(origin + "/sparql", args.seconds, with_noise=False))
        beside = asyncio.run(scenario(origin + "/sparql", args.seconds, with_noise=True))
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": "defaults: one server process per core, 2 query workers each, per-client limits "
        "(server.ops.fairness) as configured by default"
        + "".join(f"; {k}={v}" for k, v in overrides.items()),
        "alone": alone,
        "with_noise": beside,
    }
    result["target_met"] = beside["quiet"]["p99_ms"] < 100 and beside["quiet"]["errors"] == 0
    suffix = "".join(f"-{k.removeprefix('PLANKG_').lower()}-{v}" for k, v in overrides.items())
    stem = RESULTS / f"noisy-{dt.date.today().isoformat()}{suffix}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    rows = []
    for name, phase in (("alone", alone), ("beside the noisy client", beside)):
        q = phase["quiet"]
        load = (
            ", ".join(f"{x:g}" for x in phase["loadavg_before"])
            + " → "
            + ", ".join(f"{x:g}" for x in phase["loadavg_after"])
        )
        rows.append(
            f"| {name} | {q['requests']} | {q['errors']} | {q['p50_ms']} ms | {q['p90_ms']} ms "
            f"| {q['p99_ms']} ms | {q['max_ms']} ms | {load} |"
        )
    stem.with_suffix(".md").write_text(
        f"# Noisy neighbour, {result['date']}\n\n"
        f"`python -m bench.noisy --seconds {args.seconds:g}{''.join(f' --set {s}' for s in args.set)}` "
        "(`make bench-noisy`); plankg serve with "
        f"{result['settings']}. Both phases in one run on the same server; the machine is shared "
        "(2 cores, other jobs running): the load averages (1, 5, 15 min) are those before → after "
        "each phase.\n\n"
        "| quiet client (10/s, cheap distinct query) | requests | errors | p50 | p90 | p99 | max | load |\n"
        "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Noisy client, 32 connections of heavy distinct queries: {beside['noisy']['statuses']}.\n\n"
        f"Target (p99 < 100 ms beside the noise, 0 errors): {'met' if result['target_met'] else 'NOT met'}.\n"
    )
    print(json.dumps(result, indent=2))
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
