"""programmes: several pairing programmes, per-programme membership, mentoring vocabularies

The one settings row becomes the programme "Cross-team coffee" (slug coffee, id 1) with the
same rules and schedule; every round belongs to it; everyone who had joined (a profile with a
team) becomes its member, keeping their cadence, snooze, and left or paused state.

Revision ID: 0007_programmes
Revises: 0006_facts
Create Date: 2026-12-07 01:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_programmes'
down_revision = '0006_facts'
branch_labels = None
depends_on = None

KINDS = "kind IN ('coffee', 'buddies', 'mentoring')"
OPEN_TO = "open_to IN ('everyone', 'teams', 'offices', 'new_joiners')"
ROLES = "role IS NULL OR role IN ('newcomer', 'buddy', 'mentee', 'mentor')"


def upgrade():
    op.create_table('programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('round_weekday', sa.SmallInteger(), nullable=False),
    sa.Column('round_minute', sa.Integer(), nullable=False),
    sa.Column('round_timezone', sa.String(length=64), nullable=False),
    sa.Column('feedback_reminder_days', sa.Integer(), nullable=False),
    sa.Column('pause_after_missed', sa.Integer(), nullable=False),
    sa.Column('chat_webhook_url', sa.String(length=300), nullable=True),
    sa.Column('open_to', sa.String(length=16), nullable=False),
    sa.Column('open_values', sa.JSON(), nullable=False),
    sa.Column('joined_within_weeks', sa.Integer(), nullable=False),
    sa.Column('auto_enrol', sa.Boolean(), nullable=False),
    sa.Column('pairing_weeks', sa.Integer(), nullable=False),
    sa.Column('mentor_capacity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(KINDS, name=op.f('ck_programmes_kind')),
    sa.CheckConstraint(OPEN_TO, name=op.f('ck_programmes_open_to')),
    sa.CheckConstraint('round_weekday BETWEEN 0 AND 6', name=op.f('ck_programmes_round_weekday')),
    sa.CheckConstraint('round_minute BETWEEN 0 AND 1439', name=op.f('ck_programmes_round_minute')),
    sa.CheckConstraint('mentor_capacity BETWEEN 1 AND 10', name=op.f('ck_programmes_capacity')),
    sa.CheckConstraint('pairing_weeks BETWEEN 1 AND 52', name=op.f('ck_programmes_pairing_weeks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programmes')),
    sa.UniqueConstraint('slug', name=op.f('uq_programmes_slug'))
    )
    # The settings row (or today's defaults when none was saved) becomes programme 1.
    op.execute(
        "INSERT INTO programmes (id, slug, name, description, kind, archived, rules, "
        "round_weekday, round_minute, round_timezone, feedback_reminder_days, "
        "pause_after_missed, chat_webhook_url, open_to, open_values, joined_within_weeks, "
        "auto_enrol, pairing_weeks, mentor_capacity, created_at, updated_at) "
        "SELECT 1, 'coffee', 'Cross-team coffee', "
        "'Meet someone from another team for a coffee.', 'coffee', false, rules, "
        "round_weekday, round_minute, round_timezone, feedback_reminder_days, "
        "pause_after_missed, NULL, 'everyone', '[]', 8, false, 1, 1, updated_at, updated_at "
        "FROM programme_settings WHERE id = 1"
    )
    op.execute(
        "INSERT INTO programmes (id, slug, name, description, kind, archived, rules, "
        "round_weekday, round_minute, round_timezone, feedback_reminder_days, "
        "pause_after_missed, chat_webhook_url, open_to, open_values, joined_within_weeks, "
        "auto_enrol, pairing_weeks, mentor_capacity, created_at, updated_at) "
        "SELECT 1, 'coffee', 'Cross-team coffee', "
        "'Meet someone from another team for a coffee.', 'coffee', false, '{}', "
        "0, 540, 'UTC', 5, 3, NULL, 'everyone', '[]', 8, false, 1, 1, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
        "WHERE NOT EXISTS (SELECT 1 FROM programmes)"
    )
    if op.get_bind().dialect.name == "postgresql":
        # The explicit id 1 did not advance the sequence.
        op.execute("SELECT setval('programmes_id_seq', (SELECT max(id) FROM programmes))")

    op.create_table('programme_members',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=True),
    sa.Column('cadence_weeks', sa.SmallInteger(), nullable=False),
    sa.Column('snoozed_until', sa.Date(), nullable=True),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('pause_reason', sa.String(length=200), nullable=True),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('cadence_weeks IN (1, 2, 4)', name=op.f('ck_programme_members_cadence_weeks')),
    sa.CheckConstraint(ROLES, name=op.f('ck_programme_members_role')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_members_programme_id_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'user_id', name=op.f('pk_programme_members'))
    )
    with op.batch_alter_table('programme_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_members_user_id'), ['user_id'], unique=False)
    # Everyone who joined (filled in a profile, so has a team) is in the coffee programme.
    op.execute(
        "INSERT INTO programme_members (programme_id, user_id, role, cadence_weeks, "
        "snoozed_until, opted_out, pause_reason, joined_at) "
        "SELECT 1, p.user_id, NULL, p.cadence_weeks, p.snoozed_until, p.opted_out, "
        "p.pause_reason, u.created_at FROM profiles p JOIN users u ON u.id = p.user_id "
        "WHERE u.team_id IS NOT NULL"
    )

    op.create_table('skills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skills')),
    sa.UniqueConstraint('key', name=op.f('uq_skills_key'))
    )
    for link in ('user_can_help', 'user_wants_help'):
        op.create_table(link,
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('skill_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f(f'fk_{link}_skill_id_skills'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{link}_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'skill_id', name=op.f(f'pk_{link}'))
        )

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_on', sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE users SET joined_on = CAST(created_at AS DATE)")
    else:
        op.execute("UPDATE users SET joined_on = date(created_at)")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('joined_on', existing_type=sa.Date(), nullable=False)

    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('programme_id', sa.Integer(), nullable=True))
    op.execute("UPDATE rounds SET programme_id = 1")
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.alter_column('programme_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f('uq_rounds_week'), type_='unique')
        batch_op.create_unique_constraint('uq_rounds_programme_week', ['programme_id', 'week'])
        batch_op.create_index(batch_op.f('ix_rounds_programme_id'), ['programme_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_rounds_programme_id_programmes'), 'programmes', ['programme_id'], ['id'], ondelete='CASCADE')

    # A mentor may be in several groups of one round: one membership per group and person.
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_memberships_round_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_memberships_group_id'), ['group_id', 'user_id'])
        batch_op.create_index(batch_op.f('ix_memberships_round_id'), ['round_id'], unique=False)

    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_profiles_cadence_weeks'), type_='check')
        batch_op.drop_column('cadence_weeks')
        batch_op.drop_column('snoozed_until')
        batch_op.drop_column('opted_out')
        batch_op.drop_column('pause_reason')

    op.drop_table('programme_settings')


def downgrade():
    op.create_table('programme_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('round_weekday', sa.SmallInteger(), nullable=False),
    sa.Column('round_minute', sa.Integer(), nullable=False),
    sa.Column('round_timezone', sa.String(length=64), nullable=False),
    sa.Column('feedback_reminder_days', sa.Integer(), nullable=False),
    sa.Column('pause_after_missed', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('round_minute BETWEEN 0 AND 1439', name=op.f('ck_programme_settings_round_minute')),
    sa.CheckConstraint('round_weekday BETWEEN 0 AND 6', name=op.f('ck_programme_settings_round_weekday')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_settings'))
    )
    op.execute(
        "INSERT INTO programme_settings (id, rules, round_weekday, round_minute, "
        "round_timezone, feedback_reminder_days, pause_after_missed, updated_at) "
        "SELECT 1, rules, round_weekday, round_minute, round_timezone, "
        "feedback_reminder_days, pause_after_missed, updated_at FROM programmes "
        "WHERE slug = 'coffee'"
    )
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pause_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('opted_out', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('snoozed_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('cadence_weeks', sa.SmallInteger(), nullable=False, server_default='1'))
        batch_op.create_check_constraint(batch_op.f('ck_profiles_cadence_weeks'), 'cadence_weeks IN (1, 2, 4)')
    op.execute(
        "UPDATE profiles SET cadence_weeks = m.cadence_weeks, snoozed_until = m.snoozed_until, "
        "opted_out = m.opted_out, pause_reason = m.pause_reason FROM programme_members m "
        "JOIN programmes p ON p.id = m.programme_id "
        "WHERE p.slug = 'coffee' AND m.user_id = profiles.user_id"
    )
    # Rounds of other programmes cannot live in a one-programme database.
    op.execute(
        "DELETE FROM rounds WHERE programme_id NOT IN "
        "(SELECT id FROM programmes WHERE slug = 'coffee')"
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_memberships_round_id'))
        batch_op.drop_constraint(batch_op.f('uq_memberships_group_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_memberships_round_id'), ['round_id', 'user_id'])
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rounds_programme_id_programmes'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_rounds_programme_id'))
        batch_op.drop_constraint('uq_rounds_programme_week', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_rounds_week'), ['week'])
        batch_op.drop_column('programme_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('joined_on')
    op.drop_table('user_wants_help')
    op.drop_table('user_can_help')
    op.drop_table('skills')
    with op.batch_alter_table('programme_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_members_user_id'))
    op.drop_table('programme_members')
    op.drop_table('programmes')
