"""The one Markdown → safe HTML pipeline: allowlists per context, XSS vectors, links, anchors."""
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from app import markup

pytestmark = pytest.mark.no_database  # pure functions: the same on every database

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">klick</a>',
    "[klick](javascript:alert(1))",
    "[klick](JaVaScRiPt:alert(1))",
    "[klick](  javascript:alert(1))",
    "[klick](java&#x09;script:alert(1))",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div onmouseover="alert(1)">hover</div>',
    '<svg><script>alert(1)</script></svg>',
    '<svg onload=alert(1)>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<form action="https://evil.example"><input name=x></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    '<style>body{display:none}</style>',
    "<<script>script>alert(1)<</script>/script>",
    '<img src="x" alt="a" onerror  =  alert(1)>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<details open ontoggle=alert(1)>x</details>',
    "[x](https://ok.example \"title\" onclick=\"alert(1)\")",
]

class _Elements(HTMLParser):
    """Every element and attribute a browser would build from a fragment."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.feed(fragment)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def assert_safe(fragment: str, allowed_tags: set[str]) -> None:
    for tag, attrs in _Elements(fragment).elements:
        assert tag in allowed_tags, (tag, fragment)
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", (tag, name, fragment)
            if name in ("href", "src"):
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in ("", "http", "https", "mailto"), (tag, name, value)


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vectors_never_survive_in_posts(vector):
    assert_safe(markup.render_post(vector).html, markup.POST_TAGS)


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vectors_never_survive_in_comments(vector):
    assert_safe(markup.render_comment(vector), markup.COMMENT_TAGS)


def test_the_safety_check_itself_catches_unsafe_html():
    with pytest.raises(AssertionError):
        assert_safe('<a href="javascript:x">x</a>', {"a"})
    with pytest.raises(AssertionError):
        assert_safe('<p onclick="x">x</p>', {"p"})
    with pytest.raises(AssertionError):
        assert_safe("<script>x</script>", {"p"})


def test_script_content_is_dropped_with_the_tag_in_posts():
    html = markup.render_post("Vorher <script>alert('hi')</script> nachher").html
    assert "alert" not in html
    assert "Vorher" in html and "nachher" in html


def test_comment_shows_typed_html_as_text():
    html = markup.render_comment("Ich meine <b>fett</b> & <script>x</script>")
    assert "&lt;b&gt;fett&lt;/b&gt;" in html
    assert "<b>" not in html and "<script" not in html


def test_post_keeps_rich_markdown():
    text = (
        "## Überblick & Ziele\n\nText mit **fett**, *kursiv* und `code`.\n\n"
        "| Stufe | Dauer |\n|:--|--:|\n| 1 | 2 h |\n\n"
        "```python\nprint('<hallo>')\n```\n\n"
        "> Zitat\n\n1. eins\n2. zwei\n\n![Bild](https://cdn.example/bild.png \"Titel\")\n"
    )
    html = markup.render_post(text).html
    assert '<h2 id="ueberblick-und-ziele">' in html  # anchors transliterate as URL slugs do (app/slugs.py)
    assert "<table>" in html and '<th align="left">Stufe</th>' in html and '<td align="right">2 h</td>' in html
    assert "<pre><code class=\"language-python\">print('&lt;hallo&gt;')\n</code></pre>" in html
    assert "<blockquote>" in html and "<ol>" in html and "<strong>fett</strong>" in html
    assert '<img alt="Bild" src="https://cdn.example/bild.png" title="Titel">' in html


def test_code_block_content_is_kept_verbatim_and_escaped():
    html = markup.render_post("```html\n<script>alert(1)</script>\n```").html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_heading_anchors_and_table_of_contents():
    rendered = markup.render_post("## Eins\n\ntext\n\n### Eins A\n\n## Zwei & Drei\n\n#### tief\n")
    assert [(e["level"], e["id"], e["title"]) for e in rendered.toc] == [
        (2, "eins", "Eins"), (3, "eins-a", "Eins A"), (2, "zwei-und-drei", "Zwei & Drei")]
    assert '<h2 id="eins">' in rendered.html
    assert '<a class="headerlink" href="#eins">' in rendered.html


def test_comment_allowlist_is_narrower():
    html = markup.render_comment("# Überschrift\n\n![bild](https://x.example/a.png)\n\n| a |\n|---|\n| 1 |\n")
    assert "<h1" not in html and "<img" not in html and "<table" not in html
    assert "Überschrift" in html


def test_comment_keeps_its_small_markdown_subset():
    html = markup.render_comment("*kursiv* **fett** `code`\n\n> Zitat\n\n- a\n- b\n\n```\nx = 1\n```\n")
    for fragment in ("<em>kursiv</em>", "<strong>fett</strong>", "<code>code</code>", "<blockquote>",
                     "<ul>", "<li>a</li>", "<pre><code>x = 1"):
        assert fragment in html


@pytest.mark.parametrize("render", [lambda t, h=(): markup.render_post(t, h).html, markup.render_comment])
def test_external_links_get_nofollow_internal_ones_not(render):
    html = render("[extern](https://other.example/a) [intern](/posts/x) [eigene](https://blog.example/b)",
                  ("blog.example",))
    assert 'href="https://other.example/a" rel="nofollow' in html and "noopener" in html
    assert '<a href="/posts/x">intern</a>' in html
    assert '<a href="https://blog.example/b">eigene</a>' in html


def test_author_supplied_rel_is_replaced():
    html = markup.render_post('<a href="https://x.example" rel="opener">x</a>').html
    assert 'rel="nofollow noopener"' in html and "opener\"" not in html.replace("noopener\"", "")


def test_bare_urls_become_links_but_not_inside_code():
    html = markup.render_comment("Siehe https://status.example.com/a und `https://nicht.example.com`")
    assert '<a href="https://status.example.com/a" rel="nofollow ugc noopener">' in html
    assert "<code>https://nicht.example.com</code>" in html


def test_plain_text_and_summary():
    html = markup.render_post("## Titel\n\nEin Satz mit **fett** &amp; Text.").html
    assert markup.plain_text(html) == "Titel¶ Ein Satz mit fett & Text."
    long = markup.render_post(" ".join(["Wort"] * 100)).html
    summary = markup.summarize(long, limit=50)
    assert len(summary) <= 52 and summary.endswith("…")


def test_word_count_feeds_reading_time():
    assert markup.render_post(" ".join(["Wort"] * 450)).words == 450


def test_only_markup_module_imports_markdown_or_bleach():
    from pathlib import Path

    root = Path(markup.__file__).parent
    offenders = [
        str(path.relative_to(root)) for path in root.rglob("*.py")
        if path.name != "markup.py"
        and any(line.strip().startswith(("import ", "from "))
                and line.split()[1].split(".")[0] in ("markdown", "bleach")  # markdownify is another library
                for line in path.read_text().splitlines())
    ]
    assert offenders == []
