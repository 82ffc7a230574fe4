"""outbox mails record the comment they quote (so an erasure finds them)

Revision ID: 9c4e2a7d5b13
Revises: 175be66b1862
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4e2a7d5b13'
down_revision = '175be66b1862'
branch_labels = None
depends_on = None


def upgrade():
    # Mails queued before this revision keep NULL; the erasure finds those by the comment's link.
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_mails_comment_id'), ['comment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_mails_comment_id_comments'), 'comments', ['comment_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_mails_comment_id_comments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_mails_comment_id'))
        batch_op.drop_column('comment_id')
