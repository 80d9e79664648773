"""ontology/outline-shapes.ttl: the contract of divisions and citations in RDF, checked on small graphs
written by hand (the file alone, with the ontology mixed in as the build does)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph

from mapping.validate import ONTOLOGY_DIR, ValidationResult, shapes_files, validate
from mapping.vocab import Vocab

BASE = "http://example.org/plankg/"
VOCAB = Vocab(BASE)

# A plan with a frame part holding a frame section, an action part, two citations and a stub.
GOOD = """
@prefix pk: <def/> .
@prefix eli: <http://data.europa.eu/eli/ontology#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<id/plan/a> a pk:Plan ; eli:implements <id/cited/a> ; eli:based_on <id/plan/b> .
<id/plan/b> a pk:Plan .
<id/span/1-5> a oa:SpecificResource .
<id/span/2-4> a oa:SpecificResource .

<id/plan/a/division/1> a pk:Division, pk:FrameDivision ;
    eli:title "总体要求"@zh ; pk:titleSpan <id/span/2-4> ; prov:wasDerivedFrom <id/span/1-5> ;
    eli:number "一" ; pk:numberValue 1 ; pk:position 1 ; pk:level 1 ;
    pk:numberingStyle <def/numberingStyle/chineseComma> ; eli:is_part_of <id/plan/a> ;
    pk:text "总体要求"@zh .

<id/plan/a/division/1/1> a pk:Division, pk:FrameDivision ;
    eli:title "指导思想"@zh ; pk:titleSpan <id/span/2-4> ; prov:wasDerivedFrom <id/span/1-5> ;
    eli:number "一" ; pk:numberValue 1 ; pk:position 1 ; pk:level 2 ;
    pk:numberingStyle <def/numberingStyle/chineseParen> ; eli:is_part_of <id/plan/a/division/1> ;
    pk:text "指导思想。坚持稳中求进。"@zh ; pk:lead "坚持稳中求进。"@zh .

<id/plan/a/division/2> a pk:Division, pk:ActionDivision ;
    eli:title "重点任务"@zh ; pk:titleSpan <id/span/2-4> ; prov:wasDerivedFrom <id/span/1-5> ;
    eli:number "二" ; pk:numberValue 2 ; pk:position 2 ; pk:level 1 ;
    pk:numberingStyle <def/numberingStyle/chineseComma> ; eli:is_part_of <id/plan/a> ;
    pk:text "重点任务"@zh .

<id/citation/a/1> a pk:Citation ;
    oa:hasBody <id/cited/a> ; oa:hasTarget <id/span/1-5> ; pk:citingPlan <id/plan/a> ;
    pk:citationRelation eli:implements ; pk:triggerSpan <id/span/2-4> .
<id/citation/a/2> a pk:Citation ;
    oa:hasBody <id/plan/b> ; oa:hasTarget <id/span/1-5> ; pk:citingPlan <id/plan/a> ;
    pk:citationRelation eli:based_on .

<id/cited/a> a pk:CitedDocument ; pk:matchingKey "国务院关于加快构建绿色制造体系的若干意见" ;
    eli:title "国务院关于加快构建绿色制造体系的若干意见"@zh ; pk:documentNumber "国发〔2022〕31号" .
"""


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ontology and this shapes file only: the plan shapes of shapes.ttl are not under test."""
    root = tmp_path_factory.mktemp("outline-shapes")
    shutil.copy(ONTOLOGY_DIR / "plankg.ttl", root)
    shutil.copy(ONTOLOGY_DIR / "outline-shapes.ttl", root)
    return root


def check(turtle: str, directory: Path) -> ValidationResult:
    return validate(Graph().parse(data=turtle, format="turtle", publicID=BASE), VOCAB, directory)


def found(result: ValidationResult) -> list[tuple[str, str, str]]:
    """(focus node relative to the base, shape, message) of every violation."""
    return sorted(
        (r.focus_node.replace(BASE, ""), r.source_shape, r.message)
        for r in result.results
        if r.severity == "Violation"
    )


def test_the_file_is_a_shapes_file() -> None:
    assert ONTOLOGY_DIR / "outline-shapes.ttl" in shapes_files()


