"""Imports from WordPress and Disqus: which source item became which row, pingbacks, and where a
redirect came from

Revision ID: b81f2c4d7e90
Revises: a7c3e91f5d20
Create Date: 2026-12-01 22:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'b81f2c4d7e90'
down_revision = 'a7c3e91f5d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'imported_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('origin', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('source_id', sa.String(length=200), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('checksum', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=True),
        sa.Column('imported_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('uq_imported_items_source', 'imported_items', ['origin', 'kind', 'source_id'], unique=True)
    op.create_index('ix_imported_items_target', 'imported_items', ['kind', 'target_id'])
    op.create_table(
        'mentions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('source_url', sa.String(length=500), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('excerpt', sa.Text(), nullable=False),
        sa.Column('approved', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_mentions_post_id'), 'mentions', ['post_id'])
    with op.batch_alter_table('redirects') as batch:
        batch.add_column(sa.Column('origin', sa.String(length=200), nullable=False, server_default=''))
    with op.batch_alter_table('categories') as batch:
        batch.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_categories_parent_id', 'categories', ['parent_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('posts') as batch:
        batch.add_column(sa.Column('sticky', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('posts') as batch:
        batch.drop_column('sticky')
    with op.batch_alter_table('categories') as batch:
        batch.drop_constraint('fk_categories_parent_id', type_='foreignkey')
        batch.drop_column('parent_id')
    with op.batch_alter_table('redirects') as batch:
        batch.drop_column('origin')
    op.drop_index(op.f('ix_mentions_post_id'), table_name='mentions')
    op.drop_table('mentions')
    op.drop_index('ix_imported_items_target', table_name='imported_items')
    op.drop_index('uq_imported_items_source', table_name='imported_items')
    op.drop_table('imported_items')
