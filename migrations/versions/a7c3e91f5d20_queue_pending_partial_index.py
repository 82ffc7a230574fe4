"""The queue's pending view reads a partial index; an edit waits only beside a published comment

Before, the "pending" view's condition (`status = 'pending' OR (pending_since IS NOT NULL AND
status = 'approved')`) made SQLite read 100,000 comments and sort 10,000 for one page of 25. Now
the gate drops a waiting edit when its comment leaves "approved" (keeping the words as a
"rejected" revision), so the condition needs no status for edits and a partial index serves it in
order. Edits left beside comments that are no longer published are dropped the same way here.

Revision ID: a7c3e91f5d20
Revises: e4ef5cd90b45
Create Date: 2026-12-01 16:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'a7c3e91f5d20'
down_revision = 'e4ef5cd90b45'
branch_labels = None
depends_on = None

QUEUE_PENDING_SQL = "status = 'pending' OR pending_since IS NOT NULL"


def upgrade():
    op.execute(
        "INSERT INTO comment_revisions (comment_id, body_md, kind, actor_id, created_at) "
        "SELECT id, pending_body_md, 'rejected', NULL, pending_since FROM comments "
        "WHERE pending_since IS NOT NULL AND status <> 'approved' AND pending_body_md IS NOT NULL"
    )
    op.execute(
        "UPDATE comments SET pending_body_md = NULL, pending_body_html = NULL, pending_since = NULL "
        "WHERE pending_since IS NOT NULL AND status <> 'approved'"
    )
    # Waiting readers over their category's target are counted from this index alone with the post in it.
    op.drop_index('ix_comments_response_status_status_created', table_name='comments')
    op.create_index('ix_comments_response_status_status_created', 'comments',
                    ['response_status', 'status', 'created_at', 'post_id'], unique=False)
    op.create_index('ix_comments_queue_pending', 'comments', ['created_at', 'id'], unique=False,
                    sqlite_where=sa.text(QUEUE_PENDING_SQL), postgresql_where=sa.text(QUEUE_PENDING_SQL))


def downgrade():
    op.drop_index('ix_comments_queue_pending', table_name='comments')
    op.drop_index('ix_comments_response_status_status_created', table_name='comments')
    op.create_index('ix_comments_response_status_status_created', 'comments',
                    ['response_status', 'status', 'created_at'], unique=False)
