"""server.protocol.negotiation and .formats: q-values, wildcards, specificity, defaults, 406."""

from __future__ import annotations

import itertools

import pytest

from server.errors import NotAcceptable
from server.protocol import formats as fmts
from server.protocol.formats import Kind
from server.protocol.negotiation import (
    MediaRange,
    accepts_coding,
    coding_quality,
    format_quality,
    negotiate,
    parse_accept,
    parse_qlist,
    quality,
)

RESULTS = fmts.formats_for(Kind.RESULTS)
GRAPH = fmts.formats_for(Kind.GRAPH)


def test_no_accept_header_gives_the_default() -> None:
    assert negotiate(None, RESULTS) is fmts.SPARQL_JSON
    assert negotiate("", GRAPH) is fmts.TURTLE


def test_star_star_gives_the_default() -> None:
    assert negotiate("*/*", RESULTS) is fmts.SPARQL_JSON


def test_exact_media_type_wins() -> None:
    assert negotiate("text/csv", RESULTS) is fmts.CSV
    assert negotiate("text/tab-separated-values", RESULTS) is fmts.TSV
    assert negotiate("application/sparql-results+xml", RESULTS) is fmts.SPARQL_XML
    assert negotiate("application/rdf+xml", GRAPH) is fmts.RDF_XML
    assert negotiate("application/ld+json", GRAPH) is fmts.JSON_LD
    assert negotiate("application/n-triples", GRAPH) is fmts.N_TRIPLES
    assert negotiate("application/n-quads", GRAPH) is fmts.N_QUADS


def test_higher_q_wins_whatever_the_order() -> None:
    accept = "application/sparql-results+json;q=0.5, text/csv;q=0.9, application/sparql-results+xml;q=0.7"
    assert negotiate(accept, RESULTS) is fmts.CSV


def test_equal_q_falls_back_to_server_preference() -> None:
    assert negotiate("text/csv, application/sparql-results+xml", RESULTS) is fmts.SPARQL_XML


def test_type_wildcard_matches_within_its_type() -> None:
    assert negotiate("text/*", RESULTS) is fmts.CSV
    assert negotiate("text/*", GRAPH) is fmts.TURTLE


def test_most_specific_range_decides_the_q() -> None:
    # JSON is excluded by its own range although */* would accept it.
    assert negotiate("*/*;q=0.8, application/sparql-results+json;q=0", RESULTS) is fmts.SPARQL_XML
    # text/csv explicitly preferred over the rest of text/*.
    assert negotiate("text/*;q=0.2, text/csv;q=0.9", RESULTS) is fmts.CSV
    assert quality(parse_accept("text/*;q=0.2, text/csv;q=0.9"), "text/tab-separated-values") == 0.2


def test_browser_accept_header_gets_the_default() -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
    # application/xml is an alias of SPARQL XML results, so q=0.9 beats */*'s 0.8.
    assert negotiate(browser, RESULTS) is fmts.SPARQL_XML
    assert negotiate(browser, GRAPH) is fmts.TURTLE
    assert negotiate(browser, (*GRAPH, fmts.HTML)) is fmts.HTML


def test_nothing_acceptable_raises_406_listing_what_is_available() -> None:
    with pytest.raises(
        NotAcceptable, match=r"^none of the offered media types is acceptable to 'image/png'; available: "
    ) as caught:
        negotiate("image/png", RESULTS)
    assert "text/csv" in caught.value.extra["available"]
    assert "image/png" in caught.value.detail


def test_q_zero_everywhere_is_not_acceptable() -> None:
    with pytest.raises(NotAcceptable, match=r"^none of the offered media types is acceptable to '\*/\*;q=0'"):
        negotiate("*/*;q=0", RESULTS)


def test_malformed_entries_are_skipped_not_fatal() -> None:
    assert parse_accept("garbage, text/csv;q=abc, /x, text/tab-separated-values") == [
        parse_accept("text/csv;q=0")[0],
        parse_accept("text/tab-separated-values")[0],
    ]
    assert negotiate("garbage, text/tab-separated-values", RESULTS) is fmts.TSV


def test_q_is_clamped_and_parameters_ignored() -> None:
    (only,) = parse_accept("text/turtle; charset=utf-8; q=7")
    assert (only.type, only.subtype, only.q) == ("text", "turtle", 1.0)


