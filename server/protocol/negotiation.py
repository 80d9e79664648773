"""HTTP content negotiation, written once for the whole server.

``negotiate(accept, offers)`` picks, from the formats a route can produce (in the server's order of
preference), the one the client wants most: q-values, ``type/*`` and ``*/*`` wildcards, the most
specific matching range deciding a media type's q (RFC 9110 §12.5.1). A missing or empty Accept
header means "anything", so the default (first offer) is chosen. Nothing acceptable raises
:class:`NotAcceptable`, which the error table turns into 406.

The q-list syntax (``token;param=value;q=0.5, ...``) is parsed once, by :func:`parse_qlist`, for
Accept and for Accept-Encoding (:func:`coding_quality`, :func:`accepts_coding`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.errors import NotAcceptable
from server.protocol.formats import Format, by_name


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """How specifically this range matches ``media_type`` (-1: not at all)."""
        mtype, _, msub = media_type.partition("/")
        if self.type == "*":
            return 0 if self.subtype == "*" else -1
        if self.type != mtype:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == msub else -1


def parse_qlist(header: str | None) -> list[tuple[str, float]]:
    """The (lower-cased token, q) pairs of a comma-separated q-list (Accept, Accept-Encoding).

    A missing q is 1, an unreadable one 0; q is clamped to [0, 1]. Empty elements are skipped.
    """
    items: list[tuple[str, float]] = []
    for part in (header or "").split(","):
        token, *params = (p.strip() for p in part.split(";"))
        if not token:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        items.append((token.lower(), q))
    return items


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are skipped, not fatal."""
    ranges: list[MediaRange] = []
    for essence, q in parse_qlist(header):
        mtype, slash, msub = essence.partition("/")
        if not slash or not mtype or not msub or (mtype == "*" and msub != "*"):
            continue
        ranges.append(MediaRange(mtype, msub, q))
    return ranges


# Content codings known under two names (RFC 9110 §8.4.1.3).
_CODING_ALIASES = {"gzip": "x-gzip", "x-gzip": "gzip", "compress": "x-compress", "x-compress": "compress"}


def coding_quality(header: str | None, coding: str) -> float:
    """The q an Accept-Encoding header gives a content coding (RFC 9110 §12.5.3).

    The coding named (or its alias) decides, else ``*``; a coding not mentioned is not acceptable.
    """
    names = {coding.lower(), _CODING_ALIASES.get(coding.lower(), coding.lower())}
    wildcard: float | None = None
    for token, q in parse_qlist(header):
        if token in names:
            return q
        if token == "*":
            wildcard = q
    return wildcard if wildcard is not None else 0.0


def accepts_coding(header: str | None, coding: str) -> bool:
    """Whether a client sending this Accept-Encoding takes ``coding`` (q above 0)."""
    return coding_quality(header, coding) > 0


def _match(ranges: Sequence[MediaRange], media_type: str) -> tuple[int, float]:
    """(specificity, q) of the most specific range matching ``media_type``; (-1, 0) if none does."""
    best, best_q = -1, 0.0
    for r in ranges:
        s = r.specificity(media_type)
        if s > best:
            best, best_q = s, r.q
    return best, best_q if best >= 0 else 0.0


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """The q the client gives ``media_type``: that of the most specific range matching it."""
    return _match(ranges, media_type)[1]


def format_quality(ranges: Sequence[MediaRange], offer: Format) -> float:
    """The q of a format with several media types: the most specifically named one decides, so that
    excluding ``application/sparql-results+json`` is not undone by ``*/*`` matching its alias."""
    return max(_match(ranges, mt) for mt in offer.media_types)[1]


def negotiate(accept: str | None, offers: Sequence[Format], *, format_name: str | None = None) -> Format:
    """Choose among ``offers`` (server preference order) for an Accept header.

    ``format_name`` (the ``?format=`` parameter, for links and browsers) overrides the header.
    """
    if not offers:
        raise ValueError("negotiate() needs at least one offer")
    if format_name is not None:  # format= names none: 406, not the Accept header's choice
        chosen = by_name(format_name)
        if chosen is None or chosen not in offers:
            raise NotAcceptable(offers, f"unknown or inapplicable format {format_name!r}")
        return chosen
    candidates = [f for f in offers if not f.by_name_only]
    ranges = parse_accept(accept)
    if not ranges:
        return candidates[0]
    best: Format | None = None
    best_q = 0.0
    for offer in candidates:
        q = format_quality(ranges, offer)
        if q > best_q:
            best, best_q = offer, q
    if best is None:
        raise NotAcceptable(offers, f"none of the offered media types is acceptable to {accept!r}")
    return best
