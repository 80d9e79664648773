"""The review of machine-found entities (mapping/review.py, `plankg entities`): the list with quotes,
accept into the catalogue and reject onto the stop list, always on a copy of the data directory."""

from __future__ import annotations

import hashlib
import shutil
import tomllib
import warnings
from pathlib import Path

import pytest

from mapping.discover import load_stoplist
from mapping.entities import DATA_DIR, EntityKind, OrgType, PlaceKind, load_catalogue
from mapping.review import ReviewError, accept, format_unreviewed, reject, unreviewed
from server.cli import main
from tests.test_discover_rdf import RAW as FICTIONAL_PLAN

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_FILE = "jinan-nddc-green-lowcarbon-action-plan.txt"

SEED_CANDIDATES = [  # highest confidence first, then kind and name
    ("org", "种业集团", "0.81"),
    ("project", "抽水蓄能电站", "0.72"),
    ("project", "人工智能", "0.70"),
    ("project", "高端芯片", "0.63"),
    ("org", "国家医学中心", "0.45"),
    ("org", "国家生态环保工程技术中心", "0.45"),
    ("org", "国际性多式联运中心", "0.45"),
    ("org", "经济中心", "0.45"),
    ("org", "超算中心", "0.45"),
    ("org", "大桥组团城市副中心", "0.40"),
    ("org", "高能级创新平台", "0.36"),
    ("org", "新媒体平台", "0.32"),
]


def _digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.glob("*.toml"))}


@pytest.fixture(scope="module", autouse=True)
def real_catalogue_untouched() -> object:
    before = _digest(DATA_DIR)
    yield
    assert _digest(DATA_DIR) == before


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    target.mkdir()
    for f in DATA_DIR.glob("*.toml"):
        shutil.copy(f, target / f.name)
    return target


def _listed(data_dir: Path, seeds: Path = SEEDS) -> list[tuple[str, str, str]]:
    return [(c.kind.value, c.name, str(c.confidence)) for c in unreviewed(seeds, data_dir)]


def test_the_seed_review_list(data_dir: Path) -> None:
    candidates = unreviewed(SEEDS, data_dir)
    assert [(c.kind.value, c.name, str(c.confidence)) for c in candidates] == SEED_CANDIDATES
    (quote,) = candidates[0].quotes
    assert (str(quote.location), quote.task, quote.method, quote.rule) == (
        f"{SEED_FILE}:333:17",
        28,
        "org-suffix",
        "集团",
    )
    assert quote.sentence.endswith("引进3—5家国际一流种业集团或国内行业领先种业集团。")
    raw = (SEEDS / SEED_FILE).read_text(encoding="utf-8")
    line = raw.split("\n")[332]
    assert line[16:].startswith("种业集团")
    text = format_unreviewed(candidates)
    assert (
        text.splitlines()[0] == "org 种业集团  confidence 0.81  key 3f9799f3ca38, suggested type enterprise"
    )
    assert text.splitlines()[1].startswith(
        f"  {SEED_FILE}:333:17: [task 28, org-suffix 集团, 0.81] 推进国家种子实验室"
    )
    assert format_unreviewed([]) == "no unreviewed machine-found entities\n"


def test_accept_an_organisation(data_dir: Path) -> None:
    path = accept(
        "种业集团",
        key="seed-industry-group",
        name_en="seed industry group",
        seeds_dir=SEEDS,
        data_dir=data_dir,
    )
    assert path == data_dir / "institutions.toml"
    with path.open("rb") as f:
        entry = tomllib.load(f)["organisation"][-1]
    assert entry == {
        "key": "seed-industry-group",
        "name": "种业集团",
        "name_en": "seed industry group",
        "type": "enterprise",
        "note": "Accepted from a machine-found candidate (org-suffix 集团).",
    }
    org = load_catalogue(data_dir).organisations["seed-industry-group"]
    assert org.type is OrgType.ENTERPRISE
    assert ("org", "种业集团", "0.81") not in _listed(data_dir)  # catalogued now: the catalogue wins
    assert len(_listed(data_dir)) == len(SEED_CANDIDATES) - 1


def test_accept_a_project_into_its_task(data_dir: Path) -> None:
    accept(
        "抽水蓄能电站",
        key="pumped-storage",
        name_en="pumped storage power station",
        seeds_dir=SEEDS,
        data_dir=data_dir,
    )
    project = load_catalogue(data_dir).projects["pumped-storage"]
    assert (project.name, project.task) == ("抽水蓄能电站", 18)
    assert "抽水蓄能电站" not in [name for _, name, _ in _listed(data_dir)]


