"""`flask import disqus FILE.xml`: the comments of a blog that used Disqus, onto our posts.

A Disqus export lists every thread (a page of the old site: its link and identifier) and then
every comment ("post" in Disqus's words) with its thread and parent, in any order. The file is
read twice, streaming: first the threads (matched to our posts), then the comments, collected
per matched thread (only the fields we keep); each thread's comments are then stored in one
transaction like the WordPress import's. A thread is matched by its link (http or https, with
or without "www." and a trailing slash, query strings ignored but WordPress's `?p=`, after
`--map-url` rewrote the prefix): our own `/posts/<slug>`, an old address an earlier WordPress
import recorded, or a post whose slug is the link's last segment; else by its identifier
("12 https://…/?p=12", as the WordPress plugin writes it). Deleted comments become deleted
ones, spam stays spam, everything else is approved (Disqus exports what was published).
"""
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app import outbox
from app.extensions import db
from app.imports import old_links, threads, workers
from app.imports.ledger import Ledger
from app.imports.report import Report, reason_of
from app.imports.wxr import ExportError, checked_events
from app.models import CommentStatus, ImportedItem, Post, Redirect, User

NS = "{http://disqus.com}"
_WP_ID = re.compile(r"wp_id=(\d{1,20})")
DSQ = "{http://disqus.com/disqus-internals}id"


@dataclass
class _Thread:
    id: str
    link: str
    identifier: str
    title: str


@dataclass
class _Comment:
    id: str
    thread: str
    parent: str | None
    message: str
    created: str
    deleted: bool
    spam: bool
    name: str
    email: str
    ip: str
    guest: bool = True  # Disqus's isAnonymous: a guest may type any address, so never staff


def _text(element, name: str) -> str:
    child = element.find(NS + name)
    return (child.text or "").strip() if child is not None and child.text else ""


