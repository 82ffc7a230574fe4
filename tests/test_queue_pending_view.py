"""The queue's pending view: new comments and readers' edits of published ones, read through a
partial index in queue order (no sort of the whole backlog), and an edit never outlives the
publication it waits beside."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app import markup
from app.extensions import db
from app.models import Comment, CommentRevision, CommentStatus
from app.moderation import queue, service
from tests.comment_helpers import add_comment
from tests.databases import ON_POSTGRESQL
from tests.moderation_helpers import moderator


def _edit_waiting(post, body="Neue Fassung"):
    comment = add_comment(post, body="Alte Fassung")
    service.author_edit(comment, body, markup.render_comment(body), hold=True)
    return comment


def test_a_waiting_edit_is_in_the_pending_view_and_counted(app, make, post):
    waiting = _edit_waiting(post)
    new = add_comment(post, status=CommentStatus.PENDING, body="Frisch")
    add_comment(post, body="Längst veröffentlicht")
    ids = set(db.session.scalars(select(Comment.id).where(queue.view_condition("pending"))))
    assert ids == {waiting.id, new.id}
    assert queue.view_count("pending") == 2


def test_removing_a_published_comment_drops_its_waiting_edit_and_keeps_the_words(app, make, post):
    anna = moderator(make)
    comment = _edit_waiting(post, body="Die Fassung, die wartet")
    service.transition(comment, "reject", actor=anna, reason="off topic")
    db.session.refresh(comment)
    assert comment.status == CommentStatus.REJECTED
    assert comment.pending_since is None and comment.pending_body_md is None
    kept = db.session.scalars(select(CommentRevision).where(CommentRevision.comment_id == comment.id)).all()
    assert [(r.kind, r.body_md, r.actor_id) for r in kept] == [("rejected", "Die Fassung, die wartet", anna.id)]
    assert queue.view_count("pending") == 0


def test_the_pending_page_reads_the_partial_index_in_order(app, make, post):
    for n in range(30):
        add_comment(post, status=CommentStatus.PENDING if n % 3 else CommentStatus.APPROVED, body=f"K {n}",
                    commit=False)
    db.session.commit()
    if not ON_POSTGRESQL:
        db.session.execute(db.text("ANALYZE"))  # whatever the statistics say, the index must be the plan
    goals = queue.Targets.load(app.config, ZoneInfo("Europe/Berlin"))
    stmt = queue.build(queue.QueueFilter(), moderator(make), datetime.now(UTC), goals).limit(25)
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if ON_POSTGRESQL:
        db.session.execute(db.text("SET enable_seqscan = off"))  # a tiny table would be scanned otherwise
        plan = "\n".join(db.session.scalars(db.text("EXPLAIN " + sql)))
        assert "ix_comments_queue_pending" in plan, plan
    else:
        plan = " | ".join(row[3] for row in db.session.execute(db.text("EXPLAIN QUERY PLAN " + sql)))
        assert "ix_comments_queue_pending" in plan and "TEMP B-TREE" not in plan, plan
