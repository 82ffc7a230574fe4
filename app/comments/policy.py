"""Which status a new comment gets: one policy object, each rule configurable."""
import functools
import re
import unicodedata
from dataclasses import dataclass, field

from app.models import CommentStatus, ResponseStatus


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str  # the rule that decided, shown to moderators

    @property
    def silent_spam(self) -> bool:
        """Spam is answered like a success, so bots learn nothing."""
        return self.status == CommentStatus.SPAM


@dataclass(frozen=True)
class Submission:
    """What the policy looks at; the service gathers it."""

    text: str
    email: str
    name: str = ""
    is_staff: bool = False
    honeypot: str = ""
    seconds_taken: float | None = None  # None: the form's timestamp was missing or forged
    approved_before: int = 0  # approved reader comments from this e-mail address
    proven: bool = False  # this browser proved the address (mail link, or wrote an approved comment with it)
    links: int = 0  # links in the rendered text that leave the site
    staff_names: tuple[str, ...] = ()  # display names of the team's members
    # Triage facts: the statuses the team set (moderation.commenters.active_for), repeats, history
    banned: bool = False  # by address or client: spam, answered like a success
    premoderated: bool = False  # by address or client: always waits, however trusted
    repeats: int = 0  # earlier comments with the same normalised text in the window (anyone, any post)
    removed_before: int = 0  # recently rejected or spam comments from this address or client
    spam_score: float | None = None  # the local classifier's spam probability (None: no model, or staff)


@dataclass(frozen=True)
class CommentPolicy:
    min_seconds: float = 3
    max_links: int = 2
    blocklist: tuple[str, ...] = field(default_factory=tuple)
    reserved_names: tuple[str, ...] = field(default_factory=tuple)  # the team's name, the brand
    answer_words: tuple[str, ...] = field(default_factory=tuple)  # besides "?": a reader asks for help
    held_words: tuple[str, ...] = field(default_factory=tuple)  # a comment holding one waits for review
    # Earlier copies of the same text (within repeat_hours) after which one more waits; 0: off.
    repeat_limit: int = 0
    repeat_hours: int = 24
    repeat_min_chars: int = 20  # shorter texts ("Danke!", "+1") are said often by different readers
    # Rejected or spam comments from the address or client (within history_days) after which the next waits; 0: off.
    history_limit: int = 0
    history_days: int = 30
    spam_threshold: float | None = None  # the classifier's score from which a comment is spam; None/0: off

    @classmethod
    def from_config(cls, config) -> "CommentPolicy":
        return cls(
            min_seconds=float(config.get("COMMENT_MIN_SECONDS") or 0),
            max_links=int(config.get("COMMENT_MAX_LINKS", 2)),
            blocklist=tuple(w.lower() for w in config.get("COMMENT_BLOCKLIST") or ()),
            reserved_names=tuple(n for n in [config.get("TEAM_NAME"), *list(config.get("COMMENT_RESERVED_NAMES") or ())]
                                 if n),
            answer_words=tuple(w.lower() for w in config.get("COMMENT_ANSWER_WORDS") or ()),
            held_words=tuple(w.lower() for w in config.get("COMMENT_HELD_WORDS") or ()),
            repeat_limit=int(config.get("COMMENT_REPEAT_LIMIT") or 0),
            repeat_hours=int(config.get("COMMENT_REPEAT_HOURS") or 24),
            history_limit=int(config.get("COMMENT_HISTORY_LIMIT") or 0),
            history_days=int(config.get("COMMENT_HISTORY_DAYS") or 30),
            spam_threshold=float(config.get("CLASSIFIER_SPAM_THRESHOLD") or 0) or None,
        )

    def decide(self, s: Submission) -> Decision:
        if s.is_staff:
            return Decision(CommentStatus.APPROVED, "staff")
        if s.honeypot.strip():
            return Decision(CommentStatus.SPAM, "honeypot")
        if self.min_seconds and (s.seconds_taken is None or s.seconds_taken < self.min_seconds):
            return Decision(CommentStatus.SPAM, "too_fast")
        if self.blocked(s.text):
            return Decision(CommentStatus.SPAM, "blocklist")
        if s.banned:  # set by the team for the address or the client
            return Decision(CommentStatus.SPAM, "banned")
        if self.spam_threshold and s.spam_score is not None and s.spam_score >= self.spam_threshold:
            return Decision(CommentStatus.SPAM, "classifier")  # in the spam view for the team, never deleted
        if self.held(s.text):  # even from a trusted address: the team reads it first
            return Decision(CommentStatus.PENDING, "held_word")
        if s.premoderated:  # before trust: the team asked to read everything from this commenter
            return Decision(CommentStatus.PENDING, "premoderated")
        if s.repeats >= self.repeat_limit and self.counts_repeats(s.text):
            return Decision(CommentStatus.PENDING, "repeated")
        if self.history_limit and s.removed_before >= self.history_limit:
            return Decision(CommentStatus.PENDING, "history")
        if self.looks_like_team(s.name, s.staff_names):
            return Decision(CommentStatus.PENDING, "looks_like_team")
        if s.approved_before and s.proven:
            if s.links > self.max_links:
                return Decision(CommentStatus.PENDING, "too_many_links")
            return Decision(CommentStatus.APPROVED, "trusted")
        return Decision(CommentStatus.PENDING, "new_author")

    def counts_repeats(self, text: str) -> bool:
        """The rule "repeated" is on and the text is long enough to be more than a common phrase."""
        return bool(self.repeat_limit) and len(normalised_text(text)) >= self.repeat_min_chars

    def looks_like_team(self, name: str, staff_names: tuple[str, ...] = ()) -> bool:
        """A reader's name that contains the team's name, the brand or a staff member's full name,
        however it is spelled ("Sternwe11e Team", "𝐒𝐭𝐞𝐫𝐧𝐰𝐞𝐥𝐥𝐞", "Jana Berger (Kundenservice)"), or
        that mixes alphabets (Latin with Cyrillic or Greek letters: the look-alike trick)."""
        folded = fold_name(name)
        if not folded:
            return False
        if mixes_scripts(name):
            return True
        reserved = [fold_name(r) for r in self.reserved_names]
        # A staff name counts inside a longer one only when it is long enough not to be anyone's first name.
        staff = [fold_name(n) for n in staff_names]
        return any(r and r in folded for r in reserved) or \
            any(n and (n == folded or (len(n) >= 8 and n in folded)) for n in staff)

    def response_status(self, text: str) -> str:
        """Does a reader wait for the team? Yes for a question (a "?") or a word that asks for help
        ("Problem", "funktioniert nicht" …); "Danke!" does not. The team can change it per comment."""
        lowered = (text or "").lower()
        if "?" in lowered or any(re.search(rf"(?<!\w){re.escape(w)}", lowered) for w in self.answer_words):
            return ResponseStatus.NEEDS_ANSWER
        return ResponseStatus.NO_ANSWER_NEEDED

    @staticmethod
    def count_links(text: str) -> int:
        """Links written in Markdown text (the queue's hint; the policy counts rendered links)."""
        return len(_LINK.findall(text))

    def blocked(self, text: str) -> bool:
        """The text holds a blocked word."""
        return _words_pattern(tuple(self.blocklist)).search(text.lower()) is not None

    def held(self, text: str) -> list[str]:
        """The words in the text that hold a comment for review (the queue names them)."""
        return matching_words(text, self.held_words)


