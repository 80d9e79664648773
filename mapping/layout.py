"""The names of the build's output files, for those who read them without writing them.

The server serves the dump directory by these names; :mod:`mapping.dumps` writes it. Kept apart from
the writer so that reading the layout needs neither pyoxigraph nor the mapping pipeline.
"""

from __future__ import annotations

DUMP_STEM = "plankg"  # every dump is plankg.{extension}, plain and .gz
SUMS_FILE = "SHA256SUMS"
MANIFEST_FILE = "manifest.json"
DESCRIPTION_FILE = "void.ttl"
GZIP_MEDIA_TYPE = "application/gzip"
METADATA_FILE = "csv-metadata.json"  # CSVW metadata of the CSV tables (mapping.tables)
CSVW_MEDIA_TYPE = "application/csvm+json"
PLAN_STEM_PREFIX = "plan-"  # one plan's dumps: plan-{slug}.{extension}, plain and .gz, beside the corpus's
# The text extracted from a plan published as PDF, HTML or DOCX (the text its spans' offsets count), kept
# with the dumps as sources/{original's file name}.txt and served at {base}source/{that name}.
SOURCES_DIR = "sources"
EXTRACTED_SUFFIX = ".txt"


def extracted_name(original: str) -> str:
    """The name of the text extracted from the original ``original``: ``plan.pdf`` → ``plan.pdf.txt``."""
    return original + EXTRACTED_SUFFIX


def plan_stem(slug: str) -> str:
    """The stem of one plan's dump files (its graph alone; ``.nq`` in its named graph)."""
    return PLAN_STEM_PREFIX + slug


# What `plankg publish` writes into a remote SPARQL engine, for the remote store to read back.
# The build's default graph goes into a fresh engine graph per build ({base}id/graph/build/{build_id});
# its named graphs keep their names; the record graph ({base}id/graph/published) is written last and
# says which build is served: <record> dcterms:identifier "build id"; sd:defaultGraph <that graph>;
# sd:namedGraph <each named graph>; void:triples (quads in all); the default graph's void:triples;
# dcterms:replaces <the default graph of the build before>.
PUBLISHED_RECORD_PATH = "id/graph/published"
PUBLISHED_BUILD_PATH = "id/graph/build/"
DCTERMS_IDENTIFIER = "http://purl.org/dc/terms/identifier"
DCTERMS_REPLACES = "http://purl.org/dc/terms/replaces"
SD_DEFAULT_GRAPH = "http://www.w3.org/ns/sparql-service-description#defaultGraph"
SD_NAMED_GRAPH = "http://www.w3.org/ns/sparql-service-description#namedGraph"
VOID_TRIPLES = "http://rdfs.org/ns/void#triples"
# The change set from the previous build (mapping.changes), written beside the dumps.
CHANGES_FILE = "changes.json"
ADDED_FILE = "changes.added.nq"
REMOVED_FILE = "changes.removed.nq"
