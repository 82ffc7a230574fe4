"""What keeps rendering bounded: inline syntax Python-Markdown would scan quadratically is defused
before it sees it, and every render runs under a time budget.

Python-Markdown is pure Python and mostly linear, but its inline link and code-span parsers scan
forward from every `[`, `(` and backtick for a partner: with no partner (`"[" * 10000`) that is
one scan to the end per character, 41 s for 10,000 characters. `defuse_inline` pairs them up in
one pass, as Python-Markdown would, and backslash-escapes those that cannot pair (or would only
pair absurdly far away or deep), so each scan stops at its partner: a `\\[` is a literal bracket
to Python-Markdown, so readers see exactly what they typed.

`within()` is the safety net for whatever that misses: a watchdog thread raises `Overtime` in a
render that runs past its budget (CPython's `PyThreadState_SetAsyncExc`, delivered between two
bytecodes, so it interrupts pure Python code such as Markdown, html5lib and bleach; it cannot
interrupt one long C call, which is why the regular expressions on this path are kept linear).

No markdown or bleach import here (`app/markup.py` is their only importer): this works on text.
"""
import bisect
import ctypes
import itertools
import os
import re
import threading
import time
from collections import defaultdict

# Characters a backslash escapes in Python-Markdown (`Markdown.ESCAPED_CHARS`).
ESCAPABLE = frozenset("\\`*_{}[]()>#+-.!")

MAX_NESTING = 4  # brackets or link parentheses inside each other: people write two, rarely three
MAX_LINK_TEXT = 2000  # characters between `[` and its `]`
MAX_LINK_TARGET = 4000  # characters between `(` and its `)` after `]`: long URLs and a title

_SPECIAL = re.compile(r"[\\`\[\]()]")
_ANGLE_TARGET = re.compile(r"[ \t]*<[^<>\n]{0,%d}>" % MAX_LINK_TARGET)
_TICKS = re.compile(r"`+")


def _backslashed(literal: str) -> str:
    return "".join("\\" + c for c in literal)


def defuse_inline(text: str, literal=_backslashed) -> str:
    """`text` (one block's inline Markdown) with every `[`, `]`, `(` or `)` that Python-Markdown
    would have to scan far for (unpaired, nested deeper than MAX_NESTING, or paired further away
    than the limits) replaced by `literal(chars)`: by default backslash-escaped; markup.py passes a
    placeholder for literal text instead, which costs the inline parser nothing (an escape is one
    parser match each). Paired syntax, code spans and escapes are left as they are."""
    if not _SPECIAL.search(text):
        return text
    runs = _TickRuns(text)
    escape: set[int] = set()  # positions that get a backslash in front
    brackets: list[tuple[int, bool]] = []  # open `[`: (position, too deep)
    parens: list[tuple[int, bool]] = []
    closed_at: dict[int, int] = {}  # `]` position → its `[` (kept pairs only)
    paren_pairs: dict[int, int] = {}  # `(` position → its `)`
    paren_depth: dict[int, int] = {}
    i, end = 0, len(text)
    while True:
        m = _SPECIAL.search(text, i)
        if m is None:
            break
        i = m.start()
        c = text[i]
        if c == "\\":
            i += 2 if i + 1 < end and text[i + 1] in ESCAPABLE else 1
            continue
        if c == "`":
            length, closer = runs.opener_at(i)
            # A code span: nothing inside it is syntax. An unpaired run is literal text (markup.py's
            # code-span parser agrees: it looks for a run of the same length only).
            i = closer + length if closer is not None else i + length
            continue
        if c == "[":
            brackets.append((i, len(brackets) >= MAX_NESTING))
        elif c == "]" and brackets:
            start, deep = brackets.pop()
            if deep or i - start > MAX_LINK_TEXT:
                escape.update((start, i))
            else:
                closed_at[i] = start
        elif c == "(":
            parens.append((i, len(parens) >= MAX_NESTING))
            if i and text[i - 1] == "]":  # a link target in angle brackets may hold any parentheses
                angle = _ANGLE_TARGET.match(text, i + 1)
                if angle:
                    i = angle.end()
                    continue
        elif c == ")" and parens:
            start, deep = parens.pop()
            paren_pairs[start] = i
            paren_depth[start] = deep
        i += 1
    escape.update(start for start, _deep in brackets)  # never closed
    # A link's target: the `(` right after a kept `]` must close, near and not too deep.
    for close in closed_at:
        start = close + 1
        if start < end and text[start] == "(":
            partner = paren_pairs.get(start)
            if partner is None:
                escape.add(start)
            elif paren_depth[start] or partner - start > MAX_LINK_TARGET:
                escape.update((start, partner))
    if not escape:
        return text
    out, last = [], 0
    positions = sorted(escape)
    k = 0
    while k < len(positions):  # runs of neighbours become one literal: "[[[[" is one placeholder
        first = positions[k]
        while k + 1 < len(positions) and positions[k + 1] == positions[k] + 1:
            k += 1
        out.append(text[last:first])
        out.append(literal(text[first:positions[k] + 1]))
        last = positions[k] + 1
        k += 1
    out.append(text[last:])
    return "".join(out)


