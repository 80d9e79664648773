from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest

from mapping.numbers import NumeralError, parse_chinese, parse_number, parse_range, plain_decimal

CHINESE = [
    ("一", 1),
    ("九", 9),
    ("十", 10),
    ("十一", 11),
    ("二十", 20),
    ("四十九", 49),
    ("九十九", 99),
    ("一百", 100),
    ("一百零五", 105),
    ("一百一十", 110),
    ("两百", 200),
    ("三千零五", 3005),
    ("两千", 2000),
    ("一万", 10000),
    ("十万", 100000),
    ("三万五千", 35000),
    ("一亿零五百万", 105000000),
    ("零", 0),
    ("二〇二五", 2025),
    ("二〇", 20),  # a digit string of two: read digit by digit, not 2 then 0
    ("一〇", 10),
    ("十二", 12),  # 十 alone is one ten
    ("一亿", 100000000),
    ("十亿", 1000000000),
    ("两亿三千万", 230000000),
    ("三万零五", 30005),
    ("一千零一十", 1010),
]


@pytest.mark.parametrize(("text", "value"), CHINESE)
def test_chinese_numerals(text: str, value: int) -> None:
    assert parse_chinese(text) == value


NUMBERS = [
    ("15", Decimal(15)),
    ("1920.83", Decimal("1920.83")),
    ("０.５", Decimal("0.5")),
    ("300万", Decimal(3000000)),
    ("1万", Decimal(10000)),
    ("1.5万亿", Decimal("1.5E12")),
    ("58亿", Decimal(5800000000)),
    ("430万", Decimal(4300000)),
    ("35亿", Decimal(3500000000)),
    ("十五", Decimal(15)),
    ("两万", Decimal(20000)),
    ("三十万", Decimal(300000)),
]


@pytest.mark.parametrize(("text", "value"), NUMBERS)
def test_numbers(text: str, value: Decimal) -> None:
    parsed = parse_number(text)
    assert isinstance(parsed, Decimal)
    assert parsed == value


def test_decimals_stay_exact() -> None:
    # 0.1 + 0.2 is exact in Decimal and inexact in binary floating point.
    assert parse_number("0.1") + parse_number("0.2") == Decimal("0.3")
    assert parse_number("1292.2万") == Decimal("12922000")


RANGES = [
    ("3—5", (Decimal(3), Decimal(5))),
    ("3-5", (Decimal(3), Decimal(5))),
    ("3~5", (Decimal(3), Decimal(5))),
    ("3～5", (Decimal(3), Decimal(5))),
    ("3至5", (Decimal(3), Decimal(5))),
    ("3——5", (Decimal(3), Decimal(5))),
    ("三至五", (Decimal(3), Decimal(5))),
    ("3—5万", (Decimal(30000), Decimal(50000))),
    ("1.5-2.5亿", (Decimal(150000000), Decimal(250000000))),
    ("7", (Decimal(7), Decimal(7))),
]


@pytest.mark.parametrize(("text", "bounds"), RANGES)
def test_ranges(text: str, bounds: tuple[Decimal, Decimal]) -> None:
    assert parse_range(text) == bounds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a Chinese numeral: ''"),
        ("abc", "not a Chinese numeral: 'abc'"),
        ("十x", "not a Chinese numeral: '十x'"),
        ("万", r"malformed Chinese numeral '万': 万 with no number before it \(character 1\)"),
        ("5—3", "range runs backwards: '5—3'"),
    ],
)
def test_rejects_what_is_not_a_number(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        parse_range(text)


# --- the finer points, each by a case of its own --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (" １２．５万 ", "125000.0"),  # full-width digits and point, spaces around
        ("一百万", "1000000"),  # a Chinese numeral absorbs its own 万
        ("三亿", "300000000"),
        ("2万亿", "2000000000000"),
        ("12.50", "12.50"),  # as written: Decimal keeps the trailing zero
    ],
)
def test_numbers_exactly_as_written(text: str, value: str) -> None:
    assert str(parse_number(text)) == value


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("3—3", (3, 3)),  # equal ends are a range, not backwards
        (" ３～５ ", (3, 5)),
        ("3 至 5万", (30000, 50000)),
        ("二到三万", (20000, 30000)),
        ("3–5", (3, 5)),
        ("3－5", (3, 5)),
    ],
)
def test_more_ranges(text: str, bounds: tuple[int, int]) -> None:
    assert parse_range(text) == (Decimal(bounds[0]), Decimal(bounds[1]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("万万", r"malformed Chinese numeral '万万': 万 with no number before it \(character 1\)"),
        ("亿", r"malformed Chinese numeral '亿': 亿 with no number before it \(character 1\)"),
        ("万五", r"malformed Chinese numeral '万五': 万 with no number before it \(character 1\)"),
    ],
)
def test_a_large_unit_without_a_number_before_it_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        parse_chinese(text)


