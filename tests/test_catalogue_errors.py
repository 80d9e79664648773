"""Every curated catalogue of mapping/data, broken one field at a time: the loader either reads it or
raises CatalogueError naming the file and the entry, never a KeyError or TypeError that names nothing."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import mapping.discover
import mapping.entities
import mapping.outline
import mapping.targets
from mapping.entities import DATA_DIR, CatalogueError

LOADERS: dict[str, Callable[[], object]] = {
    "indicators.toml": lambda: mapping.targets.load_vocabulary(DATA_DIR / "indicators.toml"),
    "institutions.toml": lambda: mapping.entities.load_catalogue(DATA_DIR),
    "places.toml": lambda: mapping.entities.load_catalogue(DATA_DIR),
    "projects.toml": lambda: mapping.entities.load_catalogue(DATA_DIR),
    "labels_en.toml": lambda: mapping.entities.load_catalogue(DATA_DIR),
    "discovery.toml": lambda: mapping.discover.load_rules(DATA_DIR),
    "stoplist.toml": lambda: mapping.discover.load_stoplist(DATA_DIR),
    "roles.toml": lambda: mapping.outline.load_role_rules(DATA_DIR / "roles.toml"),
}
WRONG: tuple[object, ...] = (0, "", [0], {"a": 1})


def _read(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open("rb") as f:
        return tomllib.load(f)


def _first_entry(data: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """Paths to the fields of the first entry of each section (and to the sections themselves)."""
    for section, value in data.items():
        yield (section,)
        entry: tuple[Any, ...] | None = None
        if isinstance(value, list) and value:
            entry = (section, 0)
            table = value[0]
        elif isinstance(value, dict) and value:
            first = next(iter(value))
            entry, table = (section, first), value[first]
        if entry is not None and isinstance(table, dict):
            yield entry
            yield from ((*entry, field) for field in table)


def _broken(data: dict[str, Any], path: tuple[Any, ...], wrong: object) -> dict[str, Any]:
    out = copy.deepcopy(data)
    here: Any = out
    for step in path[:-1]:
        here = here[step]
    if wrong is _DELETE:
        del here[path[-1]]
    else:
        here[path[-1]] = wrong
    return out


_DELETE = object()
CASES = [
    (name, path, wrong)
    for name in LOADERS
    for path in _first_entry(_read(name))
    for wrong in (_DELETE, *WRONG)
]


@pytest.mark.parametrize(
    ("name", "path", "wrong"), CASES, ids=[f"{n}:{'.'.join(map(str, p))}={w!r}" for n, p, w in CASES]
)
def test_a_broken_catalogue_names_file_and_entry(
    monkeypatch: pytest.MonkeyPatch, name: str, path: tuple[Any, ...], wrong: object
) -> None:
    broken = _broken(_read(name), path, wrong)

    def read(file: Path) -> dict[str, Any]:
        return broken if file.name == name else _read(file.name)

    for module in (mapping.entities, mapping.discover, mapping.targets, mapping.outline):
        monkeypatch.setattr(module, "read_data_file" if module is not mapping.entities else "_read", read)
    try:
        LOADERS[name]()
    except CatalogueError as e:
        # a broken entry may surface where another catalogue refers to it (projects.toml names places)
        assert e.file in LOADERS and e.entry and e.message
        assert str(e) == f"{e.file}: {e.entry}: {e.message}"
