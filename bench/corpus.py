"""Cost growth of ``plankg build`` with the size of the corpus (``make bench-corpus``).

A deterministic generator writes fictional plans of the Jinan genre (pillars ``一、`` opening with a
key-project statistics paragraph whose stages add up, tasks ``（一）`` numbered across the pillars),
varied by a seeded random generator: the issuing place (catalogued divisions, and invented ones the
catalogue does not know), the period, 2–6 pillars of 1–5 tasks, targets of curated indicators, and
catalogued organisations named in the tasks. Nothing in it is the text of a real document.

For each corpus size (default 1, 10, 100, 1000) it runs ``plankg build`` in a fresh process on a
fresh output directory and records the wall time and the peak resident memory of that process (from
``wait4`` and from the build's own report of each stage's peak, ``mapping.memory``: its process's
``VmHWM`` reset at the stage's start, and the largest worker process that ended in the stage), then
changes one plan and builds again (the per-plan cache re-reads only that plan). After each cold
build it measures the store's own needs for that build (``bench.store_needs``: a fresh process that
loads the build's quads, compacts the store and reads every quad once) and reports the builds' peaks
above it. On the
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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from bench.store_needs import store_needs

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


# The general layout (GB/T 9704-2012): frame parts and action parts, each written in one of these
# forms of the markers (full- and half-width brackets and points, as plans print them).
PAREN_STYLES = [("（", "）"), ("(", ")")]
POINT_STYLES = ["．", ".", "、"]
FRAME_FIRST = [("总体要求", ["指导思想", "主要目标"]), ("总体思路", ["基本原则", "发展目标"])]
FRAME_LAST = ["保障措施", "强化组织保障", "加强组织领导"]
ACTIONS = ["提升", "培育", "完善", "推动", "加快", "健全", "优化", "强化"]
SUBJECTS = ["产业链条", "服务体系", "创新平台", "基础设施", "人才队伍", "应用场景", "市场主体", "园区载体"]
SECTORS = ["装备制造", "新材料", "现代农业", "生物医药", "商贸流通", "文化创意"]


def general_plan_text(index: int, rng: random.Random) -> str:
    """The text of fictional plan ``index`` in the general official numbering: ``一、`` parts (a frame
    part first, ``保障措施``-like last), ``（一）`` sections numbered restarting in every part or running
    across the document, ``1.`` items and ``（1）`` sub-items at a varying depth, with targets,
    organisations and places in the text of divisions of every level."""
    place = rng.choice(PLACES + INVENTED_PLACES)
    first = rng.randint(2021, 2027)
    last = first + rng.choice([2, 3, 4])
    topic = rng.choice(TOPICS)
    kind = rng.choice(["实施方案", "行动方案", "工作方案"])
    restart = rng.random() < 0.6  # sections restart under every part, or run across the document
    depth = rng.choice([2, 3, 3, 4])  # the deepest level the action parts use
    lines = [
        f"{place}推动{topic}高质量发展{kind}（编号{index}）",
        f"（{first}—{last}年）",
        "",
        f"　　为推动{topic}高质量发展，结合{place}实际，制定本方案。",
    ]
    section = 0

    def paren(number: str) -> str:
        left, right = rng.choice(PAREN_STYLES)
        return f"{left}{number}{right}"

    def target() -> str:
        name, unit = rng.choice(TARGETS)
        return f"到{last}年，{name}达到{rng.randint(2, 900)}{unit}。"

    parts = rng.randint(3, 6)
    frame_title, frame_sections = rng.choice(FRAME_FIRST)
    for p in range(1, parts + 1):
        if p == 1:
            lines.append(f"　　{NUMERALS[0]}、{frame_title}")
            for title in frame_sections:
                section += 1
                lines.append(f"　　{paren(chinese_numeral(section))}{title}")
                lines.append(f"　　坚持{rng.choice(ACTIONS)}{topic}，{target()}")
            continue
        if p == parts:
            lines.append(f"　　{chinese_numeral(p)}、{rng.choice(FRAME_LAST)}")
            if restart:
                section = 0
            for _ in range(rng.randint(1, 3)):
                section += 1
                lines.append(
                    f"　　{paren(chinese_numeral(section))}加强{rng.choice(SUBJECTS)}保障。"
                    f"{rng.choice(PLACES)}各部门按照职责分工抓好落实。"
                )
            continue
        lines.append(f"　　{chinese_numeral(p)}、{rng.choice(ACTIONS)}{rng.choice(SECTORS)}发展水平")
        if restart:
            section = 0
        for _ in range(rng.randint(1, 4)):
            section += 1
            heading = f"　　{paren(chinese_numeral(section))}{rng.choice(ACTIONS)}{rng.choice(SUBJECTS)}"
            if depth == 2:
                lines.append(f"{heading}。围绕{rng.choice(SECTORS)}开展工作。{target()}")
                continue
            lines.append(heading)
            for item in range(1, rng.randint(1, 4) + 1):
                point = rng.choice(POINT_STYLES)
                body = f"　　{item}{point}{rng.choice(ACTIONS)}{rng.choice(SECTORS)}{rng.choice(SUBJECTS)}。"
                if rng.random() < 0.5:
                    body += f"支持{rng.choice(ORGANISATIONS)}参与建设。"
                if rng.random() < 0.6:
                    body += target()
                if depth == 4 and rng.random() < 0.5:
                    lines.append(body + "主要包括：")
                    for sub in range(1, rng.randint(2, 3) + 1):
                        lines.append(
                            f"　　{paren(str(sub))}{rng.choice(SECTORS)}领域。{rng.choice(ACTIONS)}"
                            f"{rng.choice(SUBJECTS)}，在{rng.choice(PLACES)}开展试点；"
                        )
                    lines[-1] = lines[-1][:-1] + "。"
                else:
                    lines.append(body)
    return "\n".join(lines) + "\n"


def generate(count: int, directory: Path, seed: int = 8) -> list[Path]:
    """Write ``count`` plans into ``directory`` (deterministic for a seed); their paths. The layouts
    alternate: even plans are of the Jinan genre, odd ones in the general numbering."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        path = directory / f"plan-{i:04d}.txt"
        text = plan_text(i, rng) if i % 2 == 0 else general_plan_text(i, rng)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


