"""Rendering is bounded and contained: no input up to the length limits stalls a worker or breaks
later renders. Adversarial inputs from the security review, a corpus of every syntax character
repeated, and Hypothesis-generated Markdown.

No timed assertions on absolute figures (machines are shared): an adversarial render must finish
by design, not be cut off by the time budget (`too_slow`), and must not cost more than a fixed
multiple of ordinary prose of the same length measured in the same run. bench/markup.py has the
figures.
"""
import gc
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from app import markup, markup_guard
from tests.markup_corpus import COMMENT_LENGTH, REVIEW_FINDINGS, TOKENS, repeat as _repeat
from tests.test_markup import assert_safe

pytestmark = pytest.mark.no_database  # pure functions: the same on every database


def _best_of(runs: int, fn, *args) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def _render_or_refuse(render, text):
    try:
        return render(text)
    except markup.RenderError as exc:
        assert exc.reason in ("too_much_formatting", "too_deep"), (exc.reason, text[:40])
        return None


@pytest.fixture(autouse=True)
def _own_heap():
    """Time the renders, not the test session: a whole suite's objects (apps, Hypothesis data) make
    each garbage collection slow, which a worker's small heap does not have."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="module")
def prose_seconds():
    """Ordinary German prose of the comment length, the yardstick for this machine and run."""
    words = "Seit gestern Abend fällt bei uns im Ort das Internet immer wieder für ein paar Minuten aus. "
    return _best_of(3, markup.render_comment, _repeat(words, COMMENT_LENGTH))


@pytest.mark.parametrize("name", list(REVIEW_FINDINGS))
def test_review_findings_render_by_design_not_by_budget(name, prose_seconds):
    text = REVIEW_FINDINGS[name]
    seconds = _best_of(2, _render_or_refuse, markup.render_comment, text)
    assert seconds < 100 * prose_seconds + 0.05, f"{name}: {seconds:.3f} s vs prose {prose_seconds:.4f} s"


@pytest.mark.parametrize("token", TOKENS)
def test_every_syntax_character_repeated_stays_bounded(token, prose_seconds):
    text = _repeat(token, COMMENT_LENGTH)
    seconds = _best_of(2, _render_or_refuse, markup.render_comment, text)
    assert seconds < 100 * prose_seconds + 0.05, f"{token!r}: {seconds:.3f} s vs prose {prose_seconds:.4f} s"
    html = _render_or_refuse(markup.render_comment, text)
    if html is not None:
        assert_safe(html, markup.COMMENT_TAGS)


@pytest.mark.parametrize("token", ["[", "[a](", "(", "`a``a```a", "<svg ", "# a\n", "| a |\n", "[a](\"", "*[a]\n",
                                   '```hl_lines="\n'])
def test_posts_of_repeated_syntax_render_or_refuse_within_their_budget(token):
    text = _repeat(token, 50_000)
    start = time.perf_counter()
    try:
        markup.render_post(text)
    except markup.RenderError as exc:
        assert exc.reason in ("too_much_formatting", "too_deep", "too_slow")
    assert time.perf_counter() - start < markup.LIMITS["post"].seconds + 1.0


# --- the renders that fail are contained ---------------------------------------------------------

NORMAL = "**fett** und [ein Link](https://example.org)"
NORMAL_HTML = ('<p><strong>fett</strong> und <a href="https://example.org" rel="nofollow ugc noopener">'
               "ein Link</a></p>")


@pytest.mark.parametrize("text", [REVIEW_FINDINGS["ordered list markers"], REVIEW_FINDINGS["bullet markers"],
                                  "> " * 5000])
def test_a_failed_render_leaves_later_renders_formatted(text):
    with pytest.raises(markup.RenderError) as failed:
        markup.render_comment(text)
    assert failed.value.reason == "too_deep"
    assert str(failed.value.message)  # a sentence for the writer
    assert markup.render_comment(NORMAL) == NORMAL_HTML
    assert markup.render_post("## Titel\n\n*kursiv*").html.startswith('<h2 id="titel">')


def test_the_time_budget_interrupts_a_slow_render_and_the_next_one_works(monkeypatch):
    monkeypatch.setitem(markup.LIMITS, "comment",
                        markup.Limits(max_length=10**6, max_marks=10**6, max_tags=10**6, seconds=0.02))
    slow = "\n\n".join(f"**Absatz {n}** mit *Betonung* und `code`" for n in range(20_000))
    start = time.perf_counter()
    with pytest.raises(markup.RenderError) as failed:
        markup.render_comment(slow)
    assert failed.value.reason == "too_slow"
    assert time.perf_counter() - start < 1.0
    monkeypatch.undo()
    assert markup.render_comment(NORMAL) == NORMAL_HTML


def test_too_long_and_too_much_formatting_are_refused_with_a_reason():
    with pytest.raises(markup.RenderError) as too_long:
        markup.render_comment("a" * (markup.LIMITS["comment"].max_length + 1))
    assert too_long.value.reason == "too_long"
    with pytest.raises(markup.RenderError) as too_much:
        markup.render_comment("*a* " * 2500)
    assert too_much.value.reason == "too_much_formatting"


def test_the_watchdog_interrupts_python_code_and_leaves_nothing_pending():
    def forever():
        while True:
            pass

    with pytest.raises(markup_guard.Overtime):
        markup_guard.within(0.05, forever)
    assert markup_guard.within(1.0, sum, [1, 2, 3]) == 6
    for _ in range(200_000):  # an exception left pending would surface in this loop
        pass


def test_a_render_in_another_thread_is_watched_too():
    outcome = {}

    def worker():
        outcome["html"] = markup.render_comment(REVIEW_FINDINGS["link openers"])

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=5)
    assert outcome["html"].startswith("<p>[a](")


# --- defusing keeps what people write -------------------------------------------------------------

@pytest.mark.parametrize("text, html", [
    ("[a [b] c", "<p>[a [b] c</p>"),
    ("Siehe [die Statusseite](https://status.example/netz) oder [hier [1]](https://x.example).",
     '<p>Siehe <a href="https://status.example/netz" rel="nofollow ugc noopener">die Statusseite</a> oder '
     '<a href="https://x.example" rel="nofollow ugc noopener">hier [1]</a>.</p>'),
    ("`[` und [x](y", "<p><code>[</code> und [x](y</p>"),
    ("Klammer (offen und [Link](https://a.example/(b)) zu", '<p>Klammer (offen und <a href="https://a.example/(b)" '
     'rel="nofollow ugc noopener">Link</a> zu</p>'),
    ('[Titel](https://a.example "Smiley :)")', '<p><a href="https://a.example" title="Smiley :)" '
     'rel="nofollow ugc noopener">Titel</a></p>'),
    (r"\[kein Link\](https://a.example)", "<p>[kein Link](https://a.example)</p>"),
    ("``code mit ` drin`` und `` ` ``", "<p><code>code mit ` drin</code> und <code>`</code></p>"),
    ("```nicht geschlossen", "<p>```nicht geschlossen</p>"),
])
def test_defused_text_renders_as_written(text, html):
    assert markup.render_comment(text) == html


def test_defuse_inline_escapes_only_what_cannot_pair():
    d = markup_guard.defuse_inline
    assert d("[a](b) [c]") == "[a](b) [c]"
    assert d("[[x") == r"\[\[x"
    assert d("[a](b") == r"[a]\(b"
    assert d("`[` [") == r"`[` \["
    assert d(r"\[ [") == r"\[ \["
    deep = "[" * 6 + "x" + "]" * 6
    assert d(deep) == "[[[[" + r"\[\[" + "x" + r"\]\]" + "]]]]"
    far = "[" + "a" * (markup_guard.MAX_LINK_TEXT + 1) + "]"
    assert d(far) == "\\" + far[:-1] + "\\]"


# --- Hypothesis: any Markdown-ish input ------------------------------------------------------------

PIECES = st.sampled_from([
    "[", "]", "(", ")", "!", "*", "_", "`", "``", "\\", "<", ">", "&", "#", "-", "+", "1.", "|", ":", "~",
    "'", '"', " ", "  ", "\n", "\n\n", "    ", "\t", "http://a.example/", "www.b.example", "a@b.example",
    "Wort", "Störung", "x", "[a](b)", "[a][b]", "[b]: http://c.example", "```", "~~~", "> ", "- ", "1. ",
    "<b>", "</b>", "<script>", "&amp;", "&#x27;", "\x02", "\ue001", "javascript:", "//evil.example",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PIECES, max_size=400).map("".join), st.integers(min_value=1, max_value=25))
def test_generated_markdown_renders_safely_in_bounded_time(text, repeat):
    text = (text * repeat)[:COMMENT_LENGTH]
    html = _render_or_refuse(markup.render_comment, text)
    if html is not None:
        assert_safe(html, markup.COMMENT_TAGS)
    post = _render_or_refuse(lambda t: markup.render_post(t).html, text)
    if post is not None:
        assert_safe(post, markup.POST_TAGS)
    assert markup.render_comment(NORMAL) == NORMAL_HTML  # nothing a render did carries over
