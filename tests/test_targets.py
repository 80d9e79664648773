from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from mapping.entities import CatalogueError
from mapping.parser import parse_plan
from mapping.targets import (
    Comparator,
    Target,
    extract_span_targets,
    extract_targets,
    load_vocabulary,
)
from mapping.text import normalise
from tests.seed import plan as _plan
from tests.seed import raw as _raw
from tests.seed import targets as _targets

SEED = Path(__file__).parent.parent / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"

EQ, GE, GT, APPROX, RANGE = (
    Comparator.EQUAL,
    Comparator.AT_LEAST,
    Comparator.GREATER_THAN,
    Comparator.APPROXIMATELY,
    Comparator.RANGE,
)
D = Decimal

# Every target of the plan, read by hand from the text:
# (task, indicator, value, upper end of a range, unit, comparator, target year, baseline year, deadline)
# A sentence that names no year gives no target year (see mapping/targets.py).
EXPECTED: list[
    tuple[
        int,
        str,
        Decimal | None,
        Decimal | None,
        str | None,
        Comparator | None,
        int | None,
        int | None,
        datetime.date | None,
    ]
] = [
    # (六) 到2025年人才总量突破300万
    (6, "talentPool", D(3000000), None, "person", GT, 2025, None, None),
    # (七) 2025年年底前,先期培育…产业共同体
    (7, "industryCommunities", None, None, None, None, 2025, None, datetime.date(2025, 12, 31)),
    # (九) 到2025年培育形成省级现代服务业集聚示范区10个、省级服务业创新中心25个、市级特色产业楼宇30个
    (9, "provincialModernServiceClusterZones", D(10), None, "number", EQ, 2025, None, None),
    (9, "provincialServiceInnovationCentres", D(25), None, "number", EQ, 2025, None, None),
    (9, "municipalFeatureIndustryBuildings", D(30), None, "number", EQ, 2025, None, None),
    # (九) 加强与央企、省企合作,总部企业达到200家 (a sentence of its own, no year)
    (9, "headquartersEnterprises", D(200), None, "enterprise", EQ, None, None, None),
    # (十) 到2025年国家级、省级集群达到8个以上
    (10, "industryClusters", D(8), None, "number", GE, 2025, None, None),
    # (十六) 获外贸进出口资质企业突破1万家,经济外向度提高到20%左右
    (16, "foreignTradeEnterprises", D(10000), None, "enterprise", GT, None, None, None),
    (16, "economicOpenness", D(20), None, "percent", APPROX, None, None, None),
    # (十七) 加快推进919处、面积约1996公顷历史遗留矿山的生态修复治理
    (17, "historicMineSitesRestored", D(919), None, "site", EQ, None, None, None),
    (17, "historicMineAreaRestored", D(1996), None, "hectare", APPROX, None, None, None),
    # (十七) 到2023年年底前完成沿黄地区入河排污口整治
    (17, "riverOutfallRemediation", None, None, None, None, 2023, None, datetime.date(2023, 12, 31)),
    # (十八) 可再生能源装机规模达到430万千瓦以上 (30万千瓦以下小煤电机组 only qualifies)
    (18, "renewableEnergyCapacity", D(4300000), None, "kilowatt", GE, None, None, None),
    # (十九) 2025年全市能耗强度较2020年降低14%以上; 城市再生水利用率提高到50%
    (19, "energyIntensityReduction", D(14), None, "percent", GE, 2025, 2020, None),
    (19, "reclaimedWaterUtilisationRate", D(50), None, "percent", EQ, None, None, None),
    # (二十) 到2025年新能源汽车保有量达到15万辆以上
    (20, "newEnergyVehicleFleet", D(150000), None, "vehicle", GE, 2025, None, None),
    # (二十一) 2023年年底前制定碳达峰工作方案
    (21, "carbonPeakingWorkPlan", None, None, None, None, 2023, None, datetime.date(2023, 12, 31)),
    # (二十二) 到2025年全市常住人口力争达到1000万人,地区生产总值力争达到1.5万亿元
    (22, "residentPopulation", D(10000000), None, "person", EQ, 2025, None, None),
    (22, "gdp", D(1500000000000), None, "yuan", EQ, 2025, None, None),
    # (二十八) 引进3—5家国际一流种业集团或国内行业领先种业集团
    (28, "seedGroupsAttracted", D(3), D(5), "enterprise", RANGE, None, None, None),
    # (二十九) 粮食综合生产能力稳定在58亿斤左右; 肉蛋奶产量稳定在100万吨以上,蔬菜产量670万吨以上
    (29, "grainProductionCapacity", D(2900000000), None, "kilogram", APPROX, None, None, None),
    (29, "meatEggMilkOutput", D(1000000000), None, "kilogram", GE, None, None, None),
    (29, "vegetableOutput", D(6700000000), None, "kilogram", GE, None, None, None),
    # (三十一) 到2025年区县级以上美丽乡村示范村覆盖率达到30%以上
    (31, "beautifulVillageCoverage", D(30), None, "percent", GE, 2025, None, None),
    # (三十三) 到2025年营业收入100亿元以上企业达到15家 (100亿元 only qualifies)
    (33, "enterprisesRevenueOver10bn", D(15), None, "enterprise", EQ, 2025, None, None),
    # (三十四) 到2024年双化协同体系基本建成
    (34, "digitalGreenSynergySystem", None, None, None, None, 2024, None, datetime.date(2024, 12, 31)),
    # (三十五) 到2025年实际使用外资达到35亿美元左右
    (35, "foreignInvestmentUtilised", D(3500000000), None, "usDollar", APPROX, 2025, None, None),
    # (四十一) 2023年6月底前制定促进共同富裕的实施意见
    (
        41,
        "commonProsperityImplementationOpinions",
        None,
        None,
        None,
        None,
        2023,
        None,
        datetime.date(2023, 6, 30),
    ),
    # (四十三) 到2025年普惠性幼儿园覆盖率达到90%
    (43, "inclusiveKindergartenCoverage", D(90), None, "percent", EQ, 2025, None, None),
    # (四十六) 确保农产品监测合格率保持在98%以上
    (46, "agriculturalProductPassRate", D(98), None, "percent", GE, None, None, None),
    # (四十七) 确保成品粮油储备满足市场需求15天以上
    (47, "grainOilReserveDays", D(15), None, "day", GE, None, None, None),
]


