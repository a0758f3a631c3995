"""insights aggregates: per round, people pair, team pair and team

The insights pages read these instead of counting every round at each request; they are
kept current by flush events (matcher/rounds/insight_counts.py). They are filled from what is
already stored by 0011_round_page, the newest migration to change their shape: the recount is
today's code, which writes today's columns (`flask insights rebuild` does the same at any time).

Revision ID: 0008_insights
Revises: 0007_programmes
Create Date: 2026-12-07 02:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_insights'
down_revision = '0007_programmes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('insight_rounds',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('groups', sa.Integer(), nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('met_answers', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('new_pairs', sa.Integer(), nullable=False),
    sa.Column('new_met', sa.Integer(), nullable=False),
    sa.Column('new_pairs_all', sa.Integer(), nullable=False),
    sa.Column('new_met_all', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_insight_rounds_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', name=op.f('pk_insight_rounds'))
    )
    op.create_table('insight_pairs',
    sa.Column('scope', sa.Integer(), nullable=False),
    sa.Column('user_a', sa.Integer(), nullable=False),
    sa.Column('user_b', sa.Integer(), nullable=False),
    sa.Column('first_matched', sa.Integer(), nullable=False),
    sa.Column('first_met', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['first_matched'], ['rounds.id'], name=op.f('fk_insight_pairs_first_matched_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['first_met'], ['rounds.id'], name=op.f('fk_insight_pairs_first_met_rounds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_a'], ['users.id'], name=op.f('fk_insight_pairs_user_a_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_b'], ['users.id'], name=op.f('fk_insight_pairs_user_b_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scope', 'user_a', 'user_b', name=op.f('pk_insight_pairs'))
    )
    with op.batch_alter_table('insight_pairs', schema=None) as batch_op:
        batch_op.create_index('ix_insight_pairs_scope_user_b', ['scope', 'user_b'], unique=False)
    op.create_table('insight_team_pairs',
    sa.Column('scope', sa.Integer(), nullable=False),
    sa.Column('team_a', sa.Integer(), nullable=False),
    sa.Column('team_b', sa.Integer(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('met', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_a'], ['teams.id'], name=op.f('fk_insight_team_pairs_team_a_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_b'], ['teams.id'], name=op.f('fk_insight_team_pairs_team_b_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scope', 'team_a', 'team_b', name=op.f('pk_insight_team_pairs'))
    )
    op.create_table('insight_teams',
    sa.Column('scope', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('teams_matched', sa.Integer(), nullable=False),
    sa.Column('teams_met', sa.Integer(), nullable=False),
    sa.Column('pairs_matched', sa.Integer(), nullable=False),
    sa.Column('pairs_met', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_insight_teams_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scope', 'team_id', name=op.f('pk_insight_teams'))
    )


def downgrade():
    op.drop_table('insight_teams')
    op.drop_table('insight_team_pairs')
    with op.batch_alter_table('insight_pairs', schema=None) as batch_op:
        batch_op.drop_index('ix_insight_pairs_scope_user_b')
    op.drop_table('insight_pairs')
    op.drop_table('insight_rounds')
