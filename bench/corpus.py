"""Cost growth of ``plankg build`` with the size of the corpus (``make bench-corpus``).

A deterministic generator writes fictional plans of the Jinan genre (pillars ``一、`` opening with a
key-project statistics paragraph whose stages add up, tasks ``（一）`` numbered across the pillars),
varied by a seeded random generator: the issuing place (catalogued divisions, and invented ones the
catalogue does not know), the period, 2–6 pillars of 1–5 tasks, targets of curated indicators, and
catalogued organisations named in the tasks. Nothing in it is the text of a real document.

For each corpus size (default 1, 10, 100, 1000) it runs ``plankg build`` in a fresh process on a
fresh output directory and records the wall time and the peak resident memory of that process (from
``wait4``), then changes one plan and builds again (the per-plan cache re-reads only that plan). On the
largest corpus built it starts the app in-process over the store and records each canned query's
latency (median of 5, default parameters). The fitted exponent is the slope of log(time) over
log(plans) by least squares. Results: ``bench/results/{date}-corpus.{md,json}``.

    python -m bench.corpus --sizes 1 10 100 1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
NUMERALS = "一二三四五六七八九十"
PLACES = ["济南市", "临沂市", "山东省", "商河县", "章丘区", "平阴县", "莱芜区", "济阳区"]
INVENTED_PLACES = ["青禾市", "云岭县", "石泉市", "北湾区", "南溪县"]
ORGANISATIONS = ["山东大学", "中国科学院", "首都医科大学", "泉城实验室", "国家机器人创新中心"]
TOPICS = ["绿色低碳", "科技创新", "乡村振兴", "先进制造", "现代物流", "文化旅游", "数字经济", "生态保护"]
TARGETS = [("人才总量", "万人"), ("经济外向度", "%"), ("总部企业", "家")]


def chinese_numeral(n: int) -> str:
    """1–99 as a Chinese numeral (一 … 十 … 九十九)."""
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else NUMERALS[tens - 1]
    return head + "十" + (NUMERALS[ones - 1] if ones else "")


def plan_text(index: int, rng: random.Random) -> str:
    """The text of fictional plan ``index``: title, period, preamble, pillars with statistics and tasks."""
    place = rng.choice(PLACES + INVENTED_PLACES)
    first = rng.randint(2021, 2027)
    last = first + 2
    topic = rng.choice(TOPICS)
    lines = [
        f"{place}推进{topic}第{chinese_numeral(index % 99 + 1)}批重点工作（编号{index}）",
        "",
        "三年行动计划",
        "",
        f"（{first}—{last}年）",
        "",
        f"　　为推进{topic}，结合实际，制定本计划。",
        "",
    ]
    task = 0
    for p in range(1, rng.randint(2, 6) + 1):
        tasks = rng.randint(1, 5)
        cont, new, reserve = rng.randint(1, 20), rng.randint(1, 20), rng.randint(1, 20)
        ci, ni, ri = (rng.randint(10, 900) + rng.randint(0, 99) / 100 for _ in range(3))
        total = round(ci + ni + ri, 2)
        lines += [
            f"{NUMERALS[p - 1]}、聚力推动{rng.choice(TOPICS)}，在第{p}领域上走在前列",
            "",
            f"认真抓好{tasks}项重点工作，扎实推进总投资{total:g}亿元的{cont + new + reserve}个重点项目，其中"
            f"续建项目{cont}个，总投资{ci:g}亿元，计划{first}年新开工项目{new}个，总投资{ni:g}亿元，"
            f"计划{first + 1}年、{last}年开工的谋划储备项目{reserve}个，总投资{ri:g}亿元。",
        ]
        for _ in range(tasks):
            task += 1
            body = f"（{chinese_numeral(task)}）推进第{task}项工作。"
            if rng.random() < 0.5:
                body += f"支持{rng.choice(ORGANISATIONS)}参与建设。"
            if rng.random() < 0.6:
                name, unit = rng.choice(TARGETS)
                body += f"到{last}年，{name}达到{rng.randint(2, 900)}{unit}。"
            lines.append(body)
    return "\n".join(lines) + "\n"


def generate(count: int, directory: Path, seed: int = 8) -> list[Path]:
    """Write ``count`` plans into ``directory`` (deterministic for a seed); their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        path = directory / f"plan-{i:04d}.txt"
        path.write_text(plan_text(i, rng), encoding="utf-8")
        paths.append(path)
    return paths


