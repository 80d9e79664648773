"""``make bench`` (second part): the Jinan seed read back from its own print and from a scan of it.

Prints the seed's text through headless Chromium to a PDF (paragraphs reflowed at another width, the
running title in the header and ``— n —`` in the footer), reads it with ``mapping.ingest.extract`` and
compares what the pipeline reads from it (tasks, statistics, targets, entities) with what it reads from
the text; then rasterises that PDF (pdftoppm, 300 dpi, + img2pdf), reads it by OCR and reports how
close it comes: tasks found, character error rate, targets found. The report goes to
``bench/results/YYYY-MM-DD-ingest.md`` (UTC date) and is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
SEED = REPO / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"
TITLE = "济南市深化新旧动能转换推动绿色低碳高质量发展三年行动计划"


def character_error_rate(want: str, got: str) -> float:
    from mapping.text import normalise

    a, b = normalise(want).text, normalise(got).text
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    errors = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")
    return errors / len(a)


def _compare(want: dict[str, object], got: dict[str, object]) -> list[str]:
    rows = []
    for key in ("tasks", "statistics", "targets", "entities"):
        a, b = want[key], got[key]
        assert isinstance(a, list) and isinstance(b, list)
        same = sum(1 for x in b if x in a)
        rows.append(f"| {key} | {len(a)} | {len(b)} | {same} | {'yes' if a == b else 'no'} |")
    return rows


def _facts_or_error(text: str) -> dict[str, object] | str:
    from mapping.errors import PlanKGError
    from tests.ingest import tools

    try:
        return tools.facts(text)
    except PlanKGError as err:
        return f"parse failed: {err}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    parser.add_argument("--dpi", type=int, default=None, help="OCR resolution (default: the library's)")
    args = parser.parse_args(argv)

    from mapping.ingest import OcrSettings, extract
    from mapping.ingest.progress import page_bar
    from tests.ingest import tools

    text = SEED.read_text(encoding="utf-8")
    want = tools.facts(text)
    lines = [f"# Ingest bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", ""]
    lines += [f"Machine: {platform.platform()}, {platform.python_version()}; seed `{SEED.name}`.", ""]
    with tempfile.TemporaryDirectory(prefix="plankg-bench-ingest-") as tmp:
        out = Path(tmp)
        t = time.perf_counter()
        printed = tools.print_pdf(tools.plan_html(text, title=TITLE), out / "seed.pdf")
        t_print = time.perf_counter() - t
        t = time.perf_counter()
        read = extract(printed)
        t_read = time.perf_counter() - t
        got = _facts_or_error(read.text)
        lines += ["## The seed printed by Chromium, read from its text layer", ""]
        lines += [
            f"{read.pages} pages; printed in {t_print:.1f} s, read in {t_read:.1f} s ({read.tool}).",
            "",
        ]
        if isinstance(got, str):
            lines += [got, ""]
        else:
            lines += ["| what | text | PDF | PDF items equal to one of the text | all equal |"]
            lines += ["|---|---|---|---|---|"]
            lines += _compare(want, got)
            lines += [""]
        cer_printed = character_error_rate(text, read.text)
        lines += [f"Character error rate against the text (normalised): {cer_printed:.4%}", ""]

        scan = tools.rasterise(printed, out / "scan.pdf", dpi=300)
        settings = OcrSettings(cache_dir=None)
        if args.dpi is not None:
            settings = OcrSettings(dpi=args.dpi, cache_dir=None)
        t = time.perf_counter()
        with page_bar("OCR") as progress:
            ocr = extract(scan, ocr=settings, progress=progress)
        t_ocr = time.perf_counter() - t
        cer = character_error_rate(text, ocr.text)
        conf = sum(s.confidence * (s.end - s.start) for s in ocr.ocr_spans) / sum(
            s.end - s.start for s in ocr.ocr_spans
        )
        lines += ["## The print rasterised (300 dpi) and read by OCR", ""]
        lines += [
            f"{ocr.pages} pages, {ocr.ocr_engine}, {settings.language}, {settings.dpi} dpi: {t_ocr:.1f} s "
            f"({t_ocr / (ocr.pages or 1):.1f} s a page); mean confidence {conf:.1f}.",
            "",
            f"Character error rate (normalised, edit operations / characters of the text): {cer:.2%}",
            "",
        ]
        scanned = _facts_or_error(ocr.text)
        if isinstance(scanned, str):
            lines += [scanned, ""]
        else:
            tasks_want = {t[0]: t[3] for t in want["tasks"]}  # type: ignore[attr-defined]
            tasks_got = {t[0]: t[3] for t in scanned["tasks"]}  # type: ignore[attr-defined]
            found = sorted(set(tasks_got) & set(tasks_want))
            exact = sum(1 for n in found if tasks_want[n] == tasks_got[n])
            lines += ["| what | text | OCR | OCR items equal to one of the text |", "|---|---|---|---|"]
            for key in ("tasks", "statistics", "targets", "entities"):
                a, b = want[key], scanned[key]
                assert isinstance(a, list) and isinstance(b, list)
                lines += [f"| {key} | {len(a)} | {len(b)} | {sum(1 for x in b if x in a)} |"]
            lines += [
                "",
                "(A task is equal when number, pillar, order, title and whole text are; a pillar's statistics"
                " when its title, declared count and all four stages are.)",
                "",
                f"Task numbers found: {len(found)} of {len(tasks_want)} "
                f"(missing: {sorted(set(tasks_want) - set(tasks_got)) or 'none'}; "
                f"numbers not in the text: {sorted(set(tasks_got) - set(tasks_want)) or 'none'}); "
                f"of those found, titles exactly right: {exact}.",
                "",
            ]
    report = "\n".join(lines) + "\n"
    print(report)
    if not args.no_write:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / f"{dt.datetime.now(dt.UTC):%Y-%m-%d}-ingest.md").write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
