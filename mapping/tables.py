"""CSV tables of the graph with a W3C CSVW metadata file, written with every build into ``dist/``.

Each table is described once, in ``TABLES``: the class its rows are, and per column the property path
it reads and how its cells are typed. From that one description come both the SPARQL query that fills
the table and the table's entry in ``csv-metadata.json`` (the name CSVW processors look for beside a
CSV file), so the two cannot disagree.

* Every table has one header row, UTF-8 without BOM, CRLF line ends, rows sorted by their IRI.
* The first column holds the row's IRI: ``aboutUrl`` ``{+column}``, the table's primary key.
* A column that is one property of the row (``Column.output``) has ``propertyUrl`` that property and,
  for IRIs, ``valueUrl`` ``{+column}``; literals carry the datatype (and language) the graph gives
  them. So CSVW's CSV→RDF conversion gives back exactly the graph's own triples for those facts
  (``tests/test_tables.py`` converts them and checks). A virtual column states the row's class.
* A column read through a longer path (the plan of a task, a target's quote, a mention's offsets) is
  there for the reader of the table and is ``suppressOutput``: it is derived, not a fact of the row.
* Several values in one cell are joined by ``;`` (``separator``), sorted.
* Foreign keys tie tables together where the referenced column is in one table.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import io
import itertools
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from mapping.dumps import DumpFile
from mapping.layout import CSVW_MEDIA_TYPE, METADATA_FILE
from mapping.vocab import REUSED_PREFIXES, Vocab

CSV_MEDIA_TYPE = "text/csv"
SEPARATOR = ";"
XSD = REUSED_PREFIXES["xsd"]


@dataclass(frozen=True)
class Column:
    """One column: its name, the SPARQL property path it reads, and how its cells are typed.

    ``datatype`` is an XSD local name (``integer``, ``decimal``, ``gYear``, ``date``, ``string``) or
    ``anyURI`` for IRIs; ``lang`` the language of language-tagged strings. ``path`` is written with
    the prefixes of ``mapping.vocab`` and ``pk:``; a column whose path is a single property is a fact
    of the row and is output by CSVW (unless ``output`` is False)."""

    name: str
    path: str
    datatype: str = "string"
    lang: str | None = None
    many: bool = False
    output: bool = True
    title_en: str = ""
    where: str | None = None  # a pattern instead of the path: ``{row}`` and ``{value}`` are its variables

    @property
    def is_iri(self) -> bool:
        return self.datatype == "anyURI"

    @property
    def direct(self) -> bool:
        return self.output and self.where is None and all(c not in self.path for c in "/|^*+?()")


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str  # a Table name
    reference: str  # its column


@dataclass(frozen=True)
class Table:
    name: str  # file plankg-{name}.csv
    key: str  # the IRI column
    cls: str  # the class of the rows (a prefixed name)
    title_en: str
    columns: tuple[Column, ...]
    foreign_keys: tuple[ForeignKey, ...] = field(default=())

    @property
    def file_name(self) -> str:
        return f"plankg-{self.name}.csv"


def _iri(name: str, path: str, title: str, *, many: bool = False, output: bool = True) -> Column:
    return Column(name, path, "anyURI", many=many, output=output, title_en=title)


QUOTE = "oa:hasSelector/oa:exact"
TABLES: tuple[Table, ...] = (
    Table(
        "plans",
        "plan",
        "pk:Plan",
        "Plans: each plan in the corpus",
        (
            Column("title", "eli:title", lang="zh", title_en="title as printed"),
            _iri("period", "dcterms:temporal", "period of time"),
            Column("preamble", "pk:preamble", lang="zh", title_en="preamble"),
        ),
    ),
    Table(
        "divisions",
        "division",
        "eli:LegalResourceSubdivision",
        "Divisions: the parts of each plan (pillars, tasks) with their numbers, titles and texts",
        (
            _iri("class", "a", "class", many=True),
            _iri("part_of", "eli:is_part_of", "the division or plan it is part of"),
            Column(
                "plan",
                "eli:is_part_of+",
                "anyURI",
                output=False,
                title_en="the plan",
                # The plan test as a filter: as a join, Oxigraph walked the path back from every
                # plan for every division (1,391 divisions of 60 plans: 1.7 s, ~n^1.6); as a filter,
                # from the division up (0.2 s, linear). bench/results/2026-12-03-corpus-stream.md
                where="{row} eli:is_part_of+ {value} . FILTER EXISTS {{ {value} a pk:Plan }}",
            ),
            Column("number", "eli:number", title_en="number as printed"),
            Column("number_value", "pk:numberValue", "integer", title_en="number"),
            Column("position", "pk:position", "integer", title_en="order in its parent"),
            Column("title", "eli:title", lang="zh", title_en="title"),
            Column("title_en", "rdfs:label", lang="en", title_en="English label (hand-written)"),
            Column("declared_task_count", "pk:declaredTaskCount", "integer", title_en="key tasks declared"),
            Column("text", "pk:text", lang="zh", title_en="full text, normalised"),
        ),
    ),
    Table(
        "statistics",
        "observation",
        "qb:Observation",
        "Key-project statistics: count and investment per pillar and stage (RDF Data Cube observations)",
        (
            _iri("pillar", "pk:pillar", "pillar"),
            _iri("stage", "pk:stage", "stage"),
            Column("project_count", "pk:projectCount", "integer", title_en="projects"),
            Column("investment", "pk:investment", "decimal", title_en="investment, 100 million yuan"),
            Column("investment_yuan", "pk:investmentYuan", "decimal", title_en="investment, yuan"),
            Column("start_year", "pk:startYear", "gYear", many=True, title_en="start year(s)"),
            Column("quote", "prov:wasDerivedFrom/" + QUOTE, output=False, title_en="the clause as printed"),
        ),
        (ForeignKey("pillar", "divisions", "division"),),
    ),
    Table(
        "indicators",
        "indicator",
        "pk:Indicator",
        "Indicators the targets measure",
        (
            Column("label", "skos:prefLabel", lang="zh", title_en="label"),
            Column("label_en", "skos:prefLabel", lang="en", title_en="English label"),
        ),
    ),
    Table(
        "targets",
        "target",
        "pk:Target",
        "Targets and milestones: normalised value, unit, comparator, years, and the quote",
        (
            _iri("class", "a", "classes (a milestone is a target with a deadline)", many=True),
            _iri("task", "pk:task", "task"),
            _iri("indicator", "pk:indicator", "indicator"),
            Column("value", "pk:value", "decimal", title_en="normalised value"),
            _iri("unit", "qudt:unit", "unit"),
            _iri("comparator", "pk:comparator", "comparator"),
            Column("value_as_written", "pk:valueAsWritten", lang="zh", title_en="value as written"),
            Column("target_year", "pk:targetYear", "gYear", title_en="target year"),
            Column("baseline_year", "pk:baselineYear", "gYear", title_en="baseline year"),
            Column("deadline", "pk:deadline", "date", title_en="deadline"),
            Column("label", "rdfs:label", lang="zh", title_en="label"),
            Column("label_en", "rdfs:label", lang="en", title_en="English label"),
            _iri("span", "prov:wasDerivedFrom", "source span"),
            Column("quote", "prov:wasDerivedFrom/" + QUOTE, output=False, title_en="quote"),
        ),
        (ForeignKey("task", "divisions", "division"), ForeignKey("indicator", "indicators", "indicator")),
    ),
    Table(
        "organisations",
        "organisation",
        "org:Organization",
        "Organisations the plans name (W3C ORG)",
        (
            _iri("class", "a", "classes", many=True),
            Column("name", "skos:prefLabel", lang="zh", title_en="name"),
            Column("name_en", "skos:prefLabel", lang="en", title_en="English name"),
            Column("aliases", "skos:altLabel", lang="zh", many=True, title_en="other names"),
            _iri("parent", "org:subOrganizationOf", "part of"),
        ),
        (ForeignKey("parent", "organisations", "organisation"),),
    ),
    Table(
        "places",
        "place",
        "pk:Place",
        "Places the plans name: administrative divisions with their codes, and named regions",
        (
            _iri("class", "a", "classes", many=True),
            Column("name", "skos:prefLabel", lang="zh", title_en="name"),
            Column("name_en", "skos:prefLabel", lang="en", title_en="English name"),
            Column("aliases", "skos:altLabel", lang="zh", many=True, title_en="other names"),
            Column("code", "skos:notation", title_en="administrative division code"),
            _iri("level", "pk:divisionLevel", "division level"),
            _iri("broader", "skos:broader", "contained in"),
        ),
        (ForeignKey("broader", "places", "place"),),
    ),
    Table(
        "projects",
        "project",
        "pk:Project",
        "Named projects, with their task, organisations and places",
        (
            Column("name", "skos:prefLabel", lang="zh", title_en="name"),
            Column("name_en", "skos:prefLabel", lang="en", title_en="English name"),
            _iri("task", "pk:inTask", "task"),
            _iri("involves", "pk:involves", "organisations involved", many=True),
            _iri("place", "pk:place", "places", many=True),
        ),
        (ForeignKey("task", "divisions", "division"),),
    ),
    Table(
        "citations",
        "citation",
        "pk:Citation",
        "Citations: the documents each plan cites, implements or is based on, with the quote",
        (
            _iri("citing_plan", "pk:citingPlan", "the citing plan"),
            _iri("relation", "pk:citationRelation", "eli:cites, eli:based_on or eli:implements"),
            _iri(
                "cited",
                "oa:hasBody",
                "the cited document: a plan of the corpus, or a document known from citations",
            ),
            Column("cited_title", "oa:hasBody/eli:title", lang="zh", output=False, title_en="its title"),
            Column(
                "cited_number", "oa:hasBody/pk:documentNumber", output=False, title_en="its document number"
            ),
            _iri("span", "oa:hasTarget", "source span"),
            Column("quote", "oa:hasTarget/" + QUOTE, output=False, title_en="quote"),
        ),
        (ForeignKey("citing_plan", "plans", "plan"),),
    ),
    Table(
        "mentions",
        "mention",
        "pk:Mention",
        "Mentions: where the text names an organisation, place or project (Web Annotations)",
        (
            _iri("entity", "oa:hasBody", "entity named"),
            _iri("mention_in", "pk:mentionIn", "division or plan the mention is in"),
            _iri("span", "oa:hasTarget", "source span"),
            Column(
                "start", "oa:hasTarget/oa:hasSelector/oa:start", "integer", output=False, title_en="start"
            ),
            Column("end", "oa:hasTarget/oa:hasSelector/oa:end", "integer", output=False, title_en="end"),
            Column("quote", "oa:hasTarget/" + QUOTE, output=False, title_en="quote"),
        ),
    ),
)


def _prefixes(vocab: Vocab) -> dict[str, str]:
    return {**REUSED_PREFIXES, "pk": str(vocab.pk)}


def _expand(name: str, prefixes: dict[str, str]) -> str:
    prefix, _, local = name.partition(":")
    return prefixes[prefix] + local


def query(table: Table, vocab: Vocab, only: Sequence[str] = ()) -> str:
    """The SELECT filling ``table``: one row per node of its class, one variable per column; with
    ``only``, the rows of those IRIs alone (a rebuild's changed rows, ``mapping.incremental``)."""
    prefixes = _prefixes(vocab)
    head = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in sorted(prefixes.items()))
    select, patterns = [f"?{table.key}"], []
    for c in table.columns:
        value = f"?{c.name}_v"
        aggregate = (
            f'GROUP_CONCAT(DISTINCT STR({value}); SEPARATOR="{SEPARATOR}")'
            if c.many
            else f"SAMPLE(STR({value}))"
        )
        select.append(f"({aggregate} AS ?{c.name})")
        lang = f' FILTER(LANGMATCHES(LANG({value}), "{c.lang}"))' if c.lang else ""
        pattern = (
            c.where.format(row=f"?{table.key}", value=value)
            if c.where
            else f"?{table.key} {c.path} {value} ."
        )
        patterns.append(f"  OPTIONAL {{ {pattern}{lang} }}")
    return (
        f"{head}SELECT {' '.join(select)} WHERE {{\n"
        + (f"  VALUES ?{table.key} {{ {' '.join(f'<{iri}>' for iri in only)} }}\n" if only else "")
        + f"  ?{table.key} a {table.cls} .\n"
        + "\n".join(patterns)
        + f"\n}} GROUP BY ?{table.key} ORDER BY STR(?{table.key})"
    )


