"""What an import did: counts for the summary, and every item it skipped or had to change, with its source id."""
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Report:
    created: Counter = field(default_factory=Counter)  # kind → rows created (post, page, comment:approved …)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, source id, reason)
    warnings: list[tuple[str, str, str]] = field(default_factory=list)  # imported, but changed: (kind, id, what)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # not imported because of an error
    remote_images: int = 0  # image links still pointing at the old site
    attachments: int = 0  # attachment items in the export (their files come in with --media)
    skip_reasons: Counter = field(default_factory=Counter)  # (kind, reason) → items, for the summary

    def skip(self, kind: str, source_id: str, reason: str, detail: str = "") -> None:
        """`reason` says why in general (the summary counts by it), `detail` what about this item."""
        self.skipped.append((kind, str(source_id), f"{reason}: {detail}" if detail else reason))
        self.skip_reasons[(kind, reason)] += 1

    def checkpoint(self) -> tuple:
        """The counts now, to go back to when an item's transaction is rolled back."""
        return Counter(self.created), Counter(self.updated), Counter(self.unchanged), Counter(self.skip_reasons), \
            len(self.skipped), self.remote_images

    def restore(self, checkpoint: tuple) -> None:
        self.created, self.updated, self.unchanged, self.skip_reasons, skipped, self.remote_images = checkpoint
        del self.skipped[skipped:]

    def warn(self, kind: str, source_id: str, what: str) -> None:
        self.warnings.append((kind, str(source_id), what))

    def fail(self, kind: str, source_id: str, reason: str) -> None:
        self.failed.append((kind, str(source_id), reason))

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        """The summary, one line per kind of thing."""
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        lines = []
        for kind in kinds:
            if not (self.created[kind] or self.updated[kind] or self.unchanged[kind]):
                continue
            lines.append(f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, "
                         f"{self.unchanged[kind]} unchanged")
        for (kind, reason), count in sorted(self.skip_reasons.items()):
            lines.append(f"skipped {count} {kind}: {reason}")
        if self.attachments:
            lines.append(f"attachments: {self.attachments} in the export, {self.created['image']} images copied "
                         "into the library")
        if self.remote_images:
            lines.append(f"{self.remote_images} image links still point at the old site (--media copies them)")
        return lines


def reason_of(exc: Exception) -> str:
    """One line for the report: the database's own words for a database error."""
    text = str(getattr(exc, "orig", None) or exc)
    return next((line for line in text.splitlines() if line.strip() and not line.startswith("(")),
                type(exc).__name__)
