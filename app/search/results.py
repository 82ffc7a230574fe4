"""What searches return: plain dataclasses the pages and the CLI use (no Whoosh here)."""
import math
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup

from app.models import CommentStatus

KINDS = ("all", "posts", "comments", "official")
SORTS = ("relevance", "date")


@dataclass
class Hit:
    """One result: a post, or a comment under its post."""

    kind: str  # post | comment
    id: int
    post_id: int
    post_slug: str
    title: str  # the post's title (a comment's: the post it is under)
    title_html: Markup  # the title, escaped, with the query's words in <mark>
    snippet: Markup  # the best passage, escaped, with the query's words in <mark>
    date: datetime  # published (post) or written (comment)
    lang: str
    category: str | None = None  # category name (posts)
    author_name: str = ""  # comments
    is_official: bool = False  # an official answer by the team
    status: str = CommentStatus.APPROVED  # staff search: any status

    @property
    def comment_id(self) -> int | None:
        return self.id if self.kind == "comment" else None

    @property
    def endpoint(self) -> str:
        """For `url_for(hit.endpoint, **hit.url_values)`: the post, or the comment's permalink."""
        return "comments.permalink" if self.kind == "comment" else "blog.post"

    @property
    def url_values(self) -> dict:
        if self.kind == "comment":
            return {"slug": self.post_slug, "comment_id": self.id}
        return {"slug": self.post_slug}


@dataclass
class Results:
    """One page of results.

    `state` is "ok", "empty" (nothing to search for) or "unavailable" (the index is missing or
    broken: the page says "search is being rebuilt"). `notices`: "shortened" (the query was cut
    to its first characters or words), "no_terms" (nothing but common words or punctuation).
    """

    query: str  # as used: cleaned and maybe shortened (put it back into the search box)
    state: str = "ok"
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1  # a page beyond the end is answered with the last one
    per_page: int = 10
    suggestion: str | None = None  # "did you mean": a whole query string that finds something
    notices: tuple[str, ...] = ()
    kind: str = "all"
    category: str | None = None
    sort: str = "relevance"

    @property
    def unavailable(self) -> bool:
        return self.state == "unavailable"

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first(self) -> int:
        """The number of the first hit on this page (1-based), 0 when there are none."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)


@dataclass
class Similar:
    """An earlier reader comment the team has answered, with the (first) answer."""

    comment_id: int
    post_slug: str
    post_title: str
    author_name: str
    created_at: datetime
    excerpt: str  # plain text: escape when shown
    answer_id: int
    answer_author: str
    answer_excerpt: str
    answer_body_md: str  # to reuse as the start of a new answer
    score: float


@dataclass
class RebuildSummary:
    posts: int
    comments: int  # approved comments in the reader index
    staff_comments: int  # all comments in the staff index
    seconds: float
    size_bytes: int
    location: str
    replayed: int  # changes made during the rebuild, applied after the switch

    @property
    def documents(self) -> int:
        return self.posts + self.comments + self.staff_comments

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0
