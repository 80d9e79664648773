"""Where a span of an extracted text sits in the original it was extracted from, as a link.

A plan read from a published PDF, web page or Word document has, for every span, ``pk:inOriginal``
places (``mapping.original_rdf``): the original file and a selector (a page, a body paragraph, a
table cell, an element path). The server serves the original at ``{base}source/{file name}``; the link
opens it at that place where the format has a fragment for it:

* PDF: ``…/plan.pdf#page=5`` (RFC 3778, understood by browsers' PDF viewers);
* HTML: a text fragment ``…/page.html#:~:text=…`` holding the quote (or its first and last words
  when it is long) — the element path is not a fragment, the text is;
* DOCX: no fragment exists; the link is to the file and the label names the paragraph or cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from server.web.describe import DCAT, DCTERMS, IANA_MEDIA_TYPES, OA, RDF_TYPE, Select, Site, sparql_iri

RDF_VALUE = RDF_TYPE.rsplit("#", 1)[0] + "#value"
PDF = "application/pdf"
HTML = "text/html"
TEXT_FRAGMENT_WHOLE = 40  # a quote up to this long is the text fragment; a longer one its two ends
TEXT_FRAGMENT_END = 12


@dataclass(frozen=True)
class OriginalPlace:
    """A place in the original file: the link that opens it there and what the place is."""

    href: str
    label: str  # e.g. "page 5", "paragraph 12", "table 1, row 3, cell 2", "/html/body/div[2]/p[3]"
    file: str  # the original's file name


def text_fragment(text: str) -> str:
    """A text fragment directive (``:~:text=…``, WICG Text Fragments) finding ``text``: the whole text
    when short, else its first and last words (``textStart,textEnd``), each percent-encoded with the
    directive's delimiters ``-``, ``,`` and ``&`` escaped."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""

    def enc(part: str) -> str:
        return quote(part, safe="").replace("-", "%2D")

    whole = " ".join(lines)
    if len(whole) <= TEXT_FRAGMENT_WHOLE and len(lines) == 1:
        return ":~:text=" + enc(whole)
    return f":~:text={enc(lines[0][:TEXT_FRAGMENT_END])},{enc(lines[-1][-TEXT_FRAGMENT_END:])}"


def places(
    site: Site, select: Select, spans: Sequence[str], quotes: dict[str, str]
) -> dict[str, list[OriginalPlace]]:
    """The places in the original of each of ``spans`` (by span IRI, in text order), linked to the
    original served at ``{prefix}source/{file name}``; ``quotes`` gives each span's quote (for the
    text fragment of an HTML original)."""
    if not spans:
        return {}
    values = " ".join(sparql_iri(s) for s in spans)
    pk = site.terms
    rows = select(
        f"""SELECT ?span ?place ?name ?type ?value ?page ?paragraph ?table ?row ?cell WHERE {{
          VALUES ?span {{ {values} }}
          ?span <{pk}inOriginal> ?place . ?place <{OA}hasSource> ?original ; <{OA}hasSelector> ?selector .
          ?original <{DCTERMS}title> ?name ; <{DCAT}mediaType> ?type .
          OPTIONAL {{ ?selector <{RDF_VALUE}> ?value }}
          OPTIONAL {{ ?selector <{pk}pageNumber> ?page }}
          OPTIONAL {{ ?selector <{pk}paragraphIndex> ?paragraph }}
          OPTIONAL {{ ?selector <{pk}tableIndex> ?table ; <{pk}rowIndex> ?row ; <{pk}cellIndex> ?cell }}
        }}"""
    )
    found: dict[str, list[tuple[int, OriginalPlace]]] = {}
    for row in rows:
        span, name = row["span"].value, row["name"].value
        media_type = row["type"].value.removeprefix(IANA_MEDIA_TYPES)
        href = f"{site.prefix}source/{quote(name)}"
        order = int(row["place"].value.rsplit("/", 1)[-1]) if row["place"].value[-1:].isdigit() else 0
        if "page" in row:
            place = OriginalPlace(f"{href}#page={row['page'].value}", f"page {row['page'].value}", name)
        elif "cell" in row:
            label = f"table {row['table'].value}, row {row['row'].value}, cell {row['cell'].value}"
            place = OriginalPlace(href, label, name)
        elif "paragraph" in row:
            place = OriginalPlace(href, f"paragraph {row['paragraph'].value}", name)
        elif media_type == HTML:
            fragment = text_fragment(quotes.get(span, ""))
            label = row["value"].value if "value" in row else "the page"
            place = OriginalPlace(f"{href}#{fragment}" if fragment else href, label, name)
        else:
            place = OriginalPlace(href, row["value"].value if "value" in row else name, name)
        found.setdefault(span, []).append((order, place))
    return {span: [p for _, p in sorted(items, key=lambda i: i[0])] for span, items in found.items()}
