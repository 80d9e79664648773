"""The seed document and what the mapping reads from it, computed once per test session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from mapping.entities import Catalogue, Mention, find_mentions, load_catalogue
from mapping.model import Plan
from mapping.parser import parse_plan
from mapping.targets import Target, extract_targets

SEED = Path(__file__).resolve().parent.parent / "seeds" / "jinan-nddc-green-lowcarbon-action-plan.txt"
SLUG = "jinan-green-low-carbon-2023-2025"  # its plan's slug: its parts are {base}id/plan/{SLUG}/…


@cache
def raw() -> str:
    """The seed text as shipped (no newline translation: offsets count code points of the file)."""
    return SEED.read_text(encoding="utf-8")


@cache
def plan() -> Plan:
    return parse_plan(raw(), source_name=SEED.name)


@cache
def targets() -> tuple[Target, ...]:
    return extract_targets(plan(), raw())


@cache
def catalogue() -> Catalogue:
    return load_catalogue()


@cache
def mentions() -> tuple[Mention, ...]:
    return find_mentions(plan(), raw(), catalogue())
