"""Charts drawn on the server as SVG markup: plain Python from numbers, no JavaScript.

`profile_chart` draws one horizontal bar per row: the row's maximum as a pale track, its points as
a solid bar and a comparison figure (the cluster's average) as a dark tick. The SVG scales with its
container (viewBox, width 100 %), so it reads at 375 px and in print; it carries role="img", a
<title> and a <desc>, and the page shows the same numbers as a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 600
LABEL = 150  # room for the row labels on the left
BAR = 18
GAP = 14
TOP = 8


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: Decimal
    maximum: Decimal
    mark: Decimal  # the comparison figure (e.g. the cluster's average)


def profile_chart(bars: Sequence[Bar], *, title: str, description: str) -> Markup:
    """An accessible SVG bar chart of `bars`; each bar scaled to the largest maximum."""
    scale = max((b.maximum for b in bars), default=Decimal(0)) or Decimal(1)
    span = WIDTH - LABEL - 10
    height = TOP * 2 + len(bars) * (BAR + GAP)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape(description)}</desc>',
    ]
    for index, bar in enumerate(bars):
        y = TOP + index * (BAR + GAP)
        track = _length(bar.maximum, scale, span)
        filled = _length(min(bar.value, bar.maximum), scale, span)
        mark = _length(bar.mark, scale, span, start=LABEL)
        parts += [
            f'<text x="{LABEL - 6}" y="{y + BAR - 4}" text-anchor="end" class="chart-label">{escape(bar.label)}</text>',
            f'<rect x="{LABEL}" y="{y}" width="{track}" height="{BAR}" class="chart-track"/>',
            f'<rect x="{LABEL}" y="{y}" width="{filled}" height="{BAR}" class="chart-bar"/>',
            f'<line x1="{mark}" y1="{y - 3}" x2="{mark}" y2="{y + BAR + 3}" class="chart-mark"/>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def _length(value: Decimal, scale: Decimal, span: int, start: int = 0) -> str:
    """A figure's length (or, from `start`, its position) in SVG units, to one decimal; never negative."""
    return f"{start + max(value, Decimal(0)) / scale * span:.1f}"


def value_chart(
    rows: Sequence[tuple[str, Decimal | int]], *, ident: str, title: str, description: str, label: int = 240
) -> Markup:
    """One horizontal bar per (label, value), scaled to the largest value, the value written after the bar.

    For counts (clusters per stage, units per score band) and a cluster's ranking. `ident` keeps the
    title and description ids apart when a page shows several charts.
    """
    scale = Decimal(max((value for _label, value in rows), default=0) or 1)
    span = WIDTH - label - 60
    height = TOP * 2 + max(len(rows), 1) * (BAR + GAP)
    ident = escape(ident)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>',
    ]
    for index, (name, value) in enumerate(rows):
        y = TOP + index * (BAR + GAP)
        name = name if len(name) <= label // 7 else name[: label // 7 - 1] + "…"  # the table beside has it whole
        length = _length(Decimal(value), scale, span)
        parts += [
            f'<text x="{label - 6}" y="{y + BAR - 4}" text-anchor="end" class="chart-label">{escape(name)}</text>',
            f'<rect x="{label}" y="{y}" width="{length}" height="{BAR}" class="chart-bar"/>',
            f'<text x="{label + float(length) + 6:.1f}" y="{y + BAR - 4}" class="chart-label">'
            f"{escape(_figure(value))}</text>",
        ]
    parts.append("</svg>")
    return Markup("".join(parts))


def _figure(value: Decimal | int) -> str:
    """A figure as Vietnamese writes it: decimal comma, at most two places, no trailing zeros."""
    if isinstance(value, int):
        return str(value)
    text = f"{value.quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
