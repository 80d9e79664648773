"""server.protocol.safety: SERVICE and updates are refused before evaluation; harmless mentions pass.

The end-to-end proof with a listening canary and a real server is in test_server_process.py; here the
decision itself, and the second layer (query workers without network).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.errors import QuerySyntaxError, StoreFailure, UnsafeQuery, UpdateRefused
from server.protocol import safety
from server.protocol.safety import (
    check_query,
    lexical_service_count,
    looks_like_update,
    mentions_service,
    silence_refused_services,
)
from server.stores.oxigraph import OxigraphStore

SAMPLE = Path(__file__).parent / "fixtures" / "sparql-sample.trig"
NONE: frozenset[str] = frozenset()


# Each test meets rdflib's parser itself, not an answer an earlier test left in the cache.
pytestmark = pytest.mark.usefixtures("fresh_safety_parse_cache")


EVIL = "http://127.0.0.1:9/sparql"


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT * WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service <{EVIL}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{EVIL}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE { VALUES ?e { <http://127.0.0.1:9/> } SERVICE ?e { ?s ?p ?o } }",
        f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE <{EVIL}> {{ ?s ?q ?r }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{EVIL}> {{ ?s ?q ?r }} }} }}",
        f"SELECT * WHERE {{ {{ SELECT ?s WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }} }} }}",
        f"ASK {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
        f"DESCRIBE ?s WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
        # A prefix named SERVICE: Oxigraph reads the keyword and a prefixed name with the empty prefix.
        "PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { ?s ?p ?o SERVICE:x { ?a ?b ?c } }",
        # No space after a number or a boolean: still the keyword to Oxigraph.
        f"SELECT * WHERE {{ ?s ?p 1SERVICE <{EVIL}> {{ }} }}",
        f"SELECT * WHERE {{ ?s ?p trueSERVICE <{EVIL}> {{ }} }}",
        # '<' as less-than, then a string holding '>': a naive IRI scan would hide the SERVICE.
        f"SELECT * WHERE {{ ?s ?p ?o FILTER(?s<'a>') SERVICE <{EVIL}> {{ }} }} #'",
    ],
)
def test_service_is_refused(query: str) -> None:
    with pytest.raises(UnsafeQuery) as caught:
        check_query(query, NONE)
    assert "SERVICE" in caught.value.detail


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p ?o }",
        'SELECT * WHERE { ?s ?p "a SERVICE in a string" }',
        "SELECT ?service WHERE { ?service ?p ?o }",
        "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#> SELECT * WHERE { ?s a sd:Service }",
        "SELECT * WHERE { ?s <http://example.org/service> ?o }",
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://127.0.0.1:9/> in a comment",
        # FROM only names a graph of the store; it is never fetched (the canary test proves it).
        "SELECT * FROM <http://127.0.0.1:9/data> WHERE { ?s ?p ?o }",
    ],
)
def test_harmless_mentions_pass(query: str) -> None:
    check_query(query, NONE)


def test_allow_list_lets_named_hosts_through_only() -> None:
    allowed = frozenset({"query.wikidata.org"})
    check_query("SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }", allowed)
    with pytest.raises(UnsafeQuery, match=r"127\.0\.0\.1"):
        check_query(f"SELECT * WHERE {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}", allowed)
    with pytest.raises(UnsafeQuery, match="variable"):
        check_query("SELECT * WHERE { SERVICE ?x { ?s ?p ?o } }", allowed)


def test_unparseable_query_mentioning_service_is_refused_not_guessed() -> None:
    with pytest.raises(UnsafeQuery, match="could not parse"):
        check_query("SELECT ?service WHERE { ?service ?p << ?a ?b ?c >> }", frozenset({"example.org"}))


def test_lexical_count_skips_strings_iris_comments_variables_and_local_names() -> None:
    query = """PREFIX ex: <http://e/service#> SELECT ?service WHERE {
      ?service ex:service "service" . # service
      SERVICE <http://x/> { } }"""
    assert lexical_service_count(query) == 1


