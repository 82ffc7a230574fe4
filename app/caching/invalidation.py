"""Every committed change a reader could see moves the page cache's generation on.

Listening to the ORM session, not to the services: a writer added tomorrow (a CLI command, an
import, the outbox) invalidates without knowing the cache exists. A flush or a bulk statement
that touches what public pages show marks the session; the commit then bumps the generation
(after the commit, so a page rendered meanwhile from the old data is stored under the old
generation and never served). A new pending comment, a login or an audit row bump nothing: they
change no public page, and a flood of spam must not empty the cache.
"""
import logging

from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from app.models import (
    Category,
    Comment,
    CommentStatus,
    Page,
    Post,
    Redirect,
    Setting,
    Tag,
    Upload,
    User,
)

log = logging.getLogger(__name__)
MARK = "page_cache_changed"

# What public pages, feeds and the API are made of. Comments are judged one by one below.
PUBLIC_MODELS = (Post, Category, Tag, Page, Redirect, Setting, Upload, User)
PUBLIC_TABLES = frozenset({"posts", "categories", "tags", "post_tags", "pages", "redirects", "settings", "uploads",
                           "users", "comments"})


def _comment_is_public(comment: Comment) -> bool:
    """Approved now or before this change: a change of a pending or spam comment shows nowhere."""
    if comment.status == CommentStatus.APPROVED:
        return True
    history = attributes.get_history(comment, "status")
    return CommentStatus.APPROVED in (history.deleted or ())


def _touches_public(session: Session) -> bool:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Comment):
            if obj in session.deleted or (_comment_is_public(obj) and (obj in session.new or session.is_modified(obj))):
                return True
        elif isinstance(obj, PUBLIC_MODELS) and (obj in session.new or obj in session.deleted
                                                or session.is_modified(obj, include_collections=True)):
            return True
    return False


@event.listens_for(Session, "before_flush")
def _before_flush(session, _context, _instances):
    # Before the flush: afterwards the attribute histories (was it approved?) are reset.
    if not session.info.get(MARK) and _touches_public(session):
        session.info[MARK] = True


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state):
    """`session.execute(update(Comment)…)` and the like: no objects to look at, so judge the table."""
    if state.is_select or state.session.info.get(MARK):
        return
    statement = state.statement
    table = getattr(statement, "table", None)
    if table is not None:
        if getattr(table, "name", None) in PUBLIC_TABLES:
            state.session.info[MARK] = True
        return
    sql = str(getattr(statement, "text", "")).lstrip().upper()
    if not sql.startswith(READ_ONLY_SQL):  # some other text() statement: assume the worst
        state.session.info[MARK] = True


READ_ONLY_SQL = ("SELECT", "WITH", "PRAGMA", "SET ", "SHOW", "EXPLAIN")


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    if session.info.pop(MARK, False) and has_app_context():
        from app.caching import pages

        try:
            pages.store().bump()
        except Exception:  # the change is committed; a stale page must not turn into a 500
            log.exception("page cache: could not move the generation on; clearing this process's pages")
            pages.forget_local()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    session.info.pop(MARK, None)
