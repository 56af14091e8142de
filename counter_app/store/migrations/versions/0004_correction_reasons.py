"""correction_reasons: the reason a correction was asked for or refused, encrypted

Revision ID: 0004_correction_reasons
Revises: 0003_handovers
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_correction_reasons'
down_revision = '0003_handovers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('correction_reasons',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=False),
    sa.Column('reason_enc', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('correction_reasons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correction_reasons_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('correction_reasons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correction_reasons_case_id'))
    op.drop_table('correction_reasons')