def _row(t: Target) -> tuple[object, ...]:
    q = t.quantity
    return (
        t.task,
        t.indicator,
        q.value if q else None,
        q.upper if q else None,
        q.unit if q else None,
        t.comparator,
        t.target_year,
        t.baseline_year,
        t.deadline,
    )


def test_finds_exactly_the_targets_read_by_hand() -> None:
    found = sorted((_row(t) for t in _targets()), key=repr)
    assert found == sorted(EXPECTED, key=repr)
    assert len(_targets()) == 31


def test_every_quote_is_the_source_text_at_its_offsets() -> None:
    raw = _raw()
    for t in _targets():
        assert raw[t.span.start : t.span.end] == t.span.quote
        assert t.span.start >= _plan().tasks[t.task - 1].span.start
        assert t.span.end <= _plan().tasks[t.task - 1].span.end
        if t.quantity is not None:
            q = t.quantity.span
            assert raw[q.start : q.end] == q.quote
            assert t.span.start <= q.start and q.end <= t.span.end


def test_quotes_and_values_as_written() -> None:
    by_indicator = {t.indicator: t for t in _targets()}
    assert by_indicator["talentPool"].label == "到2025年人才总量突破300万"
    assert by_indicator["industryClusters"].label == "到2025年国家级、省级集群达到8个以上"
    assert by_indicator["energyIntensityReduction"].label == "2025年全市能耗强度较2020年降低14%以上"
    assert by_indicator["carbonPeakingWorkPlan"].label == "2023年年底前制定碳达峰工作方案"
    # The quote crosses a line break in the file; the label is normalised.
    assert "\n" in by_indicator["energyIntensityReduction"].span.quote
    written = {t.indicator: t.quantity.as_written for t in _targets() if t.quantity}
    assert written["renewableEnergyCapacity"] == "430万千瓦"
    assert written["grainProductionCapacity"] == "58亿斤"
    assert written["gdp"] == "1.5万亿元"
    assert written["seedGroupsAttracted"] == "3—5家"
    assert written["meatEggMilkOutput"] == "100万吨"  # '100\n 万吨' in the file


def test_targets_are_numbered_per_task_in_text_order() -> None:
    by_task: dict[int, list[Target]] = {}
    for t in _targets():
        by_task.setdefault(t.task, []).append(t)
    for targets in by_task.values():
        assert [t.k for t in targets] == list(range(1, len(targets) + 1))
        assert [t.span.start for t in targets] == sorted(t.span.start for t in targets)


