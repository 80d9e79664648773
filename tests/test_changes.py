"""Change sets (mapping.changes, /changes): two builds of the seed, the second with one number edited.

The seed is copied into a temporary directory and 经济外向度提高到20%左右 becomes 25% (same length, so
no span moves): the change set must hold exactly the triples that carry the figure, per graph, and the
summary must name task 16 and its target 16-2 as changed and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import XSD, Graph

from mapping.build import BuildResult, build
from mapping.changes import ADDED_FILE, CHANGES_FILE, FIRST_BUILD_NOTE, REMOVED_FILE, write_change_set
from mapping.vocab import Vocab
from server.app import create_app
from server.settings import Settings
from tests.seed import SLUG
from tests.test_dcatap import results

REPO = Path(__file__).resolve().parent.parent
BEFORE, AFTER = "度提高到20%左右", "度提高到25%左右"
ID = Vocab().base + "id/"
PART = f"{ID}plan/{SLUG}/"  # the seed plan's parts
PLAN_GRAPH = f"{ID}graph/plan/{SLUG}"


@dataclass
class Two:
    root: Path
    first: BuildResult
    first_files: dict[str, bytes]
    second: BuildResult
    old_seed: bytes
    new_seed: bytes

    @property
    def settings(self) -> Settings:
        return Settings(store_dir=self.root / "var" / "store", dist_dir=self.root / "dist")


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Two:
    root = tmp_path_factory.mktemp("changes")
    seeds = root / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    path = next(seeds.glob("*.txt"))
    old = path.read_bytes()
    assert old.decode("utf-8").count(BEFORE) == 1
    new = old.decode("utf-8").replace(BEFORE, AFTER).encode("utf-8")

    def run() -> BuildResult:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", "NotImplemented should not be used in a boolean context", DeprecationWarning
            )
            return build(seeds, root / "dist", root / "var" / "store")

    first = run()
    first_files = {p.name: p.read_bytes() for p in (root / "dist").iterdir()}
    path.write_bytes(new)
    second = run()
    return Two(root, first, first_files, second, old, new)


def test_the_first_build_has_an_empty_change_set_from_nothing(two: Two) -> None:
    document = json.loads(two.first_files[CHANGES_FILE])
    assert document["first"] is True
    assert document["previous"] is None
    assert document["note"] == FIRST_BUILD_NOTE
    assert (document["added"], document["removed"], document["graphs"]) == (0, 0, {})
    assert two.first_files[ADDED_FILE] == two.first_files[REMOVED_FILE] == b""


def expected_removed() -> list[str]:
    """The quads that carry the old figure (each also in the added set with 25 for 20)."""
    return [
        f"<{PART}span/1894-2623/quote> <http://www.w3.org/ns/oa#exact>",
        f"<{PART}span/2531-2623/quote> <http://www.w3.org/ns/oa#exact>",
        f"<{PART}span/2591-2606/quote> <http://www.w3.org/ns/oa#suffix>",
        f"<{PART}span/2603-2606/quote> <http://www.w3.org/ns/oa#suffix>",
        f"<{PART}span/2607-2622/quote> <http://www.w3.org/ns/oa#exact>",
        f"<{PART}span/2617-2620/quote> <http://www.w3.org/ns/oa#exact>",
        f"<{PART}span/2625-3515/quote> <http://www.w3.org/ns/oa#prefix>",
        f"<{PART}span/2627-2660/quote> <http://www.w3.org/ns/oa#prefix>",
        f"<{PART}target/16-2> <{Vocab().base}def/value>",
        f"<{PART}target/16-2> <{Vocab().base}def/valueAsWritten>",
        f"<{PART}target/16-2> <http://www.w3.org/2000/01/rdf-schema#label>",
        f"<{PART}target/16-2> <http://www.w3.org/2000/01/rdf-schema#label>",
        f"<{PART}task/16> <{Vocab().base}def/text>",
    ]


def test_the_edited_figure_gives_exactly_its_triples(two: Two) -> None:
    dist = two.root / "dist"
    # The default graph's quads (each is also in the plan's named graph, which changed alike).
    in_plan_graph = f"<{PLAN_GRAPH}> ."
    added = [
        q
        for q in (dist / ADDED_FILE).read_text(encoding="utf-8").splitlines()
        if not q.endswith(in_plan_graph)
    ]
    removed = [
        q
        for q in (dist / REMOVED_FILE).read_text(encoding="utf-8").splitlines()
        if not q.endswith(in_plan_graph)
    ]
    source = f"<{PART}source> <{Vocab().base}def/sha256> "
    assert removed[0] == source + f'"{hashlib.sha256(two.old_seed).hexdigest()}" .'
    assert added[0] == source + f'"{hashlib.sha256(two.new_seed).hexdigest()}" .'
    # every other removed quad is an added one with the figure changed, and nothing else changed
    assert [" ".join(q.split(" ")[:2]) for q in removed[1:]] == expected_removed()
    swapped = [
        q.replace(BEFORE, AFTER)
        .replace("外向\\n\\n度提高到20%", "外向\\n\\n度提高到25%")
        .replace('"20%"', '"25%"')
        .replace("≈ 20%", "≈ 25%")
        .replace("提高到20%左右", "提高到25%左右")
        .replace('"20"^^', '"25"^^')
        for q in removed[1:]
    ]
    assert swapped == added[1:]
    assert all("20%" in q or '"20"^^' in q for q in removed[1:])


def test_the_summary_names_the_changed_task_and_target(two: Two) -> None:
    document = json.loads((two.root / "dist" / CHANGES_FILE).read_text(encoding="utf-8"))
    assert (document["previous"], document["current"], document["first"]) == (
        two.first.build_id,
        two.second.build_id,
        False,
    )
    assert (document["added"], document["removed"]) == (28, 28)  # 14 in the default graph, 14 in the plan's
    changed = {
        kind: by for kind, by in document["entities"].items() if by["added"] or by["removed"] or by["changed"]
    }
    assert changed == {
        "divisions": {"added": [], "removed": [], "changed": [f"{PART}task/16"]},
        "targets": {"added": [], "removed": [], "changed": [f"{PART}target/16-2"]},
    }
    assert document["counts"]["targets"] == {"added": 0, "removed": 0, "changed": 1}
    # In words: each entity by its name as it is now, and which of its properties changed.
    assert document["labels"] == {
        f"{PART}task/16": "(十六)促进外贸提质增效",
        f"{PART}target/16-2": "经济外向度提高到25%左右",
    }
    pk, rdfs_label = Vocab().base + "def/", "http://www.w3.org/2000/01/rdf-schema#label"
    assert document["changed_properties"] == {
        f"{PART}task/16": [pk + "text"],
        f"{PART}target/16-2": [pk + "value", pk + "valueAsWritten", rdfs_label],
    }
    # per named graph: the default graph and the plan's graph changed alike
    assert document["graphs"] == {
        "default": {"added": 14, "removed": 14, "entities": changed},
        PLAN_GRAPH: {"added": 14, "removed": 14, "entities": changed},
    }


def test_the_change_set_is_listed_with_the_build(two: Two) -> None:
    dist = two.root / "dist"
    manifest = json.loads((dist / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["name"]: f["sha256"] for f in manifest["files"]}
    sums = (dist / "SHA256SUMS").read_text(encoding="utf-8")
    for name in (CHANGES_FILE, ADDED_FILE, REMOVED_FILE):
        digest = hashlib.sha256((dist / name).read_bytes()).hexdigest()
        assert listed[name] == digest
        assert f"{digest}  {name}\n" in sums


def test_the_description_of_the_second_build_conforms_to_dcat_ap(two: Two) -> None:
    description = Graph().parse(two.root / "dist" / "void.ttl")
    assert results(description, "shapes.ttl", "range.ttl") == set()


@pytest.fixture(scope="module")
def client(two: Two) -> Iterator[TestClient]:
    with TestClient(create_app(two.settings)) as c:
        yield c


def test_changes_are_served_as_json_and_html(two: Two, client: TestClient) -> None:
    r = client.get("/changes", headers={"accept": "application/json"})
    assert r.status_code == 200
    body = r.json()
    assert (body["previous"], body["current"], body["added"]) == (two.first.build_id, two.second.build_id, 28)
    assert body["files"]["added"] == "http://testserver/dumps/changes.added.nq"
    assert client.get("/dumps/changes.added.nq").content == (two.root / "dist" / ADDED_FILE).read_bytes()
    html = client.get("/changes", headers={"accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert f"{PART}target/16-2" in html.text and f"{PART}task/16" in html.text
    assert "28 triples added, 28 removed" in html.text
    assert (
        f'changed: 经济外向度提高到25%左右 <a href="{PART}target/16-2"><code>{PART}target/16-2</code></a>'
        " (value, valueAsWritten, label)" in html.text
    )
    assert f'changed: (十六)促进外贸提质增效 <a href="{PART}task/16">' in html.text


def test_a_kept_change_set_by_its_two_build_ids(two: Two, client: TestClient) -> None:
    a, b = two.first.build_id, two.second.build_id
    r = client.get(f"/changes/{a}..{b}")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.json()["entities"]["targets"]["changed"] == [f"{PART}target/16-2"]
    assert r.json()["files"]["removed"] == f"http://testserver/dumps/versions/{b}/{REMOVED_FILE}"
    assert (
        client.get(f"/dumps/versions/{b}/{REMOVED_FILE}").content
        == (two.root / "dist" / REMOVED_FILE).read_bytes()
    )
    wrong = client.get(f"/changes/{b}..{a}")
    assert wrong.status_code == 404
    assert wrong.json()["detail"] == f"no change set from {b} to {a}: the version {a} follows nothing"
    bad = client.get("/changes/latest")
    assert bad.status_code == 404
    assert "two build ids" in bad.json()["detail"]
    # the first version's own change set is the empty one from nothing
    first = client.get(f"/dumps/versions/{a}/{CHANGES_FILE}")
    assert first.content == two.first_files[CHANGES_FILE]


def test_a_change_set_is_per_named_graph(tmp_path: Path) -> None:
    """With each plan in its own named graph, counts and entities are reported per plan."""
    vocab = Vocab("http://example.org/")
    pk, rdf_type = str(vocab.pk), "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    a, b = (
        ox.NamedNode("http://example.org/id/graph/plan/a"),
        ox.NamedNode("http://example.org/id/graph/plan/b"),
    )

    def quad(s: str, p: str, o: ox.NamedNode | ox.Literal, g: ox.NamedNode) -> ox.Quad:
        return ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, g)

    target, task = "http://example.org/id/plan/a/target/1-1", "http://example.org/id/plan/b/task/2"
    old = [
        quad(target, rdf_type, ox.NamedNode(pk + "Target"), a),
        quad(target, pk + "value", ox.Literal("20", datatype=ox.NamedNode(str(XSD.decimal))), a),
    ]
    new = [
        quad(target, rdf_type, ox.NamedNode(pk + "Target"), a),
        quad(target, pk + "value", ox.Literal("25", datatype=ox.NamedNode(str(XSD.decimal))), a),
        quad(task, rdf_type, ox.NamedNode(pk + "Task"), b),
    ]
    write_change_set(tmp_path, vocab, "2" * 16, new, "1" * 16, old)
    document = json.loads((tmp_path / CHANGES_FILE).read_text(encoding="utf-8"))
    assert document["graphs"] == {
        a.value: {
            "added": 1,
            "removed": 1,
            "entities": {"targets": {"added": [], "removed": [], "changed": [target]}},
        },
        b.value: {
            "added": 1,
            "removed": 0,
            "entities": {"divisions": {"added": [task], "removed": [], "changed": []}},
        },
    }
    assert (tmp_path / REMOVED_FILE).read_text(encoding="utf-8") == (
        f'<{target}> <{pk}value> "20"^^<{XSD.decimal}> <{a.value}> .\n'
    )
