from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from mapping.numbers import parse_chinese, parse_number, parse_range, plain_decimal

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
        ("万", "not a Chinese numeral: '万'"),
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
        ("万万", "not a Chinese numeral: '万万'"),
        ("亿", "not a Chinese numeral: '亿'"),
        ("万五", "not a Chinese numeral: '万五'"),
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
    assert parse_chinese("一百十") == 110  # a unit right after a unit: one of it


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
