"""Charts drawn on the server as inline SVG: no script, no CDN; every text is escaped."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from markupsafe import Markup, escape

from matcher.histograms import nice_ceiling

# One hue, light to dark: readable in print and for the common colour-vision deficiencies.
SCALE = ("#f3ede6", "#e2cdb5", "#c9a27a", "#a8733f", "#7a4b1e", "#4e2e10")
BAR = "#7a4b1e"
INK = "#1d2433"
MUTED = "#5d6778"
GRID = "#dde2ea"
SAME_TEAM = "#e4e7ed"  # the heatmap's empty diagonal


def _text(x: float, y: float, text: object, **attrs: object) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def _svg(
    width: int,
    height: int,
    title: str,
    body: list[str],
    css_class: str = "chart",
    description: str | None = None,
) -> Markup:
    desc = f"<desc>{escape(description)}</desc>" if description else ""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'font-family="system-ui, sans-serif" font-size="12" fill="{INK}">'
        f"<title>{escape(title)}</title>{desc}"
    )
    return Markup(head + "".join(body) + "</svg>")


def tick_count(top: float) -> int:
    """Grid steps that land on round values: 5 for 1 or 5 times a power of ten, else 4."""
    leading = top / 10 ** math.floor(math.log10(top)) if top > 0 else 1
    return 5 if round(leading) in (1, 5) else 4


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    x_label: str,
    y_label: str,
    max_value: float | None = None,
    value_format: str = "{:g}",
    width: int = 620,
    height: int = 260,
) -> Markup:
    """A vertical bar chart with a title, labelled axes and the value above each bar."""
    left, right, top, bottom = 56, 12, 34, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    finite = [v for v in values if math.isfinite(v)]
    top_value = max_value if max_value is not None else nice_ceiling(max(finite, default=0.0))
    top_value = top_value if top_value > 0 else 1.0
    body = [_text(width / 2, 18, title, text_anchor="middle", font_weight="700", font_size="14")]
    ticks = tick_count(top_value)
    for k in range(ticks + 1):  # horizontal grid lines with their values
        level = top_value * k / ticks
        y = top + plot_h - plot_h * k / ticks
        body.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 6, y + 4, value_format.format(level), text_anchor="end"))
    count = max(len(values), 1)
    slot = plot_w / count
    every = max(1, math.ceil(count / 14))  # thin out x labels so they never overlap
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        shown = value if math.isfinite(value) else 0.0
        h = plot_h * min(max(shown / top_value, 0.0), 1.0)
        x = left + k * slot + slot * 0.15
        y = top + plot_h - h
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{BAR}"><title>{escape(label)}: {escape(value_format.format(shown))}</title>'
            "</rect>"
        )
        if count <= 24:
            body.append(
                _text(
                    x + slot * 0.35,
                    y - 4,
                    value_format.format(shown),
                    text_anchor="middle",
                    font_size="10",
                    fill=MUTED,
                )
            )
        if k % every == 0:
            body.append(
                _text(
                    x + slot * 0.35, top + plot_h + 16, label, text_anchor="middle", font_size="11"
                )
            )
    body.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
        f'stroke="{INK}"/>'
    )
    body.append(_text(left + plot_w / 2, height - 12, x_label, text_anchor="middle", fill=MUTED))
    body.append(
        _text(
            14,
            top + plot_h / 2,
            y_label,
            text_anchor="middle",
            fill=MUTED,
            transform=f"rotate(-90 14 {top + plot_h / 2:.1f})",
        )
    )
    return _svg(width, height, title, body)


def histogram_of_counts(
    counts: Sequence[int],
    title: str,
    x_label: str,
    upper: float,
    max_count: int | None = None,
    width: int = 440,
    height: int = 240,
) -> Markup:
    """A histogram drawn from its bins' counts (equal bins from 0 to upper)."""
    step = upper / len(counts)
    labels = [f"{k * step:g}–{(k + 1) * step:g}" for k in range(len(counts))]
    top = nice_ceiling(max(max_count or 0, max(counts, default=0), 1))
    return bar_chart(
        labels,
        counts,
        title,
        x_label,
        "groups",
        max_value=top,
        value_format="{:g}",
        width=width,
        height=height,
    )


def colour_bins(peak: int) -> list[tuple[int, int, str]]:
    """The legend of a 0..peak count scale: (lowest, highest, colour) per bin, none excluded."""
    return list(_bins(peak))


@lru_cache(maxsize=256)  # a heatmap asks once per cell, with the same peak
def _bins(peak: int) -> tuple[tuple[int, int, str], ...]:
    levels = min(max(peak, 0), len(SCALE) - 1)
    bins = []
    for b in range(1, levels + 1):
        low, high = peak * (b - 1) // levels + 1, peak * b // levels
        shade = 1 + round((b - 1) * (len(SCALE) - 2) / max(levels - 1, 1))
        bins.append((low, high, SCALE[shade]))
    return tuple(bins)


