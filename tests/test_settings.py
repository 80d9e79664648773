"""server.settings: defaults, environment, overrides, refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from server.settings import Settings, SettingsError


def test_defaults_are_safe() -> None:
    s = Settings()
    assert (s.host, s.port, s.query_timeout) == ("127.0.0.1", 8000, 30.0)
    assert s.allowed_service_hosts == frozenset()
    assert s.store_dir == Path("var/store")


def test_environment_then_overrides() -> None:
    env = {
        "PLANKG_PORT": "9000",
        "PLANKG_QUERY_TIMEOUT": "5",
        "PLANKG_DATA": os.pathsep.join(["a.ttl", "b.nq"]),
        "PLANKG_WITHOUT_PLAN": "yes",
        "PLANKG_ALLOWED_SERVICE_HOSTS": "Query.Wikidata.org, dbpedia.org",
        "PLANKG_MAX_RESULT_ROWS": "10",
    }
    s = Settings.from_env(env, port=9100, host=None)
    assert s.port == 9100  # the command line wins
    assert s.host == "127.0.0.1"  # None means "not given"
    assert s.query_timeout == 5.0
    assert s.data_files == (Path("a.ttl"), Path("b.nq"))
    assert s.without_plan is True
    assert s.allowed_service_hosts == frozenset({"query.wikidata.org", "dbpedia.org"})
    assert s.max_result_rows == 10


def test_nothing_is_read_without_an_environment_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANKG_PORT", "1234")
    assert Settings.from_env().port == 8000


@pytest.mark.parametrize(
    ("env", "overrides", "message"),
    [
        ({"PLANKG_PORT": "eighty"}, {}, "PLANKG_PORT"),
        ({"PLANKG_WITHOUT_PLAN": "perhaps"}, {}, "yes/no"),
        ({}, {"query_timeout": 0}, "positive"),
        ({}, {"base": "http://example.org"}, "end with '/'"),
        ({}, {"without_plan": True}, "data file"),
        ({}, {"colour": "blue"}, "unknown setting"),
        ({}, {"max_body_bytes": 0}, "max_body_bytes"),
    ],
)
def test_bad_values_are_refused_with_a_reason(
    env: dict[str, str], overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env, **overrides)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().port = 1  # type: ignore[misc]
