"""mapping.outline on generated plans: random trees of GB/T headings, laid out as a PDF extraction
lays them out, read back exactly; and mutated fixtures never fail with anything but a DocumentError."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mapping.errors import DocumentError
from mapping.outline import read_outline
from mapping.outline_model import NumberingStyle, Sequencing

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"

# Body text without numerals, brackets or points: nothing in it can look like a heading.
PHRASES = [
    "推进重点工作落实见效",
    "加强统筹协调和督促检查",
    "完善政策体系和工作机制",
    "强化要素保障和服务支撑",
    "培育壮大市场主体",
    "提升公共服务水平",
    "深化改革创新",
    "加快补齐短板弱项",
    "推动产业集聚发展",
    "健全监测评估制度",
]
TITLE_WORDS = ["推进", "建设", "提升", "完善", "培育", "优化", "强化", "发展", "改造", "创新"]
TITLE_OBJECTS = [
    "产业体系",
    "城市功能",
    "生态环境",
    "公共服务",
    "营商环境",
    "基础设施",
    "科技平台",
    "乡村振兴",
]
CHINESE_DIGITS = "零一二三四五六七八九"


def chinese(n: int) -> str:
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CHINESE_DIGITS[tens]) + "十" + (CHINESE_DIGITS[ones] if ones else "")


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def marker(style: NumberingStyle, n: int, rng: random.Random) -> str:
    if style is NumberingStyle.CHINESE_COMMA:
        return chinese(n) + "、"
    if style is NumberingStyle.CHINESE_PAREN:
        return rng.choice(["（{}）", "({})"]).format(chinese(n))
    if style is NumberingStyle.ARABIC_POINT:
        digits = str(n) if rng.random() < 0.7 else full_width(str(n))
        return digits + rng.choice([".", "．", "、"])
    if style is NumberingStyle.ARABIC_PAREN:
        return rng.choice(["（{}）", "({})"]).format(n)
    return chr(0x2460 + n - 1)


@dataclass
class Node:
    style: NumberingStyle
    number: int
    title: str
    standalone: bool
    children: list[Node] = field(default_factory=list)


def generate(rng: random.Random) -> tuple[list[Node], dict[NumberingStyle, bool]]:
    styles = sorted(rng.sample(list(NumberingStyle), rng.randint(2, 5)), key=lambda s: s.rank)
    across = {
        s: depth < 2 and s is not NumberingStyle.CIRCLED and rng.random() < 0.5
        for depth, s in enumerate(styles)
    }
    last = dict.fromkeys(styles, 0)

    def level(depth: int) -> list[Node]:
        style = styles[depth]
        nodes = []
        for k in range(rng.randint(1, 4) if depth else rng.randint(2, 4)):
            number = last[style] + 1 if across[style] else k + 1
            last[style] = number
            title = rng.choice(TITLE_WORDS) + rng.choice(TITLE_OBJECTS)
            standalone = depth < 2 and rng.random() < 0.7
            node = Node(style, number, title, standalone)
            if depth + 1 < len(styles) and rng.random() < 0.7:
                node.children = level(depth + 1)
            nodes.append(node)
        return nodes

    return level(0), across


def width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WFA" else 1


def wrap(text: str, limit: int = 52) -> list[str]:
    lines, current, used = [], "", 0
    for ch in text:
        if used + width(ch) > limit and ch not in "，。；：、":
            lines.append(current)
            current, used = "", 0
        current += ch
        used += width(ch)
    return [*lines, current] if current else lines


def body(rng: random.Random) -> str:
    return rng.choice(["，", "；"]).join(rng.choice(PHRASES) for _ in range(rng.randint(4, 8))) + "。"


def render(nodes: list[Node], rng: random.Random, limit: int = 52) -> str:
    """The plan as text; ``limit`` is the width lines are wrapped at (a huge one: a line per paragraph)."""

    def wrap_at(text: str) -> list[str]:
        return wrap(text, limit)

    lines = [
        "某某市推进高质量发展三年行动方案",
        "（2024—2026年）",
        "",
        *wrap_at("　　为推动高质量发展，制定本方案。"),
    ]

    def emit(node: Node) -> None:
        head = "　　" + marker(node.style, node.number, rng) + node.title
        if node.standalone:
            lines.append(head)
            if not node.children or rng.random() < 0.5:
                lines.extend(wrap_at("　　" + body(rng)))
        else:
            lines.extend(wrap_at(head + "。" + body(rng)))
        if rng.random() < 0.15:
            lines.insert(
                rng.randint(len(lines) - 2, len(lines)), rng.choice(["—{}—", "- {} -"]).format(len(lines))
            )
        for child in node.children:
            emit(child)

    for node in nodes:
        emit(node)
    return "\n".join(lines) + "\n"


def flatten(nodes: list[Node], prefix: tuple[int, ...] = ()) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for k, node in enumerate(nodes, start=1):
        path = (*prefix, k)
        out.append((path, node.style, node.number, node.title))
        out.extend(flatten(node.children, path))
    return out


@pytest.mark.parametrize("seed", range(60))
def test_a_generated_plan_is_read_back_exactly(seed: int) -> None:
    """Seeds 0–39 wrap lines at a fixed width, as a PDF extraction does; 40–59 write a line per
    paragraph, as a text taken from a web page does."""
    rng = random.Random(seed)
    nodes, across = generate(rng)
    raw = render(nodes, rng, 52 if seed < 40 else 10**6)
    outline = read_outline(raw, source_name=f"generated-{seed}.txt")
    assert [(d.path, d.style, d.number, d.title) for d in outline.walk()] == flatten(nodes), raw
    assert outline.title == "某某市推进高质量发展三年行动方案(2024—2026年)"
    for d in outline.walk():
        assert raw[d.span.start : d.span.end] == d.span.quote
    for entry in outline.numbering:
        if entry.sequencing is not Sequencing.SINGLE:
            assert (entry.sequencing is Sequencing.ACROSS) == across[entry.style], raw


SNIPPETS = [
    "一、",
    "（二）",
    "(三)",
    "1.",
    "２．",
    "3、",
    "（4）",
    "(1)",
    "①",
    "。",
    "：",
    "\n",
    "\n　　",
    "—5—",
    "2025.",
]


@pytest.mark.parametrize("seed", range(40))
def test_a_mutated_plan_reads_or_fails_with_a_place(seed: int) -> None:
    rng = random.Random(seed)
    paths = sorted(p for p in CORPUS.glob("*.txt"))
    raw = rng.choice(paths).read_text(encoding="utf-8")
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(raw))
        if rng.random() < 0.3:
            raw = raw[:at] + raw[at + rng.randint(1, 30) :]
        else:
            raw = raw[:at] + rng.choice(SNIPPETS) + raw[at:]
    try:
        outline = read_outline(raw, source_name="mutated.txt")
    except DocumentError as e:
        assert 0 <= e.location.offset <= len(raw)
        assert e.location.line >= 1 and e.location.column >= 1
        return
    for d in outline.walk():
        assert raw[d.span.start : d.span.end] == d.span.quote
