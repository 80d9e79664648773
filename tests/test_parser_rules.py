"""mapping.parser: each rule of the module documentation decided by a small fictional input of its own.

Every input here is built so that exactly the rule named by the test tells the right reading from a
wrong one: without the rule, the test fails (the golden tests in test_parser.py often pass on two
rules at once, e.g. a numbering jump that is also a sentence).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from mapping.errors import DocumentError
from mapping.model import Plan, Stage
from mapping.numbers import parse_chinese
from mapping.parser import find_statistics, parse_plan
from mapping.text import normalise

HEAD = "某市行动计划(2030—2032年)\n为推进工作,制定本计划。\n"  # lines 1 and 2


def parse(raw: str) -> Plan:
    return parse_plan(raw, source_name="rule.txt")


def pillars(plan: Plan) -> list[tuple[int, str]]:
    return [(p.number, p.title) for p in plan.pillars]


def tasks(plan: Plan) -> list[tuple[int, int, str]]:
    return [(t.number, t.pillar, t.text) for t in plan.tasks]


# -- pillar headings ----------------------------------------------------------------------------


def test_a_numeral_sentence_ending_in_a_full_stop_is_text_not_a_heading() -> None:
    # 三 follows 二 in sequence and no later 三、 exists: only the sentence rule (a title must run
    # into statistics or a task before any 。) keeps 三、四季度完成。 in task (二).
    raw = HEAD + "一、加快发展\n(一)任务甲。\n二、强化保障\n(二)任务乙。三、四季度完成。"
    plan = parse(raw)
    assert pillars(plan) == [(1, "加快发展"), (2, "强化保障")]
    assert tasks(plan) == [(1, 1, "任务甲。"), (2, 2, "任务乙。三、四季度完成。")]


def test_a_numeral_clause_running_to_the_end_is_text_not_a_heading() -> None:
    # Neither statistics nor a task before the end of the text: prose, not a pillar.
    plan = parse(HEAD + "一、加快发展\n(一)任务甲。三、四季度完成")
    assert pillars(plan) == [(1, "加快发展")]
    assert tasks(plan) == [(1, 1, "任务甲。三、四季度完成")]


def test_a_heading_whose_title_runs_into_statistics_is_a_pillar() -> None:
    plan = parse(HEAD + "一、加快发展认真抓好1项重点工作。\n(一)任务甲。")
    assert pillars(plan) == [(1, "加快发展")]
    assert plan.pillars[0].declared_task_count == 1


def test_a_heading_after_a_closing_quote_is_a_pillar() -> None:
    # 。 then ” then 一、: the quote is skipped back over to find the sentence end.
    raw = "某市行动计划(2030—2032年)\n按照“三年见成效。”一、加快发展\n(一)任务甲。”(二)任务乙。"
    plan = parse(raw)
    assert plan.preamble == "按照“三年见成效。”"
    assert pillars(plan) == [(1, "加快发展")]
    # The same for a task marker: 。” then (二).
    assert tasks(plan) == [(1, 1, "任务甲。”"), (2, 1, "任务乙。")]


def test_a_heading_after_a_colon_is_a_pillar_but_a_task_marker_is_not() -> None:
    raw = "某市行动计划(2030—2032年)\n具体安排如下:一、加快发展\n(一)任务甲:(二)子项。"
    plan = parse(raw)
    assert pillars(plan) == [(1, "加快发展")]
    assert tasks(plan) == [(1, 1, "任务甲:(二)子项。")]


def test_a_heading_mid_sentence_is_text() -> None:
    # 二、 after a comma: no boundary, so task (一) runs on and there is one pillar.
    plan = parse(HEAD + "一、加快发展\n(一)任务甲,二、强化保障(二)任务乙。")
    assert pillars(plan) == [(1, "加快发展")]
    assert tasks(plan) == [(1, 1, "任务甲,二、强化保障(二)任务乙。")]  # (二) is mid-sentence too


def test_a_heading_numbered_at_or_below_the_one_before_is_text() -> None:
    # 一、 at a sentence end, its title running into a task (三): a heading but for its number.
    raw = HEAD + "一、加快发展\n(一)任务甲。\n二、强化保障\n(二)任务乙。一、二季度安排好!(三)任务丙。"
    plan = parse(raw)
    assert pillars(plan) == [(1, "加快发展"), (2, "强化保障")]
    assert tasks(plan) == [(1, 1, "任务甲。"), (2, 2, "任务乙。一、二季度安排好!"), (3, 2, "任务丙。")]


def test_a_jump_is_a_pillar_when_the_skipped_number_never_comes() -> None:
    plan = parse(HEAD + "一、加快发展\n(一)任务甲。\n三、强化保障\n(二)任务乙。")
    assert pillars(plan) == [(1, "加快发展"), (3, "强化保障")]


def test_the_first_heading_may_jump_when_one_never_comes() -> None:
    plan = parse(HEAD + "二、强化保障\n(一)任务甲。")
    assert pillars(plan) == [(2, "强化保障")]


def test_the_first_heading_skips_a_jump_when_one_comes_later() -> None:
    plan = parse(HEAD + "为做好三、四季度工作(一)准备。一、加快发展\n(一)任务甲。")
    assert pillars(plan) == [(1, "加快发展")]
    assert plan.preamble == "为推进工作,制定本计划。为做好三、四季度工作(一)准备。"


def test_pillar_title_stops_at_the_first_task_marker_even_without_a_boundary() -> None:
    plan = parse(HEAD + "一、加快发展(一)任务甲。")
    assert pillars(plan) == [(1, "加快发展")]
    assert tasks(plan) == [(1, 1, "任务甲。")]


def test_a_full_stop_before_the_statistics_makes_the_heading_a_sentence() -> None:
    with pytest.raises(DocumentError, match=r"^rule\.txt:3:25: no pillar heading"):
        parse(HEAD + "一、加快发展。认真抓好1项重点工作(一)任务甲。")


# -- the plan title -----------------------------------------------------------------------------


def test_title_ends_with_the_period_in_parentheses() -> None:
    plan = parse("某市行动计划(2030至2032年)实施细则为推进工作,制定本计划。一、加快发展\n(一)任务甲。")
    assert plan.title == "某市行动计划(2030至2032年)"
    assert plan.period == (2030, 2032)
    assert plan.period_span is not None and plan.period_span.quote == "(2030至2032年)"


def test_a_period_after_the_first_comma_is_not_the_title() -> None:
    raw = "某市工作方案\n为推进工作,安排(2030—2032年)任务。\n一、加快发展\n(一)任务甲。"
    plan = parse(raw)
    assert plan.title == "某市工作方案"
    assert plan.period is None and plan.period_span is None


def test_title_ends_with_the_last_title_word_before_the_first_punctuation() -> None:
    # The title runs over two lines: the first-line rule would stop at 规划, the first title word.
    raw = "某市国土空间规划\n实施方案\n为做好工作,制定本方案。\n一、加快发展\n(一)任务甲。"
    plan = parse(raw)
    assert plan.title == "某市国土空间规划实施方案"
    assert plan.title_span.quote == "某市国土空间规划\n实施方案"
    assert plan.preamble == "为做好工作,制定本方案。"
    assert plan.period is None


@pytest.mark.parametrize("word", ["计划", "方案", "规划", "意见", "纲要", "办法"])
def test_each_title_word_ends_the_title(word: str) -> None:
    raw = f"某市推进\n城市更新工作{word}\n的说明为做好工作,制定本文。\n一、加快发展\n(一)任务甲。"
    plan = parse(raw)
    assert plan.title == f"某市推进城市更新工作{word}"
    assert plan.preamble == "的说明为做好工作,制定本文。"


def test_a_title_word_after_the_first_punctuation_does_not_count() -> None:
    raw = "某市城市更新工作安排\n为做好工作,制定本计划。\n一、加快发展\n(一)任务甲。"
    assert parse(raw).title == "某市城市更新工作安排"  # the first line, not …制定本计划


def test_the_first_line_ends_the_title_when_nothing_else_does() -> None:
    raw = "\n\n某市城市更新工作安排\n为做好工作,安排如下:\n一、加快发展(一)任务甲。"
    plan = parse(raw)
    assert plan.title == "某市城市更新工作安排"
    assert plan.title_span.quote == "某市城市更新工作安排"
    assert plan.preamble == "为做好工作,安排如下:"


@pytest.mark.parametrize("end", ["", "\n"])  # with or without a line break after it
def test_a_one_line_document_has_its_title_up_to_the_heading(end: str) -> None:
    plan = parse(f"某市城市更新工作安排。一、加快发展(一)任务甲。{end}")
    assert plan.title == "某市城市更新工作安排。"
    assert plan.preamble == ""


def test_a_heading_at_the_very_start_leaves_no_title() -> None:
    with pytest.raises(
        DocumentError, match=r"^rule\.txt:1:1: no plan title before the first pillar heading$"
    ):
        parse("一、加快发展\n(一)任务甲。")


def test_a_heading_after_blank_lines_leaves_no_title() -> None:
    with pytest.raises(
        DocumentError, match=r"^rule\.txt:3:1: no plan title before the first pillar heading$"
    ):
        parse("\n\u3000\n一、加快发展\n(一)任务甲。")


# -- task markers, titles and texts -------------------------------------------------------------


def test_a_task_without_a_full_stop_has_its_whole_text_as_title() -> None:
    plan = parse(HEAD + "一、加快发展\n(一)任务甲。\n(二)加强宣传")
    assert [(t.title, t.text) for t in plan.tasks] == [("任务甲", "任务甲。"), ("加强宣传", "加强宣传")]


def test_a_task_ends_at_the_next_pillar_heading() -> None:
    plan = parse(HEAD + "一、加快发展\n(一)任务甲。\n二、强化保障\n(二)任务乙。")
    assert [(t.number, t.pillar, t.order, t.text) for t in plan.tasks] == [
        (1, 1, 1, "任务甲。"),
        (2, 2, 1, "任务乙。"),
    ]
    assert plan.tasks[0].span.quote == "(一)任务甲。"  # line breaks after it are no text


def test_a_task_marker_after_a_semicolon_is_text() -> None:
    plan = parse(HEAD + "一、加快发展\n(一)任务甲;(二)子项。")
    assert tasks(plan) == [(1, 1, "任务甲;(二)子项。")]


@pytest.mark.parametrize("marker", ["(北方)", "(一期)", "(2030)", "(十一二)"])
def test_parenthesised_text_that_is_no_bare_numeral_is_never_a_task(marker: str) -> None:
    plan = parse(HEAD + f"一、加快发展\n(一)任务甲。{marker}任务乙。")
    assert tasks(plan) == [(1, 1, f"任务甲。{marker}任务乙。")]


def test_an_unreadable_numeral_does_not_end_a_pillar_title() -> None:
    plan = parse(HEAD + "一、加快发展(十一二)方向(一)任务甲。")
    assert pillars(plan) == [(1, "加快发展(十一二)方向")]


def test_task_numbers_with_a_large_numeral() -> None:
    plan = parse(HEAD + "一、加快发展\n(一万零一)任务甲。(一千二百)任务乙。")
    assert [(t.number, t.numeral) for t in plan.tasks] == [(10001, "一万零一"), (1200, "一千二百")]


def test_order_restarts_in_each_pillar_but_numbers_run_on() -> None:
    raw = HEAD + "一、甲\n(一)一。(二)二。\n二、乙\n(三)三。(四)四。(五)五。"
    plan = parse(raw)
    assert [(t.number, t.pillar, t.order) for t in plan.tasks] == [
        (1, 1, 1),
        (2, 1, 2),
        (3, 2, 1),
        (4, 2, 2),
        (5, 2, 3),
    ]
    assert [p.span.quote for p in plan.pillars] == [
        "一、甲\n(一)一。(二)二。",
        "二、乙\n(三)三。(四)四。(五)五。",
    ]


# -- statistics paragraph -----------------------------------------------------------------------


def stats(plan: Plan, k: int = 0) -> list[tuple[Stage, int, Decimal, str, tuple[int, ...]]]:
    return [(s.stage, s.count, s.investment, s.investment_text, s.years) for s in plan.pillars[k].statistics]


def test_each_stage_is_told_by_its_words() -> None:
    raw = HEAD + (
        "一、加快发展\n认真抓好3项重点工作,其中续建项目2个,总投资5亿元,2031年新开工项目3个,总投资6.50亿元,"
        "谋划项目4个,总投资7亿元。\n(一)任务甲。\n"
        "二、强化保障\n扎实推进总投资9亿元的8个重点项目,2031—2032年储备项目1个,总投资1亿元。\n(二)任务乙。"
    )
    plan = parse(raw)
    assert plan.pillars[0].declared_task_count == 3
    assert stats(plan, 0) == [
        (Stage.CONTINUING, 2, Decimal(5), "5", ()),
        (Stage.NEW, 3, Decimal("6.50"), "6.50", (2031,)),
        (Stage.RESERVE, 4, Decimal(7), "7", ()),
    ]
    assert plan.pillars[1].declared_task_count is None
    assert stats(plan, 1) == [
        (Stage.TOTAL, 8, Decimal(9), "9", ()),
        (Stage.RESERVE, 1, Decimal(1), "1", (2031, 2032)),
    ]


def test_years_are_read_only_for_new_and_reserve_projects() -> None:
    raw = HEAD + "一、加快发展\n认真抓好1项重点工作,2030年续建项目2个,总投资5亿元。\n(一)任务甲。"
    assert stats(parse(raw)) == [(Stage.CONTINUING, 2, Decimal(5), "5", ())]


def test_clause_spans_and_the_paragraph_span() -> None:
    raw = HEAD + "一、加快发展\n认真抓好十二项重点任务,扎实推进续建项目2个,总投资5亿元。后续\n(一)任务甲。"
    pillar = parse(raw).pillars[0]
    assert pillar.declared_task_count == 12
    assert pillar.declared_task_count_span is not None and pillar.declared_task_count_span.quote == "十二"
    assert pillar.statistics_span is not None
    assert pillar.statistics_span.quote == "认真抓好十二项重点任务,扎实推进续建项目2个,总投资5亿元。"
    (clause,) = pillar.statistics
    assert clause.span.quote == "续建项目2个,总投资5亿元"  # the verb 扎实推进 is not the clause's
    assert clause.count_span.quote == "2"
    assert clause.investment_span.quote == "5亿元"


def test_a_statistics_paragraph_without_a_full_stop_runs_to_the_end_of_its_pillar() -> None:
    raw = HEAD + "一、加快发展\n(一)任务甲。\n二、强化保障\n认真抓好1项重点工作,续建项目2个,总投资5亿元\n"
    pillar = parse(raw).pillars[1]
    assert pillar.statistics_span is not None
    assert pillar.statistics_span.quote == "认真抓好1项重点工作,续建项目2个,总投资5亿元"
    assert [(s.stage, s.count) for s in pillar.statistics] == [(Stage.CONTINUING, 2)]


def test_find_statistics_gives_the_earlier_opener() -> None:
    text = normalise("甲乙扎实推进总投资5亿元的2个重点项目,认真抓好3项重点工作").text
    assert find_statistics(text, 0, len(text)) == 2
    assert find_statistics(text, 3, len(text)) == 4  # 推进总投资 without 扎实
    assert find_statistics(text, 5, len(text)) == text.index("认真")
    assert find_statistics(text, 0, 2) is None


# -- malformed statistics and tasks: the message and the place ----------------------------------


@pytest.mark.parametrize(
    ("body", "message", "column"),
    [
        (
            "认真抓好2项重点工作,其中续建项目2个。\n(一)任务甲。",
            r"unreadable project statistics: expected a count \(N个\) and 总投资X亿元$",
            14,
        ),
        (
            "认真抓好2项重点工作,总投资5亿元的2个项目,总投资6亿元的3个项目。\n(一)任务甲。",
            "a second total figure",
            24,
        ),
        ("认真抓好多项重点工作。\n(一)任务甲。", "unreadable number of key tasks '多'", 5),
        ("认真抓好N项重点工作。\n(一)任务甲。", "unreadable number of key tasks 'N'", 5),  # ASCII, no digits
        (  # a malformed numeral: what is wrong, at the character where it breaks
            "认真抓好一百二二项重点工作。\n(一)任务甲。",
            r"unreadable number of key tasks '一百二二': two digits in a row \(二二\)$",
            8,
        ),
        (
            "认真抓好٣项重点工作。\n(一)任务甲。",
            "unreadable number of key tasks '٣'",
            5,
        ),  # a digit, not ASCII
    ],
)
def test_statistics_errors_name_what_and_where(body: str, message: str, column: int) -> None:
    with pytest.raises(DocumentError, match=rf"^rule\.txt:4:{column}: {message}"):
        parse(HEAD + "一、加快发展\n" + body)


def test_no_heading_error_points_at_the_end_of_the_text() -> None:
    with pytest.raises(DocumentError, match=r"^rule\.txt:2:13: no pillar heading \(一、…\) in the document$"):
        parse(HEAD)


def test_a_task_before_the_first_heading_is_named() -> None:
    with pytest.raises(
        DocumentError, match=r"^rule\.txt:2:13: task marker \(一\) before any pillar heading$"
    ):
        parse(HEAD.replace("。\n", "。(一)早。\n") + "一、加快发展\n(二)任务。")


def test_a_heading_without_title_is_named() -> None:
    with pytest.raises(DocumentError, match=r"^rule\.txt:3:3: pillar 一、 has no title$"):
        parse(HEAD + "一、(一)任务。")


def test_a_task_without_title_is_named() -> None:
    with pytest.raises(DocumentError, match=r"^rule\.txt:4:4: task \(一\) has no title before its 。$"):
        parse(HEAD + "一、加快发展\n(一)。\n(二)任务。")


def test_a_task_without_text_is_named() -> None:
    with pytest.raises(DocumentError, match=r"^rule\.txt:5:4: task \(二\) has no text$"):
        parse(HEAD + "一、加快发展\n(一)任务。\n(二)")


# -- the numerals of headings and markers -------------------------------------------------------


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("零", 0), ("〇", 0), ("两", 2), ("十二", 12), ("二百零三", 203), ("三千", 3000), ("一万", 10000),
     ("两万零五", 20005), ("一千零一十", 1010), ("三十万", 300000), ("二〇", 20)],
)  # fmt: skip
def test_more_numerals(numeral: str, value: int) -> None:
    assert parse_chinese(numeral) == value


# -- more places where one rule alone decides ----------------------------------------------------


def test_a_heading_after_only_closing_quotes_at_the_start_is_no_heading() -> None:
    with pytest.raises(DocumentError, match=r"^rule\.txt:2:8: no pillar heading"):
        parse("”一、加快发展\n(一)任务甲。")


def test_a_period_after_the_first_heading_does_not_end_the_title() -> None:
    plan = parse("某市城市更新工作方案:\n一、加快发展(2030—2032年)(一)任务甲。")
    assert plan.title == "某市城市更新工作方案"
    assert plan.preamble == ":"
    assert plan.period is None
    assert pillars(plan) == [(1, "加快发展(2030—2032年)")]


def test_a_task_ending_the_heading_title_at_a_sentence_end_is_read_once() -> None:
    plan = parse(HEAD + "一、加快发展!(一)任务甲。(二)任务乙。")
    assert pillars(plan) == [(1, "加快发展!")]
    assert tasks(plan) == [(1, 1, "任务甲。"), (2, 1, "任务乙。")]


@pytest.mark.parametrize(
    ("clause", "stage", "count", "investment", "years"),
    [
        ("总投资6亿元的3个2031年新开工项目", Stage.NEW, 3, "6", (2031,)),  # words after the count
        ("2031年新开工3个项目,总投资6亿元", Stage.NEW, 3, "6", (2031,)),  # words around the count
        ("2031—2032年谋划项目4个,总投资7.5亿元", Stage.RESERVE, 4, "7.5", (2031, 2032)),
        ("总投资8亿元的5个续建项目", Stage.CONTINUING, 5, "8", ()),
        ("储备项目2个,总投资1亿元", Stage.RESERVE, 2, "1", ()),
        ("2031年总投资6亿元的3个新开工项目", Stage.NEW, 3, "6", (2031,)),  # the year before 总投资
        ("2031年3个新开工项目,总投资6亿元", Stage.NEW, 3, "6", (2031,)),  # stage words after the count
    ],
)
def test_each_clause_form(
    clause: str, stage: Stage, count: int, investment: str, years: tuple[int, ...]
) -> None:
    raw = HEAD + f"一、加快发展\n认真抓好1项重点工作,{clause}。\n(一)任务甲。"
    (stat,) = parse(raw).pillars[0].statistics
    assert (stat.stage, stat.count, stat.investment_text, stat.years) == (stage, count, investment, years)
    assert stat.span.quote == clause
    assert stat.count_span.quote == str(count)
    assert stat.investment_span.quote == f"{investment}亿元"


@pytest.mark.parametrize(
    "task",
    [
        "任务甲总投资5亿元的2个项目。",
        "任务甲项目2个,总投资5亿元。",
        "任务甲2个项目,总投资5亿元。",
    ],
)
def test_a_clause_never_reads_past_the_end_of_its_paragraph(task: str) -> None:
    # The paragraph ends at the first task (no 。 before it): a figure in the task is not the clause's.
    with pytest.raises(DocumentError, match=r"^rule\.txt:4:12: unreadable project statistics"):
        parse(HEAD + f"一、加快发展\n认真抓好1项重点工作,续建!(一){task}")


@pytest.mark.parametrize("title", ["甲", "某市更新工作安排表"])  # one character; an odd number of them
def test_the_first_line_is_the_title_whatever_its_length(title: str) -> None:
    plan = parse(f"{title}\n为做好工作,安排如下:\n一、加快发展(一)任务甲。")
    assert plan.title == title
    assert plan.preamble == "为做好工作,安排如下:"


def test_a_statistics_paragraph_ends_at_the_next_pillar_without_a_full_stop() -> None:
    raw = HEAD + "一、加快发展\n认真抓好1项重点工作,续建项目2个,总投资5亿元;\n二、强化保障\n(一)任务甲。"
    plan = parse(raw)
    assert pillars(plan) == [(1, "加快发展"), (2, "强化保障")]
    pillar = plan.pillars[0]
    assert [(s.stage, s.count) for s in pillar.statistics] == [(Stage.CONTINUING, 2)]
    assert pillar.statistics_span is not None
    assert pillar.statistics_span.quote == "认真抓好1项重点工作,续建项目2个,总投资5亿元;"


def test_a_task_title_without_a_full_stop_ends_with_its_task() -> None:
    plan = parse(HEAD + "一、加快发展\n(一)任务甲!(二)任务乙。")
    assert [(t.title, t.text) for t in plan.tasks] == [("任务甲!", "任务甲!"), ("任务乙", "任务乙。")]


def test_a_title_word_at_the_very_start_counts() -> None:
    plan = parse("方案要点\n为做好工作,安排如下:\n一、加快发展(一)任务甲。")
    assert plan.title == "方案"  # the rule as documented: up to the last title word
    assert plan.preamble == "要点为做好工作,安排如下:"


def test_a_heading_after_only_closing_quotes_is_none_even_when_the_text_ends_in_one() -> None:
    with pytest.raises(DocumentError, match=r"^rule\.txt:2:9: no pillar heading"):
        parse("”一、加快发展\n(一)任务甲。”")


def test_a_repeated_heading_number_is_text_and_later_headings_still_count() -> None:
    raw = HEAD + "一、甲\n(一)一。\n二、乙\n(二)二。二、再说明(三)三。\n三、丙\n(四)四。"
    plan = parse(raw)
    assert pillars(plan) == [(1, "甲"), (2, "乙"), (3, "丙")]
    assert tasks(plan) == [(1, 1, "一。"), (2, 2, "二。二、再说明(三)三。"), (4, 3, "四。")]


def test_a_jump_is_a_pillar_when_the_skipped_number_never_comes_whatever_follows() -> None:
    plan = parse(HEAD + "一、甲\n(一)一。\n三、丙\n(二)二。\n四、丁\n(三)三。")
    assert pillars(plan) == [(1, "甲"), (3, "丙"), (4, "丁")]


def test_an_empty_document_is_named() -> None:
    with pytest.raises(DocumentError, match=r"^rule\.txt:1:1: empty document$"):
        parse(" \n")


def test_a_task_marker_at_the_very_start_is_before_any_pillar() -> None:
    with pytest.raises(DocumentError, match=r"^rule\.txt:1:1: task marker \(一\) before any pillar heading$"):
        parse("(一)任务。\n一、加快发展(二)任务乙。")


def test_statistics_words_inside_a_task_are_the_task_s() -> None:
    plan = parse(HEAD + "一、加快发展\n(一)任务甲,认真抓好3项重点工作。")
    assert plan.pillars[0].declared_task_count is None
    assert plan.pillars[0].statistics == ()
    assert tasks(plan) == [(1, 1, "任务甲,认真抓好3项重点工作。")]