# A stage's line: its seconds, its peak RSS in the build's process, and the largest worker process
# that ended in it (mapping.build.RichProgress).
_STAGE = re.compile(r"✓ (.+?) \(([\d.]+) s(?:, peak ([\d.]+) MiB)?(?:, workers ([\d.]+) MiB)?\)")
_READ_ANEW = re.compile(r"built (\d+) plan\(s\), (\d+) read anew")


def timed_build(seeds: Path, out: Path, jobs: int | None = None) -> dict[str, object]:
    """``plankg build`` in its own process: wall seconds, peak RSS (MiB), the load average before and
    after, the stages' seconds and peaks, and how many plans it read anew (not from the cache).
    ``jobs``: its ``--jobs`` (None: the build's default). The peak RSS is the largest of the build's
    process and its worker processes, each alone: of wait4's figure and the stages' peaks."""
    command = [
        sys.executable,
        "-m",
        "server.cli",
        "build",
        "--seeds",
        str(seeds),
        "--dist",
        str(out / "dist"),
        "--store",
        str(out / "var" / "store"),
        *([] if jobs is None else ["--jobs", str(jobs)]),
    ]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    if status != 0:
        raise RuntimeError(f"build of {seeds} failed:\n{text[-4000:]}")
    read = _READ_ANEW.search(text)
    stages = list(_STAGE.finditer(text))
    # The build resets its process's high-water mark at each stage (so that each stage's peak is its
    # own), and wait4's figure is then only the last stage's: the peak is the largest of them all.
    peaks = [float(g) for m in stages for g in (m.group(3), m.group(4)) if g is not None]
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(max([usage.ru_maxrss / 1024, *peaks]), 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "plans_read_anew": int(read.group(2)) if read else None,
        "stages": {m.group(1): float(m.group(2)) for m in stages},
        "stage_peak_mib": {m.group(1): [_mib(m.group(3)), _mib(m.group(4))] for m in stages if m.group(3)},
    }


