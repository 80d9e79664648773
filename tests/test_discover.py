"""Machine-found entities (mapping/discover.py): the rules on small texts, the catalogue first, the stop
list, precision and recall on hand-annotated fictional texts and on the seed against the catalogue."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from mapping.discover import (
    DATA_DIR,
    Scope,
    Stop,
    discover,
    found_key,
    load_rules,
    load_stoplist,
    plan_scopes,
)
from mapping.discover_eval import Score, gold_annotations, score_against_catalogue, score_annotated
from mapping.entities import Catalogue, CatalogueError, EntityKind, Mention
from mapping.model import Plan, Span

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "discover"
RULES = load_rules()
ORG, PLACE, PROJECT = EntityKind.ORGANISATION, EntityKind.PLACE, EntityKind.PROJECT


def found(
    raw: str, catalogue: Catalogue | None = None, stoplist: tuple[Stop, ...] = ()
) -> list[tuple[str, str, str, str, str]]:
    """(kind, name, quote, rule, confidence) of what the rules find in the whole of ``raw``."""
    hits = discover(
        raw, [Scope("d1", Span(0, len(raw), raw))], catalogue=catalogue, rules=RULES, stoplist=stoplist
    )
    for h in hits:
        assert raw[h.span.start : h.span.end] == h.span.quote
        assert h.context == "d1"
    return [(h.kind.value, h.name, h.span.quote, h.rule, str(h.confidence)) for h in hits]


# --- the rules on small texts ------------------------------------------------------------------------


def test_organisations_reach_left_to_a_verb_or_punctuation_across_a_line_break() -> None:
    # 支持 (a stop word) on the left of the first, 、 and 建设 around the second: factors 0.90 and 0.90.
    assert found("支持临海\n大学、东港理工学院建设实验室。") == [
        ("org", "临海大学", "临海\n大学", "大学", "0.86"),  # 0.95 × 0.90
        ("org", "东港理工学院", "东港理工学院", "学院", "0.76"),  # 0.85 × 0.90
    ]


def test_a_suffix_inside_a_longer_word_is_no_name() -> None:
    assert found("加快建设中心城区,推动城市更新,规范市场秩序。") == []


def test_generic_kinds_are_not_names() -> None:
    assert found("创建国家重点实验室和省级技术创新中心。") == []


def test_places_chain_and_end_at_the_previous_division() -> None:
    assert found("山东省济南市章丘区") == [
        ("place", "山东省", "山东省", "省", "0.81"),
        ("place", "济南市", "济南市", "市", "0.72"),
        ("place", "章丘区", "章丘区", "区", "0.60"),
    ]
    assert found("在白沙镇建设。") == [("place", "白沙镇", "白沙镇", "镇", "0.64")]


def test_a_place_inside_an_organisation_is_part_of_its_name() -> None:
    assert found("推动东港市第一人民医院建设。") == [
        ("org", "东港市第一人民医院", "东港市第一人民医院", "医院", "0.72")  # 0.90 × 0.80: 推动 … 建设
    ]


def test_project_lists() -> None:
    assert found("推进云港大数据产业园、青石智能制造基地、南湖软件园等项目。") == [
        ("project", "云港大数据产业园", "云港大数据产业园", "项目", "0.72"),  # 推进 … 、
        ("project", "青石智能制造基地", "青石智能制造基地", "项目", "0.80"),  # 、 … 、
        ("project", "南湖软件园", "南湖软件园", "项目", "0.72"),  # 、 … 等
    ]
    assert found("建设生物医药、人工智能等领域。") == []  # no 项目 or 工程 after 等


def test_catalogue_first(catalogue: Catalogue) -> None:
    # 济南市 is catalogued: it stays part of the new hospital's name; 山东大学齐鲁医院 is catalogued: dropped.
    raw = "推动济南市第一人民医院与山东大学齐鲁医院合作。"
    assert found(raw, catalogue) == [("org", "济南市第一人民医院", "济南市第一人民医院", "医院", "0.72")]
    assert len(found(raw)) == 2
    assert found("山东省济南市章丘区", catalogue) == []


def test_stop_list() -> None:
    raw = "支持临海大学、东港理工学院建设实验室。"
    assert [f[1] for f in found(raw, stoplist=(Stop("临海大学", ORG, None),))] == ["东港理工学院"]
    assert [f[1] for f in found(raw, stoplist=(Stop("临海大学", PLACE, None),))] == [
        "临海大学",
        "东港理工学院",
    ]
    assert [f[1] for f in found(raw, stoplist=(Stop("东港理工学院", None, None),))] == ["临海大学"]


def test_scopes_attribute_mentions_to_any_division() -> None:
    raw = "第一章 支持临海大学建设。第二章 支持东港大学建设。"
    cut = raw.index("第二章")
    scopes = [
        Scope("id/division/1", Span(0, cut, raw[:cut])),
        Scope("id/division/2", Span(cut, len(raw), raw[cut:])),
    ]
    hits = discover(raw, scopes, catalogue=None, rules=RULES)
    assert [(h.context, h.name) for h in hits] == [
        ("id/division/1", "临海大学"),
        ("id/division/2", "东港大学"),
    ]
    with pytest.raises(ValueError, match="outside the text"):
        discover(raw, [Scope("x", Span(0, len(raw) + 1, raw + "。"))], catalogue=None, rules=RULES)


def test_key_is_a_hash_of_the_normalised_name() -> None:
    # sha256("临海大学".encode()).hexdigest()[:12]; the same for the name broken across lines
    assert found_key("临海大学") == found_key("临海\n大学") == "f49a137c5b0c"
    assert found_key("东港大学") != found_key("临海大学")


# --- on the seed, with the catalogue ------------------------------------------------------------------

SEED_FOUND = [
    (1, "org", "高能级创新平台", "0.36"),
    (1, "org", "国家医学中心", "0.45"),
    (3, "project", "高端芯片", "0.63"),
    (3, "project", "人工智能", "0.70"),
    (4, "org", "国家生态环保工程技术中心", "0.45"),
    (8, "org", "超算中心", "0.45"),
    (9, "org", "经济中心", "0.45"),
    (15, "org", "国际性多式联运中心", "0.45"),
    (18, "project", "抽水蓄能电站", "0.72"),
    (24, "org", "大桥组团城市副中心", "0.40"),
    (28, "org", "种业集团", "0.81"),
    (40, "org", "新媒体平台", "0.32"),
]


def test_seed_candidates_left_by_the_catalogue(
    plan: Plan, raw: str, catalogue: Catalogue, mentions: tuple[Mention, ...]
) -> None:
    hits = discover(raw, plan_scopes(plan), catalogue=catalogue, rules=RULES, stoplist=load_stoplist())
    assert [(h.context, h.kind.value, h.name, str(h.confidence)) for h in hits] == SEED_FOUND
    # The catalogue wins every overlap, except that a catalogued place may lie wholly inside a found
    # name: 大桥组团 (a region) in 大桥组团城市副中心.
    for h in hits:
        for m in mentions:
            if m.span.start < h.span.end and h.span.start < m.span.end:
                assert m.kind is PLACE and h.span.start <= m.span.start and m.span.end <= h.span.end, (h, m)


# --- precision and recall -----------------------------------------------------------------------------


def test_precision_and_recall_on_the_annotated_fictional_texts() -> None:
    scores = score_annotated(FIXTURES, RULES)
    assert scores == {
        "org": Score(tp=14, fp=8, fn=12),
        "place": Score(tp=9, fp=1, fn=2),
        "project": Score(tp=7, fp=3, fn=0),
        "all": Score(tp=30, fp=12, fn=14),
    }
    assert (scores["all"].precision, scores["all"].recall, scores["all"].f1) == (
        Decimal("0.714"),
        Decimal("0.682"),
        Decimal("0.698"),
    )


def test_precision_and_recall_on_the_seed_against_the_catalogue(
    plan: Plan, raw: str, catalogue: Catalogue
) -> None:
    scores = score_against_catalogue(plan, raw, catalogue, RULES)
    assert scores == {
        "org": Score(tp=8, fp=15, fn=19),
        "place": Score(tp=8, fp=1, fn=26),
        "project": Score(tp=15, fp=3, fn=30),
        "all": Score(tp=31, fp=19, fn=75),
    }
    assert (scores["org"].precision, scores["place"].precision, scores["project"].precision) == (
        Decimal("0.348"),
        Decimal("0.889"),
        Decimal("0.833"),
    )


# --- validation of the rules and the stop list ---------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for f in DATA_DIR.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("\n" + text)


BAD_STOPS = [
    (
        '[[stop]]\nname = "超算中心"\n[[stop]]\nname = "超算\\n中心"\ntype = "org"\n',
        "stop '超算中心': duplicate",
    ),
    ('[[stop]]\nname = "超算中心"\nreason = "x"\n', "stop '超算中心': unknown field(s) reason"),
    ('[[stop]]\nname = "超算中心"\ntype = "person"\n', "stop '超算中心': unknown type 'person'"),
    ('[[stop]]\ntype = "org"\n', "[[stop]] #1: missing name"),
    ("[[stop]]\nname = 3\n", "[[stop]] #1: name must be a non-empty string"),
    ("[stops]\n", "file: unknown section(s) stops"),
]


@pytest.mark.parametrize(("text", "message"), BAD_STOPS)
def test_bad_stop_list_names_file_and_entry(data_dir: Path, text: str, message: str) -> None:
    _append(data_dir / "stoplist.toml", text)
    with pytest.raises(CatalogueError) as err:
        load_stoplist(data_dir)
    assert str(err.value).startswith(f"stoplist.toml: {message}")


def test_stop_list_loads(data_dir: Path) -> None:
    assert load_stoplist(data_dir) == ()
    _append(data_dir / "stoplist.toml", '[[stop]]\nname = "超算\\n中心"\ntype = "org"\nnote = "a kind"\n')
    assert load_stoplist(data_dir) == (Stop("超算中心", ORG, "a kind"),)


BAD_RULES = [
    (
        '[[org_suffix]]\nsuffix = "馆"\ntype = "museum"\nweight = 0.5\n',
        "[[org_suffix]] #17: unknown type 'museum'",
    ),
    (
        '[[org_suffix]]\nsuffix = "馆"\ntype = "platform"\nweight = 1.5\n',
        "[[org_suffix]] #17: weight must be a number in (0, 1]",
    ),
    ('[[org_suffix]]\nsuffix = "大学"\ntype = "university"\nweight = 0.5\n', "org_suffix: duplicate suffix"),
    (
        '[[place_suffix]]\nsuffix = "旗"\nweight = 0.5\nmax = 3\n',
        "[[place_suffix]] #10: max_name must be a positive integer",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_RULES)
def test_bad_rules_name_file_and_entry(data_dir: Path, text: str, message: str) -> None:
    _append(data_dir / "discovery.toml", text)
    with pytest.raises(CatalogueError) as err:
        load_rules(data_dir)
    assert str(err.value).startswith(f"discovery.toml: {message}")


def test_duplicate_stop_word_in_the_rules(data_dir: Path) -> None:
    path = data_dir / "discovery.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"推进", "支持",', '"推进", "推进",'), encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match=r"discovery\.toml: stops: duplicate word '推进'"):
        load_rules(data_dir)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[entity]]\nentities = [["临海省", "place"]]\n', "[[entity]] #1: missing file"),
        ('[[entity]]\nfile = "a.txt"\n', "entity 'a.txt': entities must be a list of [name, kind] pairs"),
        (
            '[[entity]]\nfile = "a.txt"\nentities = [["临海省", "city"]]\n',
            "entity 'a.txt': entities #1: ['临海省', 'city'] is not a [name, kind] pair with kind one of "
            "org, place, project",
        ),
        (
            '[[entity]]\nfile = "a.txt"\nentities = [["临海省"]]\n',
            "entity 'a.txt': entities #1: ['临海省'] is not a [name, kind] pair with kind one of "
            "org, place, project",
        ),
        (
            '[[entity]]\nfile = "a.txt"\nentities = []\n[[entity]]\nfile = "a.txt"\nentities = []\n',
            "entity 'a.txt': the file is annotated twice",
        ),
        ('[[entity]]\nfile = "a.txt"\nentities = []\nnote = 1\n', "entity 'a.txt': unknown field(s) note"),
        ("[[entities]]\n", "file: unknown section(s) entities"),
    ],
)
def test_a_malformed_gold_file_names_the_entry(tmp_path: Path, text: str, message: str) -> None:
    # It raised KeyError 'file' or ValueError 'city' is not a valid EntityKind, naming no entry.
    (tmp_path / "gold.toml").write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        gold_annotations(tmp_path)
    assert str(caught.value) == f"gold.toml: {message}"