def test_every_indicator_in_the_data_file_is_used_once_and_units_exist() -> None:
    vocab = load_vocabulary()
    used = [t.indicator for t in _targets()]
    assert sorted(used) == sorted(vocab.indicators)  # type: ignore[type-var]
    for indicator in vocab.indicators.values():
        assert indicator.en and indicator.zh and indicator.match
        assert indicator.milestone or indicator.unit in vocab.units


def _in(text: str) -> tuple[Target, ...]:
    return extract_span_targets(normalise(text), 1, 0, len(text))


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("按照计划有序关停整合30万千瓦以下小煤电机组,持续压减散煤消费。", []),
        ("到2025年营业收入100亿元以上企业达到15家。", [D(15)]),
        ("扎实推进总投资50亿元的重点项目。", []),
        ("推进城市轨道交通7号线一期建设,加快构建“2+3N+1”发展机制。", []),
        ("深化细化“六个现代化强省会”具体目标,实施十大攻坚行动。", []),
        ("市场主体数量稳定在120万户以上。", []),  # 户 is no unit in the data file: left out
    ],
)
def test_qualifiers_names_and_unknown_units_are_not_targets(text: str, values: list[Decimal]) -> None:
    assert [t.quantity.value for t in _in(text) if t.quantity] == values


def test_comparators_from_verbs_and_words() -> None:
    cases = {
        "可再生能源装机规模突破430万千瓦。": (GT, D(4300000)),
        "可再生能源装机规模达到430万千瓦以上。": (GE, D(4300000)),
        "可再生能源装机规模控制在430万千瓦。": (Comparator.AT_MOST, D(4300000)),
        "可再生能源装机规模约430万千瓦。": (APPROX, D(4300000)),
        "可再生能源装机规模达到4.5万千瓦左右。": (APPROX, D(45000)),
        "可再生能源装机规模达到300-500万千瓦。": (RANGE, D(3000000)),
    }
    for text, (comparator, value) in cases.items():
        (t,) = _in(text)
        assert (t.comparator, t.quantity and t.quantity.value) == (comparator, value), text


def test_reflowed_text_gives_the_same_target() -> None:
    (a,) = _in("到2025年新能源汽车保有量达到15万辆以上。")
    (b,) = _in("到2025\n\n年新能源汽车保\n有量达到15\n 万辆以\n上。")
    assert _row(a) == _row(b)
    assert b.span.quote == "到2025\n\n年新能源汽车保\n有量达到15\n 万辆以\n上"


def test_year_only_from_the_sentence_and_baseline_from_the_clause() -> None:
    (undated,) = _in("加强与央企合作,总部企业达到200家。")
    assert undated.target_year is None  # the plan's period is not read into an undated figure
    first, second = _in("到2025年新能源汽车保有量达到15万辆,总部企业达到200家。")
    assert (first.target_year, second.target_year) == (2025, 2025)
    (reduced,) = _in("2025年全市能耗强度较2020年降低14%以上。")
    assert (reduced.target_year, reduced.baseline_year) == (2025, 2020)


@pytest.mark.parametrize(
    ("text", "deadline", "label"),
    [
        (
            "2023年年底前制定碳达峰工作方案,开展碳监测评估试点。",
            datetime.date(2023, 12, 31),
            "2023年年底前制定碳达峰工作方案",
        ),
        ("系统谋划相关制度,2024年2月底前制定促进共同富裕的实施意见。", datetime.date(2024, 2, 29), None),
        ("2023年6月前制定促进共同富裕的实施意见。", datetime.date(2023, 5, 31), None),
        ("到2025年底建成节水典范城市。", datetime.date(2025, 12, 31), "到2025年底建成节水典范城市"),
        ("到2026年1月前制定实施方案。", datetime.date(2025, 12, 31), None),
        (
            "到2024年双化协同体系基本建成,试点工作取得标志性进展。",
            datetime.date(2024, 12, 31),
            "到2024年双化协同体系基本建成",
        ),
        (
            "2025年年底前,先期培育集成电路等产业共同体。",
            datetime.date(2025, 12, 31),
            "2025年年底前,先期培育集成电路等产业共同体",
        ),
    ],
)
def test_milestones_with_deadlines(text: str, deadline: datetime.date, label: str | None) -> None:
    (t,) = _in(text)
    assert t.is_milestone and t.quantity is None and t.comparator is None
    assert t.deadline == deadline and t.target_year == deadline.year
    if label is not None:
        assert t.label == label