def colour_for(value: int, peak: int) -> str:
    """The fill of one count on a 0..peak scale: white for none, darker for more."""
    if value <= 0 or peak <= 0:
        return "#ffffff"
    for low, high, colour in _bins(peak):
        if low <= value <= high:
            return colour
    return SCALE[-1]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def heatmap_summary(
    labels: Sequence[str],
    matrix: Sequence[Sequence[int]],
    most: int = 5,
    verb: str = "have met at least once",
    alone_words: str = "Not met any other team shown yet",
) -> str:
    """The heatmap in words, for screen readers: coverage, the busiest pairs, the loners."""
    n = len(labels)
    pairs = [
        (matrix[i][j], labels[i], labels[j])
        for i in range(n)
        for j in range(i + 1, n)
        if matrix[i][j] > 0
    ]
    possible = n * (n - 1) // 2
    parts = [f"{_plural(n, 'team', 'teams')}; {len(pairs)} of {possible} team pairs {verb}."]
    if pairs:
        pairs.sort(key=lambda p: (-p[0], str(p[1]).casefold(), str(p[2]).casefold()))
        busiest = "; ".join(
            f"{a} and {b} ({_plural(count, 'pair', 'pairs')} of people)"
            for count, a, b in pairs[:most]
        )
        parts.append(f"Most connected: {busiest}.")
    alone = [labels[i] for i in range(n) if not any(matrix[i][j] for j in range(n) if j != i)]
    if alone:
        parts.append(f"{alone_words}: {', '.join(map(str, alone))}.")
    return " ".join(parts)


def heatmap(
    labels: Sequence[str],
    matrix: Sequence[Sequence[int]],
    title: str,
    legend: str,
    cell: int = 34,
    verb: str = "have met at least once",
    alone_words: str = "Not met any other team shown yet",
) -> Markup:
    """A symmetric team x team grid; each cell's colour and number is the count for that pair."""
    n = len(labels)
    longest = max((len(str(label)) for label in labels), default=4)
    margin = min(max(longest * 7 + 12, 60), 180)
    top = 40 + margin
    width = margin + n * cell + 200
    height = top + n * cell + 30
    peak = int(max((max(row, default=0) for row in matrix), default=0))
    body = [_text(8, 18, title, font_weight="700", font_size="14")]
    for i, label in enumerate(labels):
        short = label if len(label) <= 24 else label[:23] + "…"
        y = top + i * cell + cell / 2 + 4
        body.append(_text(margin - 6, y, short, text_anchor="end"))
        x = margin + i * cell + cell / 2 + 4
        body.append(_text(x, top - 6, short, transform=f"rotate(-60 {x:.1f} {top - 6})"))
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            x, y = margin + j * cell, top + i * cell
            # The diagonal (a team with itself) is greyed when empty: "never met" makes no sense.
            fill = SAME_TEAM if i == j and not value else colour_for(value, peak)
            tip = f"{labels[i]} × {labels[j]}: {value}"
            body.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" '
                f'stroke="{GRID}"><title>{escape(tip)}</title></rect>'
            )
            if value:
                dark = fill in SCALE[3:]  # white digits on the darker half of the scale
                body.append(
                    _text(
                        x + cell / 2,
                        y + cell / 2 + 4,
                        value,
                        text_anchor="middle",
                        font_size="11",
                        fill="#ffffff" if dark else INK,
                    )
                )
    # Colour scale legend: white means the two teams never met, darker means more pairs.
    lx, ly = margin + n * cell + 24, top
    body.append(_text(lx, ly - 8, legend, font_weight="600"))
    rows = [(0, 0, "#ffffff"), *colour_bins(peak)]
    for k, (low, high, colour) in enumerate(rows):
        y = ly + k * 20
        body.append(
            f'<rect x="{lx}" y="{y}" width="18" height="16" fill="{colour}" stroke="{GRID}"/>'
        )
        text = "none" if high == 0 else (f"{low}" if low == high else f"{low}–{high}")
        body.append(_text(lx + 24, y + 12, text))
    y = ly + len(rows) * 20 + 8
    body.append(
        f'<rect x="{lx}" y="{y}" width="18" height="16" fill="{SAME_TEAM}" stroke="{GRID}"/>'
    )
    body.append(_text(lx + 24, y + 12, "same team, none"))
    height = max(height, y + 30)
    return _svg(
        width,
        height,
        title,
        body,
        css_class="chart heatmap",
        description=heatmap_summary(labels, matrix, verb=verb, alone_words=alone_words),
    )
