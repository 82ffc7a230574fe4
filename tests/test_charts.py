"""app/charts.py: valid, accessible, escaped SVG that scales and takes its colours from CSS."""
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markupsafe import Markup

from app import charts
from app.charts import Series

pytestmark = pytest.mark.no_database  # pure functions: the same on every database

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def accessible(root: ET.Element, title: str) -> None:
    assert root.get("role") == "img"
    assert root.get("width") == "100%" and root.get("viewBox").startswith("0 0 720 ")
    title_el, desc_el = root.find("svg:title", NS), root.find("svg:desc", NS)
    assert title_el.text == title and desc_el.text
    assert root.get("aria-labelledby") == f"{title_el.get('id')} {desc_el.get('id')}"


def bars(labels=("1.5.", "2.5.", "3.5."), **kw):
    series = [Series("approved", "freigegeben", [3, 0, 5]), Series("pending", "wartend", [1, 2, None])]
    return charts.stacked_bars(list(labels), series, title="Pro Tag", desc="Kommentare pro Tag", y_label="Anzahl", **kw)


def test_stacked_bars_are_valid_accessible_svg_with_axes_and_legend():
    svg = bars()
    assert isinstance(svg, Markup)
    root = parse(svg)
    accessible(root, "Pro Tag")
    words = texts(root)
    assert {"1.5.", "2.5.", "3.5."} <= set(words)  # x ticks
    assert "Anzahl" in words and "0" in words and "5" in words  # axis label and y ticks up to the top
    assert "freigegeben" in words and "wartend" in words  # legend
    groups = {g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")}
    assert "series s-approved" in groups and "series s-pending" in groups
    # Colours come from CSS through currentColor, never hard-coded.
    assert "#" not in str(svg).replace("&#", "")
    assert "currentColor" in str(svg)
    # One rect per non-zero segment, each with a tooltip.
    rects = [r for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class", "").startswith("series ")
             for r in g.findall("svg:rect", NS)]
    tooltips = [r.find("svg:title", NS).text for r in rects]
    assert tooltips == ["1.5.: freigegeben 3", "3.5.: freigegeben 5", "1.5.: wartend 1", "2.5.: wartend 2"]
    assert "<script" not in str(svg)


def test_all_text_is_escaped():
    evil = '<script>alert("x")</script> & Co'
    svg = charts.stacked_bars([evil], [Series("a&b", evil, [2])], title=evil, desc=evil, y_label=evil)
    root = parse(svg)  # would not parse if anything leaked
    assert root.find("svg:title", NS).text == evil
    assert not list(root.iter("{http://www.w3.org/2000/svg}script")) and not list(root.iter("script"))
    assert "<script>" not in str(svg) and "&lt;script&gt;" in str(svg)
    assert "s-a-b" in str(svg)  # CSS class keys are reduced to safe characters

    horizontal = charts.hbars([evil, "Netz & Technik"], [Series("x", "Kommentare", [3, 4])], title="t", desc="d")
    assert "Netz & Technik" in texts(parse(horizontal))
    lines = charts.line_chart([evil], [Series("median", evil, [1])], title=evil, desc="d", y_label=evil)
    assert "<script>" not in str(lines) and parse(lines) is not None


def test_text_that_claims_to_be_html_is_escaped_anyway():
    class Lazy:  # like a lazy translation: __html__ would let markupsafe pass it through
        def __str__(self):
            return "<b>fett</b>"

        def __html__(self):
            return str(self)

    svg = charts.stacked_bars(["x"], [Series("a", Lazy(), [1])], title=Lazy(), desc="d", y_label="y")
    assert "<b>" not in str(svg) and "&lt;b&gt;fett&lt;/b&gt;" in str(svg)


@pytest.mark.parametrize("make", [
    lambda: charts.stacked_bars([], [], title="Leer", desc="d", y_label="y", empty="Keine Daten in diesem Zeitraum."),
    lambda: charts.stacked_bars(["a", "b"], [Series("s", "S", [0, None])], title="Leer", desc="d", y_label="y",
                                empty="Keine Daten in diesem Zeitraum."),
    lambda: charts.line_chart(["a", "b"], [Series("s", "S", [None, None])], title="Leer", desc="d", y_label="y",
                              empty="Keine Daten in diesem Zeitraum."),
    lambda: charts.hbars([], [Series("s", "S", [])], title="Leer", desc="d", empty="Keine Daten in diesem Zeitraum."),
])
def test_empty_data_says_so_honestly(make):
    root = parse(make())
    accessible(root, "Leer")
    assert texts(root) == ["Keine Daten in diesem Zeitraum."]
    assert "Keine Daten in diesem Zeitraum." in root.find("svg:desc", NS).text
    assert not root.findall(".//svg:g", NS)


def test_line_chart_with_gaps_and_a_single_point():
    svg = charts.line_chart(["KW 1", "KW 2", "KW 3", "KW 4"],
                            [Series("median", "Median", [10, None, 30, 40]),
                             Series("p90", "90. Perzentil", [None, None, 50, None], dashed=True)],
                            title="Zeit", desc="d", y_label="Minuten")
    root = parse(svg)
    accessible(root, "Zeit")
    groups = {g.get("class"): g for g in root.findall("svg:g", NS) if g.get("class", "").startswith("series ")}
    median, p90 = groups["series s-median"], groups["series s-p90"]
    assert list(groups) == ["series s-p90", "series s-median"]  # the first series is drawn on top
    # The gap splits the median line into two pieces (M … M … L …) instead of bridging it.
    assert median.find("svg:path", NS).get("d").count("M") == 2
    assert len(median.findall("svg:circle", NS)) == 3
    # A lone value is a dot: a path with a single move, dashed like its legend.
    assert p90.find("svg:path", NS).get("d").count("L") == 0
    assert p90.find("svg:path", NS).get("stroke-dasharray")
    assert [c.find("svg:title", NS).text for c in p90.findall("svg:circle", NS)] == ["KW 3: 90. Perzentil 50"]
    assert "Minuten" in texts(root)

    one = parse(charts.line_chart(["KW 9"], [Series("m", "M", [0])], title="t", desc="d", y_label="y"))
    assert len(one.findall(".//svg:circle", NS)) == 1  # zero is data, not "no data"


def test_many_labels_are_thinned_and_a_fixed_step_is_kept():
    labels = [f"{d}.5." for d in range(1, 57)]
    root = parse(charts.stacked_bars(labels, [Series("a", "A", [1] * 56)], title="t", desc="d", y_label="y",
                                     label_every=7))
    shown = [t for t in texts(root) if t.endswith(".5.")]
    assert shown == [labels[i] for i in range(0, 56, 7)]
    root = parse(charts.stacked_bars(labels, [Series("a", "A", [1] * 56)], title="t", desc="d", y_label="y"))
    assert len([t for t in texts(root) if t.endswith(".5.")]) <= 12


def test_hbars_show_totals_and_truncate_long_labels_with_the_full_text_in_a_title():
    long = "Eine sehr lange Kategorie, die niemals in die Spalte links passt"
    root = parse(charts.hbars([long, "Kurz"], [Series("bug", "Fehler", [2, 1]), Series("wish", "Wunsch", [1, 0])],
                              title="Themen", desc="d", x_label="Kommentare"))
    words = texts(root)
    assert "3" in words and "1" in words  # totals at the bar ends
    label = next(t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "row-label")
    assert label.text.endswith("…") and label.find("svg:title", NS).text == long
    short = [t for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "row-label"][1]
    assert short.text == "Kurz" and short.find("svg:title", NS) is None
    assert "Kommentare" in words


def test_formatter_is_used_for_ticks_and_tooltips():
    svg = charts.line_chart(["a", "b"], [Series("s", "S", [1.5, 2.5])], title="t", desc="d", y_label="y",
                            fmt=lambda v: f"{v:.1f}".replace(".", ","))
    words = texts(parse(svg))
    assert "0,0" in words and "2,5" in words


@pytest.mark.parametrize("maximum, integer, expected", [
    (7, True, [0, 2, 4, 6, 8]),
    (100, False, [0, 20, 40, 60, 80, 100]),
    (0, True, [0, 1]),
    (3, True, [0, 1, 2, 3]),
    (0.9, False, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    (1234, True, [0, 250, 500, 750, 1000, 1250]),
])
def test_nice_ticks(maximum, integer, expected):
    assert charts.nice_ticks(maximum, integer=integer) == expected


def test_charts_module_needs_no_flask():
    source = Path(charts.__file__).read_text(encoding="utf-8")
    assert "import flask" not in source and "from flask" not in source
    assert "<script" not in source and "http://" not in source.replace("http://www.w3.org/2000/svg", "")