def test_a_good_graph_conforms(directory: Path) -> None:
    result = check(GOOD, directory)
    assert result.conforms and result.results == (), result.report_text


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (  # an action division below a frame part
            "<id/plan/a/division/1/1> a pk:Division, pk:FrameDivision",
            "<id/plan/a/division/1/1> a pk:Division, pk:ActionDivision",
            [("<id/plan/a/division/1/1>", "pksh:Division", "a division below a frame division is frame too")],
        ),
        (  # both roles
            "<id/plan/a/division/2> a pk:Division, pk:ActionDivision",
            "<id/plan/a/division/2> a pk:Division, pk:ActionDivision, pk:FrameDivision",
            [
                (
                    "<id/plan/a/division/2>",
                    "pksh:Division",
                    "a division is either an action division or a frame division, exactly one of them",
                )
            ],
        ),
        (  # no role
            "<id/plan/a/division/2> a pk:Division, pk:ActionDivision",
            "<id/plan/a/division/2> a pk:Division",
            [
                (
                    "<id/plan/a/division/2>",
                    "pksh:Division",
                    "a division is either an action division or a frame division, exactly one of them",
                )
            ],
        ),
        (  # a level that skips
            "pk:position 1 ; pk:level 2",
            "pk:position 1 ; pk:level 3",
            [
                (
                    "<id/plan/a/division/1/1>",
                    "pksh:Division",
                    "pk:level is 1 under the plan and one more than the parent's level under a division",
                )
            ],
        ),
        (  # a top-level division that is not level 1
            'eli:number "二" ; pk:numberValue 2 ; pk:position 2 ; pk:level 1',
            'eli:number "二" ; pk:numberValue 2 ; pk:position 2 ; pk:level 2',
            [
                (
                    "<id/plan/a/division/2>",
                    "pksh:Division",
                    "pk:level is 1 under the plan and one more than the parent's level under a division",
                )
            ],
        ),
        (  # a numbering style that is not one of the five
            "pk:numberingStyle <def/numberingStyle/chineseParen>",
            "pk:numberingStyle <def/numberingStyle/roman>",
            [("<id/plan/a/division/1/1>", "pksh:Division-numberingStyle", None)],
        ),
        (  # a division without its number's value
            'eli:number "二" ; pk:numberValue 2 ;',
            'eli:number "二" ;',
            [("<id/plan/a/division/2>", "pksh:Division-numberValue", None)],
        ),
        (  # the plan does not state the relation the citation names
            "pk:citationRelation eli:based_on .",
            "pk:citationRelation eli:cites .",
            [
                (
                    "<id/citation/a/2>",
                    "pksh:Citation",
                    "the citing plan does not relate to the cited document by the citation's relation",
                )
            ],
        ),
        (  # a relation that is not one of the three
            "pk:citationRelation eli:implements ;",
            "pk:citationRelation eli:amends ;",
            [
                (
                    "<id/citation/a/1>",
                    "pksh:Citation",
                    "the citing plan does not relate to the cited document by the citation's relation",
                ),
                ("<id/citation/a/1>", "pksh:Citation-relation", None),
            ],
        ),
        (  # a document number not in canonical form
            'pk:documentNumber "国发〔2022〕31号"',
            'pk:documentNumber "国发[2022]31号"',
            [("<id/cited/a>", "pksh:CitedDocument-number", None)],
        ),
        (  # a stub nobody cites
            "oa:hasBody <id/cited/a> ;",
            "oa:hasBody <id/plan/b> ;",
            [
                (
                    "<id/cited/a>",
                    "pksh:CitedDocument",
                    "a cited document is the body of at least one citation",
                ),
                (
                    "<id/citation/a/1>",
                    "pksh:Citation",
                    "the citing plan does not relate to the cited document by the citation's relation",
                ),
            ],
        ),
        (  # a stub without its matching key
            'pk:matchingKey "国务院关于加快构建绿色制造体系的若干意见" ;',
            "",
            [("<id/cited/a>", "pksh:CitedDocument-key", None)],
        ),
    ],
)
def test_each_rule_is_checked(
    old: str, new: str, expected: list[tuple[str, str, str | None]], directory: Path
) -> None:
    """Each broken graph gives exactly the violations named: focus, shape, and the message of a
    SPARQL rule (a property shape's message is pyshacl's own, not checked)."""
    assert old in GOOD
    result = check(GOOD.replace(old, new), directory)
    got = found(result)
    assert [(f, s) for f, s, _ in got] == sorted((f, s) for f, s, _ in expected), result.report_text
    for (_, _, message), (_, _, wanted) in zip(got, sorted(expected, key=lambda e: e[:2]), strict=True):
        assert wanted is None or message == wanted