@pytest.mark.parametrize(
    ("query", "update"),
    [
        ("INSERT DATA { <http://a> <http://b> <http://c> }", True),
        ("PREFIX ex: <http://e/> DELETE WHERE { ?s ex:p ?o }", True),
        ("LOAD <http://127.0.0.1:9/data.ttl>", True),
        ("BASE <http://e/> CLEAR ALL", True),
        ("PREFIX insert: <http://e/> SELECT * WHERE { ?s insert:p ?o }", False),
        ("SELECT * WHERE { ?s ?p ?o }", False),
    ],
)
def test_updates_are_recognised(query: str, update: bool) -> None:
    assert looks_like_update(query) is update
    if update:
        with pytest.raises(UpdateRefused, match=r"^this endpoint is read-only: SPARQL Update operations"):
            check_query(query, NONE)


# --- the second layer: the workers have no network ------------------------------------------


@pytest.mark.slow  # starts query worker processes
def test_workers_cannot_connect_even_if_the_check_were_bypassed(canary: tuple[int, list[object]]) -> None:
    port, hits = canary
    store = OxigraphStore(None, data_files=[SAMPLE], workers=1, isolate_network=True)
    try:
        if not store.network_isolated:
            reason = "this OS does not let the query workers drop their network"
            if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
                pytest.fail(f"{reason} (CI=true: CI's machine must isolate them)")
            pytest.skip(reason)
        # Straight to the store, past server.protocol.safety: the worker tries and finds no network.
        with pytest.raises(StoreFailure, match=r"^the query could not be evaluated: "):
            store.query(
                f"SELECT * WHERE {{ ?s ?p ?o SERVICE <http://127.0.0.1:{port}/sparql> {{ ?a ?b ?c }} }}"
            )
        assert store.query("ASK { ?s ?p ?o }").value is True
    finally:
        store.close()
    assert hits == []


@pytest.mark.slow  # starts query worker processes
def test_oxigraph_reads_no_unicode_escapes_outside_strings() -> None:
    """The fast path of server.protocol.safety relies on this: ``\\u0053ERVICE`` is not the keyword."""
    store = OxigraphStore(None, data_files=[SAMPLE], workers=1, isolate_network=True)
    try:
        query = "SELECT * WHERE { ?s ?p ?o \\u0053ERVICE <http://127.0.0.1:9/> { } }"
        check_query(query, NONE)  # no letters 'service': passes the check without parsing
        with pytest.raises(QuerySyntaxError, match=r"^malformed query at line 1, column 35: "):
            store.query(query)
    finally:
        store.close()


def test_service_silent_to_a_refused_host_becomes_the_empty_group_in_place() -> None:
    query = (
        "SELECT * WHERE {\n  ?a ?b ?c\n"
        f"  SERVICE SILENT <{EVIL}> {{ ?s ?p ?o {{ ?x ?y '}}' }} }}\n  ?d ?e ?f }}"
    )
    silenced = silence_refused_services(query, NONE)
    assert (
        silenced
        == "SELECT * WHERE {\n  ?a ?b ?c\n  {}" + " " * (len(query.splitlines()[2]) - 4) + "\n  ?d ?e ?f }"
    )
    check_query(silenced, NONE)  # nothing left to refuse
    # Lines and columns are kept, so a syntax error after it is reported where it is.
    assert [len(line) for line in silenced.splitlines()] == [len(line) for line in query.splitlines()]


def test_service_silent_keeps_allowed_hosts_and_resolves_prefixes() -> None:
    allowed = frozenset({"query.wikidata.org"})
    kept = "SELECT * WHERE { SERVICE SILENT <https://query.wikidata.org/sparql> { ?s ?p ?o } }"
    assert silence_refused_services(kept, allowed) == kept
    prefixed = "PREFIX w: <https://query.wikidata.org/> SELECT * WHERE { SERVICE SILENT w:sparql { } }"
    assert silence_refused_services(prefixed, allowed) == prefixed
    evil = f"PREFIX e: <{EVIL}#> SELECT * WHERE {{ SERVICE  silent e:x {{ }} }}"
    assert "SERVICE" not in silence_refused_services(evil, allowed)
    relative = "BASE <http://127.0.0.1:9/> SELECT * WHERE { SERVICE SILENT <sparql> { } }"
    assert "SERVICE" not in silence_refused_services(relative, allowed)
    # A variable's host is unknowable: silenced only when no host is allowed at all, else refused.
    variable = "SELECT * WHERE { SERVICE SILENT ?e { } }"
    assert "SERVICE" not in silence_refused_services(variable, NONE)
    assert silence_refused_services(variable, allowed) == variable