def timed_build(seeds: Path, out: Path) -> dict[str, float]:
    """``plankg build`` in its own process: wall seconds and peak RSS (MiB) from wait4."""
    command = [
        sys.executable,
        "-m",
        "server.cli",
        "build",
        "--quiet",
        "--seeds",
        str(seeds),
        "--dist",
        str(out / "dist"),
        "--store",
        str(out / "var" / "store"),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(
            f"build of {seeds} failed: {process.stderr.read().decode() if process.stderr else ''}"
        )
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}


def query_latencies(out: Path) -> dict[str, float]:
    """Median latency (ms, of 5) of every canned query with its defaults, over the built store."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        from server.app import create_app
        from server.settings import Settings

    settings = Settings(store_dir=out / "var" / "store", dist_dir=out / "dist")
    latencies = {}
    with TestClient(create_app(settings)) as client:
        names = [
            q["name"]
            for q in client.get("/queries", headers={"Accept": "application/json"}).json()["queries"]
        ]
        for name in names:
            times = []
            for _ in range(5):
                t = time.perf_counter()
                response = client.get(
                    f"/queries/{name}", headers={"Accept": "application/sparql-results+json"}
                )
                times.append((time.perf_counter() - t) * 1000)
            latencies[name] = (
                round(statistics.median(times), 1) if response.status_code == 200 else -response.status_code
            )
    return latencies


def fit_exponent(points: list[tuple[int, float]]) -> float | None:
    usable = [(math.log(n), math.log(t)) for n, t in points if n > 0 and t > 0]
    if len(usable) < 2:
        return None
    mx = sum(x for x, _ in usable) / len(usable)
    my = sum(y for _, y in usable) / len(usable)
    return sum((x - mx) * (y - my) for x, y in usable) / sum((x - mx) ** 2 for x, _ in usable)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    runs = []
    work = Path(tempfile.mkdtemp(prefix="plankg-bench-corpus-"))
    try:
        largest = None
        for size in args.sizes:
            seeds, out = work / f"seeds-{size}", work / f"out-{size}"
            paths = generate(size, seeds, args.seed)
            cold = timed_build(seeds, out)
            changed = paths[len(paths) // 2]
            changed.write_text(
                changed.read_text(encoding="utf-8").replace("推进第1项工作", "推进第1项改动后的工作"),
                encoding="utf-8",
            )
            rebuild = timed_build(seeds, out)
            runs.append({"plans": size, "cold": cold, "rebuild_one_changed": rebuild})
            print(json.dumps(runs[-1]), flush=True)
            largest = out
        exponent = fit_exponent([(r["plans"], r["cold"]["seconds"]) for r in runs])
        latencies = query_latencies(largest) if largest else {}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(runs, exponent, latencies, args.sizes[-1])
    return 0


def write_results(
    runs: list[dict[str, object]], exponent: float | None, latencies: dict[str, float], served: int
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    day = dt.date.today().isoformat()
    data = {
        "date": day,
        "cpus": os.cpu_count(),
        "runs": runs,
        "fitted_exponent": exponent,
        "served_plans": served,
        "canned_query_median_ms": latencies,
    }
    (RESULTS / f"{day}-corpus.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    lines = [
        f"# plankg build: cost growth with the corpus ({day})",
        "",
        "`python -m bench.corpus` (`make bench-corpus`): fictional plans of the Jinan genre from a seeded",
        "generator; each build in its own process (wall time, peak RSS from wait4); then one plan changed",
        "and the build run again (per-plan cache).",
        "",
        "| plans | cold build (s) | peak RSS (MiB) | rebuild, one plan changed (s) | its peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        cold, warm = r["cold"], r["rebuild_one_changed"]
        assert isinstance(cold, dict) and isinstance(warm, dict)
        lines.append(
            f"| {r['plans']} | {cold['seconds']} | {cold['peak_rss_mib']} "
            f"| {warm['seconds']} | {warm['peak_rss_mib']} |"
        )
    lines += [
        "",
        f"Fitted exponent of cold build time over plans (least squares on log–log): {exponent:.2f}"
        if exponent is not None
        else "Fitted exponent: (fewer than two sizes)",
        "",
        f"## Canned queries over the {served}-plan graph (median of 5, ms, default parameters)",
        "",
        "| query | ms |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {ms} |" for name, ms in sorted(latencies.items())]
    (RESULTS / f"{day}-corpus.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
