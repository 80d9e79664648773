"""The entities the service reconciles against, read from the store once per build.

``load_index(store, base)`` runs one SELECT per type (``schema.type_query``) and turns the rows into
``Entity`` records: names by kind, classes, property values. ``IndexCache`` keeps the index of the
store's current ``build_id`` and reads a new one when a rebuild swaps the store (blocking: call it off
the event loop). Only the ``Store`` protocol is used, so any store implementation serves.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from server.errors import StoreFailure
from server.protocol.results import Iri, Literal, Solutions
from server.reconcile.schema import NAME_KEYS, TYPES, TypeSpec, type_query
from server.reconcile.text import name_variants
from server.stores.interface import Store

SHARED_PAIRS = 0.5


class NameKind(Enum):
    NAME = "name"  # a Chinese (or untagged) label or title
    NAME_EN = "name_en"
    ALIAS = "alias"
    CODE = "code"


@dataclass(frozen=True)
class Name:
    text: str
    kind: NameKind


@dataclass(frozen=True)
class Value:
    """A property value: an IRI (``id``, with its label) or a literal (``text``, ``datatype``)."""

    text: str
    id: str | None = None
    datatype: str | None = None


@dataclass
class Entity:
    id: str
    spec: TypeSpec  # the reconciliation type it was read as
    name: str  # what the service calls it: the zh rdfs:label, else a zh name, else English, else the IRI
    names: tuple[Name, ...]
    classes: frozenset[str]
    values: dict[str, tuple[Value, ...]] = field(default_factory=dict)

    @cached_property
    def keys(self) -> tuple[tuple[str, NameKind], ...]:
        """The normalised forms of its names, for matching (computed once)."""
        return tuple((text, n.kind) for n in self.names for text in name_variants(n.text) if text)

    @property
    def name_en(self) -> str | None:
        return next((n.text for n in self.names if n.kind is NameKind.NAME_EN), None)

    @property
    def code(self) -> str | None:
        return next((n.text for n in self.names if n.kind is NameKind.CODE), None)


@dataclass(frozen=True)
class Index:
    build_id: str
    base: str
    entities: dict[str, Entity]  # by IRI, in a stable order (type, then IRI)
    type_names: dict[str, str]  # type id (class IRI) -> name, the declared types and subtypes
    type_broader: dict[str, str]  # subtype id -> its type id
    specs: dict[str, TypeSpec]  # type id -> its spec (declared types only)

    @cached_property
    def _postings(self) -> tuple[tuple[tuple[str, int], ...], dict[str, tuple[int, ...]]]:
        """Every name key as (entity id, how many character pairs it has), and for each character pair
        (or one-character name) the keys that have it."""
        keys: list[tuple[str, int]] = []
        grams: dict[str, list[int]] = defaultdict(list)
        for entity in self.entities.values():
            for text, _ in entity.keys:
                pairs = bigrams(text)
                for gram in pairs:
                    grams[gram].append(len(keys))
                keys.append((entity.id, len(pairs)))
        return tuple(keys), {gram: tuple(ks) for gram, ks in grams.items()}

    def sharing(self, text: str) -> set[str]:
        """Ids of the entities with a name that shares at least ``SHARED_PAIRS`` of the character pairs of
        the shorter of it and normalised ``text``: all of them when one contains the other, most when
        they are similar. Only these are scored."""
        keys, grams = self._postings
        wanted = bigrams(text)
        counts: Counter[int] = Counter()
        for gram in wanted:
            counts.update(grams.get(gram, ()))
        return {keys[k][0] for k, n in counts.items() if n >= SHARED_PAIRS * min(len(wanted), keys[k][1])}

    def of_types(self, types: Iterable[str]) -> list[Entity]:
        wanted = set(types)
        return [e for e in self.entities.values() if e.classes & wanted]

    def value_names(self, value: Value) -> tuple[str, ...]:
        """Every name of an IRI value (from the index when it is an entity, else its label)."""
        if value.id is not None and value.id in self.entities:
            return tuple(n.text for n in self.entities[value.id].names if n.kind is not NameKind.CODE)
        return (value.text,)


def bigrams(text: str) -> set[str]:
    """The character pairs of ``text``; a one-character text is its own."""
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def _local_name(iri: str) -> str:
    return iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _pick_label(labels: dict[str, str], fallback: str) -> str:
    for lang in ("zh", "", "en"):
        for tag, text in labels.items():
            if tag.split("-")[0] == lang:
                return text
    return fallback


def entities_of(spec: TypeSpec, solutions: Solutions) -> list[Entity]:
    """The entities of one type's answer (rows ?s ?key ?o ?label, see ``schema.type_query``)."""
    col = {v: i for i, v in enumerate(solutions.variables)}
    names: dict[str, dict[Name, None]] = defaultdict(dict)  # ordered sets
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    classes: dict[str, set[str]] = defaultdict(set)
    values: dict[str, dict[str, dict[Value, None]]] = defaultdict(lambda: defaultdict(dict))
    value_labels: dict[str, dict[str, str]] = defaultdict(dict)
    order: dict[str, None] = {}
    for row in solutions.rows:
        s, key, o, label = (row[col[v]] for v in ("s", "key", "o", "label"))
        if not isinstance(s, Iri) or not isinstance(key, Literal) or o is None:
            continue
        order[s.value] = None
        kind = key.value
        if kind in NAME_KEYS:
            if kind == "a":
                if isinstance(o, Iri):
                    classes[s.value].add(o.value)
            elif isinstance(o, Literal):
                lang = (o.language or "").lower()
                if kind == "label":
                    labels[s.value].setdefault(lang, o.value)
                if kind == "alias":
                    nk = NameKind.ALIAS
                elif kind == "code":
                    nk = NameKind.CODE
                else:
                    nk = NameKind.NAME_EN if lang.startswith("en") else NameKind.NAME
                names[s.value][Name(o.value, nk)] = None
            continue
        pid = kind.removeprefix("p:")
        if isinstance(o, Iri):
            if isinstance(label, Literal):
                value_labels[o.value].setdefault((label.language or "").lower(), label.value)
            values[s.value][pid][Value("", id=o.value)] = None
        elif isinstance(o, Literal):
            values[s.value][pid][Value(o.value, datatype=o.datatype)] = None
    out = []
    for iri in order:
        entity_names = tuple(names[iri])
        fallback = next((n.text for n in entity_names if n.kind is NameKind.NAME), None)
        fallback = fallback or next((n.text for n in entity_names if n.kind is NameKind.NAME_EN), iri)
        entity_values = {
            pid: tuple(
                Value(_pick_label(value_labels[v.id], _local_name(v.id)), id=v.id) if v.id is not None else v
                for v in vs
            )
            for pid, vs in values[iri].items()
        }
        out.append(
            Entity(
                id=iri,
                spec=spec,
                name=_pick_label(labels[iri], fallback),
                names=entity_names,
                classes=frozenset(classes[iri]),
                values=entity_values,
            )
        )
    return out


