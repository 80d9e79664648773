from __future__ import annotations

from decimal import Decimal

import pytest

from mapping.numbers import parse_chinese, parse_number, parse_range

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