def _date(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or one UTC cannot hold (0001-01-01T00:00+01:00)
        return None


class DisqusImport:
    def __init__(self, path: Path, *, secret: str, internal_hosts: tuple[str, ...] = (),
                 map_url: dict[str, str] | None = None, progress: Callable[[int], None] | None = None):
        self.path, self.secret, self.internal_hosts = path, secret, internal_hosts
        self.map_url, self.progress = map_url or {}, progress
        self.report = Report()

    def _parse(self, handle) -> None:
        """Hand each <thread> and <post> under the root to `handle` (a <post>'s own `<thread dsq:id>`
        reference is part of the post, not a thread)."""
        depth = 0
        for event, element in checked_events(self.path, events=("start", "end"), on_read=self.progress):
            if event == "start":
                if depth == 0 and element.tag != NS + "disqus":
                    raise ExportError(f"This is not a Disqus export: the file starts with <{element.tag}>, "
                                      "not <disqus>. (A WordPress export? Use `import wordpress`.)")
                depth += 1
                continue
            depth -= 1
            if depth == 1 and element.tag in (NS + "thread", NS + "post") and element.get(DSQ) is not None:
                handle(element)
                element.clear()

    def run(self) -> Report:
        threads_by_id: dict[str, _Thread] = {}
        forum = []

        def first_pass(element) -> None:
            if element.tag == NS + "thread" and element.find(NS + "link") is not None:
                threads_by_id[element.get(DSQ)] = _Thread(element.get(DSQ), _text(element, "link"),
                                                          _text(element, "id"), _text(element, "title"))
                if not forum and _text(element, "forum"):
                    forum.append(_text(element, "forum"))

        self._parse(first_pass)  # the whole file is checked before anything is written
        self.ledger = Ledger("disqus:" + (forum[0] if forum else "unknown"))
        posts = {thread_id: self._match(thread) for thread_id, thread in threads_by_id.items()}
        for thread_id, post_id in posts.items():
            if post_id is None:
                self.report.skip("thread", thread_id, "no post matches its link or identifier",
                                 threads_by_id[thread_id].link)
        collected: dict[int, list[_Comment]] = defaultdict(list)
        known = self.ledger.known("comment")

        def second_pass(element) -> None:
            if element.tag != NS + "post":
                return
            thread = element.find(NS + "thread")
            thread_id = thread.get(DSQ) if thread is not None else None
            comment_id = element.get(DSQ)
            if thread_id not in posts:
                self.report.skip("comment", comment_id, "its thread is not in the export", f"thread {thread_id}")
                return
            if posts[thread_id] is None:
                self.report.skip("comment", comment_id, "its thread matches no post", f"thread {thread_id}")
                return
            if comment_id in known:
                self.report.unchanged["comment"] += 1
                return
            parent = element.find(NS + "parent")
            author = element.find(NS + "author")
            synced = _WP_ID.fullmatch(_text(element, "id"))
            if synced:  # the Disqus plugin copied it into WordPress: the WordPress import may have it
                from_wordpress[comment_id] = synced.group(1)
            collected[posts[thread_id]].append(_Comment(
                id=comment_id, thread=thread_id, parent=parent.get(DSQ) if parent is not None else None,
                message=_text(element, "message"), created=_text(element, "createdAt"),
                deleted=_text(element, "isDeleted") == "true", spam=_text(element, "isSpam") == "true",
                name=_text(author, "name") if author is not None else "",
                email=_text(author, "email") if author is not None else "", ip=_text(element, "ipAddress"),
                guest=author is None or _text(author, "isAnonymous") != "false"))

        from_wordpress: dict[str, str] = {}
        self._parse(second_pass)
        self._already_from_wordpress(from_wordpress, collected)
        staff = {u.email.lower(): u for u in db.session.scalars(select(User).where(User.email.is_not(None)))}
        for post_id, comments in collected.items():
            if comments:
                self._store(db.session.get(Post, post_id), comments, staff)
        return self.report

    def _already_from_wordpress(self, from_wordpress: dict[str, str], collected: dict[int, list]) -> None:
        """Comments the WordPress import brought already (`<id>wp_id=2211</id>`) are not stored twice;
        the Disqus id is remembered as that comment, so replies to it find it."""
        if not from_wordpress:
            return
        found = {}
        wanted = sorted(set(from_wordpress.values()))
        for start in range(0, len(wanted), 500):
            found.update(db.session.execute(
                select(ImportedItem.source_id, ImportedItem.target_id).where(
                    ImportedItem.kind == "comment", ImportedItem.origin.startswith("wordpress:"),
                    ImportedItem.source_id.in_(wanted[start:start + 500]))).all())
        for post_id, comments in collected.items():
            keep = []
            for c in comments:
                target = found.get(from_wordpress.get(c.id, ""))
                if target is None:
                    keep.append(c)
                else:
                    self.ledger.remember("comment", c.id, target, "wordpress")
                    self.report.unchanged["comment"] += 1
            collected[post_id] = keep
        db.session.commit()

    def _store(self, post: Post, comments: list[_Comment], staff: dict[str, User]) -> None:
        counts = self.report.checkpoint()
        try:
            self._store_thread(post, comments, staff)
            db.session.commit()
            outbox.settle()  # this transaction's index task is done with (the import applies them at its end)
        except (SQLAlchemyError, ValueError, RecursionError, OverflowError) as exc:
            db.session.rollback()
            self.ledger.forget_pending()
            self.report.restore(counts)
            threads_of = ", ".join(sorted({c.thread for c in comments}))
            self.report.fail("thread", threads_of, f"/posts/{post.slug}: {reason_of(exc)}")

    def _store_thread(self, post: Post, comments: list[_Comment], staff: dict[str, User]) -> None:
        source = []
        for c in comments:
            created = _date(c.created)
            if created is None:
                self.report.warn("comment", c.id, f"invalid date {c.created!r}: dated like its post")
                created = post.published_at or post.created_at
            status = CommentStatus.DELETED if c.deleted else CommentStatus.SPAM if c.spam else CommentStatus.APPROVED
            body_md, body_html, error = workers.comment(c.message, self.internal_hosts)
            source.append(threads.SourceComment(
                source_id=c.id, parent_id=c.parent, author_name=c.name, email=c.email, url="", ip=c.ip,
                created_at=created, body_md=body_md, status=status, body_html=body_html, render_error=error,
                user=staff.get(c.email.lower()) if c.email and not c.guest else None))
        threads.store(post, source, ledger=self.ledger, secret=self.secret, report=self.report,
                      internal_hosts=self.internal_hosts)

    def _rewrite(self, link: str) -> str:
        """--map-url OLD=NEW: OLD as a whole prefix (`https://old` does not match `https://older.de`)."""
        for old, new in self.map_url.items():
            old, new = old.rstrip("/"), new.rstrip("/")
            if link.startswith(old) and link[len(old):len(old) + 1] in ("", "/", "?", "#"):
                return new + link[len(old):]
        return link

    def _match(self, thread: _Thread) -> int | None:
        """Our post for a thread: by link, then by the identifier the WordPress plugin writes."""
        candidates = [self._rewrite(thread.link)]
        if thread.identifier:
            first = thread.identifier.split()[0]
            if first.isdigit():
                candidates.append(f"/?p={first}")
            candidates += [self._rewrite(p) for p in thread.identifier.split()[1:]]
        for link in candidates:
            post_id = self._post_for(link)
            if post_id is not None:
                return post_id
        return None

    def _ours(self, host: str) -> bool:
        """A link on this site or on the blog a WordPress import brought here (www. or not);
        any other host (a staging copy, localhost, an old domain) only through --map-url."""
        if not hasattr(self, "_hosts"):
            origins = db.session.scalars(select(Redirect.origin).where(Redirect.origin.startswith("wordpress:"))
                                         .distinct())
            self._hosts = {old_links.bare_host(o.removeprefix("wordpress:").split("/")[0]) for o in origins}
            self._hosts |= {old_links.bare_host(h) for h in self.internal_hosts if h}
        return not host or old_links.bare_host(host) in self._hosts

    def _post_for(self, link: str) -> int | None:
        parts = urlsplit(link)
        if not self._ours(parts.hostname or ""):
            return None
        path = old_links.normalise(parts.path + ("?" + parts.query if parts.query else ""))
        target = path if path.startswith("/posts/") else old_links.find(
            path.split("?")[0], path.partition("?")[2] or None, readers_only=False)
        if target is None or not target.startswith("/posts/"):
            return None
        slug = target.removeprefix("/posts/").split("/")[0]
        return db.session.scalar(select(Post.id).where(Post.slug == slug))