def test_format_parameter_overrides_accept() -> None:
    assert negotiate("application/sparql-results+json", RESULTS, format_name="tsv") is fmts.TSV
    assert negotiate(None, RESULTS, format_name="csv-excel") is fmts.CSV_EXCEL
    with pytest.raises(NotAcceptable, match=r"^unknown or inapplicable format 'turtle'; available: "):
        negotiate(None, RESULTS, format_name="turtle")  # a graph format for solutions
    with pytest.raises(NotAcceptable, match=r"^unknown or inapplicable format 'yaml'; available: "):
        negotiate(None, RESULTS, format_name="yaml")


def test_name_only_formats_are_never_chosen_by_accept() -> None:
    assert negotiate("text/csv", RESULTS) is fmts.CSV
    assert fmts.by_media_type("text/csv") is fmts.CSV


def test_each_format_is_described_once() -> None:
    names = [f.name for f in fmts.FORMATS]
    assert len(names) == len(set(names))
    negotiable = [mt for f in fmts.FORMATS if not f.by_name_only for mt in f.media_types]
    assert len(negotiable) == len(set(negotiable))
    for f in fmts.FORMATS:
        assert fmts.by_name(f.name) is f
        if not f.by_name_only:
            assert fmts.by_media_type(f.media_type + "; charset=utf-8") is f
            assert fmts.by_extension("." + f.extension) is f


def test_text_formats_declare_utf8() -> None:
    assert fmts.CSV.content_type == "text/csv; charset=utf-8"
    assert fmts.TURTLE.content_type == "text/turtle; charset=utf-8"
    assert fmts.CSV_EXCEL.bom and not fmts.CSV.bom


def test_qlist_parsing_is_shared() -> None:
    assert parse_qlist("gzip;q=0.5, Identity , ;q=1, br;q=x, deflate;q=7") == [
        ("gzip", 0.5),
        ("identity", 1.0),
        ("br", 0.0),
        ("deflate", 1.0),
    ]
    assert parse_qlist(None) == []


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("GZIP;q=0.3", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*", True),
        ("*;q=0", False),
        ("*, gzip;q=0", False),  # the named coding beats the wildcard
        ("gzip;q=0.5, *;q=0", True),
        ("identity", False),
        ("", False),
        (None, False),
    ],
)
def test_accepts_coding(header: str | None, accepted: bool) -> None:
    assert accepts_coding(header, "gzip") is accepted
    assert (coding_quality(header, "gzip") > 0) is accepted


# --- which range decides, whatever the order of the header ------------------------------------

RANGES = ("*/*;q=0.1", "text/*;q=0.5", "text/csv;q=0.9", "application/sparql-results+json;q=0")


@pytest.mark.parametrize("order", list(itertools.permutations(RANGES)))
def test_the_most_specific_range_decides_in_any_order(order: tuple[str, ...]) -> None:
    ranges = parse_accept(", ".join(order))
    assert quality(ranges, "text/csv") == 0.9  # its own range, not text/* or */*
    assert quality(ranges, "text/tab-separated-values") == 0.5  # text/*, not */*
    assert quality(ranges, "application/sparql-results+xml") == 0.1  # only */* matches
    assert quality(ranges, "application/sparql-results+json") == 0.0  # excluded by name
    assert quality(ranges, "image/png") == 0.1
    assert negotiate(", ".join(order), RESULTS) is fmts.CSV


@pytest.mark.parametrize(
    "order", list(itertools.permutations(("*/*;q=0.8", "application/sparql-results+json;q=0")))
)
def test_an_excluded_format_stays_excluded_in_any_order(order: tuple[str, ...]) -> None:
    assert negotiate(", ".join(order), RESULTS) is fmts.SPARQL_XML


def test_of_two_ranges_equally_specific_the_first_decides() -> None:
    # RFC 9110 leaves a repeated range undefined; this server takes the first, whatever its q.
    assert quality(parse_accept("text/csv;q=0.1, text/csv;q=0.9"), "text/csv") == 0.1
    assert quality(parse_accept("text/csv;q=0.9, text/csv;q=0.1"), "text/csv") == 0.9
    assert quality(parse_accept("text/*;q=0.3, text/*;q=0.7"), "text/csv") == 0.3


