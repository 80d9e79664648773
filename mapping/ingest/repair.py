"""Repairs of typical OCR confusions in plan text, each applied only where the context decides it.

Every rule is a regular expression with its replacement and a reason; ``tests/test_ingest_repair.py``
tests each one on a case it repairs and a case it must leave alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words of the plan genre that hold 聚, and the form OCR makes of them with 取. None of the confused
# forms is a word, so the repair cannot turn a right reading into a wrong one.
GENRE_WORDS_WITH_JU = ("聚力", "聚焦", "集聚", "聚集", "凝聚", "聚变")
JU_CONFUSIONS = ("取", "珍")  # 取 as the issue names; 珍 as tesseract read the seed's 聚力 (bench)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    replacement: str
    reason: str


RULES: tuple[Rule, ...] = (
    Rule(
        "fullwidth-digits",
        re.compile("[０-９]"),
        "",  # computed: the ASCII digit
        "full-width digits are the same digits; the parser reads ASCII ones",
    ),
    Rule(
        "dash-between-digits",
        re.compile(r"(?<=\d)\s*一\s*(?=\d)"),
        "—",
        "the numeral 一 never stands between Arabic digits; a range such as 2026—2028 has a dash",
    ),
    Rule(
        "page-marker",
        re.compile(r"^\s*一\s*(\d{1,4})\s*一\s*$"),
        r"—\1—",
        "a line holding only 一 n 一 is the page marker —n—",
    ),
    Rule(
        "decimal-point",
        re.compile(r"(?<=\d)\s*[．·・。]\s*(?=\d+(?:亿|万|千|%|％))"),
        ".",
        "between digits, before a unit of amount or a percent sign, a dot-like mark is the decimal point",
    ),
    Rule(
        "task-marker-bracket",
        re.compile(r"^(?:[《〈<（(]{1,2}|人)\s*([一二三四五六七八九十百]{1,4})\s*[)）》〉>]{1,2}"),
        r"（\1）",
        "at the start of a line, a Chinese numeral in a bracket OCR misread (《一) 〈二〉 〈(四) 人三十四)) "
        "opens a task (一); no line of prose starts with a numeral closed by a bracket",
    ),
    Rule(
        "ten-in-task-marker",
        re.compile(r"^[（(]([一二三四五六七八九]?)[干千]([一二三四五六七八九]?)[)）]"),
        r"（\1十\2）",
        "inside a task marker at the start of a line, 干 or 千 between numerals is 十 (四干四 → 四十四): "
        "task numbers never reach a thousand",
    ),
    Rule(
        "ju-not-qu",
        re.compile("|".join(w.replace("聚", c) for w in GENRE_WORDS_WITH_JU for c in JU_CONFUSIONS)),
        "",  # computed: the genre word
        "取力, 取焦, 集取, 取集, 凝取, 取变 (and 珍力 …) are no words; "
        "the plan genre writes 聚力, 聚焦, 集聚, 聚集, 凝聚, 聚变",
    ),
)


def _apply(rule: Rule, text: str) -> str:
    if rule.name == "fullwidth-digits":
        return rule.pattern.sub(lambda m: chr(ord(m.group()) - 0xFF10 + 0x30), text)
    if rule.name == "ju-not-qu":
        return rule.pattern.sub(lambda m: "".join("聚" if c in JU_CONFUSIONS else c for c in m.group()), text)
    return rule.pattern.sub(rule.replacement, text)


def repair(line: str) -> str:
    """``line`` (one OCR'd line) with every rule applied in order."""
    for rule in RULES:
        line = _apply(rule, line)
    return line
