"""Issue 13, triage rules: a keyed hash of each comment's normalised text (rule "repeated") and an
index on the client's IP hash with the status (rule "history"), both read on the comment write path

Comments stored before have no text hash: they simply do not count as earlier copies.

Revision ID: c5d8e2f1a937
Revises: 4adea2ab3238
Create Date: 2026-12-03 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'c5d8e2f1a937'
down_revision = '4adea2ab3238'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_comments_text_hash_created_at', ['text_hash', 'created_at'], unique=False)
        batch_op.create_index('ix_comments_ip_hash_status', ['ip_hash', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_ip_hash_status')
        batch_op.drop_index('ix_comments_text_hash_created_at')
        batch_op.drop_column('text_hash')
