"""Versions (mapping.versions, server.web.versions): the archive of the last N builds, their lineage
in the dataset description, and their files under stable versioned URLs.

The graph and SHACL stages are the small stand-ins of tests/test_build.py (a line-per-task toy
document), so several builds stay cheap; tests/test_changes.py builds the real seed twice.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef

from mapping import versions
from mapping.vocab import DCAT, PROV
from server.app import create_app
from server.cli import main
from server.settings import Settings
from tests.test_build import GOOD, SHAPES, VOCAB, Dirs, run_build, snapshot

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def dirs(tmp_path: Path) -> Dirs:
    d = Dirs(tmp_path / "seeds", tmp_path / "dist", tmp_path / "var" / "store", tmp_path / "ontology")
    d.seeds.mkdir()
    d.ontology.mkdir()
    (d.ontology / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    d.write_seed(GOOD)
    (d.seeds / "plan.plan.toml").write_text('slug = "toy"\n', encoding="utf-8")  # as tests/test_build.py
    return d


def archive(d: Dirs) -> Path:
    return d.store.parent / "versions"


def kept(d: Dirs) -> list[str]:
    return [v.build_id for v in versions.read_index(archive(d))]


def on_disk(d: Dirs) -> list[str]:
    return sorted(p.name for p in archive(d).iterdir() if p.is_dir())


def seed(n: int) -> str:
    return f"title: 测试计划\ntask 1: 推进绿色发展{n}\n"


def version(build_id: str) -> URIRef:
    return URIRef(f"{VOCAB.base}id/dataset/version/{build_id}")


def client(d: Dirs) -> TestClient:
    return TestClient(create_app(Settings(base=VOCAB.base, store_dir=d.store, dist_dir=d.dist)))


def test_two_builds_stay_downloadable_under_their_versioned_urls(dirs: Dirs) -> None:
    first = run_build(dirs)
    first_bytes = {p.name: p.read_bytes() for p in dirs.dist.iterdir()}
    dirs.write_seed(seed(2))
    second = run_build(dirs)
    assert first.build_id != second.build_id
    assert kept(dirs) == [first.build_id, second.build_id]
    with client(dirs) as c:
        listing = c.get("/plan/dumps/versions/", headers={"accept": "application/json"}).json()
        assert listing["current"] == second.build_id
        assert [v["build_id"] for v in listing["versions"]] == [second.build_id, first.build_id]
        assert [v["previous"] for v in listing["versions"]] == [first.build_id, None]
        for name in ("plankg.nq.gz", "plankg.ttl", "void.ttl", "manifest.json", "changes.json"):
            r = c.get(f"/plan/dumps/versions/{first.build_id}/{name}")
            assert r.status_code == 200, name
            assert r.content == first_bytes[name]
            assert r.headers["cache-control"] == IMMUTABLE
        r = c.get(f"/plan/dumps/versions/{first.build_id}/plankg.nq.gz")
        sha = hashlib.sha256(first_bytes["plankg.nq.gz"]).hexdigest()
        assert r.headers["etag"] == f'"{sha}"'
        assert f"{sha}  plankg.nq.gz\n" in first_bytes["SHA256SUMS"].decode()
        again = c.get(
            f"/plan/dumps/versions/{first.build_id}/plankg.nq.gz", headers={"if-none-match": f'"{sha}"'}
        )
        assert (again.status_code, again.content) == (304, b"")
        current = c.get(f"/plan/dumps/versions/{second.build_id}/plankg.nq")
        assert current.content == (dirs.dist / "plankg.nq").read_bytes()
        html = c.get("/plan/dumps/versions/", headers={"accept": "text/html"}).text
        assert f"/plan/dumps/versions/{first.build_id}/plankg.nq.gz" in html


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/plan/dumps/versions/0000000000000000/plankg.nq", "no kept version '0000000000000000'"),
        ("/plan/dumps/versions/..%2F..%2Fstore/plankg.nq", "nothing at /plan/dumps/versions/../../store"),
        ("/plan/dumps/versions/%2E%2E/index.json", "no kept version '..'"),
        ("/plan/dumps/versions/{id}/index.json", "has no file 'index.json'"),
        ("/plan/dumps/versions/{id}/..%2Findex.json", "nothing at"),
        ("/plan/dumps/versions/{id}/.hidden", "has no file '.hidden'"),
        ("/plan/dumps/versions/{id}/plankg-build.json", "has no file"),
    ],
)
def test_only_kept_ids_and_listed_files_are_served(dirs: Dirs, path: str, reason: str) -> None:
    built = run_build(dirs)
    with client(dirs) as c:
        r = c.get(path.replace("{id}", built.build_id))
    assert r.status_code == 404
    assert reason in r.json()["detail"]


def test_pruning_keeps_exactly_n_oldest_first(dirs: Dirs) -> None:
    ids = []
    for n in range(4):
        dirs.write_seed(seed(n))
        ids.append(run_build(dirs, keep_versions=2).build_id)
    assert len(set(ids)) == 4
    assert kept(dirs) == ids[-2:]
    assert on_disk(dirs) == sorted(ids[-2:])
    description = Graph().parse(dirs.dist / "void.ttl")
    dataset = URIRef(f"{VOCAB.base}id/dataset")
    assert set(description.objects(dataset, DCAT.hasVersion)) == {version(i) for i in ids[-2:]}


def test_an_identical_rebuild_is_the_same_version_and_adds_nothing(dirs: Dirs) -> None:
    run_build(dirs)
    dirs.write_seed(seed(1))
    second = run_build(dirs)
    before = snapshot(dirs.dist, archive(dirs))
    again = run_build(dirs)
    assert again.build_id == second.build_id
    assert snapshot(dirs.dist, archive(dirs)) == before
    assert len(kept(dirs)) == 2


def test_a_failed_build_leaves_versions_and_change_set_untouched(dirs: Dirs) -> None:
    run_build(dirs)
    dirs.write_seed(seed(1))
    run_build(dirs)
    before = snapshot(dirs.dist, archive(dirs))
    dirs.write_seed("title: 测试计划\nnot a task line\n")
    with pytest.raises(Exception, match="expected `task N"):
        run_build(dirs)
    assert snapshot(dirs.dist, archive(dirs)) == before
    assert not [p for p in archive(dirs).iterdir() if p.name.startswith(".")]


def test_the_description_chains_each_version_to_the_previous(dirs: Dirs) -> None:
    ids = []
    for n in range(3):
        dirs.write_seed(seed(n))
        ids.append(run_build(dirs).build_id)
    g = Graph().parse(dirs.dist / "void.ttl")
    dataset = URIRef(f"{VOCAB.base}id/dataset")
    assert g.value(dataset, DCAT.version) == Literal(ids[2])
    assert g.value(dataset, DCAT.hasCurrentVersion) == version(ids[2])
    assert g.value(dataset, DCAT.previousVersion) == version(ids[1])
    assert g.value(dataset, PROV.wasRevisionOf) == version(ids[1])
    assert g.value(version(ids[2]), DCAT.previousVersion) == version(ids[1])
    assert g.value(version(ids[1]), DCAT.previousVersion) == version(ids[0])
    assert g.value(version(ids[0]), DCAT.previousVersion) is None
    for i in ids:
        assert g.value(version(i), DCAT.isVersionOf) == dataset
        assert g.value(version(i), DCAT.version) == Literal(i)
    # the versioned dump of the first build, with the hash of the bytes served for it
    dump = URIRef(f"{VOCAB.base}id/dataset/version/{ids[0]}/dump/plankg.nq.gz")
    assert g.value(dump, DCAT.downloadURL) == URIRef(f"{VOCAB.base}dumps/versions/{ids[0]}/plankg.nq.gz")
    data = (archive(dirs) / ids[0] / "plankg.nq.gz").read_bytes()
    checksum = URIRef(f"{dump}/sha256")
    assert (
        str(g.value(checksum, URIRef("http://spdx.org/rdf/terms#checksumValue")))
        == hashlib.sha256(data).hexdigest()
    )
    # the seed each version was read from, with its hash
    seed_node = URIRef(f"{VOCAB.base}id/dataset/version/{ids[2]}/seed/plan.txt")
    assert g.value(version(ids[2]), PROV.wasDerivedFrom) == seed_node
    value = g.value(URIRef(f"{seed_node}/sha256"), URIRef("http://spdx.org/rdf/terms#checksumValue"))
    assert str(value) == hashlib.sha256(seed(2).encode()).hexdigest()
    manifest = json.loads((dirs.dist / "manifest.json").read_text())
    assert manifest["previous_version"] == ids[1]


@pytest.mark.parametrize(("value", "message"), [("0", "at least 1"), ("many", "not a whole number")])
def test_keep_versions_setting_is_checked(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(versions.VersionsError, match=message):
        versions.parse_keep(value)
    assert main(["build", "--quiet"], {"PLANKG_KEEP_VERSIONS": value}) == 2
    assert message in capsys.readouterr().err
    assert versions.parse_keep("3") == 3


def test_a_kept_description_is_read_as_rdflib_s_turtle_parser_reads_it(tmp_path: Path) -> None:
    """versions._archived reads a kept version's void.ttl with Oxigraph's parser (rdflib's took ~0.1 s
    a plan for each kept version in every rebuild): the same rdflib triples as rdflib's own parser,
    for every kind of term a description holds (written as the build writes it: pyoxigraph's Turtle
    of sorted N-Triples, numbers bare), and only the wanted subjects'."""
    ex = "http://example.org/"
    triples = (
        f'<{ex}d> <{ex}title> "计划"@zh .\n'
        f'<{ex}d> <{ex}title> "plain" .\n'
        f'<{ex}d> <{ex}n> "42"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
        f'<{ex}d> <{ex}n> "1292.20"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
        f'<{ex}d> <{ex}b> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'
        f'<{ex}d> <{ex}size> "7"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger> .\n'
        f'<{ex}d> <{ex}sum> "0aff"^^<http://www.w3.org/2001/XMLSchema#hexBinary> .\n'
        f'<{ex}d> <{ex}date> "2026-12-03"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
        f"<{ex}d> <{ex}link> <{ex}e> .\n"
        f'<{ex}e> <{ex}title> "line\\nbreak \\"quoted\\""@en .\n'
    )
    parsed = ox.parse(triples.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    turtle = ox.serialize(parsed, format=ox.RdfFormat.TURTLE, prefixes={"ex": ex}) or b""
    (tmp_path / "void.ttl").write_bytes(turtle)
    assert b"ex:n 42 , 1292.20 ;" in turtle  # bare numbers are read too
    expected = Graph().parse(tmp_path / "void.ttl", format="turtle")
    own, _, _ = versions._archived(tmp_path)
    assert set(own) == set(expected) and len(own) == 10
    only_e, _, _ = versions._archived(tmp_path, lambda s: s == URIRef(ex + "e"))
    assert set(only_e) == {t for t in expected if t[0] == URIRef(ex + "e")}


def test_every_kept_version_names_every_seed_it_was_built_from(dirs: Dirs) -> None:
    """A corpus's older version keeps the hashes of all its plans' seeds, not only its first plan's."""
    (dirs.seeds / "second.plan.toml").write_text('slug = "toy-two"\n', encoding="utf-8")
    texts = {"plan.txt": seed(0), "second.txt": "title: 第二个计划\ntask 1: 建设低碳城市\n"}
    for name, text in texts.items():
        dirs.write_seed(text, name)
    first = run_build(dirs).build_id
    old = dict(texts)
    texts["second.txt"] = texts["second.txt"].replace("低碳", "零碳")
    dirs.write_seed(texts["second.txt"], "second.txt")
    second = run_build(dirs).build_id
    g = Graph().parse(dirs.dist / "void.ttl")
    checksum = URIRef("http://spdx.org/rdf/terms#checksumValue")
    for build_id, sources in ((first, old), (second, texts)):
        named = {
            str(g.value(node, URIRef("http://purl.org/dc/terms/title"))): str(
                g.value(URIRef(f"{node}/sha256"), checksum)
            )
            for node in g.objects(version(build_id), PROV.wasDerivedFrom)
            if "/seed/" in str(node)
        }
        assert named == {n: hashlib.sha256(t.encode()).hexdigest() for n, t in sources.items()}, build_id
