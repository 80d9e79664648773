"""OCR of a PDF page with Debian's tesseract (chi_sim), run as a subprocess on a page rasterised by
pdftoppm; the TSV output gives each word's box and confidence. Results are cached by the PDF's SHA-256.

Resolution: ``DEFAULT_DPI`` = 200, measured on the test fixture (two A4 pages of 15 pt Chinese,
printed by Chromium, scanned at 300 dpi; character error rate after normalisation, wall time of
tesseract 5.3.0 on one shared core): 200 dpi 0.46 % in 20 s, 300 dpi 0.82 % in 25 s, 400 dpi 2.7 % in
61 s. chi_sim reads best with glyphs some 30–45 pixels high, which body text of 14–16 pt (the 三号/
四号 of government prints) has at 200 dpi; more pixels add time and, past that, errors.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mapping.ingest.glyphs import fix_glyphs
from mapping.ingest.model import IngestError
from mapping.ingest.reflow import Line
from mapping.ingest.repair import repair

DEFAULT_DPI = 200
DEFAULT_LANGUAGE = "chi_sim"
DEFAULT_CACHE = Path("var/cache/ocr")


@dataclass(frozen=True)
class OcrSettings:
    """How pages are OCR'd: resolution, tesseract language, cache directory (None: no cache) and the
    commands (their names on PATH or paths)."""

    dpi: int = DEFAULT_DPI
    language: str = DEFAULT_LANGUAGE
    cache_dir: Path | None = DEFAULT_CACHE
    tesseract: str = "tesseract"
    pdftoppm: str = "pdftoppm"


@dataclass(frozen=True)
class PageOcr:
    """The TSV tesseract wrote for one page, and the engine that wrote it."""

    engine: str
    tsv: str
    width: int
    height: int


def engine_version(settings: OcrSettings) -> str:
    command = shutil.which(settings.tesseract)
    if command is None:
        raise FileNotFoundError(f"{settings.tesseract}: not installed (make ocr-deps)")
    out = subprocess.run([command, "--version"], capture_output=True, text=True, check=True, timeout=30)
    first = (out.stdout or out.stderr).splitlines()[0].strip()
    return first  # "tesseract 5.3.0"


def _cache_file(settings: OcrSettings, sha256: str, page: int) -> Path | None:
    if settings.cache_dir is None:
        return None
    return settings.cache_dir / sha256 / f"page-{page}-{settings.dpi}dpi-{settings.language}.json"


def ocr_page(pdf: Path, sha256: str, page: int, settings: OcrSettings) -> PageOcr:
    """Page ``page`` (1-based) of ``pdf`` read by tesseract, from the cache when the same file, page,
    resolution and language were read before."""
    cached = _cache_file(settings, sha256, page)
    if cached is not None and cached.is_file():
        data = json.loads(cached.read_text(encoding="utf-8"))
        return PageOcr(data["engine"], data["tsv"], data["width"], data["height"])
    for tool in (settings.pdftoppm, settings.tesseract):
        if shutil.which(tool) is None:
            raise IngestError(
                pdf, f"page has no text layer and {tool} is not installed (make ocr-deps)", page
            )
    engine = engine_version(settings)
    with tempfile.TemporaryDirectory(prefix="plankg-ocr-") as tmp:
        image = Path(tmp) / "page"
        render = [settings.pdftoppm, "-r", str(settings.dpi), "-f", str(page), "-l", str(page), "-gray"]
        subprocess.run(
            [*render, "-png", "-singlefile", str(pdf), str(image)], check=True, capture_output=True
        )
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        done = subprocess.run(
            [settings.tesseract, f"{image}.png", "stdout", "-l", settings.language, "tsv"],
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode != 0:
            raise IngestError(pdf, f"tesseract failed: {done.stderr.strip()[-300:]}", page)
    tsv = _reread_weak_lines(pdf, page, settings, done.stdout)
    width, height = _page_size(tsv)
    result = PageOcr(engine, tsv, width, height)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        record = {"engine": engine, "tsv": result.tsv, "width": width, "height": height}
        partial = cached.with_suffix(".tmp")
        partial.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        partial.replace(cached)
    return result


WEAK_WORD = 50.0  # a word read with less confidence than this makes its line read again
_LINE_PAD = 6  # pixels around a line's box when it is cropped for a second reading


def _mean_confidence(rows: list[list[str]]) -> float:
    chars = sum(len(r[11].strip()) for r in rows)
    return sum(float(r[10]) * len(r[11].strip()) for r in rows) / chars if chars else -1.0


def _confident_chars(rows: list[list[str]]) -> int:
    return sum(len(r[11].strip()) for r in rows if float(r[10]) >= WEAK_WORD)


def _better(new: list[list[str]], old: list[list[str]]) -> bool:
    """The second reading wins when it holds more characters read with confidence (words at or above
    ``WEAK_WORD``) and its mean confidence is no more than 10 points lower. (A character-weighted mean
    alone hides one wide weak word standing for a dozen lost characters; a reading of noise has
    few confident characters.)"""
    if _confident_chars(new) <= _confident_chars(old):
        return False
    return _mean_confidence(new) >= _mean_confidence(old) - 10


def _reread_weak_lines(pdf: Path, page: int, settings: OcrSettings, tsv: str) -> str:
    """Lines holding a word read with confidence under ``WEAK_WORD`` are read again on their own
    (the line's box cropped by pdftoppm, ``tesseract --psm 7``: one line of text); the second
    reading replaces the first when it is better (``_better``). Tesseract's page layout
    sometimes swallows half a line into one wide, low-confidence word (``人`` for
    ``行一步认真抓好5项重点工作,``); read alone, the line comes out whole."""
    rows = [r.split("\t") for r in tsv.splitlines()]
    header, body = rows[:1], rows[1:]
    lines: dict[tuple[str, str, str], list[list[str]]] = {}
    boxes: dict[tuple[str, str, str], list[str]] = {}  # level-4 rows: the lines' boxes
    for r in body:
        if len(r) >= 12 and r[0] == "5" and r[11].strip():
            lines.setdefault((r[2], r[3], r[4]), []).append(r)
        elif len(r) >= 10 and r[0] == "4":
            boxes[(r[2], r[3], r[4])] = r
    replaced: dict[tuple[str, str, str], list[list[str]]] = {}
    for key, words in lines.items():
        if key not in boxes or min(float(w[10]) for w in words) >= WEAK_WORD:
            continue
        # The line's box as tesseract drew it may reach into the next line (the swallowing word
        # does); the crop takes the line's width and the typical word's top and height.
        left, _, width, _ = (int(c) for c in boxes[key][6:10])
        tops = sorted(int(w[7]) for w in words)
        heights = sorted(int(w[9]) for w in words)
        top, height = tops[len(tops) // 2], heights[len(heights) // 2]
        x, y = max(left - _LINE_PAD, 0), max(top - _LINE_PAD, 0)
        again = _read_crop(pdf, page, settings, (x, y, width + 2 * _LINE_PAD, height + 2 * _LINE_PAD))
        new = [
            [w[0], w[1], *key, w[5], str(int(w[6]) + x), str(int(w[7]) + y), w[8], w[9], w[10], w[11]]
            for w in again
        ]
        if new and _better(new, words):
            replaced[key] = new
    if not replaced:
        return tsv
    out: list[list[str]] = list(header)
    done: set[tuple[str, str, str]] = set()
    for r in body:
        key = (r[2], r[3], r[4]) if len(r) >= 5 else ("", "", "")
        if len(r) >= 12 and r[0] == "5" and key in replaced:
            if key not in done:
                out += replaced[key]
                done.add(key)
            continue
        out.append(r)
    return "\n".join("\t".join(r) for r in out) + "\n"


def _read_crop(
    pdf: Path, page: int, settings: OcrSettings, box: tuple[int, int, int, int]
) -> list[list[str]]:
    """Word rows of one line cropped from the page (coordinates relative to the crop)."""
    x, y, w, h = box
    with tempfile.TemporaryDirectory(prefix="plankg-ocr-line-") as tmp:
        image = Path(tmp) / "line"
        render = [settings.pdftoppm, "-r", str(settings.dpi), "-f", str(page), "-l", str(page), "-gray"]
        render += ["-x", str(x), "-y", str(y), "-W", str(w), "-H", str(h)]
        subprocess.run(
            [*render, "-png", "-singlefile", str(pdf), str(image)], check=True, capture_output=True
        )
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        done = subprocess.run(
            [settings.tesseract, f"{image}.png", "stdout", "-l", settings.language, "--psm", "7", "tsv"],
            capture_output=True,
            text=True,
            env=env,
        )
    if done.returncode != 0:
        return []
    rows = [r.split("\t") for r in done.stdout.splitlines()[1:]]
    return [r for r in rows if len(r) >= 12 and r[0] == "5" and r[11].strip()]


def _page_size(tsv: str) -> tuple[int, int]:
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) >= 10 and cols[0] == "1":
            return int(cols[8]), int(cols[9])
    return 1, 1


@dataclass
class _Word:
    text: str
    conf: float
    left: int
    top: int
    right: int
    bottom: int


def _join_words(words: list[_Word]) -> str:
    out = ""
    for w in words:
        if out and out[-1].isascii() and out[-1].isalpha() and w.text[0].isascii() and w.text[0].isalpha():
            out += " "
        out += w.text
    return out


def page_lines(result: PageOcr, page: int) -> list[Line]:
    """The lines of one OCR'd page in tesseract's reading order, repaired (``mapping.ingest.repair``),
    each with the character-weighted mean confidence of its words."""
    groups: dict[tuple[str, str, str], list[_Word]] = {}
    for row in result.tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        left, top, width, height = (int(c) for c in cols[6:10])
        word = _Word(text, float(cols[10]), left, top, left + width, top + height)
        groups.setdefault((cols[2], cols[3], cols[4]), []).append(word)
    lines: list[Line] = []
    pw, ph = float(result.width), float(result.height)
    for words in groups.values():
        text = repair(fix_glyphs(_join_words(words)))
        chars = sum(len(w.text) for w in words)
        confidence = sum(w.conf * len(w.text) for w in words) / chars
        widths = sorted((w.right - w.left) / len(w.text) for w in words)
        lines.append(
            Line(
                page=page,
                text=text,
                left=min(w.left for w in words) / pw,
                top=min(w.top for w in words) / ph,
                right=max(w.right for w in words) / pw,
                bottom=max(w.bottom for w in words) / ph,
                char_width=widths[len(widths) // 2] / pw,
                confidence=confidence,
            )
        )
    return lines