@pytest.mark.parametrize(
    ("value", "plain"),
    [("2.9E+9", "2900000000"), ("4.50", "4.5"), ("5.0", "5"), ("0", "0"), ("1E+1", "10"), ("0.10", "0.1"),
     ("-3.00", "-3"), ("1.5E+12", "1500000000000")],
)  # fmt: skip
def test_plain_decimal(value: str, plain: str) -> None:
    assert str(plain_decimal(Decimal(value))) == plain


def test_a_multiplier_inside_a_chinese_numeral_is_read_with_it() -> None:
    # 万 ends the text but belongs to the numeral: not 一亿零五百 times 万.
    assert parse_number("一亿零五百万") == Decimal(105000000)


@pytest.mark.parametrize(
    ("reader", "text", "message"),
    [
        (parse_chinese, "x万", "not a Chinese numeral: 'x万'"),  # named whole, not by its part
        (parse_number, "x万", "not a Chinese numeral: 'x'"),  # the number before the multiplier
    ],
)
def test_the_refusal_names_what_was_read(reader: Callable[[str], object], text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        reader(text)


# --- the grammar of numerals: what official numerals may be, and what they may not ------------------

GRAMMATICAL = [
    ("一百〇五", 105),  # 〇 stands for the gap as 零 does
    ("〇", 0),
    ("两", 2),
    ("两万", 20000),  # 两 before 百, 千, 万, 亿
    ("一千两百", 1200),
    ("一万亿", 10**12),
    ("十万亿", 10**13),  # 十 alone at the start of the whole numeral
    ("一亿零五千", 100005000),  # the empty 万 section is a gap: one 零
    ("五十万零三千", 503000),
    ("一万五千亿", 15 * 10**11),
    ("一九九八", 1998),  # a digit string of four: a year
    ("二零二五", 2025),  # 零 in a digit string as 〇
    ("零五", 5),  # two digits, one a zero: a digit string
]


@pytest.mark.parametrize(("text", "value"), GRAMMATICAL)
def test_grammatical_numerals(text: str, value: int) -> None:
    assert parse_chinese(text) == value


MALFORMED = [
    ("一百二二", 3, "two digits in a row (二二)"),
    ("二二", 1, "two digits in a row (二二)"),  # 二十二, or 二 and 二: no number
    ("三五", 1, "two digits in a row (三五)"),  # three or five
    ("一二三", 1, "two digits in a row (一二)"),
    ("十十", 1, "places out of order (十 after 十)"),
    ("二十十", 2, "places out of order (十 after 二十)"),
    ("一百二千", 2, "places out of order (二千 after 一百)"),
    ("一万亿二万亿", 3, "places out of order (二万亿 after 一万亿)"),
    ("一百十", 2, "十 with no digit before it after a higher place (一十)"),  # 一百一十
    ("一万零十", 3, "十 with no digit before it after a higher place (一十)"),
    ("一千五", 2, "a place skipped before 五 without 零 (after 一千)"),  # 一千零五 or 一千五百?
    ("三万五", 2, "a place skipped before 五 without 零 (after 三万)"),
    ("一亿五千", 2, "a place skipped before 五千 without 零 (after 一亿)"),
    ("五十万三千", 3, "a place skipped before 三千 without 零 (after 五十万)"),
    ("一百零五十", 2, "零 where no place is skipped"),
    ("一万零零五", 3, "two 零 in a row"),
    ("零一百", 0, "零 before the first digit"),
    ("一百零", 2, "零 after the last digit"),
    ("两十", 0, "两 before 十 (tens are written 二十)"),
    ("十两", 1, "两 as the last digit (ones are written 二)"),
    ("二十两万", 2, "两 as the last digit (ones are written 二)"),
    ("两〇二五", 0, "两 in a digit string (digits are written 二)"),
    ("百", 0, "百 with no digit before it"),
    ("零万", 1, "万 with no number before it"),
]


@pytest.mark.parametrize(("text", "index", "reason"), MALFORMED)
def test_malformed_numerals_are_refused_saying_what_and_where(text: str, index: int, reason: str) -> None:
    with pytest.raises(NumeralError) as caught:
        parse_chinese(text)
    assert (caught.value.text, caught.value.index, caught.value.reason) == (text, index, reason)
    assert str(caught.value) == f"malformed Chinese numeral {text!r}: {reason} (character {index + 1})"


@pytest.mark.parametrize(
    ("reader", "text", "message"),
    [
        (parse_chinese, "廿五", "not a Chinese numeral: '廿五'"),  # 廿 (twenty) is no official numeral
        (parse_number, "廿", "not a Chinese numeral: '廿'"),
        (parse_number, "１二", "not a Chinese numeral: '1二'"),  # full-width digits mixed with numerals
        (parse_number, "十５", "not a Chinese numeral: '十5'"),
        (
            parse_number,
            "一千五万",
            "malformed Chinese numeral '一千五万': a place skipped before 五万 without 零 (after 一千万) "
            "(character 3)",
        ),
        (
            parse_range,
            "二二至三十",
            "malformed Chinese numeral '二二': two digits in a row (二二) (character 2)",
        ),
    ],
)
def test_numbers_with_malformed_numerals_are_refused(
    reader: Callable[[str], object], text: str, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        reader(text)
