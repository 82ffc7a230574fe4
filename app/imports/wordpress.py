"""`flask import wordpress FILE.xml`: a WordPress blog moves in, posts, pages and conversations intact.

Order of work: `wxr.scan` checks the whole file (nothing is written for a file that cannot be
imported); authors, categories (with their hierarchy) and tags come first, each in one
transaction; then every item, a post or page *with its comments* in one transaction, so a post
is never half there. Each source item is remembered in `ImportedItem` (origin + id), so running
the same export again updates what changed and never duplicates; a post edited in Dialog since
its import is left alone unless `force`. What WordPress had that Dialog has not is mapped and
said in the report:

- statuses: publish → published (scheduled if its date is still ahead), future → scheduled,
  draft → draft, pending → review, private → draft (Dialog has no private posts), trash and
  auto-draft → not imported; password-protected posts → drafts (Dialog has no passwords on posts);
- several categories → the first is the post's category, the others become tags;
- comments: approved → approved, 0 → pending, spam → spam, trash → deleted; pingbacks and
  trackbacks are skipped, or kept as `Mention`s with `pingbacks`; comments on pages are skipped
  (pages have none here).
"""
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app import markup, outbox
from app.content import editing, uploads
from app.content.publishing import apply_page_body, apply_post_body, note_content_change, readers_text
from app.content.slugs import slugify
from app.extensions import db
from app.imports import old_links, threads, workers, wp_content, wxr
from app.imports.ledger import Ledger, checksum
from app.imports.report import Report, reason_of
from app.models import (
    Category,
    CommentStatus,
    Mention,
    Page,
    Post,
    PostStatus,
    Role,
    Tag,
    Upload,
    User,
    post_tags,
    utcnow,
)
from app.users.service import USERNAME

POST_STATUSES = {"publish": PostStatus.PUBLISHED, "future": PostStatus.SCHEDULED, "draft": PostStatus.DRAFT,
                 "pending": PostStatus.REVIEW, "private": PostStatus.DRAFT}
COMMENT_STATUSES = {"1": CommentStatus.APPROVED, "approve": CommentStatus.APPROVED, "0": CommentStatus.PENDING,
                    "hold": CommentStatus.PENDING, "spam": CommentStatus.SPAM, "trash": CommentStatus.DELETED,
                    "post-trashed": CommentStatus.DELETED}
ZERO_DATE = "0000-00-00 00:00:00"
TITLE_MAX, SLUG_MAX = 300, 200


@dataclass
class Options:
    tz: ZoneInfo  # the old site's time zone, for dates without a GMT twin
    secret: str  # for the keyed IP hashes
    internal_hosts: tuple[str, ...] = ()
    map_author: dict[str, str] = field(default_factory=dict)  # WordPress login → our user name
    media: Path | None = None  # a copy of wp-content/uploads
    pingbacks: bool = False
    force: bool = False
    jobs: int | None = None  # worker processes for the comments (None: by the export's size)
    words_per_minute: int = 200
    is_reserved_path: Callable[[str], bool] = lambda slug: False
    now: Callable[[], datetime] = utcnow


def parse_date(gmt: str, local: str, tz: ZoneInfo) -> datetime | None:
    """A WordPress date in UTC: the GMT one, else (all zeros: never published) the local one in `tz`."""
    for value, zone in ((gmt, UTC), (local, tz)):
        if value and value != ZERO_DATE:
            try:
                return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone).astimezone(UTC)
            except (ValueError, OverflowError):  # not a date, or one no time zone can hold (0001-01-01 00:30)
                continue
    return None


