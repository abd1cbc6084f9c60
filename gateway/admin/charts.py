"""A horizontal stacked bar chart drawn as inline SVG on the server: no script, no external asset.

One bar per row (a project), one segment per category (an access right); every segment's width is its count on one
scale shared by all bars, so bars compare across projects. Each segment carries `data-category` and `data-count` so
that the numbers stay machine-readable (and testable) in the page, and a `<title>` that browsers show on hover.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    counts: dict[str, int]
    note: str = ""


LABEL_WIDTH = 230
ROW_HEIGHT = 26
BAR_HEIGHT = 18
LEGEND_HEIGHT = 28
RIGHT_MARGIN = 60
MAX_LABEL_CHARS = 28


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _text_width(text: str, size: int = 12) -> float:
    """An estimate of the drawn width of `text`: CJK characters are about a full em wide, Latin ones about 0.6 em."""
    return sum(size if unicodedata.east_asian_width(ch) in ("W", "F") else size * 0.62 for ch in text)


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def stacked_bars(bars: Sequence[Bar], categories: Sequence[Category], *, width: int = 760, title: str = "") -> Markup:
    """The chart as an `<svg>` element ready to be placed in a page."""
    plot_width = max(width - LABEL_WIDTH - RIGHT_MARGIN, 50)
    largest = max((sum(bar.counts.get(c.key, 0) for c in categories) for bar in bars), default=0)
    scale = plot_width / largest if largest else 0.0
    height = LEGEND_HEIGHT + ROW_HEIGHT * max(len(bars), 1) + 6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" data-scale="{_fmt(scale)}">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
    x = LABEL_WIDTH
    for cat in categories:
        out.append(
            f'<rect class="legend" x="{x}" y="6" width="12" height="12" fill="{escape(cat.colour)}"/>'
            f'<text x="{x + 16}" y="16" font-size="12">{escape(cat.label)}</text>'
        )
        x += 16 + int(_text_width(cat.label)) + 18
    for index, bar in enumerate(bars):
        y = LEGEND_HEIGHT + index * ROW_HEIGHT
        label = bar.label + (f" {bar.note}" if bar.note else "")
        out.append(
            f'<text class="bar-label" x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 4}" text-anchor="end" font-size="12">'
            f"<title>{escape(label)}</title>{escape(_short(label))}</text>"
        )
        offset = float(LABEL_WIDTH)
        total = 0
        for cat in categories:
            count = int(bar.counts.get(cat.key, 0))
            if count <= 0:
                continue
            seg = count * scale
            out.append(
                f'<rect class="segment" x="{_fmt(offset)}" y="{y}" width="{_fmt(seg)}" height="{BAR_HEIGHT}" '
                f'fill="{escape(cat.colour)}" data-bar="{escape(bar.label)}" data-category="{escape(cat.key)}" '
                f'data-count="{count}"><title>{escape(bar.label)} — {escape(cat.label)}: {count}</title></rect>'
            )
            offset += seg
            total += count
        out.append(
            f'<text class="bar-total" x="{_fmt(offset + 6)}" y="{y + BAR_HEIGHT - 4}" font-size="12">{total}</text>'
        )
    if not bars:
        out.append(f'<text x="{LABEL_WIDTH}" y="{LEGEND_HEIGHT + 14}" font-size="12">0</text>')
    out.append("</svg>")
    return Markup("".join(out))
