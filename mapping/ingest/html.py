"""A plan published as a web page: the article body found with jusText (boilerplate by link density
and length, paragraph by paragraph, each with its element path), then the region that holds the most
article text.

jusText has no Chinese stop-word list, so it runs language-independent (no stop words; lengths in
characters, fitted to Chinese: a paragraph of 40 characters or more is long, of under 10 short). Its
verdicts alone keep a footer's long lines and a sidebar's headings, so the article is the deepest
element that holds at least ``_ARTICLE_SHARE`` of the good text; inside it, the text starts at its
first ``h1``/``h2`` when it has one (a page's date, source and print links stand above the title).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import justext
from lxml import etree

from mapping.ingest.model import Extracted, Format, IngestError, Located, Location, LocationKind, sha256

_TOOL = f"jusText {metadata.version('jusText')}"
_ARTICLE_SHARE = 0.6
_MIN_ARTICLE = 50  # characters


def _ancestors(xpath: str) -> list[str]:
    steps = xpath.strip("/").split("/")
    return ["/" + "/".join(steps[:k]) for k in range(1, len(steps))]


def extract_html(path: Path, data: bytes) -> Extracted:
    try:
        paragraphs = justext.justext(
            data,
            frozenset(),
            length_low=10,
            length_high=40,
            stopwords_low=0.0,
            stopwords_high=0.0,
            max_link_density=0.2,
            no_headings=False,
            default_encoding="utf-8",
        )
    except (etree.ParserError, justext.core.JustextError, ValueError) as err:
        raise IngestError(path, f"not a readable HTML page: {err}") from err
    good = [p for p in paragraphs if p.class_type == "good" and p.text.strip()]
    total = sum(len(p.text) for p in good)
    if total < _MIN_ARTICLE:
        raise IngestError(path, f"no article: the page holds no body of text ({total} characters of prose)")
    share: dict[str, int] = {}
    for p in good:
        for ancestor in _ancestors(p.xpath):
            share[ancestor] = share.get(ancestor, 0) + len(p.text)
    article = max((a for a, n in share.items() if n >= _ARTICLE_SHARE * total), key=lambda a: a.count("/"))
    inside = [p for p in good if p.xpath.startswith(article + "/")]
    heads = [k for k, p in enumerate(inside) if p.dom_path.split(".")[-1] in {"h1", "h2"}]
    if heads:
        inside = inside[heads[0] :]
    parts: list[str] = []
    locations: list[Located] = []
    length = 0
    for p in inside:
        text = p.text.strip()
        if parts:
            parts.append("\n")
            length += 1
        locations.append(Located(length, length + len(text), Location(LocationKind.ELEMENT, path=p.xpath)))
        parts.append(text)
        length += len(text)
    text = "".join(parts)
    if len(text) < _MIN_ARTICLE:
        raise IngestError(path, f"no article: the page's main region holds {len(text)} characters of prose")
    return Extracted(
        source_name=path.name,
        format=Format.HTML,
        text=text,
        original_sha256=sha256(data),
        byte_size=len(data),
        text_sha256=sha256(text.encode("utf-8")),
        locations=tuple(locations),
        ocr_spans=(),
        tool=_TOOL,
    )
