"""The IRIs of the first, one-plan release, answered with a 301 to the corpus's IRIs.

The first release published its one plan's parts right under ``{base}id/`` (``{base}id/task/18``,
``{base}id/plan``, ``{base}id/source`` …). In the corpus every plan has its own IRI space
``{base}id/plan/{slug}/``. The plan whose metadata says ``legacy_iris = true`` is described in the
dataset description (graph ``{base}id/graph/dataset``) with ``pk:legacyIriSpace "{base}id/"``; an IRI
under the base that the graph does not know is mapped by the one rule of
:func:`mapping.vocab.legacy_path` (``plan`` → ``plan/{slug}``, a plan part ``{part}/…`` →
``plan/{slug}/{part}/…``) and, when the graph knows the result, answered with ``301 Moved
Permanently`` to it (``/doc/…`` variants to the new document, extension and query kept). Nothing is
listed by hand: the redirects follow the rule and the graph.
"""

from __future__ import annotations

from mapping.vocab import legacy_path
from server.web import describe
from server.web.describe import Select, Site


def legacy_slug(select: Select, site: Site) -> str | None:
    """The slug of the plan that owns the legacy IRI space, from the dataset description."""
    rows = select(
        f"SELECT ?slug WHERE {{ GRAPH <{site.things}graph/dataset> {{ "
        f"?d <{site.terms}legacyIriSpace> {describe.sparql_string(site.things)} ; "
        f"<http://purl.org/dc/terms/identifier> ?slug }} }} LIMIT 1"
    )
    return rows[0]["slug"].value if rows else None


def moved(select: Select, site: Site, area: str, path: str) -> str | None:
    """The path under ``{base}id/`` that the legacy ``{base}{area}/{path}`` now has, when the graph
    knows it; else None."""
    if area != "id":
        return None
    slug = legacy_slug(select, site)
    if slug is None:
        return None
    new = legacy_path(path, slug)
    if new is None or not describe.exists(select, site.things + new):
        return None
    return new