_KEYS = 500  # rows asked of the store at a time (a query's GROUP BY and ORDER BY hold them)
_RUN = 50_000  # row IRIs sorted in memory at a time; more are sorted in runs spilled to files
_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def keys(store: ox.Store, table: Table, vocab: Vocab, work: Path | None = None) -> Iterator[str]:
    """The IRIs of ``table``'s rows (the nodes of its class in the default graph) in the order of
    ``ORDER BY STR(?key)`` (code points: Python's string order), read from the store's index as it
    gives them and sorted ``_RUN`` at a time, the runs spilled to files (in ``work``, or the system's
    temporary directory) and merged: never every row's IRI at once."""
    cls = ox.NamedNode(_expand(table.cls, _prefixes(vocab)))
    found = store.quads_for_pattern(None, _TYPE, cls, ox.DefaultGraph())
    run = sorted(_iri_of(q.subject) for q in itertools.islice(found, _RUN))
    if len(run) < _RUN:  # one run: no file
        yield from run
        return
    with tempfile.TemporaryDirectory(prefix="plankg-keys-", dir=work) as directory:
        paths: list[Path] = []
        while run:
            path = Path(directory) / f"{len(paths)}.txt"
            path.write_text("".join(f"{iri}\n" for iri in run), encoding="utf-8")  # an IRI has no newline
            paths.append(path)
            run = sorted(_iri_of(q.subject) for q in itertools.islice(found, _RUN))
        del run
        with ExitStack() as stack:
            files = [stack.enter_context(p.open(encoding="utf-8", newline="\n")) for p in paths]
            for line in heapq.merge(*files):
                yield line[:-1]


