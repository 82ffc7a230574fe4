"""Small server-side SVG charts: no JavaScript, no external assets, readable in light and dark themes.

Every chart is an inline `<svg role="img">` with `<title>` and `<desc>` and a `viewBox`, drawn at
width 100% so it scales with the page. Colours come from the page's stylesheet: each series is a
group with the classes `series s-<key>`, drawn in `currentColor`, so CSS only sets `color` per key
(static/css/stats.css) and the chart still reads, in the text colour, without it. Axes, grid and
labels use `currentColor` too. All text is escaped. Hovering a bar or point shows its value
(`<title>` per shape). Callers pass translated texts and a number formatter: this module knows
nothing of Flask or locales.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape as _escape

Value = float | int | None
Formatter = Callable[[float], str]

WIDTH = 720
FONT = 12  # px in viewBox units
CHAR = 6.6  # rough width of one character at FONT, for layout without measuring text
MARGIN = {"left": 56, "right": 16, "top": 12, "bottom": 44}
EMPTY_TEXT = "No data in this period."


@dataclass(frozen=True)
class Series:
    """One coloured series: `key` becomes the CSS class `s-<key>`, `label` the legend text."""

    key: str
    label: str
    values: Sequence[Value]
    dashed: bool = False


def default_format(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


# --- public charts -------------------------------------------------------------------------------

def stacked_bars(labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str, y_label: str,
                 x_label: str = "", fmt: Formatter = default_format, empty: str = EMPTY_TEXT,
                 max_labels: int = 12, label_every: int | None = None, width: int = WIDTH, height: int = 280,
                 ident: str | None = None) -> Markup:
    """Vertical bars, one per label, stacked by series (e.g. comments per day by status)."""
    n = len(labels)
    totals = [sum(_num(s.values[i]) for s in series) for i in range(n)]
    if n == 0 or not any(totals):
        return empty_chart(title, desc, empty, ident=ident, width=width)
    ident = _ident(ident, title, desc)
    legend, legend_h = _legend(series, width)
    top = MARGIN["top"] + legend_h
    plot = _Plot(MARGIN["left"], width - MARGIN["right"], top, height - MARGIN["bottom"])
    ticks = nice_ticks(max(totals), integer=all(_is_int(v) for s in series for v in s.values))
    scale = plot.y_scale(ticks[-1])
    band = plot.width / n
    bar = max(1.0, band * 0.78)
    parts = [legend, _y_axis(plot, ticks, scale, fmt, y_label),
             _x_labels(plot, labels, band, max_labels, x_label, label_every)]
    base = [0.0] * n
    for s in series:
        shapes = []
        for i, value in enumerate(s.values):
            v = _num(value)
            if v <= 0:
                continue
            y0, y1 = scale(base[i]), scale(base[i] + v)
            base[i] += v
            x = plot.x0 + band * i + (band - bar) / 2
            shapes.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar:.1f}" height="{max(y0 - y1, 0.5):.1f}">'
                          f'<title>{escape(labels[i])}: {escape(s.label)} {escape(fmt(v))}</title></rect>')
        parts.append(_group(s, "".join(shapes)))
    parts.append(_baseline(plot))
    return _svg(ident, title, desc, width, height, "".join(parts), "chart-bars")


def line_chart(labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str, y_label: str,
               x_label: str = "", fmt: Formatter = default_format, empty: str = EMPTY_TEXT,
               max_labels: int = 12, width: int = WIDTH, height: int = 260, y_max: float | None = None,
               ident: str | None = None) -> Markup:
    """Lines over labelled points (e.g. weeks); None leaves a gap, a lone point shows as a dot."""
    n = len(labels)
    present = [v for s in series for v in s.values if v is not None]
    if n == 0 or not present:
        return empty_chart(title, desc, empty, ident=ident, width=width)
    ident = _ident(ident, title, desc)
    legend, legend_h = _legend(series, width, lines=True)
    plot = _Plot(MARGIN["left"], width - MARGIN["right"], MARGIN["top"] + legend_h, height - MARGIN["bottom"])
    ticks = nice_ticks(y_max if y_max is not None else max(present), integer=all(_is_int(v) for v in present))
    scale = plot.y_scale(ticks[-1])
    band = plot.width / n
    parts = [legend, _y_axis(plot, ticks, scale, fmt, y_label), _x_labels(plot, labels, band, max_labels, x_label),
             _baseline(plot)]
    for s in reversed(series):  # the first series (e.g. the median) is drawn last, on top
        points = [(plot.x0 + band * (i + 0.5), scale(_num(v)), i, v) for i, v in enumerate(s.values[:n])]
        path, pen_down = [], False
        for x, y, _i, v in points:
            if v is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
            pen_down = True
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        line = (f'<path d="{" ".join(path)}" fill="none" stroke="currentColor" stroke-width="2.5" '
                f'stroke-linejoin="round" stroke-linecap="round"{dash}/>') if path else ""
        dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5"><title>{escape(labels[i])}: {escape(s.label)} '
                       f'{escape(fmt(_num(v)))}</title></circle>' for x, y, i, v in points if v is not None)
        parts.append(_group(s, line + dots))
    return _svg(ident, title, desc, width, height, "".join(parts), "chart-lines")


def hbars(labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str, x_label: str = "",
          fmt: Formatter = default_format, empty: str = EMPTY_TEXT, row: int = 26, width: int = WIDTH,
          ident: str | None = None) -> Markup:
    """Horizontal bars, one row per label, stacked by series; the total stands at the end of each bar."""
    n = len(labels)
    totals = [sum(_num(s.values[i]) for s in series) for i in range(n)]
    if n == 0 or not any(totals):
        return empty_chart(title, desc, empty, ident=ident, width=width)
    ident = _ident(ident, title, desc)
    legend, legend_h = _legend(series, width) if len(series) > 1 else ("", 0)
    label_w = min(200, max(60, int(max(len(str(label)) for label in labels) * CHAR) + 12))
    total_w = max(len(fmt(t)) for t in totals) * CHAR + 10
    top = MARGIN["top"] + legend_h
    height = int(top + n * row + 34)
    plot = _Plot(label_w, width - MARGIN["right"] - total_w, top, top + n * row)
    ticks = nice_ticks(max(totals), integer=all(_is_int(v) for s in series for v in s.values))
    per_unit = plot.width / ticks[-1]
    parts = [legend]
    for t in ticks:  # vertical grid with values underneath
        x = plot.x0 + t * per_unit
        parts.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{plot.y0}" y2="{plot.y1}" '
                     f'stroke="currentColor"/>'
                     f'<text class="tick" x="{x:.1f}" y="{plot.y1 + 16}" text-anchor="middle">{escape(fmt(t))}</text>')
    if x_label:
        parts.append(f'<text class="axis-label" x="{(plot.x0 + plot.x1) / 2:.1f}" y="{plot.y1 + 30}" '
                     f'text-anchor="middle">{escape(x_label)}</text>')
    for i, label in enumerate(labels):
        y = plot.y0 + i * row
        text = _truncate(str(label), int((label_w - 12) / CHAR))
        full = f"<title>{escape(label)}</title>" if text != str(label) else ""
        parts.append(f'<text class="row-label" x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end">'
                     f'{escape(text)}{full}</text>'
                     f'<text class="total" x="{plot.x0 + totals[i] * per_unit + 5:.1f}" y="{y + row / 2 + 4:.1f}">'
                     f'{escape(fmt(totals[i]))}</text>')
    base = [0.0] * n
    for s in series:
        shapes = []
        for i, value in enumerate(s.values):
            v = _num(value)
            if v <= 0:
                continue
            x = plot.x0 + base[i] * per_unit
            base[i] += v
            shapes.append(f'<rect x="{x:.1f}" y="{plot.y0 + i * row + 4:.1f}" width="{max(v * per_unit, 0.5):.1f}" '
                          f'height="{row - 8}"><title>{escape(labels[i])}: {escape(s.label)} {escape(fmt(v))}'
                          f'</title></rect>')
        parts.append(_group(s, "".join(shapes)))
    parts.append(f'<line class="axis" x1="{plot.x0}" x2="{plot.x0}" y1="{plot.y0}" y2="{plot.y1}" '
                 f'stroke="currentColor"/>')
    return _svg(ident, title, desc, width, height, "".join(parts), "chart-hbars")


def empty_chart(title: str, desc: str, text: str = EMPTY_TEXT, *, ident: str | None = None,
                width: int = WIDTH) -> Markup:
    """The honest answer when there is nothing to draw: a small frame that says so."""
    ident = _ident(ident, title, desc)
    body = (f'<rect class="empty-frame" x="1" y="1" width="{width - 2}" height="78" rx="8" fill="none" '
            f'stroke="currentColor" stroke-dasharray="4 4"/>'
            f'<text class="empty-text" x="{width / 2}" y="45" text-anchor="middle">{escape(text)}</text>')
    return _svg(ident, title, f"{desc} {text}".strip(), width, 80, body, "chart-empty")


def nice_ticks(maximum: float, count: int = 5, integer: bool = False) -> list[float]:
    """Tick values from 0 to a round number at or above `maximum` (steps of 1, 2, 2.5 or 5 × 10^k)."""
    if not maximum or maximum <= 0 or not math.isfinite(maximum):
        maximum = 1
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for m in (1, 2, 2.5, 5, 10):
        candidate = m * magnitude
        if candidate >= raw and not (integer and not float(candidate).is_integer()):
            step = candidate
            break
    if integer:
        step = max(1, step)
    steps = max(1, math.ceil(maximum / step - 1e-9))
    return [round(i * step, 10) for i in range(steps + 1)]


# --- building blocks ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Plot:
    x0: float
    x1: float
    y0: float  # top
    y1: float  # bottom (the zero line)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    def y_scale(self, top_value: float) -> Callable[[float], float]:
        span = self.y1 - self.y0
        return lambda v: self.y1 - (v / top_value) * span if top_value else self.y1


def _svg(ident: str, title: str, desc: str, width: int, height: int, body: str, kind: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" role="img" width="100%" '
        f'viewBox="0 0 {int(width)} {int(height)}" preserveAspectRatio="xMidYMid meet" font-size="{FONT}" '
        f'fill="currentColor" aria-labelledby="{ident}-title {ident}-desc" id="{ident}">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
        f"{body}</svg>"
    )


def _y_axis(plot: _Plot, ticks: list[float], scale, fmt: Formatter, label: str) -> str:
    parts = []
    for t in ticks:
        y = scale(t)
        parts.append(f'<line class="grid" x1="{plot.x0}" x2="{plot.x1}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="currentColor"/>'
                     f'<text class="tick" x="{plot.x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(t))}</text>')
    if label:
        mid = (plot.y0 + plot.y1) / 2
        parts.append(f'<text class="axis-label" transform="translate(13 {mid:.1f}) rotate(-90)" '
                     f'text-anchor="middle">{escape(label)}</text>')
    return "".join(parts)


def _x_labels(plot: _Plot, labels: Sequence[str], band: float, max_labels: int, axis_label: str,
              every: int | None = None) -> str:
    every = every or max(1, math.ceil(len(labels) / max(1, max_labels)))
    parts = []
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = plot.x0 + band * (i + 0.5)
        parts.append(f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{plot.y1}" y2="{plot.y1 + 4}" '
                     f'stroke="currentColor"/>'
                     f'<text class="tick" x="{x:.1f}" y="{plot.y1 + 17}" text-anchor="middle">{escape(label)}</text>')
    if axis_label:
        parts.append(f'<text class="axis-label" x="{(plot.x0 + plot.x1) / 2:.1f}" y="{plot.y1 + 36}" '
                     f'text-anchor="middle">{escape(axis_label)}</text>')
    return "".join(parts)


def _baseline(plot: _Plot) -> str:
    return (f'<line class="axis" x1="{plot.x0}" x2="{plot.x1}" y1="{plot.y1}" y2="{plot.y1}" '
            f'stroke="currentColor"/>')


def _legend(series: Sequence[Series], width: int, lines: bool = False) -> tuple[str, int]:
    """Swatches and labels in rows across the top; returns the markup and the height it takes."""
    if not series:
        return "", 0
    parts, x, y = [], MARGIN["left"], MARGIN["top"] + 10
    for s in series:
        w = 14 + 6 + len(str(s.label)) * CHAR + 18
        if x + w > width - MARGIN["right"] and x > MARGIN["left"]:
            x, y = MARGIN["left"], y + 18
        if lines:
            dash = ' stroke-dasharray="4 3"' if s.dashed else ""
            swatch = (f'<line x1="{x}" x2="{x + 14}" y1="{y - 4}" y2="{y - 4}" stroke="currentColor" '
                      f'stroke-width="3"{dash}/>')
        else:
            swatch = f'<rect x="{x}" y="{y - 10}" width="14" height="12" rx="2"/>'
        parts.append(f'<g class="legend-item series s-{_css_key(s.key)}" fill="currentColor">{swatch}</g>'
                     f'<text class="legend-label" x="{x + 20}" y="{y}">{escape(s.label)}</text>')
        x += w
    return "".join(parts), y - MARGIN["top"] + 12


def _group(s: Series, shapes: str) -> str:
    return f'<g class="series s-{_css_key(s.key)}" fill="currentColor">{shapes}</g>'


def _css_key(key: str) -> str:
    return re.sub(r"[^a-z0-9_-]", "-", str(key).lower()) or "x"


def _ident(ident: str | None, title: str, desc: str) -> str:
    if ident:
        return _css_key(ident)
    return "chart-" + hashlib.sha1(f"{title}\0{desc}".encode()).hexdigest()[:10]


def escape(value) -> Markup:
    """Escape as text, always: lazy translations claim to be HTML (`__html__`), which they are not."""
    return _escape(str(value))


def _num(value: Value) -> float:
    return 0.0 if value is None else float(value)


def _is_int(value: Value) -> bool:
    return value is None or float(value).is_integer()


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"