def normalised_text(text: str) -> str:
    """A text as the rule "repeated" compares it: compatibility forms folded, case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def matching_words(text: str, words) -> list[str]:
    """Which of `words` (lower case) occur in `text` as whole words or phrases."""
    found = {m.group(0) for m in _words_pattern(tuple(words)).finditer((text or "").lower())}
    return [word for word in words if word in found]


@functools.lru_cache(maxsize=32)
def _words_pattern(words: tuple[str, ...]) -> re.Pattern:
    """One compiled alternation per word list (longest first, so a phrase wins over its first word):
    a comment costs one scan, not one compiled pattern per word (500 words: 0.2 s before)."""
    if not words:
        return re.compile(r"(?!)")  # matches nothing
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


# A link starts with a scheme, "www." not right after one, "//" or "\\\\": "https://www.x.de" is one link.
_LINK = re.compile(r"https?://|(?<!//)\bwww\.|(?<![\w:/])//[\w-]|\\\\[\w-]", re.IGNORECASE)
# Letters and digits that pass for others in a name: Cyrillic, Greek and other look-alikes, leetspeak.
_LOOKALIKES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "к": "k", "м": "m", "т": "t",
    "н": "h", "в": "b", "і": "i", "ѕ": "s", "ј": "j", "ԁ": "d", "ԝ": "w", "һ": "h", "ӏ": "l", "ԛ": "q",
    "ο": "o", "α": "a", "ε": "e", "ρ": "p", "τ": "t", "ν": "v", "κ": "k", "ι": "i", "υ": "u", "ω": "w",
    "ǀ": "l", "ı": "i", "ɩ": "i", "ɪ": "i", "ʟ": "l", "ɡ": "g", "ɑ": "a", "ʋ": "v",
    "0": "o", "1": "l", "i": "l", "!": "l", "|": "l", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s",
    "7": "t", "ß": "ss",
})


def fold_name(name: str) -> str:
    """A name reduced to what it looks like: no styled letters (𝐒), accents, case, spacing,
    punctuation or look-alikes."""
    text = unicodedata.normalize("NFKC", name or "").casefold()  # 𝐒 → S → s
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_LOOKALIKES)
    return "".join(ch for ch in text if ch.isalnum())


def mixes_scripts(name: str) -> bool:
    """Latin letters together with Cyrillic or Greek ones in one name ("Sternԝelle")."""
    scripts = set()
    for ch in unicodedata.normalize("NFKC", name or ""):
        if ch.isalpha():
            script = unicodedata.name(ch, "").split(" ")[0]
            scripts.add(script if script in ("CYRILLIC", "GREEK") else "LATIN" if script == "LATIN" else "OTHER")
    return "LATIN" in scripts and bool(scripts & {"CYRILLIC", "GREEK"})