def _iri_of(term: ox.NamedNode | ox.BlankNode | ox.Triple) -> str:
    assert isinstance(term, ox.NamedNode), term  # the store's nodes are IRIs (blank nodes skolemised)
    return term.value


def rows(
    store: ox.Store,
    table: Table,
    vocab: Vocab,
    only: Sequence[str] = (),
    work: Path | None = None,
) -> Iterator[list[str]]:
    """The table's cells as strings (multi-valued cells sorted and joined), rows sorted by IRI (with
    ``only``: the rows of those IRIs alone), one at a time as the store gives them.

    The store is asked for ``_KEYS`` rows at a time, by their IRIs in order (``keys``): one query of
    the whole table grouped and sorted every row in the store's memory (the divisions with their
    texts: ~0.1 MiB a plan), the same rows."""
    wanted = iter(sorted(only)) if only else keys(store, table, vocab, work)
    while batch := list(itertools.islice(wanted, _KEYS)):
        yield from _rows_of(store, table, vocab, batch)


def _rows_of(store: ox.Store, table: Table, vocab: Vocab, batch: Sequence[str]) -> Iterator[list[str]]:
    result = store.query(query(table, vocab, batch))
    assert isinstance(result, ox.QuerySolutions)
    for solution in result:
        key = solution[table.key]
        assert isinstance(key, ox.NamedNode)
        cells = [key.value]
        for c in table.columns:
            term = solution[c.name]
            text = term.value if isinstance(term, ox.Literal) else ""
            if c.many and text:
                text = SEPARATOR.join(sorted(set(text.split(SEPARATOR))))
            cells.append(text)
        yield cells


