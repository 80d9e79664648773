"""From the raw results (a JSON-able dict) to ratios, goals and the Markdown report. No I/O here.

The raw results hold ``runs`` (one per server, route, query and concurrency: ``rps``, ``p50_ms``,
``p99_ms``, ``failures`` or a ``note`` saying why it was not timed), ``probes`` (the hostile-query
probe per server) and metadata. Everything in the report is computed from them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The series of the tables: (server key, route) → column heading.
SERIES: tuple[tuple[str, str, str], ...] = (
    ("ours", "canned", "plankg cached, /queries"),
    ("ours", "sparql", "plankg cached, /sparql"),
    ("ours-nocache", "canned", "plankg no cache, /queries"),
    ("ours-nocache", "sparql", "plankg no cache, /sparql"),
    ("oxigraph", "sparql", "oxigraph"),
    ("rdflib", "sparql", "rdflib-endpoint"),
    ("ours-virtuoso", "canned", "plankg over virtuoso, /queries"),
    ("ours-virtuoso", "sparql", "plankg over virtuoso, /sparql"),
    ("virtuoso", "sparql", "virtuoso"),
)
# The distinct-query mode: every request a new query text (bench/wrk.py), compared with oxigraph driven
# the same way.
DISTINCT_SERIES: tuple[tuple[str, str, str], ...] = (
    ("ours", "distinct", "plankg (cache on), distinct"),
    ("ours-nocache", "distinct", "plankg no cache, distinct"),
    ("oxigraph", "distinct", "oxigraph, distinct"),
)
REFERENCE = ("oxigraph", "sparql")
DISTINCT_REFERENCE = ("oxigraph", "distinct")
DISTINCT_P99_FACTOR = 2.0
RDFLIB = ("rdflib", "sparql")
GOAL_CONCURRENCY = 16
PROBE_P99_MS = 100.0

Run = Mapping[str, Any]


def ratio(value: float | None, reference: float | None) -> float | None:
    """value / reference, or None when either is missing or the reference is zero."""
    if value is None or reference is None or reference <= 0:
        return None
    return value / reference


def geomean(values: Iterable[float]) -> float | None:
    items = [v for v in values if v > 0]
    if not items:
        return None
    return math.exp(sum(math.log(v) for v in items) / len(items))


def timed(run: Run | None) -> bool:
    """A run that produced a result: timed, with at least one successful response and no failures."""
    return run is not None and run.get("rps") is not None and not run.get("failures") and run["rps"] > 0


def index(runs: Iterable[Run]) -> dict[tuple[str, str, str, int], Run]:
    return {(r["server"], r["route"], r["query"], int(r["concurrency"])): r for r in runs}


def rps_of(runs: Mapping[tuple[str, str, str, int], Run], key: tuple[str, str, str, int]) -> float | None:
    run = runs.get(key)
    return float(run["rps"]) if run is not None and timed(run) else None


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def cell(run: Run | None, reference_rps: float | None) -> str:
    """``req/s · p50/p99 ms · ×ratio``; the note (or the failures) when not a clean result."""
    if run is None:
        return "—"
    if run.get("rps") is None:
        return str(run.get("note") or "not timed")
    text = f"{_num(run['rps'])}/s · {_num(run['p50_ms'])}/{_num(run['p99_ms'])} ms"
    r = ratio(run["rps"], reference_rps)
    if r is not None and run["server"] != REFERENCE[0]:
        text += f" · ×{r:.2f}"
    if run.get("failures"):
        text += f" · **{run['failures']} failed**"
    return text


def throughput_table(
    results: Mapping[str, Any],
    concurrency: int,
    series: Sequence[tuple[str, str, str]] = SERIES,
    reference_series: tuple[str, str] = REFERENCE,
) -> list[str]:
    runs = index(results["runs"])
    names = list(results["queries"])
    lines = [
        "| query | " + " | ".join(label for _, _, label in series) + " |",
        "|---|" + "---|" * len(series),
    ]
    for name in names:
        canned = results["queries"][name]["canned"]
        reference = rps_of(runs, (*reference_series, name, concurrency))
        cells = []
        for server, route, _ in series:
            if route == "canned" and not canned:
                cells.append("")
                continue
            cells.append(cell(runs.get((server, route, name, concurrency)), reference))
        shown = f"{name} (canned)" if canned else name
        lines.append(f"| {shown} | " + " | ".join(cells) + " |")
    return lines


@dataclass(frozen=True)
class Goal:
    text: str
    met: bool | None  # None: could not be measured
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"goal": self.text, "met": self.met, "detail": self.detail}


def _ratios(
    results: Mapping[str, Any], series: tuple[str, str], reference: tuple[str, str], canned_only: bool = True
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Per query: series req/s ÷ reference req/s at the goal concurrency; and why a query has none."""
    runs = index(results["runs"])
    out: dict[str, float | None] = {}
    why: dict[str, str] = {}
    for name, query in results["queries"].items():
        if canned_only and not query["canned"]:
            continue
        value = rps_of(runs, (*series, name, GOAL_CONCURRENCY))
        out[name] = ratio(value, rps_of(runs, (*reference, name, GOAL_CONCURRENCY)))
        if out[name] is None:
            for key in (series, reference):
                run = runs.get((*key, name, GOAL_CONCURRENCY))
                if run is not None and not timed(run):
                    why[name] = f"{key[0]}: {run.get('note') or 'failed'}"
                    break
    return out, why