class _TickRuns:
    """The backtick runs of a text, to find each opener's closing run in O(log n), not by a scan."""

    def __init__(self, text: str):
        self.by_length: dict[int, list[int]] = defaultdict(list)
        for m in _TICKS.finditer(text):
            self.by_length[len(m.group())].append(m.start())
        self.text = text

    def opener_at(self, i: int) -> tuple[int, int | None]:
        """(length of the run starting at i, start of the next run of that length or None).

        A run may start mid-way through a maximal run after an escaped backtick (`\\```): it is
        then as long as the rest of that run, and its closer is a maximal run of that length."""
        j = i
        while j < len(self.text) and self.text[j] == "`":
            j += 1
        length = j - i
        starts = self.by_length.get(length, ())
        k = bisect.bisect_right(starts, i)
        return length, starts[k] if k < len(starts) else None


# --- the time budget -----------------------------------------------------------------------------

class Overtime(BaseException):
    """Raised inside a render that ran past its budget. A BaseException, so that no library's
    `except Exception` swallows it on the way out."""


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
# The same function typed to take NULL, which clears a pending exception (PYFUNCTYPE: the GIL stays held).
_clear_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi))


class _Watchdog:
    """One daemon thread per process that interrupts renders running past their deadline."""

    def __init__(self):
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # the thread (and maybe the lock) stay behind

    def _reset(self):
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._armed: dict[int, tuple[float, int]] = {}  # token → (deadline, thread id)
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> int:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="markup-watchdog", daemon=True)
                self._thread.start()
            token = next(self._tokens)
            self._armed[token] = (time.monotonic() + seconds, threading.get_ident())
            self._wake.notify()
        return token

    def disarm(self, token: int) -> bool:
        """Stop watching; True when the deadline had passed (an Overtime is pending or raised)."""
        with self._lock:
            return self._armed.pop(token, None) is None

    def _run(self):
        with self._lock:
            while True:
                now = time.monotonic()
                for token, (deadline, ident) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[token]
                        _set_async_exc(ident, Overtime)
                next_deadline = min((d for d, _ident in self._armed.values()), default=now + 3600)
                self._wake.wait(timeout=max(next_deadline - now, 0.001))


_watchdog = _Watchdog()


def within(seconds: float, fn, *args):
    """`fn(*args)`, interrupted with `Overtime` if it runs longer than `seconds`."""
    token = _watchdog.arm(seconds)
    try:
        return fn(*args)
    finally:
        if _watchdog.disarm(token):
            # Fired just as fn returned: drop the exception that may still be pending, so it can
            # never surface in the caller's unrelated code. (If it was raised, it is on its way out.)
            _clear_async_exc(threading.get_ident(), None)
