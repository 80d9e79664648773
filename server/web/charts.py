"""Charts drawn on the server as SVG from live queries: readable without JavaScript, no library.

Each chart is a query (through the same ``Select`` as the pages) turned into plain data, and a
renderer from that data to an SVG string. Bars are ``<rect class="bar">`` with a ``<title>`` each,
so a screen reader, a tooltip and a test can all read the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from html import escape

from server.web.describe import RDFS, Select, Site, within

# The stages a pillar's total is split into, drawn as stacked segments.
PARTS = ("continuing", "new", "reserve")
PART_LABELS = {
    "continuing": ("续建", "continuing"),
    "new": ("新开工", "new"),
    "reserve": ("谋划储备", "reserve"),
}
PART_COLOURS = {"continuing": "#2b6cb0", "new": "#38a169", "reserve": "#d69e2e"}


@dataclass(frozen=True)
class PillarInvestment:
    number: int
    label: str
    by_stage: dict[str, Decimal]  # stage key → 亿元

    @property
    def total(self) -> Decimal:
        return self.by_stage.get("total", sum((self.by_stage.get(p, Decimal(0)) for p in PARTS), Decimal(0)))


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def investment_by_pillar(site: Site, select: Select, graph: str | None = None) -> list[PillarInvestment]:
    """The investment of each pillar by stage; of one plan when ``graph`` names its graph."""
    pk = site.terms
    pattern = f"""
          ?obs <{pk}pillar> ?pillar ; <{pk}stage> ?stage ; <{pk}investment> ?investment .
          OPTIONAL {{ ?pillar <{pk}position> ?position }}
          OPTIONAL {{ ?pillar <{RDFS}label> ?label FILTER(LANGMATCHES(LANG(?label), "zh")) }}"""
    rows = select(f"SELECT ?pillar ?position ?label ?stage ?investment WHERE {{ {within(graph, pattern)} }}")
    pillars: dict[str, PillarInvestment] = {}
    for row in rows:
        iri = row["pillar"].value
        number_text = row["position"].value if "position" in row else iri.rsplit("/", 1)[-1]
        number = int(number_text) if number_text.isdigit() else 0
        entry = pillars.setdefault(
            iri, PillarInvestment(number, row["label"].value if "label" in row else iri, {})
        )
        amount = _decimal(row["investment"].value)
        if amount is not None:
            entry.by_stage[row["stage"].value.rsplit("/", 1)[-1]] = amount
    return sorted(pillars.values(), key=lambda p: p.number)


def targets_by_year(site: Site, select: Select, graph: str | None = None) -> list[tuple[str, int]]:
    """Number of targets per target year (pk:targetYear; milestones count by their year too); of one
    plan when ``graph`` names its graph."""
    pk = site.terms
    pattern = within(graph, f"?target a <{pk}Target> ; <{pk}targetYear> ?year .")
    rows = select(
        f"SELECT ?year (COUNT(DISTINCT ?target) AS ?n) WHERE {{ {pattern} }} GROUP BY ?year ORDER BY ?year"
    )
    return [(r["year"].value, int(r["n"].value)) for r in rows if "year" in r]


# --- rendering ---------------------------------------------------------------------------------

NUMERALS = "一二三四五六七八九十"


def _numeral(n: int) -> str:
    if 1 <= n <= 10:
        return NUMERALS[n - 1]
    if 11 <= n <= 19:
        return "十" + NUMERALS[n - 11]
    return str(n)


def _fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def investment_svg(data: list[PillarInvestment]) -> str:
    """Horizontal stacked bars: one per pillar, segments continuing / new / reserve, in 亿元."""
    width, left, right, bar, gap, top = 760, 250, 90, 22, 10, 40
    height = top + len(data) * (bar + gap) + 30
    maximum = max((p.total for p in data), default=Decimal(0)) or Decimal(1)
    scale = Decimal(width - left - right) / maximum
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-investment" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="chart-investment-title">',
        '<title id="chart-investment-title" lang="en">Investment in key projects by pillar and stage '
        "(100 million yuan)</title>",
    ]
    x = left
    for part in PARTS:
        zh, en = PART_LABELS[part]
        out.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{PART_COLOURS[part]}"/>'
            f'<text x="{x + 16}" y="19" class="legend"><tspan lang="zh">{zh}</tspan> '
            f'<tspan lang="en">{en}</tspan></text>'
        )
        x += 150
    if not data:
        out.append(f'<text x="10" y="{top + 16}" lang="en">No statistics in the graph.</text>')
    for i, pillar in enumerate(data):
        y = top + i * (bar + gap)
        label = pillar.label if len(pillar.label) <= 14 else pillar.label[:13] + "…"
        out.append(
            f'<text x="{left - 8}" y="{y + bar - 6}" text-anchor="end" class="axis" lang="zh">'
            f"{escape(_numeral(pillar.number))}、{escape(label)}</text>"
        )
        x_pos = Decimal(left)
        for part in PARTS:
            amount = pillar.by_stage.get(part)
            if amount is None:
                continue
            w = amount * scale
            zh, en = PART_LABELS[part]
            out.append(
                f'<rect class="bar" data-pillar="{pillar.number}" data-stage="{part}" '
                f'x="{x_pos:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{PART_COLOURS[part]}">'
                f"<title>{escape(_numeral(pillar.number))} {zh} / {en}: {_fmt(amount)} 亿元</title></rect>"
            )
            x_pos += w
        out.append(
            f'<text x="{x_pos + 6:.1f}" y="{y + bar - 6}" class="value" data-pillar="{pillar.number}">'
            f"{_fmt(pillar.total)}</text>"
        )
    out.append(
        f'<text x="{left}" y="{height - 8}" class="axis" lang="zh">单位:亿元 '
        f'<tspan lang="en">(unit: 100 million yuan)</tspan></text>'
    )
    out.append("</svg>")
    return "".join(out)


def targets_svg(data: list[tuple[str, int]]) -> str:
    """Vertical bars: number of targets per target year."""
    width, height, bottom, top, left = 420, 240, 40, 30, 40
    maximum = max((n for _, n in data), default=0) or 1
    slot = (width - left - 10) / max(len(data), 1)
    bar = min(60.0, slot * 0.6)
    plot = height - top - bottom
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-targets" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="chart-targets-title">',
        '<title id="chart-targets-title" lang="en">Targets by target year</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#555"/>',
    ]
    if not data:
        out.append(f'<text x="{left}" y="{top + 20}" lang="en">No targets with a year in the graph.</text>')
    for i, (year, n) in enumerate(data):
        h = plot * n / maximum
        x = left + i * slot + (slot - bar) / 2
        y = height - bottom - h
        out.append(
            f'<rect class="bar" data-year="{escape(year)}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}" fill="#805ad5"><title>{escape(year)}: {n}</title></rect>'
            f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="value">{n}</text>'
            f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" class="axis">'
            f"{escape(year)}</text>"
        )
    out.append(
        f'<text x="{left}" y="{height - 6}" class="axis"><tspan lang="zh">目标年份</tspan> '
        f'<tspan lang="en">target year</tspan></text>'
    )
    out.append("</svg>")
    return "".join(out)