_ROWS = 1_000  # rows written at a time


def write_csv(path: Path, header: Sequence[str], body: Iterable[Sequence[str]]) -> tuple[int, str]:
    """A CSV file (UTF-8, no BOM, CRLF) of ``header`` and the rows of ``body``, written as they come:
    at most ``_ROWS`` rows' text is held. Its size and SHA-256."""
    sha256, size = hashlib.sha256(), 0
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    with path.open("wb") as f:

        def flush() -> None:
            nonlocal size
            data = buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            sha256.update(data)
            size += len(data)
            f.write(data)
            f.flush()  # on disk, not in a buffer: the rows written are not held

        writer.writerow(header)
        body = iter(body)
        while batch := list(itertools.islice(body, _ROWS)):
            writer.writerows(batch)
            flush()
        flush()
    return size, sha256.hexdigest()


def metadata(vocab: Vocab) -> dict[str, Any]:
    """The CSVW metadata (a table group) describing every table."""
    prefixes = _prefixes(vocab)
    tables = []
    for t in TABLES:
        columns: list[dict[str, Any]] = [
            {
                "name": t.key,
                "titles": t.key,
                "dc:description": f"IRI of the {t.key}",
                "datatype": "anyURI",
                "required": True,
                "suppressOutput": True,
            }
        ]
        for c in t.columns:
            col: dict[str, Any] = {"name": c.name, "titles": c.name, "datatype": c.datatype}
            if c.title_en:
                col["dc:description"] = c.title_en
            if c.many:
                col["separator"] = SEPARATOR
            if c.lang:
                col["lang"] = c.lang
            if c.direct:
                path = "rdf:type" if c.path == "a" else c.path
                col["propertyUrl"] = _expand(path, prefixes)
                if c.is_iri:
                    col["valueUrl"] = f"{{+{c.name}}}"
            else:
                col["suppressOutput"] = True
            columns.append(col)
        if not any(c.path == "a" for c in t.columns):
            columns.append(
                {
                    "name": "type",
                    "virtual": True,
                    "propertyUrl": _expand("rdf:type", prefixes),
                    "valueUrl": _expand(t.cls, prefixes),
                }
            )
        schema: dict[str, Any] = {"columns": columns, "primaryKey": t.key, "aboutUrl": f"{{+{t.key}}}"}
        if t.foreign_keys:
            by_name = {x.name: x for x in TABLES}
            schema["foreignKeys"] = [
                {
                    "columnReference": fk.column,
                    "reference": {"resource": by_name[fk.table].file_name, "columnReference": fk.reference},
                }
                for fk in t.foreign_keys
            ]
        tables.append({"url": t.file_name, "dc:title": t.title_en, "tableSchema": schema})
    return {
        "@context": "http://www.w3.org/ns/csvw",
        "dc:title": "plankg: the plans as tables",
        "dc:source": f"{vocab.base}dumps/plankg.nq",
        "dialect": {"header": True, "encoding": "utf-8", "lineTerminators": ["\r\n", "\n"]},
        "tables": tables,
    }


