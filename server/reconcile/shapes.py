"""The JSON (and the preview's HTML) the service answers, in the shapes of the Reconciliation API 0.2.

Plain functions from the typed values (index entities, candidates) to JSON-ready dicts; the schemas in
tests/data/reconciliation-api-0.2/ check every one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from server.reconcile.index import Entity, Index, Value
from server.reconcile.matching import Candidate
from server.reconcile.schema import TYPES, PropertySpec, TypeSpec, ValueKind

SERVICE_PATH = "reconcile"
PREVIEW_WIDTH = 430
PREVIEW_HEIGHT = 220
PREVIEW_VALUES = 5  # values shown per property in a preview


def manifest(base: str) -> dict[str, Any]:
    service = base + SERVICE_PATH
    return {
        "versions": ["0.2"],
        "name": "plankg: Chinese government action plans",
        "identifierSpace": base,
        "schemaSpace": base + "def/",
        "view": {"url": "{{id}}"},
        "preview": {"url": service + "/preview?id={{id}}", "width": PREVIEW_WIDTH, "height": PREVIEW_HEIGHT},
        "defaultTypes": [type_json(base, spec) for spec in TYPES],
        "suggest": {
            kind: {"service_url": service, "service_path": f"/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {"service_url": service, "service_path": "/properties"},
            "property_settings": [
                {
                    "type": "number",
                    "name": "limit",
                    "label": "Limit",
                    "default": 0,
                    "help_text": "The most values to fetch per entity (0: all of them).",
                }
            ],
        },
    }


def type_json(base: str, spec: TypeSpec) -> dict[str, Any]:
    return {"id": spec.absolute(base), "name": spec.name, "description": spec.description}


def all_types_json(base: str) -> list[dict[str, Any]]:
    """Every type the service knows: the declared types, then their subtypes (with ``broader``)."""
    out = [type_json(base, spec) for spec in TYPES]
    for spec in TYPES:
        broader = [{"id": spec.absolute(base), "name": spec.name}]
        out += [
            {"id": base + "def/" + sub.local, "name": sub.name, "broader": broader} for sub in spec.subtypes
        ]
    return out


def entity_types(index: Index, entity: Entity) -> list[dict[str, str]]:
    """The entity's type and the subtypes it is in."""
    main = entity.spec.absolute(index.base)
    subs = sorted(c for c in entity.classes if index.type_broader.get(c) == main)
    return [{"id": t, "name": index.type_names[t]} for t in (main, *subs)]


def description(entity: Entity) -> str:
    """A line that tells namesakes apart: English name, code, parent or containing place, plan."""
    parts = []
    if entity.name_en and entity.name_en != entity.name:
        parts.append(entity.name_en)
    if entity.code and entity.spec.key == "place":
        parts.append(entity.code)
    for pid, word in (
        ("parent", "part of"),
        ("part_of", "in"),
        ("broader", "in"),
        ("task", "task"),
        ("plan", "plan"),
    ):
        values = entity.values.get(pid, ())
        if values:
            parts.append(f"{word} {values[0].text}")
    return " · ".join(parts) or entity.spec.name


def candidate_json(index: Index, candidate: Candidate) -> dict[str, Any]:
    entity = candidate.entity
    return {
        "id": entity.id,
        "name": entity.name,
        "description": description(entity),
        "score": candidate.score,
        "features": [{"id": fid, "value": value} for fid, value in candidate.features],
        "match": candidate.match,
        "type": entity_types(index, entity),
    }


def suggest_entity_json(index: Index, entities: Iterable[Entity]) -> dict[str, Any]:
    return {
        "result": [
            {"id": e.id, "name": e.name, "description": description(e), "notable": entity_types(index, e)}
            for e in entities
        ]
    }


def property_json(prop: PropertySpec) -> dict[str, str]:
    return {"id": prop.id, "name": prop.name, "description": prop.description}


def properties_of(types: Sequence[TypeSpec]) -> list[PropertySpec]:
    """The properties of ``types`` (each id once, in the order the types list them)."""
    seen: dict[str, PropertySpec] = {}
    for spec in types:
        for prop in spec.properties:
            seen.setdefault(prop.id, prop)
    return list(seen.values())


def _int(text: str) -> int | None:
    found = re.match(r"-?\d+", text.strip())  # xsd:integer, or the year of an xsd:gYear
    return int(found.group()) if found else None


def cell(kind: ValueKind, value: Value) -> dict[str, Any] | None:
    """One value in 0.2's cell shapes; None when a literal does not read as its kind."""
    if kind is ValueKind.ENTITY or value.id is not None:
        return {"id": value.id, "name": value.text} if value.id is not None else {"str": value.text}
    if kind is ValueKind.INT:
        number = _int(value.text)
        return None if number is None else {"int": number}
    if kind is ValueKind.FLOAT:
        try:
            return {"float": float(value.text)}
        except ValueError:
            return None
    return {"str": value.text}


def extension_json(index: Index, ids: Sequence[str], properties: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """Values of ``properties`` (id, at most this many values; 0: all) for each of ``ids``.

    An id the service does not know, or a property its type does not have, gets an empty list.
    """
    by_id = {p.id: p for p in properties_of(TYPES)}
    meta = [property_json(by_id[pid]) for pid, _ in properties]
    for m in meta:
        del m["description"]
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for entity_id in ids:
        entity = index.entities.get(entity_id)
        row: dict[str, list[dict[str, Any]]] = {}
        for pid, limit in properties:
            spec = next((p for p in entity.spec.properties if p.id == pid), None) if entity else None
            cells: list[dict[str, Any]] = []
            if entity is not None and spec is not None:
                cells = [c for v in entity.values.get(pid, ()) if (c := cell(spec.kind, v)) is not None]
            row[pid] = cells[:limit] if limit else cells
        rows[entity_id] = row
    return {"meta": meta, "rows": rows}


def preview_html(index: Index, entity: Entity) -> str:
    """A small HTML page about ``entity`` for OpenRefine's preview frame; every text escaped."""
    e = escape
    types = ", ".join(t["name"] for t in entity_types(index, entity))
    lines = [
        "<!DOCTYPE html>",
        '<html lang="zh"><head><meta charset="utf-8">',
        f"<title>{e(entity.name)}</title>",
        "<style>body{font:13px/1.4 sans-serif;margin:6px}h1{font-size:15px;margin:0 0 4px}"
        "dl{margin:4px 0}dt{float:left;clear:left;width:8em;color:#555}dd{margin-left:8.5em}"
        "p{margin:2px 0;color:#333}</style></head><body>",
        f'<h1><a href="{e(entity.id)}" target="_blank" rel="noopener">{e(entity.name)}</a></h1>',
    ]
    if entity.name_en and entity.name_en != entity.name:
        lines.append(f'<p lang="en">{e(entity.name_en)}</p>')
    lines.append(f"<p>{e(types)}</p><dl>")
    for prop in entity.spec.properties:
        values = entity.values.get(prop.id, ())
        if not values or prop.id == "name_en":
            continue
        shown = ", ".join(e(v.text) for v in values[:PREVIEW_VALUES])
        more = f" … (+{len(values) - PREVIEW_VALUES})" if len(values) > PREVIEW_VALUES else ""
        lines.append(f"<dt>{e(prop.name)}</dt><dd>{shown}{more}</dd>")
    lines.append("</dl></body></html>")
    return "\n".join(lines)
