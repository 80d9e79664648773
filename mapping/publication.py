"""Who publishes a deployment's dataset, under which licence and themes: settings, never guesses.

The dataset description (``mapping.dumps.dataset_graph``) follows DCAT-AP 3.0.1. Some of what that
profile asks for is not in any plan and cannot be read from one: the publisher of the deployment, a
contact point, the licence of the published data. A deployment states them in its environment
(read by ``plankg build``); what it leaves unset is left out of the description, except where the
profile makes it mandatory — a ``dcat:Catalog`` needs a publisher — where the description says in
plain words that the publisher is not configured, rather than naming anyone.

| variable | what | default |
|---|---|---|
| ``PLANKG_PUBLISHER_NAME`` | the publisher (foaf:name) | none: "publisher not configured" |
| ``PLANKG_PUBLISHER_URL`` | its home page (an http(s) IRI) | none |
| ``PLANKG_CONTACT_EMAIL`` | contact point (vCard), as an e-mail address | none |
| ``PLANKG_LICENSE`` | licence of the published data (an http(s) IRI) | none |
| ``PLANKG_THEMES`` | EU data themes, space-separated codes | ``GOVE`` (government: the plans are so) |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

# The EU Publications Office's data-theme authority table: its 13 codes and their English labels.
DATA_THEMES = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
DATA_THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


class PublicationError(ValueError):
    """A publication setting has a value the description cannot carry; names the variable."""


@dataclass(frozen=True)
class Publication:
    publisher_name: str | None = None
    publisher_url: str | None = None
    contact_email: str | None = None
    license: str | None = None
    themes: tuple[str, ...] = ("GOVE",)

    def __post_init__(self) -> None:
        for name, value in (("PLANKG_PUBLISHER_URL", self.publisher_url), ("PLANKG_LICENSE", self.license)):
            if value is not None:
                parts = urlsplit(value)
                if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
                    raise PublicationError(f"{name} must be an absolute http(s) IRI, not {value!r}")
        if self.contact_email is not None and not _EMAIL.fullmatch(self.contact_email):
            raise PublicationError(f"PLANKG_CONTACT_EMAIL is not an e-mail address: {self.contact_email!r}")
        if self.publisher_name is not None and not self.publisher_name.strip():
            raise PublicationError("PLANKG_PUBLISHER_NAME is empty")
        unknown = [t for t in self.themes if t not in DATA_THEMES]
        if unknown:
            raise PublicationError(
                f"PLANKG_THEMES: {', '.join(unknown)} not an EU data theme "
                f"(one of {', '.join(sorted(DATA_THEMES))})"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Publication:
        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        themes = environ.get("PLANKG_THEMES")
        return cls(
            publisher_name=get("PLANKG_PUBLISHER_NAME"),
            publisher_url=get("PLANKG_PUBLISHER_URL"),
            contact_email=get("PLANKG_CONTACT_EMAIL"),
            license=get("PLANKG_LICENSE"),
            themes=tuple(themes.split()) if themes is not None else ("GOVE",),
        )

    def theme_iris(self) -> list[tuple[str, str]]:
        """Each theme's IRI in the EU authority table, with its English label."""
        return [(DATA_THEME_BASE + t, DATA_THEMES[t]) for t in self.themes]