REFUSALS = [
    ({"name": "种业集团", "key": None, "name_en": "x"}, "accepting '种业集团' needs --key"),
    ({"name": "种业集团", "key": "seed", "name_en": None}, "accepting '种业集团' needs --name-en"),
    (
        {"name": "种业集团", "key": "byd", "name_en": "x"},
        "refused, the catalogue would not load: institutions.toml: organisation 'byd': duplicate key",
    ),
    (
        {"name": "种业集团", "key": "Seed Group", "name_en": "x"},
        "refused, the catalogue would not load: institutions.toml: organisation 'Seed Group': key must be",
    ),
    ({"name": "比亚迪", "key": "x", "name_en": "x"}, "'比亚迪' is not an unreviewed machine-found entity of"),
    (
        {"name": "种业集团", "key": "x", "name_en": "x", "kind": EntityKind.PLACE},
        "'种业集团' is not an unreviewed machine-found place entity of",
    ),
]


@pytest.mark.parametrize(("args", "message"), REFUSALS)
def test_accept_refuses(data_dir: Path, args: dict[str, object], message: str) -> None:
    before = _digest(data_dir)
    name = args.pop("name")
    assert isinstance(name, str)
    with pytest.raises(ReviewError) as err:
        accept(name, seeds_dir=SEEDS, data_dir=data_dir, **args)  # type: ignore[arg-type]
    assert str(err.value).startswith(message)
    assert _digest(data_dir) == before


def test_accept_a_place_in_another_plan_and_refuse_its_project(data_dir: Path, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "linhai.txt").write_text(FICTIONAL_PLAN, encoding="utf-8")
    assert _listed(data_dir, seeds) == [
        ("org", "临海大学", "0.86"),
        ("org", "东港理工学院", "0.76"),
        ("place", "临海市", "0.72"),
        ("project", "云港大数据产业园", "0.72"),
        ("project", "南湖软件园", "0.72"),
        ("place", "白沙镇", "0.64"),
    ]
    accept("白沙镇", key="baisha-town", name_en="Baisha Town", seeds_dir=seeds, data_dir=data_dir)
    place = load_catalogue(data_dir).places["baisha-town"]
    assert (place.kind, place.code, place.name) == (PlaceKind.REGION, None, "白沙镇")
    assert "白沙镇" not in [name for _, name, _ in _listed(data_dir, seeds)]
    with pytest.raises(ReviewError, match=r"projects\.toml is written for another plan"):
        accept("南湖软件园", key="nanhu-software-park", name_en="x", seeds_dir=seeds, data_dir=data_dir)


def test_reject(data_dir: Path) -> None:
    path = reject("超算中心", note="a kind of facility", seeds_dir=SEEDS, data_dir=data_dir)
    assert path == data_dir / "stoplist.toml"
    (stop,) = load_stoplist(data_dir)
    assert (stop.name, stop.kind, stop.note) == ("超算中心", EntityKind.ORGANISATION, "a kind of facility")
    assert "超算中心" not in [name for _, name, _ in _listed(data_dir)]
    with pytest.raises(ReviewError, match="'超算中心' is not an unreviewed machine-found entity"):
        reject("超算中心", seeds_dir=SEEDS, data_dir=data_dir)


def test_cli(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--seeds", str(SEEDS), "--data-dir", str(data_dir)]
    assert main(["entities", "--unreviewed", *common], environ={}) == 0
    assert capsys.readouterr().out.startswith("org 种业集团  confidence 0.81")
    assert main(["entities", "--reject", "经济中心", "--type", "org", *common], environ={}) == 0
    assert capsys.readouterr().out == f"rejected 经济中心: added to {data_dir / 'stoplist.toml'}\n"
    args = [
        "entities",
        "--accept",
        "新媒体平台",
        "--key",
        "new-media-platforms",
        "--name-en",
        "new media",
        *common,
    ]
    assert main(args, environ={}) == 0
    assert capsys.readouterr().out == f"accepted 新媒体平台 into {data_dir / 'institutions.toml'}\n"
    assert main(["entities", "--accept", "新媒体平台", *common], environ={}) == 1
    assert capsys.readouterr().err.startswith(
        "plankg: '新媒体平台' is not an unreviewed machine-found entity"
    )
    assert main(["entities", "--unreviewed", "--reject", "x", *common], environ={}) == 2


@pytest.mark.parametrize(
    ("argv", "environ", "found"),
    [([], {}, True), (["--no-discover"], {}, False), ([], {"PLANKG_DISCOVER": "off"}, False)],
)
def test_build_with_and_without_discovery(
    tmp_path: Path, argv: list[str], environ: dict[str, str], found: bool
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "linhai.txt").write_text(FICTIONAL_PLAN, encoding="utf-8")
    dirs = ["--seeds", str(seeds), "--dist", str(tmp_path / "dist"), "--store", str(tmp_path / "store")]
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "NotImplemented should not be used in a boolean context", DeprecationWarning
        )
        assert main(["build", "-q", *dirs, *argv], environ=environ) == 0
    dump = (tmp_path / "dist" / "plankg.nt").read_text(encoding="utf-8")
    assert ("/id/org/found/f49a137c5b0c>" in dump) is found