def test_a_format_takes_the_q_of_its_most_specifically_named_media_type() -> None:
    # SPARQL JSON results are also application/json: the named alias decides over */*, both orders.
    for header in ("application/json;q=0.2, */*;q=0.9", "*/*;q=0.9, application/json;q=0.2"):
        assert format_quality(parse_accept(header), fmts.SPARQL_JSON) == 0.2
    assert format_quality(parse_accept("text/*"), fmts.SPARQL_JSON) == 0.0


def test_no_range_matching_gives_q_zero() -> None:
    assert quality(parse_accept("text/csv"), "application/json") == 0.0
    assert quality([], "text/csv") == 0.0


# --- the finer points of the q-list and the ranges ------------------------------------------------


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("text/csv;q=-1", [("text/csv", 0.0)]),  # clamped below
        ("text/csv;Q=0.5", [("text/csv", 0.5)]),  # the parameter name in any case
        ("text/csv; q = 0.25 ", [("text/csv", 0.25)]),
        ("text/csv;level=1;q=0.3", [("text/csv", 0.3)]),
        ("text/csv;q", [("text/csv", 0.0)]),  # no value: unreadable
        ("TEXT/CSV", [("text/csv", 1.0)]),
        (",,text/csv,", [("text/csv", 1.0)]),
    ],
)
def test_qlist_details(header: str, parsed: list[tuple[str, float]]) -> None:
    assert parse_qlist(header) == parsed


@pytest.mark.parametrize("header", ["*/csv", "text/", "/csv", "text", "*"])
def test_ranges_that_are_not_media_ranges_are_skipped(header: str) -> None:
    assert parse_accept(header) == []
    assert negotiate(header, RESULTS) is fmts.SPARQL_JSON  # as if no header was sent


@pytest.mark.parametrize(
    ("media_range", "media_type", "specificity"),
    [
        ("*/*", "text/csv", 0),
        ("text/*", "text/csv", 1),
        ("text/*", "application/json", -1),
        ("text/csv", "text/csv", 2),
        ("text/csv", "text/plain", -1),
        ("text/csv", "application/csv", -1),
    ],
)
def test_specificity(media_range: str, media_type: str, specificity: int) -> None:
    (r,) = parse_accept(media_range)
    assert r.specificity(media_type) == specificity


@pytest.mark.parametrize(
    ("header", "coding", "q"),
    [
        ("gzip;q=0.4", "gzip", 0.4),
        ("x-gzip;q=0.4", "gzip", 0.4),
        ("gzip;q=0.4", "x-gzip", 0.4),
        ("x-compress;q=0.6", "compress", 0.6),
        ("compress;q=0.6", "x-compress", 0.6),
        ("*;q=0.3", "br", 0.3),
        ("*;q=0.3, br;q=0.7", "br", 0.7),
        ("deflate", "br", 0.0),
        ("deflate", "DEFLATE", 1.0),
    ],
)
def test_coding_quality(header: str, coding: str, q: float) -> None:
    assert coding_quality(header, coding) == q


def test_the_default_is_the_first_offer_chosen_by_accept_not_a_name_only_one() -> None:
    offers = (fmts.CSV_EXCEL, fmts.CSV, fmts.TSV)
    assert negotiate(None, offers) is fmts.CSV
    assert negotiate("text/csv", offers) is fmts.CSV
    assert negotiate(None, offers, format_name="csv-excel") is fmts.CSV_EXCEL


def test_negotiate_needs_an_offer() -> None:
    with pytest.raises(ValueError, match=r"^negotiate\(\) needs at least one offer$"):
        negotiate("text/csv", ())


def test_a_lower_q_never_displaces_a_higher_one_found_first() -> None:
    assert negotiate("application/sparql-results+json;q=0.9, text/csv;q=0.8", RESULTS) is fmts.SPARQL_JSON
    assert negotiate("application/sparql-results+json;q=0.001", RESULTS) is fmts.SPARQL_JSON


def test_a_type_wildcard_with_a_subtype_matches_nothing() -> None:
    # parse_accept drops "*/csv"; a MediaRange built so still matches no media type.
    assert MediaRange("*", "csv", 1.0).specificity("text/csv") == -1
    assert MediaRange("*", "csv", 1.0).specificity("application/csv") == -1


def test_a_range_with_two_slashes_keeps_the_rest_in_its_subtype() -> None:
    assert parse_accept("text/csv/x") == [MediaRange("text", "csv/x", 1.0)]
    assert quality(parse_accept("text/csv/x"), "text/csv") == 0.0