def test_a_prefix_named_silent_is_not_the_keyword() -> None:
    query = "PREFIX SILENT: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE SILENT:x { ?s ?p ?o } }"
    assert silence_refused_services(query, NONE) == query
    with pytest.raises(UnsafeQuery, match=r"^SERVICE \(federated query\) is not allowed on this server"):
        check_query(query, NONE)


MENTIONS = [
    "SELECT * { ?s ?p ?o }",
    "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
    "select * { sErViCe <http://x/> { ?s ?p ?o } }",
    "SELECT ?o { <http://example.org/service> ?p ?o . ?o ?q ?r }",
    "# servic\ne\nSELECT * {}",
    "SELECT * { ſervice <http://x/> { } }",  # U+017F: the regex reads it as s
    "SELECT * { servİce <http://x/> { } }",  # U+0130
    "SELECT * { servıce <http://x/> { } }",  # U+0131
    "SELECT * { ＳＥＲＶＩＣＥ <http://x/> { } }",  # fullwidth: not the letters
    "# 服务 service\nSELECT * {}",
    "# 服务\nSELECT * {}",
]


@pytest.mark.parametrize("query", MENTIONS)
def test_mentions_service_is_the_case_insensitive_regex(query: str) -> None:
    assert mentions_service(query) == (safety._MENTIONS_SERVICE.search(query) is not None)


class _Refuse:
    """In place of safety._MENTIONS_SERVICE: a search of the regex fails the test."""

    def search(self, text: str) -> None:
        raise AssertionError("the regex searched the text")


def test_an_ascii_text_is_searched_without_the_regex(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "_MENTIONS_SERVICE", _Refuse())
    assert mentions_service("SELECT * { SeRvIcE <http://x/> {} }")
    assert not mentions_service("SELECT ?o { <http://example.org/plan> ?p ?o }\n#bench-1")
    with pytest.raises(UnsafeQuery):
        check_query("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }", frozenset())
    with pytest.raises(AssertionError):
        mentions_service("SELECT * { ſervice <http://x/> {} }")  # not ASCII: the regex decides


def test_lowering_finds_the_letters_the_regex_reads_in_every_other_character() -> None:
    # mentions_service lowers any text without safety._FOLDED_APART: exact only if, for every other
    # code point, the lowered character is a letter of "service" exactly when the regex reads the
    # character as that letter, and lowering keeps one character for one.
    letters = {letter: re.compile(letter, re.IGNORECASE) for letter in "servic"}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if char in safety._FOLDED_APART:
            assert any(r.fullmatch(char) for r in letters.values()) and char.lower() not in letters
            continue
        lowered = char.lower()
        assert len(lowered) == 1, hex(code)
        for letter, regex in letters.items():
            assert (lowered == letter) == (regex.fullmatch(char) is not None), (hex(code), letter)


@given(st.text(alphabet=st.sampled_from("serviceSERVICE \u017f\u0130\u0131\u212a济服务éÉ"), max_size=12))
def test_mentions_service_is_the_regex_on_any_text(query: str) -> None:
    assert mentions_service(query) == (safety._MENTIONS_SERVICE.search(query) is not None)


def test_a_text_in_chinese_is_searched_without_the_regex(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safety, "_MENTIONS_SERVICE", _Refuse())
    assert not mentions_service('SELECT ?t { ?t rdfs:label "济南市" }')
    assert mentions_service("# 服务 SerVice\nSELECT * {}")
    with pytest.raises(AssertionError):
        mentions_service("SELECT * { servıce <http://x/> {} }")  # ı: the regex decides