def load_index(store: Store, base: str, timeout: float | None = None) -> Index:
    """Every entity of every type, read with one query per type (blocking)."""
    build_id = store.build_id
    entities: dict[str, Entity] = {}
    type_names: dict[str, str] = {}
    type_broader: dict[str, str] = {}
    specs: dict[str, TypeSpec] = {}
    for spec in TYPES:
        type_id = spec.absolute(base)
        type_names[type_id] = spec.name
        specs[type_id] = spec
        for sub in spec.subtypes:
            type_names[base + "def/" + sub.local] = sub.name
            type_broader[base + "def/" + sub.local] = type_id
        outcome = store.query(type_query(spec), base_iri=base, timeout=timeout)
        if not isinstance(outcome.value, Solutions):
            raise StoreFailure(f"the reconciliation query for {spec.key} did not answer with solutions")
        for entity in entities_of(spec, outcome.value):
            # An IRI of two types (none in our data) is reconciled as the first type that reads it.
            entities.setdefault(entity.id, entity)
    # Entity values read before their entity was: names come from the index where it has them.
    for entity in entities.values():
        for pid, vs in entity.values.items():
            entity.values[pid] = tuple(
                Value(entities[v.id].name, id=v.id) if v.id is not None and v.id in entities else v
                for v in vs
            )
    return Index(build_id, base, entities, type_names, type_broader, specs)


class IndexCache:
    """The index of the store's current build, read once per ``build_id`` (thread-safe, blocking)."""

    def __init__(self, base: str, timeout: float | None = None) -> None:
        self.base = base
        self.timeout = timeout
        self._lock = threading.Lock()
        self._index: Index | None = None
        self.loads = 0  # how many times an index was read (the tests check it is once per build)

    def get(self, store: Store, loader: Callable[[Store, str, float | None], Index] = load_index) -> Index:
        with self._lock:
            current = self._index
            if current is None or current.build_id != store.build_id:
                current = loader(store, self.base, self.timeout)
                self._index = current
                self.loads += 1
            return current
