"""Curated entities: loading, validation, and recognition on the real seed and on small texts."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from mapping.entities import (
    DATA_DIR,
    Catalogue,
    CatalogueError,
    EntityKind,
    Mention,
    OrgType,
    PlaceKind,
    find_mentions,
    load_catalogue,
    tasks_involving,
)
from mapping.model import Plan, Span, Task
from mapping.text import normalise

SEED = Path(__file__).resolve().parent.parent / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"
ORG, PLACE, PROJECT = EntityKind.ORGANISATION, EntityKind.PLACE, EntityKind.PROJECT


# --- the tasks that involve an organisation, read from the text by a person -------------------------
# Sub-organisations and aliases included: 山东大学 is never written on its own, only inside
# 山东大学齐鲁医院 (tasks 1 and 44) and 山东大学龙山校区 (task 43).

ORGANISATION_TASKS = [
    ("shandong-university", {1, 43, 44}),
    ("qilu-hospital-of-shandong-university", {1, 44}),
    ("shandong-university-longshan-campus", {43}),
    ("capital-medical-university", {1}),  # through 首都医科大学宣武医院
    ("xuanwu-hospital", {1}),
    ("guanganmen-hospital", {1, 44}),  # 44 through 广安门医院济南医院
    ("guanganmen-hospital-jinan", {44}),
    ("chinese-academy-of-sciences", {1}),  # 中科院
    ("ministry-of-science-and-technology", {1}),  # 科技部
    ("state-council", {1}),  # named in the preamble; in tasks only through 科技部
    ("state-power-investment-corporation", {18}),  # 国家电投, inside the name of a project
    ("jinan-central-hospital", {1}),  # 市中心医院
    ("byd", {10}),
    ("national-robot-innovation-center", {4}),  # through its Shandong base
    ("quancheng-laboratory", {2}),
    ("national-laboratory-jinan-base", {2}),
    ("yellow-river-jinan-aquatic-organism-monitoring-laboratory", {2}),
    ("inspur-yunzhou", {8}),
    ("shandong-zhonghe-carbon-emission-platform", {21}),
    ("new-yellow-river", {40}),
    ("aerospace-information-university", {43}),
    ("shandong-internet-medical-insurance-health-service-platform", {44}),
]


@pytest.mark.parametrize(("key", "tasks"), ORGANISATION_TASKS)
def test_tasks_involving_organisation(
    key: str, tasks: set[int], mentions: tuple[Mention, ...], catalogue: Catalogue
) -> None:
    assert tasks_involving(mentions, catalogue, ORG, key) == tasks


PLACE_TASKS = [
    ("linyi", {15, 25}),  # 临沂市; 济南临沂对口合作 (莱临高铁 is an abbreviation, not read as a name)
    ("zhangqiu", {30}),  # 章丘大葱; 庆云至章丘 is the name of a project, which carries the place
    ("laiwu", {30}),
    ("pingyin", {23, 30}),
    ("shanghe", {23, 30}),
    ("jiyang", set()),  # only inside the name of the 济南东站至济阳 tram project
    ("beijing-tianjin-hebei", {25}),
    ("yangtze-river-delta", {25}),
    ("yellow-river-basin", {24}),  # in 2 and 18 only inside the names of a laboratory and a project
    ("southern-mountain-area", {17}),  # in 13 only inside the name of a PPP project
    ("starting-area", {24}),
    ("jinan-metropolitan-area", {18, 25}),
    ("provincial-capital-economic-circle", {25}),
    ("yellow-river-floodplain", {31}),
    # 济南 standing on its own, and the places within 济南市 (南部山区, 起步区, districts, counties)
    ("jinan", {17, 23, 24, 25, 27, 30, 34, 35, 36, 40, 42}),
]


@pytest.mark.parametrize(("key", "tasks"), PLACE_TASKS)
def test_tasks_involving_place(
    key: str, tasks: set[int], mentions: tuple[Mention, ...], catalogue: Catalogue
) -> None:
    assert tasks_involving(mentions, catalogue, PLACE, key) == tasks


def test_jinan_named_on_its_own(mentions: tuple[Mention, ...]) -> None:
    direct = {m.task for m in mentions if m.kind is PLACE and m.key == "jinan"}
    assert direct == {None, 24, 25, 27, 34, 35, 36, 40, 42}  # None: the plan's title


def test_plan_title_and_preamble(mentions: tuple[Mention, ...]) -> None:
    in_plan = sorted((m.kind.value, m.key, m.span.quote) for m in mentions if m.task is None)
    assert in_plan == [
        ("org", "state-council", "国务院"),
        ("place", "jinan", "济南市"),
        ("place", "shandong", "山东"),
        ("place", "shandong", "山东省"),
    ]


def test_every_project_is_found_in_its_task_only(mentions: tuple[Mention, ...], catalogue: Catalogue) -> None:
    for project in catalogue.projects.values():
        tasks = {m.task for m in mentions if m.kind is PROJECT and m.key == project.key}
        assert tasks == {project.task}, project.key


def test_named_projects_by_task(mentions: tuple[Mention, ...]) -> None:
    by_task: dict[int, set[str]] = {}
    for m in mentions:
        if m.kind is PROJECT and m.task is not None:
            by_task.setdefault(m.task, set()).add(m.key)
    assert by_task[10] == {
        "byd-new-energy-vehicle-plant",
        "quanyi-photomask",
        "beidou-navigation",
        "airsat-satellite-constellation",
    }
    assert by_task[18] == {"outside-heat-into-jinan", "spic-yellow-river-hydrogen-industry-base"}
    assert "jinan-yaoqiang-airport-phase-2-expansion" in by_task[26]
    assert "laiwu-linyi-high-speed-railway" in by_task[26]
    assert "jinan-binzhou-high-speed-railway" in by_task[26]
    assert by_task[44] == {"qilu-hospital-national-medical-center"}
    assert 27 not in by_task  # 北斗导航 there is a technology, not the project of (十)


def test_every_catalogued_entity_is_reached(mentions: tuple[Mention, ...], catalogue: Catalogue) -> None:
    """No dead data: each entry is named in the text or reached through one that is."""
    named = {(m.kind, m.key) for m in mentions}
    orgs = {k for kind, k in named if kind is ORG}
    reached_orgs = orgs | {p for k in orgs for p in catalogue.parents(k)}
    reached_orgs |= {o for p in catalogue.projects.values() for o in p.organisations}
    assert set(catalogue.organisations) == reached_orgs
    places = {k for kind, k in named if kind is PLACE} | {
        pl for p in catalogue.projects.values() for pl in p.places
    }
    reached_places = places | {b for k in places for b in catalogue.broader(k)}
    assert set(catalogue.places) == reached_places


def test_counts(mentions: tuple[Mention, ...], catalogue: Catalogue) -> None:
    assert len(catalogue.organisations) == 29
    assert len(catalogue.places) == 20
    assert len(catalogue.projects) == 45
    assert len({m.key for m in mentions if m.kind is ORG}) == 26
    assert len({m.key for m in mentions if m.kind is PLACE}) == 16
    assert len({m.key for m in mentions if m.kind is PROJECT}) == 45


# --- spans -------------------------------------------------------------------------------------------


def test_every_mention_span_is_exact(mentions: tuple[Mention, ...], raw: str, plan: Plan) -> None:
    tasks = {t.number: t for t in plan.tasks}
    assert mentions
    for m in mentions:
        assert raw[m.span.start : m.span.end] == m.span.quote
        assert normalise(m.span.quote).text == m.name
        scope = [plan.title_span, plan.preamble_span] if m.task is None else [tasks[m.task].span]
        assert any(s.start <= m.span.start and m.span.end <= s.end for s in scope), m


def test_name_broken_across_lines(mentions: tuple[Mention, ...]) -> None:
    (hospital,) = [m for m in mentions if m.key == "qilu-hospital-of-shandong-university" and m.task == 44]
    assert hospital.span.quote == "山东大学齐鲁\n\n医院"
    (byd,) = [m for m in mentions if m.kind is ORG and m.key == "byd"]
    assert byd.span.quote == "比\n\n亚迪"


def test_mentions_are_in_text_order(mentions: tuple[Mention, ...]) -> None:
    starts = [m.span.start for m in mentions]
    assert starts == sorted(starts)


# --- longest match on small texts --------------------------------------------------------------------


def _plan(raw: str, tasks: list[str] | dict[int, str]) -> Plan:
    """A plan whose tasks are the given substrings of ``raw``, numbered 1… or by the dict's keys
    (title and preamble empty)."""
    numbered = tasks if isinstance(tasks, dict) else {i + 1: t for i, t in enumerate(tasks)}
    spans: list[tuple[int, Span]] = []
    pos = 0
    for number, text in numbered.items():
        start = raw.index(text, pos)
        pos = start + len(text)
        spans.append((number, Span(start, pos, text)))
    empty = Span(0, 0, "")
    return Plan(
        title="",
        title_span=empty,
        period=None,
        period_span=None,
        preamble="",
        preamble_span=empty,
        pillars=(),
        tasks=tuple(
            Task(
                number=number,
                numeral=str(number),
                title="",
                title_span=Span(s.start, s.start, ""),
                text=normalise(s.quote).text,
                span=s,
                pillar=1,
                order=i + 1,
            )
            for i, (number, s) in enumerate(spans)
        ),
        source_name="test.txt",
        source_sha256=hashlib.sha256(raw.encode()).hexdigest(),
        source_length=len(raw),
    )


def _found(
    raw: str, tasks: list[str] | dict[int, str], catalogue: Catalogue
) -> list[tuple[int | None, str, str, str]]:
    return [
        (m.task, m.kind.value, m.key, m.span.quote) for m in find_mentions(_plan(raw, tasks), raw, catalogue)
    ]


def test_longest_match_prefers_the_nested_organisation(catalogue: Catalogue) -> None:
    raw = "(一)支持山东大学齐鲁医院创建国家医学中心。"
    assert _found(raw, [raw], catalogue) == [
        (1, "org", "qilu-hospital-of-shandong-university", "山东大学齐鲁医院")
    ]


def test_longest_match_prefers_the_full_place_name(catalogue: Catalogue) -> None:
    raw = "(一)济南市与济南都市圈、济南。"
    assert _found(raw, [raw], catalogue) == [
        (1, "place", "jinan", "济南市"),
        (1, "place", "jinan-metropolitan-area", "济南都市圈"),
        (1, "place", "jinan", "济南"),
    ]


def test_alias_and_line_break_with_page_marker(catalogue: Catalogue) -> None:
    raw = "(一)高标准建设中\n—3—\n\n科院平台,山东大\n学龙山校区。"
    found = find_mentions(_plan(raw, [raw]), raw, catalogue)
    assert [(m.key, m.span.quote) for m in found] == [
        ("chinese-academy-of-sciences", "中\n—3—\n\n科院"),
        ("shandong-university-longshan-campus", "山东大\n学龙山校区"),
    ]
    for m in found:
        assert raw[m.span.start : m.span.end] == m.span.quote


def test_place_inside_an_organisation_name_is_not_a_place_mention(catalogue: Catalogue) -> None:
    raw = "(一)山东大学和山东省。"
    assert _found(raw, [raw], catalogue) == [
        (1, "org", "shandong-university", "山东大学"),
        (1, "place", "shandong", "山东省"),
    ]


def test_place_inside_a_product_name_is_a_place_mention(catalogue: Catalogue) -> None:
    raw = "(一)培育章丘大葱、莱芜生姜。"
    assert _found(raw, [raw], catalogue) == [
        (1, "place", "zhangqiu", "章丘"),
        (1, "place", "laiwu", "莱芜"),
    ]


def test_organisation_inside_a_project_name_is_a_mention_place_is_not(catalogue: Catalogue) -> None:
    raw = "(十八)推进国家电投黄河流域氢能产业基地。"
    assert _found(raw, {18: raw}, catalogue) == [
        (18, "org", "state-power-investment-corporation", "国家电投"),
        (18, "project", "spic-yellow-river-hydrogen-industry-base", "国家电投黄河流域氢能产业基地"),
    ]


def test_project_names_are_looked_up_in_their_own_task_only(catalogue: Catalogue) -> None:
    raw = "(一)建成北斗导航。(十)建成北斗导航。"
    found = _found(raw, {1: "(一)建成北斗导航。", 10: "(十)建成北斗导航。"}, catalogue)
    assert found == [(10, "project", "beidou-navigation", "北斗导航")]  # it belongs to (十)


def test_source_of_another_length_is_refused(plan: Plan, raw: str, catalogue: Catalogue) -> None:
    with pytest.raises(ValueError, match="characters"):
        find_mentions(plan, raw + "\n", catalogue)


# --- the catalogue -----------------------------------------------------------------------------------


def test_hierarchy(catalogue: Catalogue) -> None:
    assert catalogue.parents("qilu-hospital-of-shandong-university") == ("shandong-university",)
    assert catalogue.parents("shandong-university-longshan-campus") == ("shandong-university",)
    assert catalogue.parents("xuanwu-hospital") == ("capital-medical-university",)
    assert catalogue.parents("ministry-of-science-and-technology") == ("state-council",)
    assert catalogue.sub_organisations("shandong-university") == {
        "shandong-university",
        "qilu-hospital-of-shandong-university",
        "shandong-university-longshan-campus",
    }
    assert catalogue.broader("zhangqiu") == ("jinan", "shandong")
    assert catalogue.broader("daqiao-cluster") == ("starting-area", "jinan", "shandong")


def test_aliases_and_types(catalogue: Catalogue) -> None:
    orgs = catalogue.organisations
    assert "中科院" in orgs["chinese-academy-of-sciences"].aliases
    assert "国家电投" in orgs["state-power-investment-corporation"].aliases
    assert "科技部" in orgs["ministry-of-science-and-technology"].aliases
    assert "市中心医院" in orgs["jinan-central-hospital"].aliases
    assert orgs["shandong-university"].type is OrgType.UNIVERSITY
    assert orgs["qilu-hospital-of-shandong-university"].type is OrgType.HOSPITAL
    assert orgs["state-council"].type is OrgType.GOVERNMENT_BODY


def test_division_codes(catalogue: Catalogue) -> None:
    codes = {p.name: p.code for p in catalogue.places.values() if p.kind is PlaceKind.DIVISION}
    assert codes == {
        "山东省": "370000",
        "济南市": "370100",
        "临沂市": "371300",
        "章丘区": "370114",
        "济阳区": "370115",
        "莱芜区": "370116",
        "平阴县": "370124",
        "商河县": "370126",
    }


def test_english_labels_cover_every_pillar_and_task(plan: Plan, catalogue: Catalogue) -> None:
    assert {p.number for p in plan.pillars} <= set(catalogue.pillar_labels)
    assert {t.number for t in plan.tasks} <= set(catalogue.task_labels)
    for pillar in plan.pillars:
        assert catalogue.pillar_labels[pillar.number].zh == pillar.title
    for task in plan.tasks:
        assert catalogue.task_labels[task.number].zh == task.title
    assert len(catalogue.task_labels) == 49
    assert len(catalogue.pillar_labels) == 10


# --- validation of the data files --------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for f in DATA_DIR.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("\n" + text)


def test_copied_data_loads(data_dir: Path) -> None:
    assert load_catalogue(data_dir).organisations.keys() == load_catalogue().organisations.keys()


BAD_ENTRIES = [
    (
        "institutions.toml",
        '[[organisation]]\nkey = "x-lab"\nname = "某实验室"\nname_en = "X"\ntype = "laboratory"\n'
        'parent = "no-such-org"\n',
        "institutions.toml: organisation 'x-lab': unknown parent 'no-such-org'",
    ),
    (
        "institutions.toml",
        '[[organisation]]\nkey = "cas-copy"\nname = "中国科学院某所"\nname_en = "X"\naliases = ["中科院"]\n'
        'type = "research-institute"\n',
        "institutions.toml: organisation 'cas-copy': duplicate name or alias '中科院': "
        "also a name of organisation 'chinese-academy-of-sciences'",
    ),
    (
        "institutions.toml",
        '[[organisation]]\nkey = "byd"\nname = "比亚迪股份"\nname_en = "X"\ntype = "enterprise"\n',
        "institutions.toml: organisation 'byd': duplicate key",
    ),
    (
        "institutions.toml",
        '[[organisation]]\nkey = "x"\nname = "某机构"\nname_en = "X"\ntype = "club"\n',
        "institutions.toml: organisation 'x': unknown type 'club'",
    ),
    (
        "institutions.toml",
        '[[organisation]]\nkey = "x"\nname = "某机构"\nname_en = "X"\ntype = "platform"\nwikidata = "Q1"\n',
        "institutions.toml: organisation 'x': wikidata: links to other datasets are stated in a linkset",
    ),
    (
        "institutions.toml",
        '[[organisation]]\nkey = "x"\nname = "某机构"\nname_en = "X"\ntype = "platform"\nparnet = "byd"\n',
        "institutions.toml: organisation 'x': unknown field(s) parnet",
    ),
    (
        "institutions.toml",
        '[[organisation]]\nkey = "Bad Key"\nname = "某机构"\nname_en = "X"\ntype = "platform"\n',
        "institutions.toml: organisation 'Bad Key': key must be",
    ),
    (
        "institutions.toml",
        '[[organisation]]\nkey = "x-lab\\n"\nname = "某机构"\nname_en = "X"\ntype = "platform"\n',
        "institutions.toml: organisation 'x-lab\\n': key must be",
    ),
    (
        "places.toml",
        '[[division]]\nkey = "x"\ncode = "370199"\nname = "某区"\nname_en = "X"\nlevel = "county"\n'
        'wikidata_source = "s"\n',
        "places.toml: division 'x': wikidata_source: links to other datasets are stated in a linkset",
    ),
    (
        "places.toml",
        '[[division]]\nkey = "x"\ncode = "37011"\nname = "某区"\nname_en = "X"\nlevel = "county"\n',
        "places.toml: division 'x': a division needs a 6-digit code",
    ),
    (
        "places.toml",
        '[[division]]\nkey = "x"\ncode = "370199\\n"\nname = "某区"\nname_en = "X"\nlevel = "county"\n',
        "places.toml: division 'x': a division needs a 6-digit code, not '370199\\n'",
    ),
    (
        "places.toml",
        '[[division]]\nkey = "x"\ncode = "３７０１９９"\nname = "某区"\nname_en = "X"\nlevel = "county"\n',
        "places.toml: division 'x': a division needs a 6-digit code",
    ),
    (
        "places.toml",
        '[[division]]\nkey = "x"\ncode = "370100"\nname = "某区"\nname_en = "X"\nlevel = "county"\n',
        "places.toml: division code '370100': duplicate key",
    ),
    (
        "places.toml",
        '[[region]]\nkey = "x"\ncode = "370199"\nname = "某区"\nname_en = "X"\n',
        "places.toml: region 'x': a region has no code or level",
    ),
    (
        "places.toml",
        '[[region]]\nkey = "x"\nname = "某区"\nname_en = "X"\nbroader = "nowhere"\n',
        "places.toml: place 'x': unknown broader place 'nowhere'",
    ),
    (
        "places.toml",
        '[[region]]\nkey = "x"\nname = "某区"\nname_en = "X"\naliases = ["济南"]\n',
        "places.toml: place 'x': duplicate name or alias '济南': also a name of place 'jinan'",
    ),
    (
        "projects.toml",
        '[[project]]\nkey = "x"\nname = "某项目"\nname_en = "X"\ntask = 3\norganisations = ["nobody"]\n',
        "projects.toml: project 'x': unknown organisation 'nobody'",
    ),
    (
        "projects.toml",
        '[[project]]\nkey = "x"\nname = "某项目"\nname_en = "X"\ntask = 0\n',
        "projects.toml: project 'x': task must be a positive integer",
    ),
    (
        "labels_en.toml",
        '[task.x1]\nzh = "某"\nen = "X"\n',
        "labels_en.toml: task.x1: the key must be the number",
    ),
    (
        "labels_en.toml",
        '[task."²"]\nzh = "某"\nen = "X"\n',
        "labels_en.toml: task.²: the key must be the number",
    ),
    (
        "labels_en.toml",
        '[pillar.01]\nzh = "某"\nen = "X"\n',
        "labels_en.toml: pillar.01: duplicate number 1",
    ),
]


@pytest.mark.parametrize(("file", "entry", "message"), BAD_ENTRIES)
def test_bad_entry_is_refused_naming_file_and_entry(
    data_dir: Path, file: str, entry: str, message: str
) -> None:
    _append(data_dir / file, entry)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(data_dir)
    assert str(info.value).startswith(message)
    assert info.value.file == file


def test_parent_cycle_is_refused(data_dir: Path) -> None:
    path = data_dir / "institutions.toml"
    text = path.read_text(encoding="utf-8")
    marker = 'key = "shandong-university"\nname = "山东大学"\nname_en = "Shandong University"\n'
    assert marker in text
    path.write_text(
        text.replace(marker, marker + 'parent = "qilu-hospital-of-shandong-university"\n'), encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match="cycle"):
        load_catalogue(data_dir)


def test_missing_file_and_invalid_toml(data_dir: Path) -> None:
    (data_dir / "projects.toml").write_text("[[project]\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"^projects.toml: file: not valid TOML"):
        load_catalogue(data_dir)
    (data_dir / "projects.toml").unlink()
    with pytest.raises(CatalogueError, match=r"^projects.toml: file: not found"):
        load_catalogue(data_dir)


def test_labels_and_projects_apply_only_to_the_plan_they_are_written_for(
    plan: Plan, catalogue: Catalogue
) -> None:
    assert catalogue.labels_plan is not None and catalogue.projects_plan is not None
    same, notices = catalogue.for_plan(plan.title)
    assert (same, notices) == (catalogue, ())
    other, notices = catalogue.for_plan("潍坊市推进制造业绿色转型三年行动方案(2026—2028年)")
    assert other.pillar_labels == other.task_labels == other.projects == {}
    assert other.organisations == catalogue.organisations and other.places == catalogue.places
    assert len(notices) == 2
    assert notices[0].startswith("labels_en.toml is written for 济南市")
    assert notices[1].startswith("projects.toml is written for 济南市")


@pytest.mark.parametrize("file", ["labels_en.toml", "projects.toml"])
def test_plan_specific_data_must_name_its_plan(data_dir: Path, file: str) -> None:
    path = data_dir / file
    text = path.read_text(encoding="utf-8")
    start = text.index("\n[plan]\n")
    end = text.index("\n\n", start + 1)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(CatalogueError, match=rf"^{file}: plan: must be a table with exactly the field title"):
        load_catalogue(data_dir)
