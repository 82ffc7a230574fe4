"""Which status a new comment gets: one policy object, each rule configurable."""
import re
from dataclasses import dataclass, field

from app.models import CommentStatus

_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


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
    is_staff: bool = False
    honeypot: str = ""
    seconds_taken: float | None = None  # None: the form's timestamp was missing or forged
    approved_before: int = 0  # approved comments from this e-mail address


@dataclass(frozen=True)
class CommentPolicy:
    min_seconds: float = 3
    max_links: int = 2
    blocklist: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_config(cls, config) -> "CommentPolicy":
        return cls(
            min_seconds=float(config.get("COMMENT_MIN_SECONDS") or 0),
            max_links=int(config.get("COMMENT_MAX_LINKS", 2)),
            blocklist=tuple(w.lower() for w in config.get("COMMENT_BLOCKLIST") or ()),
        )

    def decide(self, s: Submission) -> Decision:
        if s.is_staff:
            return Decision(CommentStatus.APPROVED, "staff")
        if s.honeypot.strip():
            return Decision(CommentStatus.SPAM, "honeypot")
        if self.min_seconds and (s.seconds_taken is None or s.seconds_taken < self.min_seconds):
            return Decision(CommentStatus.SPAM, "too_fast")
        if self._blocked(s.text):
            return Decision(CommentStatus.SPAM, "blocklist")
        if s.approved_before:
            if self.count_links(s.text) > self.max_links:
                return Decision(CommentStatus.PENDING, "too_many_links")
            return Decision(CommentStatus.APPROVED, "trusted")
        return Decision(CommentStatus.PENDING, "new_author")

    @staticmethod
    def count_links(text: str) -> int:
        return len(_LINK.findall(text))

    def _blocked(self, text: str) -> bool:
        lowered = text.lower()
        return any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered) for word in self.blocklist)
