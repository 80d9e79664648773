"""What the reconciliation service reconciles: its types, their properties, and the SPARQL that reads them.

Entities are found by class and properties, never by the shape of their IRIs: one SELECT per type
(``type_query``) reads every entity of the class with its names (``rdfs:label``, ``skos:prefLabel``,
``eli:title`` in zh and en; ``skos:altLabel``; ``skos:notation``), its classes and the values of the
type's properties. Property patterns bind ``?o`` for the entity ``?s``; the queries are written with
``PREFIX pk: <def/>`` and evaluated with the configured base as the base IRI, like the canned queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

PREFIXES = """PREFIX pk: <def/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX eli: <http://data.europa.eu/eli/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX qudt: <http://qudt.org/schema/qudt/>
PREFIX qb: <http://purl.org/linked-data/cube#>
"""

ORG_NS = "http://www.w3.org/ns/org#"


class ValueKind(Enum):
    """How a property's values are written in a data-extension response (0.2's cell shapes)."""

    ENTITY = "entity"  # {"id", "name"}
    STR = "str"
    INT = "int"
    FLOAT = "float"


@dataclass(frozen=True)
class PropertySpec:
    id: str  # the property id of the API (pid in queries, id in extension)
    name: str
    description: str
    kind: ValueKind
    pattern: str  # a SPARQL group pattern binding ?o for the entity ?s


@dataclass(frozen=True)
class SubType:
    local: str  # a pk: class, e.g. "Hospital"
    name: str


@dataclass(frozen=True)
class TypeSpec:
    key: str  # short, for logs and the documentation
    iri: str  # the class IRI, relative to the base when it starts with "def/"
    name: str
    description: str
    properties: tuple[PropertySpec, ...]
    subtypes: tuple[SubType, ...] = ()

    def absolute(self, base: str) -> str:
        return base + self.iri if self.iri.startswith("def/") else self.iri


def _entity(pid: str, name: str, description: str, pattern: str) -> PropertySpec:
    return PropertySpec(pid, name, description, ValueKind.ENTITY, pattern)


NAME_EN = PropertySpec(
    "name_en",
    "English name",
    "The hand-written English label (rdfs:label @en).",
    ValueKind.STR,
    '?s rdfs:label ?o FILTER(langMatches(lang(?o), "en"))',
)
ALIAS = PropertySpec(
    "alias", "alias", "Another name the plan writes (skos:altLabel).", ValueKind.STR, "?s skos:altLabel ?o"
)
CODE = PropertySpec(
    "code", "code", "The code or notation (skos:notation).", ValueKind.STR, "?s skos:notation ?o"
)
PLAN = _entity(
    "plan",
    "plan",
    "The plan it is part of (eli:is_part_of, transitively).",
    "?s eli:is_part_of+ ?o . ?o a pk:Plan",
)
MENTIONED_IN = _entity(
    "tasks", "tasks", "The tasks that mention it (pk:mentions).", "?o pk:mentions ?s . ?o a pk:Task"
)

TYPES: tuple[TypeSpec, ...] = (
    TypeSpec(
        "organisation",
        ORG_NS + "Organization",
        "Organisation",
        "An organisation the plan names: university, hospital, laboratory, enterprise, government body …",
        (
            _entity(
                "parent",
                "parent organisation",
                "The organisation it is part of (org:subOrganizationOf).",
                "?s org:subOrganizationOf ?o",
            ),
            NAME_EN,
            ALIAS,
            MENTIONED_IN,
            _entity(
                "projects",
                "projects",
                "The named projects that involve it (pk:involves).",
                "?o pk:involves ?s",
            ),
        ),
        (
            SubType("University", "University"),
            SubType("Hospital", "Hospital"),
            SubType("Laboratory", "Laboratory"),
            SubType("ResearchInstitute", "Research institute"),
            SubType("GovernmentBody", "Government body"),
            SubType("Enterprise", "Enterprise"),
            SubType("InnovationPlatform", "Innovation platform"),
            SubType("Campus", "Campus"),
        ),
    ),
    TypeSpec(
        "place",
        "def/Place",
        "Place",
        "A place the plan names: an administrative division (with its code) or a named region.",
        (
            CODE,
            _entity("broader", "within", "The place that contains it (skos:broader).", "?s skos:broader ?o"),
            _entity(
                "level",
                "division level",
                "Province, prefecture or county level (pk:divisionLevel).",
                "?s pk:divisionLevel ?o",
            ),
            NAME_EN,
            ALIAS,
            MENTIONED_IN,
            _entity("projects", "projects", "The named projects located there (pk:place).", "?o pk:place ?s"),
        ),
        (SubType("AdministrativeDivision", "Administrative division"), SubType("Region", "Region")),
    ),
    TypeSpec(
        "project",
        "def/Project",
        "Project",
        "A named project or facility of a task.",
        (
            _entity("task", "task", "The task that names it (pk:inTask).", "?s pk:inTask ?o"),
            _entity(
                "plan", "plan", "The plan of its task.", "?s pk:inTask/eli:is_part_of+ ?o . ?o a pk:Plan"
            ),
            _entity(
                "organisations",
                "organisations",
                "The organisations it involves (pk:involves).",
                "?s pk:involves ?o",
            ),
            _entity("places", "places", "The places its name names (pk:place).", "?s pk:place ?o"),
            NAME_EN,
            ALIAS,
        ),
    ),
    TypeSpec(
        "task",
        "def/Task",
        "Task",
        "A key task (a numbered division of a pillar of a plan).",
        (
            PLAN,
            _entity("pillar", "pillar", "The pillar it belongs to (pk:pillar).", "?s pk:pillar ?o"),
            PropertySpec(
                "number",
                "number",
                "Its number as printed (eli:number), e.g. 十八.",
                ValueKind.STR,
                "?s eli:number ?o",
            ),
            NAME_EN,
            _entity("projects", "projects", "The named projects of the task (pk:inTask).", "?o pk:inTask ?s"),
            _entity(
                "mentions",
                "mentions",
                "The organisations, places and projects it mentions (pk:mentions).",
                "?s pk:mentions ?o",
            ),
            _entity(
                "indicators",
                "indicators",
                "The indicators its targets measure.",
                "?t pk:task ?s ; pk:indicator ?o",
            ),
        ),
    ),
    TypeSpec(
        "pillar",
        "def/Pillar",
        "Pillar",
        "A pillar of a plan: the top-level division that groups its tasks.",
        (
            PLAN,
            CODE,
            PropertySpec(
                "number",
                "number",
                "Its number as printed (eli:number), e.g. 四.",
                ValueKind.STR,
                "?s eli:number ?o",
            ),
            NAME_EN,
            _entity("tasks", "tasks", "Its tasks (eli:has_part).", "?s eli:has_part ?o . ?o a pk:Task"),
            PropertySpec(
                "project_count",
                "key projects",
                "Number of key projects in the pillar's statistics (pk:projectCount, stage total).",
                ValueKind.INT,
                "?x pk:pillar ?s ; pk:stage <def/stage/total> ; pk:projectCount ?o",
            ),
            PropertySpec(
                "investment",
                "investment (亿元)",
                "Total investment of the pillar's key projects, 亿元 (pk:investment, stage total).",
                ValueKind.FLOAT,
                "?x pk:pillar ?s ; pk:stage <def/stage/total> ; pk:investment ?o",
            ),
        ),
    ),
    TypeSpec(
        "division",
        "def/Division",
        "Division",
        "A numbered division of a plan in the ordinary official numbering (一、 / （一） / 1. / （1） / ①),"
        " at any depth.",
        (
            PLAN,
            _entity(
                "part_of",
                "part of",
                "The division it is a part of (eli:is_part_of; none for a top-level division).",
                "?s eli:is_part_of ?o . ?o a pk:Division",
            ),
            _entity("divisions", "divisions", "Its divisions (eli:has_part).", "?s eli:has_part ?o"),
            PropertySpec(
                "number",
                "number",
                "Its number as printed (eli:number), e.g. 二.",
                ValueKind.STR,
                "?s eli:number ?o",
            ),
            NAME_EN,
            _entity(
                "mentions",
                "mentions",
                "The organisations, places and projects it mentions (pk:mentions).",
                "?s pk:mentions ?o",
            ),
        ),
        (SubType("ActionDivision", "Action division"), SubType("FrameDivision", "Frame division")),
    ),
    TypeSpec(
        "plan",
        "def/Plan",
        "Plan",
        "An action plan (the document).",
        (
            NAME_EN,
            _entity(
                "pillars", "pillars", "Its pillars (eli:has_part).", "?s eli:has_part ?o . ?o a pk:Pillar"
            ),
            _entity("tasks", "tasks", "Its tasks.", "?o eli:is_part_of+ ?s . ?o a pk:Task"),
            _entity(
                "divisions",
                "divisions",
                "Its top-level divisions in the ordinary official numbering (eli:has_part).",
                "?s eli:has_part ?o . ?o a pk:Division",
            ),
            PropertySpec(
                "start_year",
                "first year",
                "First year of its period (dcat:startDate).",
                ValueKind.INT,
                "?s dcterms:temporal/dcat:startDate ?o",
            ),
            PropertySpec(
                "end_year",
                "last year",
                "Last year of its period (dcat:endDate).",
                ValueKind.INT,
                "?s dcterms:temporal/dcat:endDate ?o",
            ),
        ),
    ),
    TypeSpec(
        "indicator",
        "def/Indicator",
        "Indicator",
        "An indicator the plan's targets measure.",
        (
            CODE,
            NAME_EN,
            ALIAS,
            _entity("unit", "unit", "The unit its values are in (qudt:unit).", "?s qudt:unit ?o"),
            _entity(
                "tasks", "tasks", "The tasks whose targets measure it.", "?t pk:indicator ?s ; pk:task ?o"
            ),
        ),
    ),
)

# Names read for every type; the key says what kind of name it is (the language decides zh/en).
_NAME_PATTERNS = (
    ("label", "?s rdfs:label ?o"),
    ("name", "?s skos:prefLabel|eli:title ?o"),
    ("alias", "?s skos:altLabel ?o"),
    ("code", "?s skos:notation ?o"),
    ("a", "?s a ?o"),
)
NAME_KEYS = frozenset(key for key, _ in _NAME_PATTERNS)


def type_query(spec: TypeSpec) -> str:
    """The one SELECT that reads every entity of ``spec``: rows (?s, ?key, ?o, ?label, ?labelLang).

    ?key is a name kind of ``NAME_KEYS`` or a property id prefixed with ``p:``; ?label labels an IRI
    value (one row per label).
    """
    cls = f"<{spec.iri}>"
    blocks = [f"{{ {pattern} BIND({_string(key)} AS ?key) }}" for key, pattern in _NAME_PATTERNS]
    blocks += [f"{{ {p.pattern} BIND({_string('p:' + p.id)} AS ?key) }}" for p in spec.properties]
    union = "\n  UNION ".join(blocks)
    return (
        f"{PREFIXES}SELECT ?s ?key ?o ?label WHERE {{\n  ?s a {cls} .\n  {union}\n"
        "  OPTIONAL { FILTER(isIRI(?o)) ?o rdfs:label ?label }\n}"
    )


def _string(text: str) -> str:
    assert text.replace(":", "").replace("_", "").isalnum()  # our own keys, never input
    return f'"{text}"'
