"""round page and insights aggregates: cross-team pairs, score bins, group flags, team sizes

A published round's page read every group's score, counted its cross-team pairs over every
membership and parsed a summary listing every group: its cost grew with the round. Now each
round keeps its cross-team pairs (by current teams) and its score histogram, each group with
something to say has a row in insight_groups, and a round's groups are read in order through
(round_id, id). The insights page counted every person per team for its headcounts; now each
team's size is kept in insight_team_sizes. Then every aggregate is recounted from what is
stored (0008_insights created the tables empty; the recount is today's code, so the newest
migration to change their shape fills them).

Revision ID: 0011_round_page
Revises: 0010_data_versions
Create Date: 2026-12-07 11:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.orm import Session


revision = '0011_round_page'
down_revision = '0010_data_versions'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('insight_groups',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('common', sa.Boolean(), nullable=False),
    sa.Column('repeats', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['match_groups.id'], name=op.f('fk_insight_groups_group_id_match_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_insight_groups_round_id_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'group_id', name=op.f('pk_insight_groups'))
    )
    op.create_table('insight_team_sizes',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_insight_team_sizes_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', name=op.f('pk_insight_team_sizes'))
    )
    with op.batch_alter_table('insight_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cross_pairs', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('match_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_groups_round_id'))
        batch_op.create_index('ix_match_groups_round_id_id', ['round_id', 'id'], unique=False)

    from matcher.rounds.insight_counts import rebuild

    session = Session(bind=op.get_bind())
    rebuild(session)
    session.flush()


def downgrade():
    # The summaries listed their groups' shared interests and repeats again, as 0010 read them.
    bind = op.get_bind()
    groups = sa.table('insight_groups', sa.column('round_id', sa.Integer),
                      sa.column('group_id', sa.Integer), sa.column('common', sa.Boolean),
                      sa.column('repeats', sa.JSON))
    rounds = sa.table('insight_rounds', sa.column('round_id', sa.Integer),
                      sa.column('summary', sa.JSON))
    said: dict = {}
    for round_id, group_id, common, repeats in bind.execute(
        sa.select(groups.c.round_id, groups.c.group_id, groups.c.common, groups.c.repeats)
        .order_by(groups.c.round_id, groups.c.group_id)
    ):
        entry = said.setdefault(round_id, {"common": [], "repeats": {}})
        if common:
            entry["common"].append(group_id)
        if repeats:
            entry["repeats"][str(group_id)] = repeats
    for round_id, summary in bind.execute(sa.select(rounds.c.round_id, rounds.c.summary)).all():
        if summary is not None:
            summary = {k: v for k, v in summary.items() if k != "scores"}
            summary.update(said.get(round_id, {"common": [], "repeats": {}}))
            bind.execute(
                rounds.update().where(rounds.c.round_id == round_id).values(summary=summary)
            )
    with op.batch_alter_table('match_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_match_groups_round_id_id')
        batch_op.create_index(batch_op.f('ix_match_groups_round_id'), ['round_id'], unique=False)
    with op.batch_alter_table('insight_rounds', schema=None) as batch_op:
        batch_op.drop_column('cross_pairs')
    op.drop_table('insight_groups')
    op.drop_table('insight_team_sizes')
