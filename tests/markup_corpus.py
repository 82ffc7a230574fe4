"""The adversarial Markdown corpus, shared by tests/test_markup_bounds.py and bench/markup.py."""

COMMENT_LENGTH = 10_000  # COMMENT_MAX_LENGTH

# From the review: each stalled or broke a worker.
REVIEW_FINDINGS = {
    "brackets": "[" * COMMENT_LENGTH,  # 41 s
    "link openers": "[a](" * (COMMENT_LENGTH // 4),  # 4.5 s
    "ordered list markers": "1. " * 3333,  # RecursionError, then every later render unformatted
    "bullet markers": "+ " * 5000,
}

# Every piece of inline and block syntax, repeated to the comment length.
TOKENS = [
    "[", "]", "(", ")", "[a](", "![", "](", "[]", "[a]", "[a][", "[[", "[^", "*[", "- [", "[a](<", "[a](b",
    "[a](\"", "[a](')", "[a](\")", "[http://a.b](", "<![CDATA[", "*", "**", "*a", "a*", "*a*", "***a",
    "_", "__", "_a", "_a_", "a_b_", "<", "<a", "<http://", "<https://a.b/", "&", "&#", "&#x", "&amp;", "\\",
    "\\`", "\\[", "`", "``", "` ", "`a``a```a````a", "``a`", "~~~\n", "```\n", "> ", ">", "- ", "* ", "+ ",
    "1. ", "1) ", "    ", "\t", "| ", "|", "|-", "| a |\n", "|---|\n", "\n", "\n\n", "  \n", "---\n", "# a\n",
    "#", "=\n", "-\n", "a\n-\n", "<!--", "-->", "<div>", "<svg ", "http://a.b ", "www.a.b ", "a-", "a.",
    "http://a-", "(", "((", "https://x.y/(", "> - ", "- > ", "1. > ", "  - ", "\n- ", "\n> ", "\n1. ", "\x02",
    "\x03", "\x0201\x03", "\ue000", "\r", "\r\n",
    # from the review of the fix: fences with hl_lines (cubic in Python-Markdown's regex), unclosed fences
    '```hl_lines="\n', "```hl_lines='\n", "~~~.a\n", "~~~a\n", "```a\n", "[a](<", "[a](<b)>)",
]


def repeat(token: str, length: int) -> str:
    """`token` repeated to exactly `length` characters."""
    return (token * (length // len(token) + 1))[:length]
