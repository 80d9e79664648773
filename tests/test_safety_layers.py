"""The two layers of server.protocol.safety, each tested alone, and the refusal when they disagree.

tests/test_safety.py tests them together; here the word scan (lexical_service_count), the parsed
SERVICE targets (_parsed_service_targets) and the update test (looks_like_update) each meet cases
only they decide, and check_query is shown refusing when the scan finds more SERVICE than the parser.
"""

from __future__ import annotations

import pytest

from server.errors import UnsafeQuery, UpdateRefused
from server.protocol import safety
from server.protocol.safety import (
    _parsed_service_targets,
    check_query,
    lexical_service_count,
    looks_like_update,
)

ALLOWED = frozenset({"a.example"})


# Each test meets rdflib's parser itself, not an answer an earlier test left in the cache.
pytestmark = pytest.mark.usefixtures("fresh_safety_parse_cache")


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ('SELECT * WHERE { ?s ?p "a>b SERVICE <http://x.example/> { }" }', 0),  # '>' and an IRI in a string
        ("SELECT * WHERE { ?s ?p 'SERVICE <http://x.example/>' }", 0),  # single-quoted
        ('SELECT * WHERE { ?s ?p """x\nSERVICE <http://x.example/> {}\n""" }', 0),  # long, double
        ("SELECT * WHERE { ?s ?p '''it's SERVICE''' }", 0),  # long, single, with a quote inside
        ("SELECT $service WHERE { ?service ?p ?o }", 0),  # variables, both sigils
        ("SELECT * WHERE { ?s <http://service.example/SERVICE> ?o }", 0),  # inside an IRI
        ("SELECT * WHERE { ?s pk:SERVICE ?o } # SERVICE", 0),  # a local name, a comment
        ("SELECT * WHERE { SERVICE <http://x.example/> { ?s ?p ?o } }", 1),
        ("SELECT * WHERE { service <a> {} SeRvIcE ?v {} }", 2),
        ('SELECT * WHERE { ?s ?p "\\"" SERVICE <http://x.example/> {} }', 1),  # escaped quote ends nothing
        ("PREFIX SERVICE: <http://e.example/> SELECT * WHERE { ?s SERVICE:p ?o }", 2),  # deliberately broad
    ],
)
def test_the_word_scan_alone(query: str, count: int) -> None:
    assert lexical_service_count(query) == count


def test_the_parsed_targets_alone() -> None:
    assert _parsed_service_targets("SELECT * WHERE { SERVICE <http://a.example/q> { ?s ?p ?o } }", None) == (
        "http://a.example/q",
    )
    assert _parsed_service_targets("SELECT * WHERE { SERVICE ?where { ?s ?p ?o } }", None) == (None,)
    both = "SELECT * WHERE { SERVICE <q> { ?s ?p ?o } SERVICE SILENT <http://b.example/> { ?s ?p ?o } }"
    assert _parsed_service_targets(both, "http://a.example/") == ("http://a.example/q", "http://b.example/")
    assert _parsed_service_targets('SELECT * WHERE { ?s ?p "SERVICE <http://x/>" }', None) == ()
    # VALUES rows are plain dicts in rdflib's algebra: walked too, beside the clause.
    values = "SELECT * WHERE { VALUES ?e { <http://a.example/> } SERVICE ?e { ?s ?p ?o } }"
    assert _parsed_service_targets(values, None) == (None,)
    nested = (
        "ASK { { SERVICE <http://a.example/1> { ?s ?p ?o } } UNION { SERVICE <http://b.example/2> { } } }"
    )
    assert _parsed_service_targets(nested, None) == ("http://a.example/1", "http://b.example/2")
    with pytest.raises(Exception, match=r"Expected"):
        _parsed_service_targets("SELECT * WHERE { SERVICE", None)


def test_a_parsed_target_refuses_even_when_the_word_scan_sees_none(monkeypatch: pytest.MonkeyPatch) -> None:
    # The parser layer alone: the scan finds no SERVICE word (it is in a string), the parser (here
    # made to disagree) reports a clause to a host not allowed: refused by the host check.
    query = 'SELECT * WHERE { ?s ?p "service" }'
    assert lexical_service_count(query) == 0
    monkeypatch.setattr(safety, "_parsed_service_targets", lambda q, b: ("http://evil.example/",))
    with pytest.raises(UnsafeQuery, match=r"SERVICE <http://evil.example/> is refused: host 'evil.example'"):
        check_query(query, ALLOWED)


