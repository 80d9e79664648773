"""server.cli: flags and environment, exit statuses, errors as `file:line:column: message`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from mapping.errors import ValidationFailed
from mapping.vocab import DEFAULT_BASE
from server import cli

REPO = Path(__file__).resolve().parent.parent
MALFORMED = "济南市绿色低碳行动计划(2023—2025年)\n前言。\n一、第一部分\n三、第三部分\n"  # 二、 is missing
# `path:line:column: message`, the line and column inside MALFORMED (which message is the parser's business)
ERROR_LINE = r"(?P<path>.+):(?P<line>[1-4]):(?P<column>[1-9]\d*): (?P<message>\S.*)"


@pytest.fixture
def malformed(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "plan.txt").write_text(MALFORMED, encoding="utf-8")
    return seeds


def build_args(tmp_path: Path, seeds: Path) -> list[str]:
    return [
        "build",
        "--seeds",
        str(seeds),
        "--dist",
        str(tmp_path / "dist"),
        "--store",
        str(tmp_path / "store"),
    ]


def test_a_malformed_seed_gives_file_line_column_and_status_1(
    tmp_path: Path, malformed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(build_args(tmp_path, malformed), environ={}) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    match = re.fullmatch(ERROR_LINE, err.splitlines()[-1])
    assert match is not None, err
    assert match["path"] == str(malformed / "plan.txt")
    assert int(match["column"]) <= len(MALFORMED.splitlines()[int(match["line"]) - 1]) + 1
    assert not (tmp_path / "dist").exists()


def test_a_malformed_seed_in_a_real_process(tmp_path: Path, malformed: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "server.cli", *build_args(tmp_path, malformed), "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert run.returncode == 1
    assert re.fullmatch(ERROR_LINE + "\n", run.stderr), run.stderr
    assert run.stderr.startswith(f"{malformed / 'plan.txt'}:")


def test_violations_print_the_report_and_give_status_1(
    tmp_path: Path, malformed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def violating_build(*args: object, **kwargs: object) -> None:
        raise ValidationFailed("Violation: <http://x/id/pillar/3>: counts do not add up [shape pk:Sum]", 1)

    monkeypatch.setattr(cli, "build", violating_build)
    assert cli.main(build_args(tmp_path, malformed), environ={}) == 1
    err = capsys.readouterr().err
    assert "SHACL validation failed with 1 violation(s)" in err
    assert "<http://x/id/pillar/3>: counts do not add up [shape pk:Sum]" in err
    assert "Traceback" not in err


def test_a_missing_seeds_directory_is_an_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(build_args(tmp_path, tmp_path / "nowhere"), environ={}) == 1
    err = capsys.readouterr().err
    assert err.endswith(f"\nplankg: {tmp_path / 'nowhere'}: no such seeds directory\n")
    assert "Traceback" not in err


def test_a_file_system_error_is_reported_without_traceback(
    tmp_path: Path, malformed: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unwritable(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "dist"))

    monkeypatch.setattr(cli, "build", unwritable)
    assert cli.main(build_args(tmp_path, malformed), environ={}) == 1
    assert capsys.readouterr().err == f"plankg build: [Errno 13] Permission denied: '{tmp_path / 'dist'}'\n"


def test_bad_usage_gives_status_2(
    tmp_path: Path, malformed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([], environ={}) == 2
    assert cli.main(["frobnicate"], environ={}) == 2
    capsys.readouterr()
    assert cli.main([*build_args(tmp_path, malformed), "--base", "http://x.example"], environ={}) == 2
    assert "the base IRI must end with '/'" in capsys.readouterr().err
    assert cli.main(["--help"], environ={}) == 0


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.keywords: list[dict[str, Any]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(args)
        self.keywords.append(kwargs)
        raise ValidationFailed("recorded", 1)  # stop here; the arguments are what is tested


def test_build_flags_beat_environment_which_beats_defaults(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(cli, "build", recorder)
    cli.main(["build"], environ={})
    seeds, dist, store, vocab, _ = recorder.calls[-1]
    assert (seeds, dist, store, vocab.base) == (
        [Path("seeds")],
        Path("dist"),
        Path("var/store"),
        DEFAULT_BASE,
    )
    env = {"PLANKG_SEEDS": "s", "PLANKG_DIST": "d", "PLANKG_STORE": "st", "PLANKG_BASE": "http://e.example/"}
    cli.main(["build"], environ=env)
    seeds, dist, store, vocab, _ = recorder.calls[-1]
    assert (seeds, dist, store, vocab.base) == ([Path("s")], Path("d"), Path("st"), "http://e.example/")
    cli.main(["build", "--dist", "D", "--base", "http://f.example/"], environ=env)
    seeds, dist, store, vocab, _ = recorder.calls[-1]
    assert (seeds, dist, store, vocab.base) == ([Path("s")], Path("D"), Path("st"), "http://f.example/")
    assert [k["linksets_dir"] for k in recorder.keywords] == [Path("linksets")] * 3
    cli.main(["build"], environ={"PLANKG_LINKSETS": "l"})
    cli.main(["build", "--linksets", "L"], environ={"PLANKG_LINKSETS": "l"})
    assert [k["linksets_dir"] for k in recorder.keywords[3:]] == [Path("l"), Path("L")]
    # --seeds is repeatable, and PLANKG_SEEDS takes directories separated by ':'
    cli.main(["build", "--seeds", "a", "--seeds", "b"], environ=env)
    assert recorder.calls[-1][0] == [Path("a"), Path("b")]
    cli.main(["build"], environ={**env, "PLANKG_SEEDS": "x:y"})
    assert recorder.calls[-1][0] == [Path("x"), Path("y")]


def test_build_jobs_from_flag_environment_or_the_usable_cores(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(cli, "build", recorder)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    cli.main(["build"], environ={})
    cli.main(["build"], environ={"PLANKG_BUILD_JOBS": "5"})
    cli.main(["build", "--jobs", "1"], environ={"PLANKG_BUILD_JOBS": "5"})
    assert [k["jobs"] for k in recorder.keywords] == [3, 5, 1]
    capsys.readouterr()
    for bad in ("0", "two", "-1"):
        assert cli.main(["build", "--jobs", bad], environ={}) == 2
        assert (
            f"--jobs / PLANKG_BUILD_JOBS must be a positive whole number, not '{bad}'"
            in capsys.readouterr().err
        )
    assert len(recorder.calls) == 3


def test_a_bad_linkset_gives_file_line_column_and_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    linksets = tmp_path / "linksets"
    linksets.mkdir()
    (linksets / "mine.csv").write_text(
        "entity,target,relation,justification\n济南市,Q170247,skos:exactMatch,\n", encoding="utf-8"
    )
    (linksets / "mine.toml").write_text(
        'title = "t"\ncreator = "c"\ncreated = 2026-12-01\nobjects_target = "http://www.wikidata.org/"\n',
        encoding="utf-8",
    )
    args = [*build_args(tmp_path, REPO / "seeds"), "--linksets", str(linksets)]
    assert cli.main(args, environ={}) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        f"{linksets / 'mine.csv'}:2:29: no justification: say where the link was verified"
    )
    assert not (tmp_path / "dist").exists()


@pytest.mark.slow
# pyshacl compares rdflib literals in a way rdflib 7.6 deprecates; not ours to fix here.
@pytest.mark.filterwarnings(
    "ignore:NotImplemented should not be used in a boolean context:DeprecationWarning"
)
def test_build_of_the_real_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(build_args(tmp_path, REPO / "seeds"), environ={}) == 0
    err = capsys.readouterr().err
    assert "✓ parse, map and validate 1 plan(s)" in err
    assert "✓ swap in" in err
    manifest = json.loads((tmp_path / "dist" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["validation"]["violations"] == 0
    assert f"built 1 plan(s), 1 read anew: {manifest['triples']} triples" in err
    store = ox.Store.read_only(str(tmp_path / "store"))
    solutions = store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    assert isinstance(solutions, ox.QuerySolutions)
    count = next(iter(solutions))[0]
    assert isinstance(count, ox.Literal)
    assert int(count.value) == manifest["triples"]
    lines = (tmp_path / "dist" / "plankg.nt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == manifest["triples"]
    assert not any(line.startswith("_:") or " _:" in line for line in lines)


class FakeApp(types.ModuleType):
    """Stands in for server.app: records the settings ``serve`` is called with."""

    def __init__(self) -> None:
        super().__init__("server.app")
        self.served: list[Any] = []

    def serve(self, settings: Any) -> None:
        self.served.append(settings)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> FakeApp:
    fake = FakeApp()
    monkeypatch.setitem(sys.modules, "server.app", fake)
    return fake


def test_serve_hands_flags_and_environment_to_the_server_settings(app: FakeApp) -> None:
    env = {"PLANKG_STORE": "st", "PLANKG_PORT": "9000", "PLANKG_MAX_RESULT_ROWS": "10"}
    argv = ["serve", "--host", "0.0.0.0", "--data", "a.ttl", "--data", "b.nq", "--query-timeout", "5"]
    assert cli.main(argv, environ=env) == 0
    (settings,) = app.served
    assert (settings.host, settings.port, settings.store_dir) == ("0.0.0.0", 9000, Path("st"))
    assert settings.data_files == (Path("a.ttl"), Path("b.nq"))
    assert settings.query_timeout == 5.0
    assert settings.max_result_rows == 10
    assert settings.without_plan is False
    assert cli.main(["serve", "--port", "8001", "--without-plan", "--data", "x.nt"], environ=env) == 0
    assert (app.served[-1].port, app.served[-1].without_plan) == (8001, True)


def test_serve_refuses_unusable_settings_with_status_2(
    app: FakeApp, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve", "--port", "70000"], environ={}) == 2
    assert "port out of range" in capsys.readouterr().err
    assert cli.main(["serve", "--without-plan"], environ={}) == 2
    assert cli.main(["serve"], environ={"PLANKG_QUERY_TIMEOUT": "soon"}) == 2
    assert "PLANKG_QUERY_TIMEOUT" in capsys.readouterr().err
    assert app.served == []


@pytest.mark.parametrize(("reason", "builds"), [("no built store in var/store", 1), (None, 0)])
def test_build_if_stale_builds_only_when_stale(
    app: FakeApp, monkeypatch: pytest.MonkeyPatch, reason: str | None, builds: int
) -> None:
    built: list[tuple[Any, ...]] = []
    monkeypatch.setattr(cli, "staleness", lambda *args, **kwargs: reason)
    monkeypatch.setattr(cli, "build", lambda *args, **kwargs: built.append(args))
    env = {"PLANKG_DIST": "d", "PLANKG_STORE": "s", "PLANKG_BASE": "http://e.example/"}
    assert cli.main(["serve", "--build-if-stale", "--seeds", "sd"], environ=env) == 0
    assert len(built) == builds
    if builds:
        seeds, dist, store, vocab, _ = built[0]
        assert (seeds, dist, store, vocab.base) == ([Path("sd")], Path("d"), Path("s"), "http://e.example/")
    assert len(app.served) == 1
    assert cli.main(["serve", "--build-if-stale", "--without-plan", "--data", "x.nt"], environ=env) == 0
    assert len(built) == builds, "nothing to build when the plan is not served"


def test_serve_without_build_if_stale_never_builds(app: FakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "staleness", lambda *args, **kwargs: pytest.fail("staleness checked"))
    assert cli.main(["serve"], environ={}) == 0
    assert len(app.served) == 1
