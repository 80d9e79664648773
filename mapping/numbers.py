"""Numbers as Chinese government plans write them, read exactly (``Decimal``, never ``float``).

- Arabic digits with an optional decimal part: ``1920.83``; full-width digits are accepted.
- Chinese numerals: ``十一``, ``四十九``, ``一百零五``, ``两千``, ``三万五千``, digit strings ``二〇二五``.
- Multipliers after a number: ``万`` (1e4), ``亿`` (1e8), ``万亿`` (1e12): ``300万``, ``1.5万亿``.
- Ranges: ``3—5``, ``3-5``, ``3~5``, ``3～5``, ``3至5``, ``3到5``; a multiplier after the upper end applies to
  both ends (``3—5万`` is 30000 to 50000).
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = [
    "ARABIC",
    "CHINESE",
    "MULTIPLIER",
    "MULTIPLIERS",
    "NUMBER",
    "RANGE_SEPARATOR",
    "parse_chinese",
    "parse_number",
    "parse_range",
]

_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_LARGE_UNITS = {"万": 10**4, "亿": 10**8}

# Longest first, so that 万亿 is read as one multiplier and not as 万 followed by 亿.
MULTIPLIERS: dict[str, Decimal] = {"万亿": Decimal(10) ** 12, "亿": Decimal(10) ** 8, "万": Decimal(10) ** 4}

ARABIC = r"[0-9０-９]+(?:[.．][0-9０-９]+)?"
CHINESE = r"[〇零一二两三四五六七八九十百千]+"
NUMBER = rf"(?:{ARABIC}|{CHINESE})"
MULTIPLIER = r"(?:万亿|亿|万)"
RANGE_SEPARATOR = r"(?:—{1,2}|–|－|-|~|～|至|到)"

_ARABIC_RE = re.compile(ARABIC)
_CHINESE_RE = re.compile(r"[〇零一二两三四五六七八九十百千万亿]+")
_RANGE_RE = re.compile(rf"({NUMBER})\s*{RANGE_SEPARATOR}\s*({NUMBER})({MULTIPLIER})?")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")


def _parse_section(text: str) -> int:
    """A Chinese numeral below 10000 (no 万 or 亿): 三千零五 → 3005, 十二 → 12."""
    total = 0
    digit: int | None = None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _SMALL_UNITS:
            # 十 alone (十二) means one ten.
            total += (1 if digit is None else digit) * _SMALL_UNITS[char]
            digit = None
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + (digit or 0)


def parse_chinese(text: str) -> int:
    """A Chinese integer numeral: 四十九 → 49, 两万三千 → 23000, 一亿零五百万 → 105000000, 二〇二五 → 2025."""
    if not text or not _CHINESE_RE.fullmatch(text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    if all(c in _DIGITS for c in text) and len(text) > 1:
        # A digit string such as a year: 二〇二五.
        return int("".join(str(_DIGITS[c]) for c in text))
    total = 0
    rest = text
    for unit in ("亿", "万"):
        if unit in rest:
            head, rest = rest.split(unit, 1)
            if not head:
                raise ValueError(f"not a Chinese numeral: {text!r}")
            total += parse_chinese(head) * _LARGE_UNITS[unit]
    return total + (_parse_section(rest) if rest else 0)


def _parse_plain(text: str) -> Decimal:
    text = text.strip().translate(_FULL_WIDTH)
    if _ARABIC_RE.fullmatch(text):
        return Decimal(text)
    return Decimal(parse_chinese(text))


def parse_number(text: str) -> Decimal:
    """One number with an optional trailing multiplier: '300万' → 3000000, '十五' → 15."""
    text = text.strip()
    for name, factor in MULTIPLIERS.items():
        if text.endswith(name) and len(text) > len(name):
            head = text[: -len(name)]
            # 十万 / 一百万: a Chinese numeral absorbs its own 万 / 亿.
            if _CHINESE_RE.fullmatch(text) and not _ARABIC_RE.fullmatch(head.translate(_FULL_WIDTH)):
                return Decimal(parse_chinese(text))
            return _parse_plain(head) * factor
    return _parse_plain(text)


def parse_range(text: str) -> tuple[Decimal, Decimal]:
    """A range '3—5', '3至5', '3~5万' → (low, high); a single number gives (n, n)."""
    match = _RANGE_RE.fullmatch(text.strip())
    if match is None:
        value = parse_number(text)
        return value, value
    low_text, high_text, multiplier = match.groups()
    factor = MULTIPLIERS[multiplier] if multiplier else Decimal(1)
    low, high = _parse_plain(low_text) * factor, _parse_plain(high_text) * factor
    if low > high:
        raise ValueError(f"range runs backwards: {text!r}")
    return low, high


def plain_decimal(value: Decimal) -> Decimal:
    """``value`` without exponent or needless trailing zeros: 2.9E+9 → 2900000000, 4.50 → 4.5."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()