def _mib(text: str | None) -> float | None:
    return None if text is None else float(text)


def query_latencies(out: Path) -> dict[str, float]:
    """Median latency (ms, of 5) of every canned query with its defaults, over the built store."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        from server.app import create_app
        from server.settings import Settings

    # One client asks every query in turn: the per-client budgets (a public endpoint's defence) are
    # lifted as in bench.servers, or the later queries would be refused (429) rather than timed. The
    # answer cache is off: with it, four of the five runs were answers from the cache, and the median
    # hid a first run of seconds (bench/canned.py times each query through `plankg serve`).
    settings = Settings(
        store_dir=out / "var" / "store",
        dist_dir=out / "dist",
        client_query_seconds=0,
        client_heavy_seconds=0,
        answer_cache_bytes=0,
    )
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


def fit(points: list[tuple[int, float]]) -> tuple[float, float] | None:
    """Least squares of log(time) over log(plans): (exponent, factor), time ≈ factor · plans^exponent."""
    usable = [(math.log(n), math.log(t)) for n, t in points if n > 0 and t > 0]
    if len(usable) < 2:
        return None
    mx = sum(x for x, _ in usable) / len(usable)
    my = sum(y for _, y in usable) / len(usable)
    slope = sum((x - mx) * (y - my) for x, y in usable) / sum((x - mx) ** 2 for x, _ in usable)
    return slope, math.exp(my - slope * mx)


def fit_exponent(points: list[tuple[int, float]]) -> float | None:
    fitted = fit(points)
    return fitted[0] if fitted else None


def change_one(path: Path) -> None:
    """Edit one plan (both layouts' preambles say 结合…实际), so that its content hash changes."""
    text = path.read_text(encoding="utf-8")
    assert "结合" in text, path
    path.write_text(text.replace("结合", "紧密结合", 1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--name", default="corpus-scale", help="results: bench/results/{date}-{name}.*")
    parser.add_argument("--jobs", type=int, help="the builds' --jobs (default: the build's own default)")
    parser.add_argument("--render", type=Path, help="only write the results again from this JSON file")
    parser.add_argument(
        "--keep",
        type=Path,
        help="build in this new or empty directory and keep it (seeds-N/, out-N/: for bench.canned)",
    )
    parser.add_argument(
        "--store-needs",
        type=Path,
        metavar="KEPT",
        help="with --render: measure the store's own needs anew from KEPT/out-N/dist (bench.store_needs)",
    )
    parser.add_argument(
        "--no-queries", action="store_true", help="builds only: no canned queries over the largest corpus"
    )
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text(encoding="utf-8"))
        runs = saved["runs"]
        if args.store_needs:
            for r in runs:
                r["cold"]["store_needs"] = store_needs(args.store_needs / f"out-{r['plans']}" / "dist")
        exponent = fit_exponent([(int(str(r["plans"])), _cold_seconds(r)) for r in runs])
        write_results(runs, exponent, saved["canned_query_median_ms"], saved["served_plans"], args.name)
        return 0
    runs = []
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the directory is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
    work = args.keep or Path(tempfile.mkdtemp(prefix="plankg-bench-corpus-"))
    try:
        largest = None
        for size in args.sizes:
            seeds, out = work / f"seeds-{size}", work / f"out-{size}"
            paths = generate(size, seeds, args.seed)
            cold = timed_build(seeds, out, args.jobs)
            cold["store_needs"] = store_needs(out / "dist")
            change_one(paths[len(paths) // 2])
            rebuild = timed_build(seeds, out, args.jobs)
            runs.append({"plans": size, "cold": cold, "rebuild_one_changed": rebuild})
            print(json.dumps(runs[-1], ensure_ascii=False), flush=True)
            largest = out
        exponent = fit_exponent([(int(str(r["plans"])), _cold_seconds(r)) for r in runs])
        latencies = query_latencies(largest) if largest and not args.no_queries else {}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    write_results(runs, exponent, latencies, args.sizes[-1], args.name)
    return 0


def _cold_seconds(run: dict[str, object]) -> float:
    cold = run["cold"]
    assert isinstance(cold, dict)
    return float(cold["seconds"])


def _cold_cpu(run: dict[str, object]) -> float:
    cold = run["cold"]
    assert isinstance(cold, dict)
    return float(cold["cpu_seconds"])


def _per_plan(run: dict[str, object]) -> float | None:
    """Seconds per plan of the per-plan stage (read, map, validate) of a cold build."""
    cold = run["cold"]
    assert isinstance(cold, dict)
    for name, seconds in cold["stages"].items():
        if name.startswith("parse, map and validate"):
            return round(float(seconds) / int(str(run["plans"])), 2)
    return None


def _needs(run: dict[str, object]) -> float | None:
    cold = run["cold"]
    assert isinstance(cold, dict)
    needs = cold.get("store_needs")
    return float(needs["store_needs_mib"]) if isinstance(needs, dict) else None


def slope(points: list[tuple[int, float]]) -> float | None:
    """Least squares slope of ``y`` over ``x`` (MiB per plan); None with fewer than two sizes."""
    if len({x for x, _ in points}) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


def memory_lines(runs: list[dict[str, object]]) -> list[str]:
    """The builds' peaks against the store's own needs (``bench.store_needs``), with the slopes."""
    measured = [r for r in runs if _needs(r) is not None]
    if not measured:
        return []
    lines = [
        "",
        "Peak memory against the store's own needs (MiB; `bench.store_needs`: a fresh process with the",
        "build's imports loads the build's quads as the build does, compacts the store and reads every",
        "quad once, nothing else):",
        "",
        "| plans | store's own needs | cold peak | cold above the needs | rebuild peak | rebuild above |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    series: dict[str, list[tuple[int, float]]] = {"needs": [], "cold": [], "rebuild": []}
    for r in measured:
        cold, warm = r["cold"], r["rebuild_one_changed"]
        assert isinstance(cold, dict) and isinstance(warm, dict)
        plans, needs = int(str(r["plans"])), _needs(r)
        assert needs is not None
        above, again = float(cold["peak_rss_mib"]) - needs, float(warm["peak_rss_mib"]) - needs
        series["needs"].append((plans, needs))
        series["cold"].append((plans, above))
        series["rebuild"].append((plans, again))
        lines.append(
            f"| {plans} | {needs:.1f} | {cold['peak_rss_mib']} | {above:+.1f} "
            f"| {warm['peak_rss_mib']} | {again:+.1f} |"
        )
    slopes = {k: slope(v) for k, v in series.items()}
    if all(v is not None for v in slopes.values()):
        lines += [
            "",
            f"Slopes (least squares, MiB per plan): the store's needs {slopes['needs']:.3f}; the cold"
            f" peak above them {slopes['cold']:.3f}; the rebuild's peak above them {slopes['rebuild']:.3f}.",
        ]
    return lines


def write_results(
    runs: list[dict[str, object]],
    exponent: float | None,
    latencies: dict[str, float],
    served: int,
    name: str = "corpus-scale",
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    day = dt.date.today().isoformat()
    fitted = fit([(int(str(r["plans"])), _cold_seconds(r)) for r in runs])
    sizes = {int(str(r["plans"])) for r in runs}
    projection = None
    if fitted and 1000 not in sizes:
        projection = {
            "plans": 1000,
            "seconds": round(fitted[1] * 1000 ** fitted[0]),
            "note": "PROJECTION from the fitted power law, not a measurement",
        }
    data = {
        "date": day,
        "cpus": os.cpu_count(),
        "runs": runs,
        "per_plan_seconds": {str(r["plans"]): _per_plan(r) for r in runs},
        "fitted_exponent": exponent,
        "fitted_exponent_cpu": fit_exponent([(int(str(r["plans"])), _cold_cpu(r)) for r in runs]),
        "projection": projection,
        "served_plans": served,
        "canned_query_median_ms": latencies,
    }
    (RESULTS / f"{day}-{name}.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    lines = [
        f"# plankg build: cost growth with the corpus ({day})",
        "",
        "`python -m bench.corpus` (`make bench-corpus`): fictional plans from a seeded generator, the",
        "layouts alternating (the Jinan genre; the general GB/T 9704 numbering with frame parts, sections",
        "restarting or running, items and sub-items); each build in its own process (wall time, peak RSS",
        "from wait4, the 1-minute load average before and after: 2 cores shared with other work); then one",
        "plan changed and the build run again (per-plan cache: `read anew` counts the plans re-processed).",
        "",
        "| plans | cold build (s) | s/plan (map+validate) | peak RSS (MiB) | load | rebuild, one changed (s)"
        " | read anew | its peak RSS (MiB) | load |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in runs:
        cold, warm = r["cold"], r["rebuild_one_changed"]
        assert isinstance(cold, dict) and isinstance(warm, dict)
        lines.append(
            f"| {r['plans']} | {cold['seconds']} | {_per_plan(r)} | {cold['peak_rss_mib']} "
            f"| {cold['load_before']}→{cold['load_after']} | {warm['seconds']} | {warm['plans_read_anew']} "
            f"| {warm['peak_rss_mib']} | {warm['load_before']}→{warm['load_after']} |"
        )
    lines += [
        "",
        f"Fitted exponent of cold build time over plans (least squares on log–log): {exponent:.2f}"
        if exponent is not None
        else "Fitted exponent: (fewer than two sizes)",
    ]
    cpu = data["fitted_exponent_cpu"]
    if isinstance(cpu, float):
        lines += [
            "",
            f"Fitted exponent of the cold builds' CPU seconds (user + system, wait4) over plans: {cpu:.2f}"
            " — less sensitive to the other work on the machine than the wall time.",
        ]
    if projection:
        lines += [
            "",
            f"**Projection, not measured:** 1000 plans ≈ {projection['seconds']} s (fitted law).",
        ]
    lines += memory_lines(runs)
    lines += ["", "Stages of each cold build (s):", ""]
    for r in runs:
        cold = r["cold"]
        assert isinstance(cold, dict)
        stages = ", ".join(f"{k}: {v}" for k, v in cold["stages"].items())
        lines.append(f"- {r['plans']} plans: {stages}")
    lines += [
        "",
        "Stages of each rebuild after one changed plan (s), and its CPU seconds against the cold build's:",
        "",
    ]
    for r in runs:
        cold, again = r["cold"], r["rebuild_one_changed"]
        assert isinstance(cold, dict) and isinstance(again, dict)
        stages = ", ".join(f"{k}: {v}" for k, v in again["stages"].items())
        lines.append(
            f"- {r['plans']} plans: {stages}; CPU {again['cpu_seconds']} s of {cold['cpu_seconds']} s"
        )
    lines += [
        "",
        "Peak RSS of each stage (MiB; the build's process from its `VmHWM`, reset at the stage's start,"
        " and after `+` the largest worker process that ended in the stage):",
        "",
    ]
    for r in runs:
        for kind in ("cold", "rebuild_one_changed"):
            build = r[kind]
            assert isinstance(build, dict)
            peaks = build.get("stage_peak_mib") or {}
            text = ", ".join(
                f"{k}: {p}" + (f" + {w}" if w is not None else "") for k, (p, w) in peaks.items()
            )
            lines.append(f"- {r['plans']} plans, {kind.replace('_', ' ')}: {text or '(not recorded)'}")
    if latencies:  # none with --no-queries: no section rather than an empty table
        lines += [
            "",
            f"## Canned queries over the {served}-plan graph (median of 5, ms, default parameters)",
            "",
            "| query | ms |",
            "|---|---:|",
        ]
        lines += [f"| {q} | {ms} |" for q, ms in sorted(latencies.items())]
    (RESULTS / f"{day}-{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