def test_more_service_words_than_parsed_clauses_is_refused() -> None:
    # The scan counts SERVICE in a prefix name; the parser finds no clause: the two disagree.
    query = "PREFIX SERVICE: <http://e.example/> SELECT * WHERE { ?s SERVICE:p ?o }"
    assert _parsed_service_targets(query, None) == ()
    with pytest.raises(
        UnsafeQuery, match=r"^the query has SERVICE clauses the safety check could not identify$"
    ):
        check_query(query, ALLOWED)
    with pytest.raises(UnsafeQuery, match=r"^SERVICE \(federated query\) is not allowed on this server"):
        check_query(query, frozenset())


def test_an_allowed_host_passes_and_a_variable_target_never_does() -> None:
    check_query("SELECT * WHERE { SERVICE <http://a.example/q> { ?s ?p ?o } }", ALLOWED)
    with pytest.raises(UnsafeQuery, match=r"^SERVICE with a variable is refused"):
        check_query("SELECT * WHERE { SERVICE ?where { ?s ?p ?o } }", ALLOWED)


@pytest.mark.parametrize(
    "update",
    [
        "DROP GRAPH <http://a.example/g>",
        "DROP ALL",
        "CREATE GRAPH <http://a.example/g>",
        "COPY DEFAULT TO <http://a.example/g>",
        "MOVE <http://a.example/g> TO DEFAULT",
        "ADD <http://a.example/g> TO <http://a.example/h>",
        "WITH <http://a.example/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "PREFIX x: <http://a.example/> BASE <http://b.example/> drop silent graph x:g",
        "# a comment\n  Clear DEFAULT",
    ],
)
def test_every_update_keyword_is_refused(update: str) -> None:
    assert looks_like_update(update)
    with pytest.raises(
        UpdateRefused, match=r"^this endpoint is read-only: SPARQL Update operations are refused$"
    ):
        check_query(update, ALLOWED)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?drop WHERE { ?drop ?copy ?move }",
        "PREFIX drop: <http://a.example/> SELECT * WHERE { ?s drop:with ?o }",
        'ASK { ?s ?p "INSERT DATA" }',
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
    ],
)
def test_update_words_elsewhere_are_no_update(query: str) -> None:
    assert not looks_like_update(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <http://a.example/> { ?s ?q ?r } } }",
        "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <http://a.example/> { ?s ?p ?o } } } }",
        "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <http://a.example/> { ?s ?q ?r } } }",
        "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <http://a.example/> { ?s ?q ?r } } }",
        "SELECT (EXISTS { SERVICE <http://a.example/> { ?s ?q ?r } } AS ?x) WHERE { ?s ?p ?o }",
        # Inside an expression list (||, IN): the walk goes through lists too.
        "SELECT * WHERE { ?s ?p ?o FILTER (?o IN (1, 2) || NOT EXISTS { SERVICE <http://a.example/> { } }) }",
    ],
)
def test_the_parsed_targets_wherever_the_clause_stands(query: str) -> None:
    assert _parsed_service_targets(query, None) == ("http://a.example/",)


def test_a_service_inside_a_service_is_refused_as_unreadable() -> None:
    # rdflib's parser recurses without end on it: the check refuses what it cannot read.
    inner = "SELECT * WHERE { SERVICE <http://a.example/> { SERVICE <http://b.example/> { ?s ?p ?o } } }"
    with pytest.raises(UnsafeQuery, match=r"could not parse it .*\(RecursionError\); nothing was evaluated$"):
        check_query(inner, ALLOWED)


@pytest.mark.parametrize("query", ["", "   ", "# only a comment", "<http://a.example/>", "'a string'"])
def test_no_keyword_at_all_is_no_update(query: str) -> None:
    assert looks_like_update(query) is False


def test_a_relative_service_iri_resolves_against_the_configured_base() -> None:
    query = "SELECT * WHERE { SERVICE <q> { ?s ?p ?o } }"
    check_query(query, ALLOWED, base_iri="http://a.example/")
    with pytest.raises(UnsafeQuery, match=r"^SERVICE <http://b\.example/q> is refused: host 'b\.example'"):
        check_query(query, ALLOWED, base_iri="http://b.example/")


def test_a_service_iri_without_a_host_is_named_as_such() -> None:
    with pytest.raises(UnsafeQuery, match=r"^SERVICE <urn:x:y> is refused: host '\(none\)' is not allowed$"):
        check_query("SELECT * WHERE { SERVICE <urn:x:y> { ?s ?p ?o } }", ALLOWED)


def test_an_unreadable_query_is_refused_with_the_reason() -> None:
    with pytest.raises(
        UnsafeQuery,
        match=r"^the query mentions 'service' and the safety check could not parse it to make sure it "
        r"contains no SERVICE clause \(ParseException\); nothing was evaluated$",
    ):
        check_query("SELECT * WHERE { SERVICE <http://a.example/> { ?s ?p }", ALLOWED)
