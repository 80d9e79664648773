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
# The change set from the previous build (mapping.changes), written beside the dumps.
CHANGES_FILE = "changes.json"
ADDED_FILE = "changes.added.nq"
REMOVED_FILE = "changes.removed.nq"