class WordPressImport:
    def __init__(self, path: Path, options: Options, progress: Callable[[int], None] | None = None):
        self.path, self.options, self.progress = path, options, progress
        self.report = Report()

    def run(self) -> Report:
        site = wxr.scan(self.path)  # ExportError: nothing written
        self.site = site
        self.ledger = Ledger(site.origin)
        self.links = old_links.Writer(site.origin)
        self.hosts = {old_links.bare_host(urlsplit(u).hostname or "")
                      for u in (site.link, site.base_site_url, site.base_blog_url) if u}
        self.attachments: dict[str, str] = site.attachments
        self.media_cache: dict[str, str | None] = {}
        self._authors(site.authors)
        self._terms(site)
        self.links.commit()
        self._keep_loaded()
        jobs = self.options.jobs if self.options.jobs is not None else workers.default_jobs(site.comments)
        for kind in ("post", "page"):  # read now: the workers are forked with them and never query
            self.ledger.known(kind)
        skip = workers.Skip(self._unchanged, set(self.ledger.known("comment"))) if jobs > 1 else None
        for item in workers.prepared(wxr.items(self.path, site.version, on_read=self.progress), jobs=jobs,
                                     internal_hosts=self.options.internal_hosts, attachments=site.attachments,
                                     skip=skip):
            self._item(item)
        db.session.commit()  # the last attachments' old addresses
        self.links.commit()
        return self.report

    def _keep_loaded(self) -> None:
        """Authors, categories and tags are read on every item: detached with their values loaded,
        so the commit after each post does not expire them (a reload per post and object)."""
        for obj in {id(o): o for o in (*self.users.values(), *self.categories.values(),
                                       *self.tags.values())}.values():
            if obj in db.session:
                db.session.refresh(obj)
                db.session.expunge(obj)

    def _unchanged(self, item: wxr.Item) -> bool:
        """Stored by an earlier run exactly as the export has it now (a worker need not convert it)."""
        entry = self.ledger.known(item.type).get(item.id) if item.type in ("post", "page") else None
        return entry is not None and entry.checksum == (_post_checksum if item.type == "post" else _page_checksum)(item)

    # --- authors, categories, tags ---------------------------------------------------------------

    def _authors(self, authors: list[wxr.Author]) -> None:
        self.users: dict[str, User] = {}  # WordPress login → user
        self.user_ids: dict[str, User] = {}  # WordPress author id → user
        for login, mapped in self.options.map_author.items():  # before anything is written
            if db.session.scalar(select(User.id).where(User.username == mapped)) is None:
                raise wxr.ExportError(f"--map-author {login}={mapped}: there is no user {mapped!r}.")
        for author in authors:
            self._user(author)
        db.session.commit()

    def _user(self, author: wxr.Author) -> User:
        login = author.login
        if login in self.users:
            return self.users[login]
        mapped = self.options.map_author.get(login)
        user = None
        if mapped:
            user = db.session.scalar(select(User).where(User.username == mapped))
            if user is None:
                raise wxr.ExportError(f"--map-author {login}={mapped}: there is no user {mapped!r}.")
            self.report.unchanged["author"] += 1
        else:
            entry = self.ledger.get("user", login)
            user = db.session.get(User, entry.target_id) if entry else None
            if user is not None:
                self.report.unchanged["author"] += 1
            else:
                user = self._new_user(author)
        self.users[login] = user
        if author.id:
            self.user_ids[author.id] = user
        return user

    def _new_user(self, author: wxr.Author) -> User:
        """An account that cannot sign in (no password, inactive) until an admin gives it one."""
        base = slugify(author.login).replace("-", ".")[:56] or "autor"
        base = base if USERNAME.match(base) else f"wp.{base}"[:56]
        username, n = base, 1
        while db.session.scalar(select(User.id).where(User.username == username)) is not None:
            n += 1
            username = f"{base}-{n}"
        email = author.email.strip().lower() or None
        if email and db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
            self.report.warn("author", author.login, f"address {email} belongs to another account: not stored")
            email = None
        if username != author.login:
            self.report.warn("author", author.login, f"imported as user {username}")
        user = User(username=username, email=email, display_name=(author.display_name or author.login)[:120],
                    role=Role.AUTHOR, active=False, password_hash=None)
        db.session.add(user)
        db.session.flush()
        self.ledger.remember("user", author.login, user.id)
        self.report.created["author"] += 1
        return user

    def _terms(self, site: wxr.Site) -> None:
        self.categories: dict[str, Category] = {}  # WordPress nicename → category
        self.tags: dict[str, Tag] = {}
        paths: dict[str, str] = {}
        for term in site.categories:
            self.categories[term.slug] = self._category(term)
        for term in site.categories:  # the hierarchy, once every category exists
            parent = self.categories.get(term.parent)
            category = self.categories[term.slug]
            if parent is not None and parent is not category and category.parent_id != parent.id:
                category.parent_id = parent.id
        by_slug = {t.slug: t for t in site.categories}
        for term in site.categories:
            chain, current, seen = [], term, set()
            while current is not None and current.slug not in seen:
                seen.add(current.slug)
                chain.insert(0, current.slug)
                current = by_slug.get(current.parent)
            paths[term.slug] = "/".join(chain)
            self.links.add(f"/category/{paths[term.slug]}", f"/category/{self.categories[term.slug].slug}")
            if term.id:
                self.links.add(f"/?cat={term.id}", f"/category/{self.categories[term.slug].slug}")
        for term in site.tags:
            tag = self._tag(term.name, term.slug, term.id)
            self.links.add(f"/tag/{term.slug}", f"/tag/{tag.slug}")
            self.links.add(f"/?tag={term.slug}", f"/tag/{tag.slug}")
        for user_login, user in self.users.items():
            self.links.add(f"/author/{user_login}", f"/author/{user.username}")
        for author_id, user in self.user_ids.items():
            self.links.add(f"/?author={author_id}", f"/author/{user.username}")
        db.session.commit()

    def _category(self, term: wxr.Term) -> Category:
        source_id = term.slug
        entry = self.ledger.get("category", source_id)
        category = db.session.get(Category, entry.target_id) if entry else None
        slug = slugify(unquote(term.slug) or term.name)[:80] or f"kategorie-{term.id}"
        name = (term.name or slug)[:80]
        if category is None:
            category = db.session.scalar(select(Category).where(Category.slug == slug))
        if category is None:
            taken = db.session.scalar(select(Category.id).where(Category.name == name))
            if taken is not None:
                name = f"{name} ({slug})"[:80]
            position = db.session.scalar(select(func.max(Category.position))) or 0
            category = Category(name=name, slug=slug, description=term.description, position=position + 1)
            db.session.add(category)
            db.session.flush()
            self.report.created["category"] += 1
        else:
            self.report.unchanged["category"] += 1
        self.ledger.remember("category", source_id, category.id)
        return category

    def _tag(self, name: str, slug: str, term_id: str = "") -> Tag:
        key = slug or slugify(name)
        if key in self.tags:
            return self.tags[key]
        entry = self.ledger.get("tag", key)
        tag = db.session.get(Tag, entry.target_id) if entry else None
        our_slug = slugify(unquote(key) or name)[:80] or f"tag-{term_id or 'x'}"
        if tag is None:
            tag = db.session.scalar(select(Tag).where((Tag.slug == our_slug) | (Tag.name == name[:80])))
        if tag is None:
            tag = Tag(name=(name or our_slug)[:80], slug=our_slug)
            db.session.add(tag)
            db.session.flush()
            self.report.created["tag"] += 1
        self.ledger.remember("tag", key, tag.id)
        self.tags[key] = tag
        return tag

    # --- items -----------------------------------------------------------------------------------

    def _item(self, item: wxr.Item) -> None:
        kind = item.type
        if kind == "attachment":
            self.report.attachments += 1
            copied = self._media(item.attachment_url) if item.attachment_url else None
            if copied:
                self.links.add(f"/?attachment_id={item.id}", copied)
            return
        if kind not in ("post", "page"):
            self.report.skip(kind, item.id, f"post type {kind!r} is not imported")
            return
        if item.status in ("trash", "auto-draft", "inherit"):
            self.report.skip(kind, item.id, f"status {item.status!r} is not imported")
            return
        if not item.id:
            self.report.skip(kind, "?", "an item without <wp:post_id>", repr(item.title[:60]))
            return
        # What this item's transaction adds to the caches is forgotten if it is rolled back.
        counts, caches = self.report.checkpoint(), (dict(self.users), dict(self.user_ids), dict(self.categories),
                                                    dict(self.tags))
        try:
            if kind == "post":
                self._post(item)
            else:
                self._page(item)
            db.session.commit()
            self.links.commit()
            outbox.settle()  # this transaction's index task is done with (the import applies them at its end)
        except (SQLAlchemyError, markup.RenderError, ValueError, RecursionError, OverflowError, OSError) as exc:
            db.session.rollback()
            self.ledger.forget_pending()
            self.links.rollback()
            self.report.restore(counts)
            self.users, self.user_ids, self.categories, self.tags = caches
            self.report.fail(kind, item.id, f"{item.title[:60]!r}: {reason_of(exc)}")

    def _title(self, item: wxr.Item, converted_text: str) -> str:
        title = " ".join(item.title.split())
        if not title:
            words = markup.plain_text(converted_text).split()[:8]
            title = " ".join(words) + " …" if words else f"Ohne Titel ({item.id})"
            self.report.warn(item.type, item.id, f"no title: now {title!r}")
        return title[:TITLE_MAX]

    def _slug(self, item: wxr.Item, title: str, model, current_id: int | None) -> str:
        wanted = slugify(unquote(item.slug)) if item.slug else slugify(title)
        wanted = (wanted or f"{item.type}-{item.id}")[:SLUG_MAX - 6].strip("-")
        slug, n = wanted, 1
        while True:
            holder = db.session.scalar(select(model.id).where(model.slug == slug))
            reserved = model is Page and self.options.is_reserved_path(slug)
            if (holder is None or holder == current_id) and not reserved:
                break
            n += 1
            slug = f"{wanted}-{n}"
        if slug != wanted:
            self.report.warn(item.type, item.id, f"the address {wanted!r} is taken: now {slug!r}")
        return slug

    def _content(self, item: wxr.Item) -> tuple[wp_content.Converted, markup.Rendered | None]:
        """The content as Markdown, and its rendering if a worker made it for exactly this Markdown."""
        converted, rendered, error = item.prepared or workers.post(item.content, self.attachments,
                                                                   self.options.internal_hosts)
        if error is not None:
            raise ValueError(f"the content cannot be formatted: {error}")
        moved = {url: new for url in {*converted.images, *converted.links} if (new := self._media(url))}
        for url, new in sorted(moved.items(), key=lambda pair: -len(pair[0])):  # longest first: no partial hits
            converted.markdown = converted.markdown.replace(url, new)
        self.report.remote_images += sum(1 for src in converted.images if self._is_old_upload(src)
                                         and src not in moved)
        for note in converted.notes:
            self.report.warn(item.type, item.id, note)
        return converted, None if moved else rendered

    def _post(self, item: wxr.Item) -> None:
        now = self.options.now()
        entry = self.ledger.get("post", item.id)
        post = db.session.get(Post, entry.target_id) if entry else None
        source = _post_checksum(item)
        if post is not None and entry.version is not None and post.version != entry.version and not self.options.force:
            self.report.skip("post", item.id, "changed in Dialog since its import (--force overwrites)")
            self._comments(post, item)
            return
        forced = self.options.force and entry is not None and post is not None and post.version != entry.version
        if post is not None and entry.checksum == source and not forced:
            self.report.unchanged["post"] += 1
            self._comments(post, item)
            self._post_links(item, post)
            return
        converted, rendered = self._content(item)
        title = self._title(item, converted.markdown)
        published_at = parse_date(item.date_gmt, item.date, self.options.tz)
        status = POST_STATUSES.get(item.status, PostStatus.DRAFT)
        if item.status not in POST_STATUSES:
            self.report.warn("post", item.id, f"status {item.status!r} unknown: imported as a draft")
        elif item.status == "private":
            self.report.warn("post", item.id, "private: imported as a draft (Dialog has no private posts)")
        if item.password:
            status = PostStatus.DRAFT
            self.report.warn("post", item.id, "password-protected: imported as a draft (Dialog has no passwords "
                                              "on posts)")
        if published_at is None and (item.date or item.date_gmt) and (item.date, item.date_gmt) != (ZERO_DATE,) * 2:
            self.report.warn("post", item.id, f"invalid date {item.date_gmt or item.date!r}: imported as a draft")
            status = PostStatus.DRAFT
        if status in (PostStatus.PUBLISHED, PostStatus.SCHEDULED):
            if published_at is None:
                status = PostStatus.DRAFT
            else:
                status = PostStatus.SCHEDULED if published_at > now else PostStatus.PUBLISHED
        new = post is None
        slug = self._slug(item, title, Post, post.id if post else None)
        if not new and post.slug != slug:  # the slug changed there (or here, and --force): the old address follows
            self.links.moved(f"/posts/{post.slug}", f"/posts/{slug}")
        if new:
            post = Post(author_id=self._author_of(item).id)
        before = readers_text(post)
        post.title, post.slug = title, slug
        post.lang = _language(self.site.language)
        post.status = status
        post.published_at = published_at
        post.comments_open = item.comment_status == "open"
        post.sticky = item.sticky
        post.author_id = self._author_of(item).id
        db.session.add(post)
        summary = wp_content.plain(item.excerpt) or converted.teaser
        apply_post_body(post, converted.markdown, summary=summary[:1000], internal_hosts=self.options.internal_hosts,
                        words_per_minute=self.options.words_per_minute, rendered=rendered)
        self._post_terms(post, item)
        if not new:
            post.version += 1
            note_content_change(post, before, now=now)
        db.session.flush()
        db.session.refresh(post, ["category", "tags"])  # what the revision keeps
        editing.record_revision(post, None, "import", now=now)
        self.ledger.remember("post", item.id, post.id, source, post.version)
        (self.report.created if new else self.report.updated)["post"] += 1
        if new and status != PostStatus.PUBLISHED:
            self.report.created[f"post:{status}"] += 1
        self._post_links(item, post)
        outbox.index(posts=[post.id], urgent=False)
        self._comments(post, item)

    def _author_of(self, item: wxr.Item) -> User:
        if item.creator in self.users:
            return self.users[item.creator]
        return self._user(wxr.Author(id="", login=item.creator or "redaktion", display_name=item.creator or ""))

    def _post_terms(self, post: Post, item: wxr.Item) -> None:
        categories = [self.categories.get(nicename) or self._adhoc_category(nicename, name)
                      for domain, nicename, name in item.categories if domain == "category"]
        post.category_id = categories[0].id if categories else None
        tags = [self._tag(name, nicename) for domain, nicename, name in item.categories if domain == "post_tag"]
        tags += [self._tag(c.name, c.slug) for c in categories[1:]]  # a post has one category here
        unique = list({t.id: t for t in tags}.values())
        db.session.flush()
        db.session.execute(post_tags.delete().where(post_tags.c.post_id == post.id))
        if unique:
            db.session.execute(post_tags.insert(), [{"post_id": post.id, "tag_id": t.id} for t in unique])

    def _adhoc_category(self, nicename: str, name: str) -> Category:
        """A category an item names but the export's list lacks (WXR 1.0)."""
        category = self._category(wxr.Term(id="", slug=nicename or slugify(name), name=name or nicename))
        self.categories[nicename] = category
        return category

    def _post_links(self, item: wxr.Item, post: Post) -> None:
        new = f"/posts/{post.slug}"
        if item.link:
            self.links.add(item.link, new)
        self.links.add(f"/?p={item.id}", new)
        if item.slug:
            self.links.add(f"/{unquote(item.slug)}", new)  # any permalink structure ending in the slug
        for domain, nicename, _name in item.categories:
            if domain == "category" and item.slug:
                self.links.add(f"/category/{nicename}/{unquote(item.slug)}", new)

    def _page(self, item: wxr.Item) -> None:
        for comment in item.comments:
            self.report.skip("comment", comment.id, "comments on pages are not imported (pages have none here)")
        if item.status != "publish" or item.password:
            self.report.skip("page", item.id, "only published pages without a password are imported (pages have "
                                              "no drafts here)", f"status {item.status!r}")
            return
        entry = self.ledger.get("page", item.id)
        page = db.session.get(Page, entry.target_id) if entry else None
        source = _page_checksum(item)
        if page is not None and entry.checksum == source:
            self.report.unchanged["page"] += 1
            return
        converted, rendered = self._content(item)
        title = self._title(item, converted.markdown)
        new = page is None
        slug = self._slug(item, title, Page, page.id if page else None)
        if new:
            page = Page()
        before = readers_text(page)
        page.title, page.slug = title, slug
        db.session.add(page)
        page.lang = _language(self.site.language)
        apply_page_body(page, converted.markdown, summary=wp_content.plain(item.excerpt)[:1000],
                        internal_hosts=self.options.internal_hosts, rendered=rendered)
        note_content_change(page, before, now=self.options.now())
        db.session.flush()
        self.ledger.remember("page", item.id, page.id, source)
        (self.report.created if new else self.report.updated)["page"] += 1
        new_path = f"/{page.slug}"
        if item.link:
            self.links.add(item.link, new_path)
        self.links.add(f"/?page_id={item.id}", new_path)

    # --- comments --------------------------------------------------------------------------------

    def _comments(self, post: Post, item: wxr.Item) -> None:
        readers, mentions = [], []
        known = self.ledger.known("comment")
        for c in item.comments:
            if not c.id:
                self.report.skip("comment", "?", "a comment without an id", f"on post {item.id}")
                continue
            if c.type in ("pingback", "trackback"):
                mentions.append(c)
                continue
            if c.id in known:  # imported before: kept as it is here (the team may have moderated it since)
                self.report.unchanged["comment"] += 1
                continue
            status = COMMENT_STATUSES.get(c.approved)
            if status is None:
                self.report.skip("comment", c.id, "unknown approval state", repr(c.approved))
                continue
            created = parse_date(c.date_gmt, c.date, self.options.tz)
            if created is None:
                self.report.warn("comment", c.id, f"invalid date {c.date_gmt or c.date!r}: dated like its post")
                created = post.published_at or self.options.now()
            # Only WordPress's own account link makes a staff comment: a guest may type any address.
            staff = self.user_ids.get(c.user_id) if c.user_id not in ("", "0") else None
            body_md, body_html, error = c.prepared or workers.comment(c.content, self.options.internal_hosts)
            readers.append(threads.SourceComment(
                source_id=c.id, parent_id=c.parent if c.parent not in ("", "0") else None,
                author_name=c.author, email=c.email, url=c.url, ip=c.ip, created_at=created,
                body_md=body_md, status=status, user=staff, body_html=body_html, render_error=error))
        threads.store(post, readers, ledger=self.ledger, secret=self.options.secret, report=self.report,
                      internal_hosts=self.options.internal_hosts)
        if mentions:
            self._mentions(post, mentions)

    def _mentions(self, post: Post, mentions: list[wxr.WpComment]) -> None:
        if not self.options.pingbacks:
            for m in mentions:
                self.report.skip(m.type, m.id, "pingbacks and trackbacks are skipped (--pingbacks keeps them)")
            return
        for m in mentions:
            if self.ledger.get("mention", m.id):
                self.report.unchanged[m.type] += 1
                continue
            mention = Mention(post_id=post.id, kind=m.type, source_url=m.url[:500], title=m.author[:300],
                              excerpt=wp_content.plain(m.content)[:2000],
                              approved=COMMENT_STATUSES.get(m.approved) == CommentStatus.APPROVED,
                              created_at=parse_date(m.date_gmt, m.date, self.options.tz) or post.created_at)
            db.session.add(mention)
            db.session.flush()
            self.ledger.remember("mention", m.id, mention.id)
            self.report.created[m.type] += 1

    # --- images ----------------------------------------------------------------------------------

    def _is_old_upload(self, url: str) -> bool:
        parts = urlsplit(url)
        return "/wp-content/uploads/" in parts.path and (
            not parts.netloc or old_links.bare_host(parts.hostname or "") in self.hosts)

    def _media(self, url: str) -> str | None:
        """Our address of an image of the old site's uploads, copied from `--media` (None: not there)."""
        if self.options.media is None or not url or not self._is_old_upload(url):
            return None
        if url in self.media_cache:
            return self.media_cache[url]
        relative = unquote(urlsplit(url).path.split("/wp-content/uploads/", 1)[1])
        found = None
        for candidate in (relative, wp_content.original_upload(relative)):
            path = (self.options.media / candidate).resolve()
            if self.options.media.resolve() not in path.parents or not path.is_file():
                continue  # no path outside the media directory, whatever the export says
            found = self._copy(path, candidate)
            if found:
                break
        if found is None:
            self.report.warn("image", relative, "not in the media directory: the link still points at the old site")
        self.media_cache[url] = found
        return found

    def _copy(self, path: Path, relative: str) -> str | None:
        entry = self.ledger.get("upload", relative)
        if entry is not None:
            upload = db.session.get(Upload, entry.target_id)
            if upload is not None:
                return f"/uploads/{upload.name}"
        data = path.read_bytes()
        try:
            upload = uploads.store(data, path.name, path.stem.replace("-", " ").replace("_", " ")[:300] or "Bild",
                                   None)
        except uploads.UploadError as exc:
            self.report.warn("image", relative, f"not copied: {exc}")
            return None
        self.ledger.remember("upload", relative, upload.id, hashlib.sha256(data).hexdigest())
        db.session.commit()
        if not getattr(upload, "reused", False):
            self.report.created["image"] += 1
        return f"/uploads/{upload.name}"


def _post_checksum(item: wxr.Item) -> str:
    return checksum(item.title, item.slug, item.content, item.excerpt, item.status, item.date, item.date_gmt,
                    item.categories, item.creator, item.comment_status, item.password, item.sticky)


def _page_checksum(item: wxr.Item) -> str:
    return checksum(item.title, item.slug, item.content, item.excerpt)


def _language(code: str) -> str:
    return "en" if code.lower().startswith("en") else "de"

