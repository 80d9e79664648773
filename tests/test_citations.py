"""mapping.citations: cited documents, their relations and spans; resolution in a corpus; loops."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapping.citations import (
    Citation,
    Relation,
    extract_citations,
    resolve,
    title_key,
)
from mapping.outline import read_outline
from mapping.text import normalise
from tests import seed

CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
PROVINCE = CORPUS / "donghai-industry-green-transition-2024-2026.txt"
CITY = CORPUS / "qingchuan-industry-green-transition-2024-2026.txt"
ACROSS = CORPUS / "bailu-county-commerce-2023-2025.txt"
DEEP = CORPUS / "yunling-digital-economy.txt"
PLANS = (PROVINCE, CITY, ACROSS, DEEP)


def cite(path: Path) -> tuple[str, tuple[Citation, ...]]:
    raw = path.read_text(encoding="utf-8")
    return raw, extract_citations(raw, source_name=path.name)


def summary(citations: tuple[Citation, ...]) -> list[tuple[object, ...]]:
    return [
        (
            c.key,
            c.relation,
            c.trigger,
            c.number.key if c.number else None,
            str(c.location),
            c.span.quote,
        )
        for c in citations
    ]


# Read by hand from the fixtures and the seed.
GOLDEN = {
    PROVINCE: [
        (
            "国务院关于加快构建绿色制造体系的若干意见",
            Relation.IMPLEMENTS,
            "贯彻落实",
            "国发〔2022〕31号",
            f"{PROVINCE.name}:4:8",
            "《国务院关于加快构建绿色制造体系的若干\n意见》（国发〔2022〕31号）",
        ),
        (
            "东海省国民经济和社会发展第十四个五年规划纲要",
            Relation.BASED_ON,
            "根据",
            None,
            f"{PROVINCE.name}:5:20",
            "《东海省国民经济和社\n会发展第十四个五年规划纲要》",
        ),
    ],
    CITY: [
        (
            "东海省推进工业绿色低碳转型实施方案@2024-2026",
            Relation.IMPLEMENTS,
            "贯彻落实",
            None,
            f"{CITY.name}:4:8",
            "《东海省推进工业绿色低碳转型实施方案(2\n024—2026年)》",
        ),
        (
            "青川市生态环境保护条例",
            Relation.BASED_ON,
            "按照",
            None,
            f"{CITY.name}:5:15",
            "《青川市生态环境保护条例》",
        ),
    ],
    ACROSS: [
        (
            "东海省县域商业体系建设指南",
            Relation.BASED_ON,
            "根据",
            None,
            f"{ACROSS.name}:4:19",
            "《东海省县域商业\n体系建设指南》",
        )
    ],
    seed.SEED: [
        (
            "国务院关于支持山东深化新旧动能转换推动绿色低碳高质量发展的意见",
            Relation.IMPLEMENTS,
            "落实",
            None,
            f"{seed.SEED.name}:10:21",
            "《国务院关于支\n\n持山东深化新旧动能转换推动绿色低碳高质量发展的意见》",
        ),
        # 全面落实《A》《B》: the chain shares its trigger.
        (
            "山东省建设绿色低碳高质量发展先行区三年行动计划@2023-2025",
            Relation.IMPLEMENTS,
            "落实",
            None,
            f"{seed.SEED.name}:13:1",
            "《山东省建设绿色低碳高质量发展先行区三年行动计划\n\n(2023—2025年)》",
        ),
    ],
}


@pytest.mark.parametrize("path", list(GOLDEN), ids=lambda p: p.name)
def test_golden_citations(path: Path) -> None:
    _, citations = cite(path)
    assert summary(citations) == GOLDEN[path]


@pytest.mark.parametrize("path", list(GOLDEN), ids=lambda p: p.name)
def test_spans_quote_the_file_as_shipped(path: Path) -> None:
    raw, citations = cite(path)
    assert citations
    for c in citations:
        assert raw[c.span.start : c.span.end] == c.span.quote
        assert c.location.offset == c.span.start
        if c.title_span is not None:
            assert raw[c.title_span.start : c.title_span.end] == c.title_span.quote
            assert c.span.start <= c.title_span.start < c.title_span.end <= c.span.end
        if c.trigger_span is not None:
            assert raw[c.trigger_span.start : c.trigger_span.end] == c.trigger == c.trigger_span.quote
            assert c.trigger_span.end <= c.span.start
        if c.number is not None:
            assert c.span.start <= c.number.span.start < c.number.span.end <= c.span.end


def test_a_title_with_its_number_in_parentheses_is_one_citation() -> None:
    raw, citations = cite(PROVINCE)
    first = citations[0]
    assert first.title == "国务院关于加快构建绿色制造体系的若干意见"
    assert (
        first.title_span is not None
        and first.title_span.quote == "《国务院关于加快构建绿色制造体系的若干\n意见》"
    )
    assert first.number is not None
    assert (first.number.issuer, first.number.year, first.number.serial) == ("国发", 2022, 31)
    assert first.number.span.quote == "国发〔2022〕31号"
    assert (
        first.trigger_span is not None
        and raw[first.trigger_span.start - 1 : first.trigger_span.end] == "为贯彻落实"
    )


@pytest.mark.parametrize(
    ("text", "issuer", "year", "serial", "printed", "key"),
    [
        ("按照国发〔2022〕18号文件要求。", "国发", 2022, 18, "国发〔2022〕18号", "国发〔2022〕18号"),
        ("依据鲁政发[2023]5号部署。", "鲁政发", 2023, 5, "鲁政发[2023]5号", "鲁政发〔2023〕5号"),
        ("依据鲁政发［2023］5号部署。", "鲁政发", 2023, 5, "鲁政发[2023]5号", "鲁政发〔2023〕5号"),
        ("印发了济政办字（2021）12号。", "济政办字", 2021, 12, "济政办字(2021)12号", "济政办字〔2021〕12号"),
        ("见国办函【2020】第7号。", "国办函", 2020, 7, "国办函【2020】第7号", "国办函〔2020〕7号"),
        ("国办发〔2021〕3号明确。", "国办发", 2021, 3, "国办发〔2021〕3号", "国办发〔2021〕3号"),
    ],
)
def test_document_numbers_as_printed(
    text: str, issuer: str, year: int, serial: int, printed: str, key: str
) -> None:
    (citation,) = extract_citations(text, source_name="t.txt")
    assert citation.title is None and citation.number is not None
    assert (citation.number.issuer, citation.number.year, citation.number.serial) == (issuer, year, serial)
    assert citation.number.printed == printed
    assert citation.key == citation.number.key == key
    assert citation.span == citation.number.span


def test_a_given_normalisation_is_used_and_checked() -> None:
    raw = PROVINCE.read_text(encoding="utf-8")
    norm = normalise(raw)
    assert extract_citations(raw, source_name="p.txt", norm=norm) == extract_citations(
        raw, source_name="p.txt"
    )
    with pytest.raises(ValueError, match="norm is not the normalisation of raw"):
        extract_citations(raw[1:], source_name="p.txt", norm=norm)


def test_mismatched_brackets_are_no_document_number() -> None:
    assert extract_citations("见国发〔2022]18号。", source_name="t.txt") == ()


@pytest.mark.parametrize(
    ("text", "relation", "trigger"),
    [
        ("根据《甲办法》,制定本方案。", Relation.BASED_ON, "根据"),
        ("依据《甲办法》制定。", Relation.BASED_ON, "依据"),
        ("按照《甲办法》要求。", Relation.BASED_ON, "按照"),
        ("为落实《甲办法》,制定。", Relation.IMPLEMENTS, "落实"),
        ("为深入贯彻《甲办法》精神。", Relation.IMPLEMENTS, "贯彻"),
        ("认真贯彻落实《甲办法》。", Relation.IMPLEMENTS, "贯彻落实"),
        ("《甲办法》已经印发。", Relation.CITES, None),
        ("为落实党中央部署,参照《甲办法》执行。", Relation.CITES, None),  # 落实 is in another clause
        ("根据实际情况和《甲办法》。", Relation.BASED_ON, "根据"),  # nearest trigger in the clause
        ("按照要求,认真落实《甲办法》。", Relation.IMPLEMENTS, "落实"),
    ],
)
def test_relation_from_the_trigger_word(text: str, relation: Relation, trigger: str | None) -> None:
    (citation,) = extract_citations(text, source_name="t.txt")
    assert (citation.relation, citation.trigger) == (relation, trigger)
    if trigger is not None:
        assert citation.trigger_span is not None
        assert text[citation.trigger_span.start : citation.trigger_span.end] == trigger


def test_a_chain_of_titles_shares_its_trigger() -> None:
    text = "为落实《甲意见》、《乙方案》和《丙规划》,根据《丁办法》,制定本方案。"
    citations = extract_citations(text, source_name="t.txt")
    assert [(c.title, c.relation, c.trigger_span.start if c.trigger_span else None) for c in citations] == [
        ("甲意见", Relation.IMPLEMENTS, 1),
        ("乙方案", Relation.IMPLEMENTS, 1),
        ("丙规划", Relation.IMPLEMENTS, 1),
        ("丁办法", Relation.BASED_ON, 21),
    ]


def test_nested_titles_and_non_documents_are_citations() -> None:
    text = "根据《关于印发〈甲规划〉的通知》,在《人民日报》刊发。"
    nested, paper = extract_citations(text, source_name="t.txt")
    assert nested.title == "关于印发〈甲规划〉的通知" and nested.relation is Relation.BASED_ON
    assert nested.key == "关于印发<甲规划>的通知"
    assert paper.title == "人民日报" and paper.relation is Relation.CITES and paper.number is None


def test_a_parenthesis_after_a_title_that_is_no_number_stays_outside() -> None:
    (citation,) = extract_citations("落实《甲方案》(以下简称方案)。", source_name="t.txt")
    assert citation.number is None and citation.span.quote == "《甲方案》"


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("东海省推进工业绿色低碳转型实施方案(2024—2026年)", "东海省推进工业绿色低碳转型实施方案@2024-2026"),
        ("东海省推进工业绿色低碳转型实施方案（2024-2026年）", "东海省推进工业绿色低碳转型实施方案@2024-2026"),
        (
            "《东海省推进工业绿色低碳转型实施方案 (2024～2026)》",
            "东海省推进工业绿色低碳转型实施方案@2024-2026",
        ),
        ("甲省三年行动计划(2023—2025年)补充", "甲省三年行动计划补充@2023-2025"),
        ("关于〔某事〕的意见", "关于(某事)的意见"),
        ("甲方案", "甲方案"),
    ],
)
def test_title_key(title: str, key: str) -> None:
    assert title_key(title) == key


# -- resolution ----------------------------------------------------------------------------------


def corpus() -> tuple[dict[str, tuple[Citation, ...]], dict[str, str]]:
    citations: dict[str, tuple[Citation, ...]] = {}
    keys: dict[str, str] = {}
    for path in PLANS:
        raw, found = cite(path)
        citations[path.stem] = found
        keys[path.stem] = title_key(read_outline(raw, source_name=path.name).title)
    return citations, keys


def test_citations_resolve_inside_the_corpus_and_stay_stubs_outside() -> None:
    citations, keys = corpus()
    resolution = resolve(citations, keys)
    assert [(link.source, link.citation.key, link.target, link.stub) for link in resolution.links] == [
        (
            PROVINCE.stem,
            "国务院关于加快构建绿色制造体系的若干意见",
            None,
            "国务院关于加快构建绿色制造体系的若干意见",
        ),
        (
            PROVINCE.stem,
            "东海省国民经济和社会发展第十四个五年规划纲要",
            None,
            "东海省国民经济和社会发展第十四个五年规划纲要",
        ),
        (CITY.stem, "东海省推进工业绿色低碳转型实施方案@2024-2026", PROVINCE.stem, None),
        (CITY.stem, "青川市生态环境保护条例", None, "青川市生态环境保护条例"),
        (ACROSS.stem, "东海省县域商业体系建设指南", None, "东海省县域商业体系建设指南"),
        (
            DEEP.stem,
            "云岭市国民经济和社会发展第十四个五年规划",
            None,
            "云岭市国民经济和社会发展第十四个五年规划",
        ),
    ]
    assert resolution.loops == ()


def test_the_period_must_match_too() -> None:
    (citation,) = extract_citations("落实《甲方案(2021—2023年)》。", source_name="b.txt")
    resolution = resolve({"b": (citation,)}, {"a": title_key("甲方案(2024—2026年)")})
    assert [(link.target, link.stub) for link in resolution.links] == [(None, "甲方案@2021-2023")]


def test_a_document_number_resolves_when_the_plan_is_known_by_it() -> None:
    text = "根据鲁政发〔2023〕5号文件,落实《乙方案》(鲁政发〔2023〕5号),参照国发〔2022〕18号。"
    citations = extract_citations(text, source_name="c.txt")
    resolution = resolve({"c": citations}, {"a": "甲方案"}, {"a": "鲁政发〔2023〕5号"})
    assert [(link.citation.key, link.target, link.stub) for link in resolution.links] == [
        ("鲁政发〔2023〕5号", "a", None),
        ("乙方案", "a", None),  # no plan has its title; its number names plan a
        ("国发〔2022〕18号", None, "国发〔2022〕18号"),
    ]


def test_a_title_two_plans_share_refers_to_neither() -> None:
    (citation,) = extract_citations("落实《甲方案》。", source_name="c.txt")
    resolution = resolve({"c": (citation,)}, {"a": "甲方案", "b": "甲方案"})
    assert [(link.target, link.stub) for link in resolution.links] == [(None, "甲方案")]


def test_a_citation_loop_is_found_with_its_places() -> None:
    a = "甲市方案\n　　为贯彻落实《乙市方案》,制定本方案。\n　　一、任务\n"
    b = "乙市方案\n　　根据\n《甲市方案》,制定本方案。\n　　一、任务\n"
    c = "丙市方案\n　　落实《甲市方案》。\n　　一、任务\n"
    citations = {
        "a": extract_citations(a, source_name="a.txt"),
        "b": extract_citations(b, source_name="b.txt"),
        "c": extract_citations(c, source_name="c.txt"),
    }
    keys = {"a": "甲市方案", "b": "乙市方案", "c": "丙市方案"}
    resolution = resolve(citations, keys)
    (loop,) = resolution.loops
    assert loop.plans == ("a", "b")
    assert [(link.source, link.target, link.citation.relation) for link in loop.links] == [
        ("a", "b", Relation.IMPLEMENTS),
        ("b", "a", Relation.BASED_ON),
    ]
    assert loop.message() == ("citation loop a → b → a (a.txt:2:8: a implements b, b.txt:3:1: b based_on a)")


def test_citing_both_ways_is_no_loop_but_implementing_oneself_is() -> None:
    a = "为落实《甲市方案》,参见《乙市方案》。"
    b = "参见《甲市方案》。"
    citations = {
        "a": extract_citations(a, source_name="a.txt"),
        "b": extract_citations(b, source_name="b.txt"),
    }
    resolution = resolve(citations, {"a": "甲市方案", "b": "乙市方案"})
    (loop,) = resolution.loops
    assert loop.plans == ("a",) and loop.links[0].citation.relation is Relation.IMPLEMENTS
    assert loop.message() == "citation loop a → a (a.txt:1:4: a implements a)"


def test_a_loop_of_three_is_one_loop() -> None:
    texts = {"a": "落实《乙》。", "b": "落实《丙》。", "c": "落实《甲》。"}
    citations = {k: extract_citations(v, source_name=f"{k}.txt") for k, v in texts.items()}
    resolution = resolve(citations, {"a": "甲", "b": "乙", "c": "丙"})
    assert [loop.plans for loop in resolution.loops] == [("a", "b", "c")]
