"""``/dumps/``: the build's files with their media types, validators, conditional answers and gzip."""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import FileResponse

from mapping.changes import CHANGE_FILES
from mapping.tables import TABLES
from server.app import create_app
from server.settings import Settings
from server.web import dumps
from tests.conftest import BuiltPlan, TestClient
from tests.seed import SLUG

pytestmark = pytest.mark.slow

IDENTITY = {"Accept-Encoding": "identity"}
DUMPS = ("plankg.ttl", "plankg.nt", "plankg.nq", "plankg.jsonld")
MEDIA_TYPES = {
    "plankg.ttl": "text/turtle; charset=utf-8",
    "plankg.nt": "application/n-triples; charset=utf-8",
    "plankg.nq": "application/n-quads; charset=utf-8",
    "plankg.jsonld": "application/ld+json; charset=utf-8",
    "void.ttl": "text/turtle; charset=utf-8",
    "SHA256SUMS": "text/plain; charset=utf-8",
    "manifest.json": "application/json",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def on_disk(built_plan: BuiltPlan, name: str) -> bytes:
    return (built_plan.dist / name).read_bytes()


def test_the_index_lists_every_file_with_size_and_hash(
    plan_client: TestClient, built_plan: BuiltPlan
) -> None:
    response = plan_client.get("/dumps/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    index = response.json()
    manifest = json.loads(on_disk(built_plan, "manifest.json"))
    assert index["build_id"] == manifest["build_id"] == built_plan.result.build_id
    assert index["source"]["sha256"] == sha256(built_plan.source.encode("utf-8"))
    files = {f["name"]: f for f in index["files"]}
    plan = {f"plan-{SLUG}.{e}" for e in ("ttl", "nt", "nq", "jsonld")}  # the plan's own dumps
    every_format = {name + gz for name in (*DUMPS, *plan) for gz in ("", ".gz")}
    tabular = {t.file_name for t in TABLES} | {"csv-metadata.json"}
    assert set(files) == every_format | tabular | {"void.ttl", "SHA256SUMS", "manifest.json", *CHANGE_FILES}
    for name in every_format | tabular | {"void.ttl"}:
        data = on_disk(built_plan, name)
        assert (files[name]["bytes"], files[name]["sha256"]) == (len(data), sha256(data)), name
        assert files[name]["url"] == f"/dumps/{name}"
        assert files[name]["gzip"] == name.endswith(".gz")
    assert files["plankg.ttl.gz"]["media_type"] == "application/gzip"
    assert files["plankg-targets.csv"]["media_type"] == "text/csv"
    assert files["csv-metadata.json"]["media_type"] == "application/csvm+json"
    assert files["plankg.nq"]["media_type"] == "application/n-quads"


def test_the_index_as_html_to_a_browser(plan_client: TestClient) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = plan_client.get("/dumps/", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for name in DUMPS:
        assert f'href="/dumps/{name}.gz"' in response.text
    assert "sha256sum -c SHA256SUMS" in response.text


def test_the_html_index_compiles_no_templates_per_request(
    plan_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The templates are loaded once with the routes, not read and compiled on the event loop per page."""
    made: list[object] = []
    monkeypatch.setattr(dumps, "templates", lambda: made.append(1))
    for _ in range(2):
        response = plan_client.get("/dumps/", headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert "sha256sum -c SHA256SUMS" in response.text
    assert made == []


@pytest.mark.parametrize(
    "name", [*DUMPS, *(n + ".gz" for n in DUMPS), "void.ttl", "SHA256SUMS", "manifest.json"]
)
def test_each_file_is_served_as_built(plan_client: TestClient, built_plan: BuiltPlan, name: str) -> None:
    response = plan_client.get(f"/dumps/{name}", headers=IDENTITY)
    assert response.status_code == 200
    data = on_disk(built_plan, name)
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert "content-encoding" not in response.headers
    expected_type = "application/gzip" if name.endswith(".gz") else MEDIA_TYPES[name]
    assert response.headers["content-type"] == expected_type
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
    mtime = (built_plan.dist / name).stat().st_mtime
    assert response.headers["last-modified"] == email.utils.formatdate(mtime, usegmt=True)
    if name not in ("SHA256SUMS", "manifest.json"):
        assert response.headers["etag"] == f'"{sha256(data)}"'
    if name.endswith(".gz"):
        assert gzip.decompress(response.content) == on_disk(built_plan, name[: -len(".gz")])


def test_sha256sums_checks_every_dump(plan_client: TestClient, built_plan: BuiltPlan) -> None:
    sums = plan_client.get("/dumps/SHA256SUMS", headers=IDENTITY).text
    listed = dict(reversed(line.split("  ", 1)) for line in sums.splitlines())
    assert set(listed) >= {n + gz for n in DUMPS for gz in ("", ".gz")}
    for name, digest in listed.items():
        assert sha256(plan_client.get(f"/dumps/{name}", headers=IDENTITY).content) == digest, name


def test_conditional_requests_answer_304(plan_client: TestClient) -> None:
    first = plan_client.get("/dumps/plankg.nt", headers=IDENTITY)
    etag, modified = first.headers["etag"], first.headers["last-modified"]

    def status(**headers: str) -> int:
        response = plan_client.get("/dumps/plankg.nt", headers={**IDENTITY, **headers})
        if response.status_code == 304:
            assert response.content == b""
            assert response.headers["etag"] == etag
            assert response.headers["last-modified"] == modified
        return int(response.status_code)

    assert status(**{"If-None-Match": etag}) == 304
    assert status(**{"If-None-Match": f"W/{etag}"}) == 304
    assert status(**{"If-None-Match": f'"other", {etag}'}) == 304
    assert status(**{"If-None-Match": "*"}) == 304
    assert status(**{"If-None-Match": '"other"'}) == 200
    assert status(**{"If-Modified-Since": modified}) == 304
    assert status(**{"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}) == 200
    assert status(**{"If-Modified-Since": "not a date"}) == 200
    # If-None-Match decides when both are given (RFC 9110 §13.2.2).
    assert status(**{"If-None-Match": '"other"', "If-Modified-Since": modified}) == 200


def test_a_plain_dump_goes_gzipped_to_a_client_that_accepts_it(
    plan_client: TestClient, built_plan: BuiltPlan
) -> None:
    response = plan_client.get("/dumps/plankg.ttl", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    zipped = on_disk(built_plan, "plankg.ttl.gz")
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-length"] == str(len(zipped))
    assert response.headers["etag"] == f'"{sha256(zipped)}"'
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    assert "Accept-Encoding" in response.headers["vary"]
    assert response.content == on_disk(built_plan, "plankg.ttl")  # decoded by the client
    refused = plan_client.get("/dumps/plankg.ttl", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
    assert refused.content == on_disk(built_plan, "plankg.ttl")
    # The gzipped file itself is the archive, not re-encoded.
    archive = plan_client.get("/dumps/plankg.ttl.gz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in archive.headers
    assert archive.content == zipped


def test_head_gives_the_headers_without_the_body(plan_client: TestClient, built_plan: BuiltPlan) -> None:
    response = plan_client.head("/dumps/plankg.jsonld", headers=IDENTITY)
    assert response.status_code == 200
    assert response.content == b""
    data = on_disk(built_plan, "plankg.jsonld")
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["etag"] == f'"{sha256(data)}"'


@pytest.mark.parametrize("path", ["/dumps/nothing.ttl", "/dumps/..%2Fpyproject.toml", "/dumps/.hidden"])
def test_only_the_builds_files_are_served(plan_client: TestClient, path: str) -> None:
    response = plan_client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_without_a_dump_directory_the_index_is_404(built_plan: BuiltPlan, tmp_path: Path) -> None:
    settings = Settings(store_dir=built_plan.settings.store_dir, dist_dir=tmp_path / "none", query_workers=1)
    with TestClient(create_app(settings)) as client:
        for path in ("/dumps/", "/dumps/plankg.ttl"):
            response = client.get(path)
            assert response.status_code == 404
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "the server has no built dump directory" in response.json()["detail"], path


def test_a_missing_dump_file_is_404_naming_it(plan_client: TestClient) -> None:
    response = plan_client.get("/dumps/nothing.ttl")
    assert response.status_code == 404
    assert response.json()["detail"] == "no dump file 'nothing.ttl'"


def test_the_manifest_is_read_again_only_when_it_changes(
    built_plan: BuiltPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(built_plan.dist, dist)
    reads: list[Path] = []
    real_read = dumps.read_manifest

    def counting_read(dist_dir: Path) -> dumps.Manifest | None:
        reads.append(dist_dir)
        return real_read(dist_dir)

    monkeypatch.setattr(dumps, "read_manifest", counting_read)
    settings = Settings(store_dir=built_plan.settings.store_dir, dist_dir=dist, query_workers=1)
    with TestClient(create_app(settings)) as client:
        for path in ("/dumps/", "/dumps/plankg.ttl", "/dumps/", "/.well-known/void"):
            assert client.get(path, headers=IDENTITY).status_code == 200
        assert reads == [dist]
        manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
        manifest["build_id"] = "rebuilt"
        (dist / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        assert client.get("/dumps/").json()["build_id"] == "rebuilt"
        assert client.get("/dumps/").json()["build_id"] == "rebuilt"
        assert reads == [dist, dist]
        (dist / "manifest.json").unlink()
        assert client.get("/dumps/").status_code == 404


@pytest.mark.parametrize("encoding", [IDENTITY, {"Accept-Encoding": "gzip"}], ids=["identity", "gzip"])
def test_head_reads_no_file_and_gives_the_headers_of_the_get(
    plan_client: TestClient, built_plan: BuiltPlan, monkeypatch: pytest.MonkeyPatch, encoding: dict[str, str]
) -> None:
    opened: list[str] = []
    open_file = FileResponse._open_file

    def counting(self: FileResponse) -> Any:
        opened.append(Path(self.path).name)
        return open_file(self)

    monkeypatch.setattr(FileResponse, "_open_file", counting)
    index = plan_client.get("/dumps/", headers={"Accept": "application/json"}).json()
    names = [f["name"] for f in index["files"]]
    large = {n for n in names if (built_plan.dist / n).stat().st_size >= FileResponse.chunk_size}
    assert {"plankg.nt", "plankg.ttl", "plankg.jsonld"} <= large and len(large) < len(names)
    for name in names:
        opened.clear()
        head = plan_client.head(f"/dumps/{name}", headers=encoding)
        assert head.status_code == 200 and head.content == b""
        if name in large:  # no byte of it read for a HEAD (a small file is read as for the GET)
            assert opened == [], name
        get = plan_client.get(f"/dumps/{name}", headers=encoding)
        assert {k: v for k, v in head.headers.items() if k != "date"} == {
            k: v for k, v in get.headers.items() if k != "date"
        }, name
