"""Documents made by real tools from a plan text: a PDF printed by headless Chromium, that PDF rasterised
to an image-only PDF (pdftoppm + img2pdf), a DOCX written by python-docx and a saved web page.

Used by the ingest tests (on a small fictional plan) and by ``bench/ingest.py`` (on the seed). A tool
that is missing makes the caller skip, or fail under CI=true (``tests.browser.harness.missing``).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.browser.harness import CHROMIUM, CHROMIUM_FLAGS, missing

_PAGE_MARKER_LINE = re.compile(r"^\s*[—－\-–]{1,2}\s*\d{1,4}\s*[—－\-–]{1,2}\s*$")
_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十百]+[)）])")


def paragraphs(text: str) -> list[str]:
    """The logical paragraphs of a plan text as extracted from a print: page-marker lines dropped, the
    print's line breaks joined, a new paragraph at a heading (``一、``, ``(一)``), after a sentence end
    at a line end, and at a blank line that follows a sentence end or a line of the title block."""
    out: list[str] = []
    current = ""
    for line in text.splitlines():
        if _PAGE_MARKER_LINE.match(line):
            continue
        stripped = line.strip(" \u3000")
        if not stripped:
            continue
        starts_new = (
            not current
            or _HEADING.match(stripped) is not None
            or current.endswith(("。", "：", ":", "；", ";"))
            or line.startswith("\u3000\u3000")
        )
        if starts_new and current:
            out.append(current)
            current = ""
        current += stripped
    if current:
        out.append(current)
    return out


def plan_html(text: str, *, title: str, width_cm: float = 15.0) -> str:
    """A print layout of the plan: its paragraphs reflowed at ``width_cm`` (so every line break of the
    text moves), the running title in the page header and ``— n —`` in the footer on every page."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs(text))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
@page {{ size: A4; margin: 2.5cm 2.6cm 2.5cm 2.6cm;
  @top-center {{ content: "{title}"; font-family: "Noto Sans CJK SC"; font-size: 9pt; }}
  @bottom-center {{ content: "— " counter(page) " —"; font-family: "Noto Sans CJK SC"; font-size: 10pt; }} }}
body {{ font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 15pt; line-height: 1.6;
  width: {width_cm}cm; margin: 0; }}
p {{ text-indent: 2em; margin: 0 0 0.2em 0; text-align: justify; }}
</style></head>
<body>
{body}
</body></html>
"""


def require(*tools: str) -> None:
    """Skip (fail under CI=true) when a command-line tool is missing."""
    for tool in tools:
        if shutil.which(tool) is None and not Path(tool).exists():
            missing(f"{tool} is not installed (make ocr-deps browser-deps)")


def print_pdf(page_html: str, out: Path) -> Path:
    """Print ``page_html`` to ``out`` with headless Chromium (no header/footer of Chromium's own)."""
    require(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="plankg-print-") as tmp:
        source = Path(tmp) / "plan.html"
        source.write_text(page_html, encoding="utf-8")
        command = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile"]
        command += ["--no-pdf-header-footer", f"--print-to-pdf={out}", source.as_uri()]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(f"chromium printed no PDF to {out}")
    return out


def rasterise(pdf: Path, out: Path, dpi: int = 150) -> Path:
    """``pdf`` as an image-only PDF: each page rendered to a greyscale PNG by pdftoppm, the PNGs put
    back into a PDF by img2pdf (no text layer is left)."""
    require("pdftoppm", "img2pdf")
    with tempfile.TemporaryDirectory(prefix="plankg-raster-") as tmp:
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/page"],
            check=True,
            capture_output=True,
            timeout=300,
        )
        images = sorted(Path(tmp).glob("page-*.png"))
        subprocess.run(["img2pdf", *map(str, images), "-o", str(out)], check=True, capture_output=True)
    return out