def ratio_goal(
    text: str, ratios: Mapping[str, float | None], target: float, why: Mapping[str, str] | None = None
) -> Goal:
    """Met when the geometric mean of the per-query ratios reaches ``target``; the detail names the
    queries below it and those that could not be compared (with the reason, when known)."""
    known = {k: v for k, v in ratios.items() if v is not None}
    missing = sorted(f"{k} ({why[k]})" if why and k in why else k for k, v in ratios.items() if v is None)
    mean = geomean(known.values())
    if mean is None:
        return Goal(
            text, None, "nothing to compare" + (f" (not compared: {', '.join(missing)})" if missing else "")
        )
    below = sorted((k for k, v in known.items() if v < target), key=lambda k: known[k])
    detail = (
        f"geometric mean ×{mean:.2f} over {len(known)} queries, min ×{min(known.values()):.2f}, "
        f"max ×{max(known.values()):.2f}; {len(known) - len(below)}/{len(known)} queries "
        f"at ×{target:g} or more"
    )
    if below:
        detail += "; below: " + ", ".join(f"{k} ×{known[k]:.2f}" for k in below)
    if missing:
        detail += "; not compared: " + ", ".join(missing)
    return Goal(text, mean >= target, detail)


def distinct_goals(results: Mapping[str, Any], server: str) -> list[Goal]:
    """The distinct-query goals for ``server`` against oxigraph driven the same way, at c=16, over every
    query both answered: throughput ≥ 1.0× as the geometric mean and ≥ 0.5× on each query, p99 within
    2× of oxigraph's on each query, no failed request."""
    runs = index(results["runs"])
    series = (server, "distinct")
    ratios, why = _ratios(results, series, DISTINCT_REFERENCE, canned_only=False)
    if not any(runs.get((*series, name, GOAL_CONCURRENCY)) for name in results["queries"]):
        return []
    label = f"distinct queries, c=16: {server}"
    mean = ratio_goal(f"{label} ≥ 1.0× oxigraph (geometric mean)", ratios, 1.0, why)
    ours_missing = [
        name
        for name, value in ratios.items()
        if value is None and not timed(runs.get((*series, name, GOAL_CONCURRENCY)))
    ]
    if (
        mean.met and ours_missing
    ):  # a query we failed or did not run is not a pass (oxigraph's failure is not ours)
        mean = Goal(mean.text, False, mean.detail)
    out = [mean]
    known = {k: v for k, v in ratios.items() if v is not None}
    below = sorted(k for k, v in known.items() if v < 0.5)
    out.append(
        Goal(
            f"{label} ≥ 0.5× oxigraph on every query",
            bool(known) and not below and not ours_missing,
            ", ".join(f"{k} ×{known[k]:.2f}" for k in below) or f"all {len(known)} compared queries",
        )
    )
    p99: dict[str, float] = {}
    failed: list[str] = []
    for name in results["queries"]:
        ours = runs.get((*series, name, GOAL_CONCURRENCY))
        theirs = runs.get((*DISTINCT_REFERENCE, name, GOAL_CONCURRENCY))
        if ours is not None and ours.get("failures"):
            failed.append(f"{name} ({ours['failures']})")
        if timed(ours) and timed(theirs) and theirs is not None and ours is not None:
            p99[name] = float(ours["p99_ms"]) / max(float(theirs["p99_ms"]), 1e-3)
    over = sorted((k for k, v in p99.items() if v > DISTINCT_P99_FACTOR), key=lambda k: -p99[k])
    detail = (
        f"p99 ratio max ×{max(p99.values()):.2f}, geometric mean ×{geomean(p99.values()) or 0:.2f}"
        if p99
        else "nothing to compare"
    )
    if over:
        detail += "; above: " + ", ".join(f"{k} ×{p99[k]:.2f}" for k in over)
    out.append(
        Goal(
            f"{label} p99 ≤ {DISTINCT_P99_FACTOR:g}× oxigraph's on every query",
            bool(p99) and not over,
            detail,
        )
    )
    out.append(
        Goal(
            f"{label}: no failed request",
            not failed,
            "failed: " + ", ".join(failed) if failed else "none failed",
        )
    )
    return out


