"""Numbers as Chinese government plans write them, read exactly (``Decimal``, never ``float``).

- Arabic digits with an optional decimal part: ``1920.83``; full-width digits are accepted.
- Chinese numerals: ``十一``, ``四十九``, ``一百零五``, ``两千``, ``三万五千``, digit strings ``二〇二五``.
  Only grammatical ones: ``一百二二``, ``十十``, ``一千五`` raise :class:`NumeralError` (what, where).
- Multipliers after a number: ``万`` (1e4), ``亿`` (1e8), ``万亿`` (1e12): ``300万``, ``1.5万亿``.
- Ranges: ``3—5``, ``3-5``, ``3~5``, ``3～5``, ``3至5``, ``3到5``; a multiplier after the upper end applies to
  both ends (``3—5万`` is 30000 to 50000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "ARABIC",
    "CHINESE",
    "MULTIPLIER",
    "MULTIPLIERS",
    "NUMBER",
    "RANGE_SEPARATOR",
    "NumeralError",
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


_ZEROS = "〇零"
_PLACES = {"十": 1, "百": 2, "千": 3}
_SECTIONS = (("亿", 8), ("万", 4))


class NumeralError(ValueError):
    """A Chinese numeral that breaks the grammar of numerals: the text, the character where it
    breaks (0-based) and what is wrong there."""

    def __init__(self, text: str, index: int, reason: str) -> None:
        super().__init__(f"malformed Chinese numeral {text!r}: {reason} (character {index + 1})")
        self.text = text
        self.index = index
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Term:
    """One digit of a numeral at its place (10**place); ``zero`` is a 零 (or 〇) standing for a gap."""

    index: int  # of the digit (of the unit for a bare 十) in the numeral
    digit: int
    place: int
    zero: bool = False
    bare_ten: bool = False  # 十 with no digit before it


def _section_terms(text: str, numeral: str, offset: int, shift: int) -> list[_Term]:
    """The terms of a section below 万 (``text`` is ``numeral[offset:offset + len(text)]``)."""
    terms: list[_Term] = []
    pending: int | None = None  # index of a digit not yet followed by its unit
    for j, char in enumerate(text, offset):
        if char in _DIGITS and pending is not None:
            raise NumeralError(numeral, j, f"two digits in a row ({numeral[pending]}{char})")
        if char in _ZEROS:
            terms.append(_Term(j, 0, shift, zero=True))
        elif char in _DIGITS:
            pending = j
        else:  # 十, 百 or 千
            if pending is None and char != "十":
                raise NumeralError(numeral, j, f"{char} with no digit before it")
            if pending is not None and numeral[pending] == "两" and char == "十":
                raise NumeralError(numeral, pending, "两 before 十 (tens are written 二十)")
            digit = 1 if pending is None else _DIGITS[numeral[pending]]
            index = j if pending is None else pending
            terms.append(_Term(index, digit, _PLACES[char] + shift, bare_ten=pending is None))
            pending = None
    if pending is not None:
        if numeral[pending] == "两" and (terms or shift == 0):
            raise NumeralError(numeral, pending, "两 as the last digit (ones are written 二)")
        terms.append(_Term(pending, _DIGITS[numeral[pending]], shift))
    return terms


def _terms(text: str, numeral: str, offset: int, shift: int) -> list[_Term]:
    """The terms of ``text`` (a part of ``numeral`` at ``offset``), split at 亿 and 万; places shifted."""
    for unit, power in _SECTIONS:
        i = text.find(unit)
        if i >= 0:
            head = _terms(text[:i], numeral, offset, shift + power)
            if not any(not t.zero for t in head):
                raise NumeralError(numeral, offset + i, f"{unit} with no number before it")
            return head + _terms(text[i + 1 :], numeral, offset + i + 1, shift)
    return _section_terms(text, numeral, offset, shift)


def _written(numeral: str, term: _Term) -> str:
    """A term as it would be written alone: 二千, 五万, 一亿 (the place spelt out)."""
    small = {0: "", 1: "十", 2: "百", 3: "千"}[term.place % 4]
    large = {0: "", 1: "万", 2: "亿", 3: "万亿"}[term.place // 4]
    return ("" if term.bare_ten else numeral[term.index]) + small + large


def _check(numeral: str, terms: list[_Term]) -> None:
    """Places decrease; one 零 stands for each gap and only there; 十 alone only at the start."""
    if terms[0].zero:
        raise NumeralError(numeral, terms[0].index, "零 before the first digit")
    if terms[-1].zero:
        raise NumeralError(numeral, terms[-1].index, "零 after the last digit")
    previous = terms[0]
    zero: _Term | None = None
    for term in terms[1:]:
        if term.zero:
            if zero is not None:
                raise NumeralError(numeral, term.index, "two 零 in a row")
            zero = term
            continue
        name = _written(numeral, term)
        if term.place >= previous.place:
            order = f"places out of order ({name} after {_written(numeral, previous)})"
            raise NumeralError(numeral, term.index, order)
        if term.bare_ten:
            raise NumeralError(numeral, term.index, "十 with no digit before it after a higher place (一十)")
        if previous.place - term.place > 1 and zero is None:
            raise NumeralError(
                numeral,
                term.index,
                f"a place skipped before {name} without 零 (after {_written(numeral, previous)})",
            )
        if previous.place - term.place == 1 and zero is not None:
            raise NumeralError(numeral, zero.index, "零 where no place is skipped")
        previous, zero = term, None


def _digit_string(text: str) -> int:
    """A number written digit by digit (a year: 二〇二五, 一九九八): four digits or more, or a 〇 in it."""
    if "两" in text:
        raise NumeralError(text, text.index("两"), "两 in a digit string (digits are written 二)")
    if len(text) < 4 and not any(c in _ZEROS for c in text):
        # 三五 is three or five, 二三 two or three: digits side by side are no number.
        raise NumeralError(text, 1, f"two digits in a row ({text[:2]})")
    return int("".join(str(_DIGITS[c]) for c in text))


def parse_chinese(text: str) -> int:
    """A Chinese integer numeral: 四十九 → 49, 两万三千 → 23000, 一亿零五百万 → 105000000, 二〇二五 → 2025.

    The grammar of official numerals: digit–unit pairs with decreasing places, one 零 (or 〇) for each
    gap, 十 with no digit only at the start, 两 only before 百, 千, 万, 亿; sections of 万 and 亿. A
    malformed numeral (一百二二, 十十, 一千五, 一百十) raises :class:`NumeralError` saying what and where.
    """
    if not text or not _CHINESE_RE.fullmatch(text):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    if len(text) == 1 and text in _DIGITS:
        return _DIGITS[text]
    if all(c in _DIGITS for c in text):
        return _digit_string(text)
    terms = _terms(text, text, 0, 0)
    _check(text, terms)
    return sum(t.digit * 10**t.place for t in terms)


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