def _dump_file(name: str, fmt: str, media_type: str, data: bytes) -> DumpFile:
    return DumpFile(name, fmt, media_type, False, len(data), hashlib.sha256(data).hexdigest())


def write_tables(
    store: ox.Store | Callable[[], ox.Store], directory: Path, vocab: Vocab, work: Path | None = None
) -> list[DumpFile]:
    """Write every table of the default graph of ``store`` and ``csv-metadata.json`` into ``directory``
    (the build's new store: the tables are read from disk, not from a copy of the corpus in memory,
    and written row by row as the store answers, a batch of rows at a time: ``rows``). ``work``: where
    the row IRIs' sorted runs are spilled.

    ``store`` may be a function opening the store: each table is then read from the store opened anew
    and closed once its rows are written, so that what one table's reading made the store hold (the
    blocks and file indexes of its paths) is not held under the next (300 plans, measured apart: the ten
    tables from one open store peak at 148.2 MiB, each from its own at 139.8, below the 140.2 of one
    pass over every quad; bench/results/2026-12-03-corpus-s8-mem.md)."""
    return write_table_files(directory, vocab, _each_table(store, vocab, work))


def _each_table(
    store: ox.Store | Callable[[], ox.Store], vocab: Vocab, work: Path | None
) -> Iterator[tuple[Table, Iterable[Sequence[str]]]]:
    for t in TABLES:
        if isinstance(store, ox.Store):
            yield t, rows(store, t, vocab, work=work)
            continue
        opened = store()
        yield t, rows(opened, t, vocab, work=work)  # written whole before the next table is asked for
        del opened  # closed (its rows' generator is done): the next table opens the store anew


def write_table_files(
    directory: Path, vocab: Vocab, made: Iterable[tuple[Table, Iterable[Sequence[str]]]]
) -> list[DumpFile]:
    """The tables' rows (in ``TABLES``' order, one table at a time, each written as its rows come) and
    ``csv-metadata.json`` written into ``directory``."""
    files = []
    for t, body in made:
        size, sha256 = write_csv(directory / t.file_name, [t.key, *(c.name for c in t.columns)], body)
        files.append(DumpFile(t.file_name, "csv", CSV_MEDIA_TYPE, False, size, sha256))
    text = json.dumps(metadata(vocab), ensure_ascii=False, indent=2) + "\n"
    data = text.encode("utf-8")
    (directory / METADATA_FILE).write_bytes(data)
    files.append(_dump_file(METADATA_FILE, "csvw", CSVW_MEDIA_TYPE, data))
    return files