def write_docx(text: str, out: Path) -> Path:
    """The plan's paragraphs as a Word document (one paragraph each; the title block centred), with a
    header and a footer of the kind Word users add (they live in other parts of the package)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    document = Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "某某市人民政府办公室文件"
    section.footer.paragraphs[0].text = "— 1 —"
    for k, paragraph in enumerate(paragraphs(text)):
        p = document.add_paragraph(paragraph)
        if k == 0:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if k == 3:
            document.add_paragraph("")  # an empty paragraph, as typists leave them
    document.save(str(out))
    return out


def saved_page(text: str, *, title: str) -> str:
    """A government web page as a browser saves it: navigation, breadcrumbs, a sidebar of related
    links, the article (one ``<p>`` per paragraph, some with ``<br>`` breaks and inline spans), share
    buttons and a footer with the site's address and identifiers."""
    items = paragraphs(text)
    article = [f'<h1 class="title">{html.escape(items[0])}</h1>']
    for k, p in enumerate(items[1:], start=1):
        escaped = html.escape(p)
        if k % 5 == 2 and len(p) > 40:  # an inline element in the middle of a paragraph
            escaped = f'{html.escape(p[:20])}<span style="color:#333">{html.escape(p[20:30])}</span>' + (
                html.escape(p[30:])
            )
        article.append(f'<p style="text-indent:2em">{escaped}</p>')
    body = "\n".join(article)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(title)}_某某市人民政府</title>
<script>var _hmt = _hmt || [];</script><style>.nav li{{display:inline}}</style></head>
<body>
<div class="top"><a href="/">某某市人民政府</a> <a href="/en/">English</a>
<a href="/wza/">无障碍</a></div>
<nav class="nav"><ul><li><a href="/">首页</a></li>
<li><a href="/zwgk/">政务公开</a></li>
<li><a href="/zcwj/">政策文件</a></li><li><a href="/hdjl/">互动交流</a></li>
<li><a href="/bsfw/">办事服务</a></li></ul></nav>
<div class="crumbs"><a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt;
<a href="/zcwj/">政策文件</a></div>
<div class="main">
<div class="side"><h3>相关文件</h3><ul>
<li><a href="/a/1.html">关于印发某某市数字经济发展规划的通知</a></li>
<li><a href="/a/2.html">关于进一步优化营商环境的若干措施</a></li>
<li><a href="/a/3.html">某某市政府工作报告</a></li></ul>
<h3>热点专题</h3><ul><li><a href="/zt/1/">学习贯彻党的二十大精神</a></li>
<li><a href="/zt/2/">优化营商环境</a></li></ul></div>
<div class="article">
<div class="meta">发布时间：2026-03-01 来源：市发展改革委 浏览次数：1024
<a href="javascript:print()">打印</a></div>
{body}
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div>
</div>
</div>
<footer><p>主办：某某市人民政府办公室 承办：某某市大数据中心</p>
<p>地址：某某市某某路1号 邮编：260000 联系电话：0000-12345678</p>
<p>网站标识码：3700000000 备案号：鲁ICP备00000000号</p></footer>
</body></html>
"""


def facts(text: str) -> dict[str, object]:
    """What the pipeline reads from a plan text, without the offsets (which differ between a text and
    an extraction of its print): tasks, statistics, targets and catalogued entities."""
    from mapping.entities import find_mentions, load_catalogue
    from mapping.parser import parse_plan
    from mapping.targets import extract_targets

    plan = parse_plan(text, source_name="plan")
    catalogue, _ = load_catalogue().for_plan(plan.title)
    return {
        "title": plan.title,
        "period": plan.period,
        "tasks": [(t.number, t.pillar, t.order, t.title, t.text) for t in plan.tasks],
        "statistics": [
            (
                p.number,
                p.title,
                p.declared_task_count,
                [(s.stage.value, s.count, s.investment, s.years) for s in p.statistics],
            )
            for p in plan.pillars
        ],
        "targets": [
            (
                t.task,
                t.k,
                t.indicator,
                t.label,
                None if t.quantity is None else (t.quantity.value, t.quantity.upper, t.quantity.unit),
                t.comparator,
                t.target_year,
                t.baseline_year,
                t.deadline,
            )
            for t in extract_targets(plan, text)
        ],
        "entities": [(m.kind.value, m.key, m.task, m.name) for m in find_mentions(plan, text, catalogue)],
    }
