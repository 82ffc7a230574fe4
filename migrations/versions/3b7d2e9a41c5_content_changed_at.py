"""content_changed_at on posts and pages

updated_at moved with every import of a file, so feeds, the sitemap and "last updated" showed the
import time. content_changed_at holds when readers' text last changed.

Revision ID: 3b7d2e9a41c5
Revises: f194d6dcfa10
Create Date: 2026-12-01 12:00:00.000000

"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b7d2e9a41c5'
down_revision = 'f194d6dcfa10'
branch_labels = None
depends_on = None

# The importer set updated_at just before the row was inserted (created_at), so a later updated_at
# means a later import changed the file; otherwise the text is the one first published.
REIMPORTED_AFTER = timedelta(minutes=1)


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_changed_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_changed_at', sa.DateTime(), nullable=True))

    connection = op.get_bind()
    posts = sa.table('posts', sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime),
                     sa.column('updated_at', sa.DateTime), sa.column('content_changed_at', sa.DateTime))
    # In Python, not in SQL: date arithmetic differs between SQLite and PostgreSQL.
    rows = connection.execute(sa.select(posts.c.id, posts.c.created_at, posts.c.updated_at)).all()
    for post_id, created_at, updated_at in rows:
        if created_at and updated_at and updated_at - created_at > REIMPORTED_AFTER:
            connection.execute(posts.update().where(posts.c.id == post_id).values(content_changed_at=updated_at))
    pages = sa.table('pages', sa.column('updated_at', sa.DateTime), sa.column('content_changed_at', sa.DateTime))
    connection.execute(pages.update().values(content_changed_at=pages.c.updated_at))


def downgrade():
    with op.batch_alter_table('pages', schema=None) as batch_op:
        batch_op.drop_column('content_changed_at')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('content_changed_at')