def distinct_p99_table(results: Mapping[str, Any]) -> list[str]:
    """Per query at c=16 in the distinct mode: req/s ratio and p99 ratio of each plankg series to oxigraph."""
    runs = index(results["runs"])
    ours = [s for s in DISTINCT_SERIES if (s[0], s[1]) != DISTINCT_REFERENCE]
    lines = [
        "| query | " + " | ".join(f"{label}: req/s ratio · p99 ratio" for _, _, label in ours) + " |",
        "|---|" + "---|" * len(ours),
    ]
    for name in results["queries"]:
        theirs = runs.get((*DISTINCT_REFERENCE, name, GOAL_CONCURRENCY))
        cells = []
        for server, route, _ in ours:
            run = runs.get((server, route, name, GOAL_CONCURRENCY))
            if run is None or not timed(run):
                cells.append(str((run or {}).get("note") or ("failed" if run else "—")))
                continue
            if theirs is None or not timed(theirs):
                cells.append(f"oxigraph: {(theirs or {}).get('note') or ('failed' if theirs else 'not run')}")
                continue
            r = float(run["rps"]) / float(theirs["rps"])
            p = float(run["p99_ms"]) / max(float(theirs["p99_ms"]), 1e-3)
            cells.append(f"×{r:.2f} · ×{p:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def probe_goal(results: Mapping[str, Any], server: str) -> Goal:
    probe = next((p for p in results.get("probes", []) if p["server"] == server), None)
    text = f"{server}: simple-query p99 < {PROBE_P99_MS:g} ms while a hostile query runs"
    if probe is None:
        return Goal(text, None, "not probed")
    parts, met = [], True
    for level in probe["simple"]:
        run = level
        if run.get("rps") is None:
            parts.append(f"c={run['concurrency']}: {run.get('note', 'not timed')}")
            met = False
            continue
        ok = timed(run) and run["p99_ms"] < PROBE_P99_MS
        met = met and ok
        failed = f", {run['failures']} failed" if run.get("failures") else ""
        parts.append(f"c={run['concurrency']}: p99 {_num(run['p99_ms'])} ms{failed}")
    return Goal(text, met, "; ".join(parts))


def goals(results: Mapping[str, Any]) -> list[Goal]:
    specs = (
        ("canned queries, c=16: plankg (cache on, /queries) ≥ 0.8× oxigraph", "ours", REFERENCE, 0.8),
        (
            "canned queries, c=16: plankg (cache off, /queries) ≥ 0.5× oxigraph",
            "ours-nocache",
            REFERENCE,
            0.5,
        ),
        ("canned queries, c=16: plankg (cache on, /queries) ≥ 10× rdflib-endpoint", "ours", RDFLIB, 10.0),
        (
            "canned queries, c=16: plankg (cache off, /queries) ≥ 10× rdflib-endpoint",
            "ours-nocache",
            RDFLIB,
            10.0,
        ),
    )
    out = []
    for text, server, reference, target in specs:
        ratios, why = _ratios(results, (server, "canned"), reference)
        out.append(ratio_goal(text, ratios, target, why))
    out += [probe_goal(results, server) for server in ("ours", "ours-nocache")]
    for server in ("ours", "ours-nocache"):
        out += distinct_goals(results, server)
    return out


def probe_table(results: Mapping[str, Any]) -> list[str]:
    lines = [
        "| server | hostile query | simple query c=1: req/s · p50/p99 | c=16: req/s · p50/p99 |",
        "|---|---|---|---|",
    ]
    labels = {p["server"]: p.get("label", p["server"]) for p in results.get("probes", [])}
    for probe in results.get("probes", []):
        cells = []
        for run in probe["simple"]:
            cells.append(cell(run, None))
        while len(cells) < 2:
            cells.append("—")
        lines.append(
            f"| {labels[probe['server']]} | {probe['hostile']['outcome']} | " + " | ".join(cells) + " |"
        )
    return lines


def markdown(results: Mapping[str, Any], goal_list: Sequence[Goal]) -> str:
    meta = results["meta"]
    out = [
        f"# plankg benchmark, {meta['date']}",
        "",
        f"Run by `make bench` (`python -m bench.run`) at commit `{meta['commit']}`, "
        f"in {meta['seconds']:.0f} s, on {meta['machine']}. "
        f"Load average before/after (other work on the machine): "
        f"{meta['load_average']['before'][0]:.1f}/{meta['load_average']['after'][0]:.1f}. "
        f"Code measured: {meta['code']}. Graph: build `{meta['build_id']}`, {meta['triples']} triples. "
        f"Each query ran {meta['duration']:g} s per concurrency level with wrk (one thread, keep-alive), "
        "GET with `Accept: application/sparql-results+json`, after a check that the server gives our "
        "row count.",
        "",
        "Servers: " + "; ".join(f"**{k}** {v}" for k, v in meta["servers"].items()) + ".",
        "",
        "Cells: successful responses per second · latency p50/p99 in ms · ratio to oxigraph's req/s for the "
        "same query and concurrency. A cell without numbers says why the query was not timed there.",
        "",
        "## Goals",
        "",
    ]
    for goal in goal_list:
        mark = {True: "met", False: "**missed**", None: "not measured"}[goal.met]
        out.append(f"- {goal.text}: {mark}. {goal.detail}")
    for concurrency in results["meta"]["concurrency"]:
        out += ["", f"## Throughput and latency, concurrency {concurrency}", ""]
        out += throughput_table(results, concurrency)
    if any(r["route"] == "distinct" for r in results["runs"]):
        out += [
            "",
            "## Distinct queries (every request a new query text, so no cache helps)",
            "",
            "Each request's query ends with a comment naming the run and the request; ratios are to "
            "oxigraph driven the same way.",
        ]
        for concurrency in results["meta"]["concurrency"]:
            out += ["", f"### Concurrency {concurrency}", ""]
            out += throughput_table(results, concurrency, DISTINCT_SERIES, DISTINCT_REFERENCE)
        out += ["", f"### Ratios to oxigraph at c={GOAL_CONCURRENCY}", ""]
        out += distinct_p99_table(results)
    out += [
        "",
        "## Hostile-query probe",
        "",
        f"`{meta['hostile']}` runs in the background while `{meta['simple']}` is driven at "
        f"c=1 and c=16 for {meta['probe_seconds']:g} s each.",
        "",
    ]
    out += probe_table(results)
    if results.get("notes"):
        out += ["", "## Notes", ""] + [f"- {n}" for n in results["notes"]]
    return "\n".join(out) + "\n"