def test_a_dated_figure_is_not_also_a_milestone() -> None:
    targets = _in("到2025年人才总量突破300万。")
    assert len(targets) == 1 and not targets[0].is_milestone
    assert _in("坚持应保尽保,实施全民参保计划。") == ()


def test_a_plan_of_the_same_genre_with_other_years_and_unknown_indicators() -> None:
    path = Path(__file__).parent / "fixtures" / "small_plan.txt"
    raw = path.read_text(encoding="utf-8")
    targets = extract_targets(parse_plan(raw, source_name=path.name), raw)
    rows = [
        (t.task, t.indicator, t.quantity and (t.quantity.value, t.quantity.unit), t.target_year)
        for t in targets
    ]
    # Figures whose indicator is not in the curated list are kept (SHACL warns), the unit from the text.
    assert rows == [
        (1, None, (D(50), "enterprise"), 2028),  # 到2028年,省级以上绿色工厂达到50家
        (6, None, (D(5000000), "kilowatt"), 2028),  # 到2028年,新能源装机达到500万千瓦
    ]
    assert [t.label for t in targets] == ["省级以上绿色工厂达到50家", "新能源装机达到500万千瓦"]
    for t in targets:
        assert raw[t.span.start : t.span.end] == t.span.quote


_DAY = '[unit.day]\nqudt = "DAY"\nzh = "天"\nen = "day"\nabbr = "days"\nforms = { "天" = "1" }\n'
_X = 'zh = "x"\nen = "x"\nmatch = ["x"]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f'{_DAY}[indicator.x]\n{_X}unit = "furlong"\n', "indicator 'x': unknown unit 'furlong'"),
        (
            f'{_DAY}[indicator.x]\n{_X}unit = "day"\nkind = "milestone"\n',
            "indicator 'x': a milestone has no unit, any other indicator has one",
        ),
        (f"{_DAY}[indicator.x]\n{_X}", "indicator 'x': a milestone has no unit, any other indicator has one"),
        # what raised KeyError or TypeError without naming anything:
        (f'{_DAY}[indicator.x]\nen = "x"\nmatch = ["x"]\nunit = "day"\n', "indicator 'x': missing zh"),
        (
            f'{_DAY}[indicator.x]\nzh = "x"\nen = "x"\nunit = "day"\n',
            "indicator 'x': match must list at least one phrase",
        ),
        (
            f'{_DAY}[indicator.x]\nzh = "x"\nen = "x"\nmatch = "x"\nunit = "day"\n',
            "indicator 'x': match must be a list of non-empty strings",
        ),
        (f"{_DAY}[indicator.x]\n{_X}unit = 3\n", "indicator 'x': unit must be a non-empty string"),
        (
            f'{_DAY}[indicator.x]\n{_X}kind = "goal"\n',
            "indicator 'x': kind must be \"milestone\" or absent, not 'goal'",
        ),
        (f'{_DAY}[indicator.x]\n{_X}unit = "day"\nunits = "day"\n', "indicator 'x': unknown field(s) units"),
        (f"indicator = 3\n{_DAY}", "indicator: must be a table of tables ([indicator.KEY])"),
        (f'{_DAY}[indicator]\nx = "y"\n', "indicator 'x': is not a table ([indicator.x])"),
        (
            '[unit.day]\nzh = "天"\nen = "day"\nforms = { "天" = "1" }\n[indicator]\n',
            "unit 'day': abbr must be a string (empty for a bare count)",
        ),
        (
            '[unit.day]\nzh = "天"\nen = "day"\nabbr = ""\nforms = { "天" = 1 }\n[indicator]\n',
            "unit 'day': forms.天: the factor must be a string holding a positive decimal, not 1",
        ),
        (
            '[unit.day]\nzh = "天"\nen = "day"\nabbr = ""\nforms = { "天" = "one" }\n[indicator]\n',
            "unit 'day': forms.天: the factor must be a string holding a positive decimal, not 'one'",
        ),
        (
            '[unit.day]\nzh = "天"\nen = "day"\nabbr = ""\n[indicator]\n',
            "unit 'day': forms must be a table of unit words and their factors",
        ),
        (f"{_DAY}[indicator]\n[target]\n", "file: unknown section(s) target"),
        (
            f"{_DAY}[indicator.x\n",
            "file: not valid TOML: Expected ']' at the end of a table declaration (at line 7, column 13)",
        ),
    ],
)
def test_the_data_file_is_checked_when_loaded(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "indicators.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_vocabulary(path)
    assert str(caught.value) == f"indicators.toml: {message}"
