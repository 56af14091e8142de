"""signing jobs: the center's PDF signature on each document of a finalized case

Revision ID: 0002_signing_jobs
Revises: 0001
Create Date: 2026-12-06 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_signing_jobs'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signing_jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_sha256', sa.String(length=64), nullable=True),
    sa.Column('signer', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['signed_sha256'], ['attachments.sha256'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', name='uq_signing_job')
    )
    with op.batch_alter_table('signing_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_jobs_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signing_jobs_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('signing_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_jobs_status'))
        batch_op.drop_index(batch_op.f('ix_signing_jobs_case_id'))
    op.drop_table('signing_jobs')
