"""Insights kept current as rounds are published, answers arrive and accounts are erased."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from matcher.extensions import db

# The scope of a pair or team-pair row: a programme's id, or EVERY_PROGRAMME for the
# org-wide page (a pair matched in two programmes counts once there).
EVERY_PROGRAMME = 0


class InsightRound(db.Model):
    """One published or closed round's counts, as the insights page shows them."""

    __tablename__ = "insight_rounds"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    groups: Mapped[int] = mapped_column(default=0)
    answers: Mapped[int] = mapped_column(default=0)
    met_answers: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    rating_count: Mapped[int] = mapped_column(default=0)
    # People pairs together (or meeting) for the first time, in the round's programme ...
    new_pairs: Mapped[int] = mapped_column(default=0)
    new_met: Mapped[int] = mapped_column(default=0)
    # ... and across every programme (rounds in order of week, then programme).
    new_pairs_all: Mapped[int] = mapped_column(default=0)
    new_met_all: Mapped[int] = mapped_column(default=0)
    # What the round page reads instead of every group and the stored problem (megabytes to
    # parse): {"participants": n, "pairs": n, "common_pairs": n, "repeat_pairs": n,
    #  "scores": {"upper": axis maximum, "bins": [10 counts], "total": sum of the scores}}.
    # Groups' scores never change once a round is published; the stored problem changes only
    # when an erasure anonymises it, and the summary is taken again then.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # People pairs in a group together whose members' current teams differ (no team counts as
    # a team of its own), kept as people change team.
    cross_pairs: Mapped[int] = mapped_column(default=0)


class InsightGroup(db.Model):
    """What the round page says of one group of a counted round, from the stored problem:
    whether two members share a project or interest, and which members met before. Only
    groups with something to say have a row."""

    __tablename__ = "insight_groups"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("match_groups.id", ondelete="CASCADE"), primary_key=True
    )
    common: Mapped[bool] = mapped_column(default=False)
    # [[user a, user b, weeks ago], ...]: the members who met before, in the group's order.
    repeats: Mapped[list[list[int]]] = mapped_column(JSON, default=list)


class InsightPair(db.Model):
    """A people pair ever in a group together: the round it was first matched and first met."""

    __tablename__ = "insight_pairs"
    __table_args__ = (Index("ix_insight_pairs_scope_user_b", "scope", "user_b"),)

    scope: Mapped[int] = mapped_column(primary_key=True)  # programme id or EVERY_PROGRAMME
    user_a: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    user_b: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    first_matched: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    first_met: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"))


class InsightTeamPair(db.Model):
    """People pairs matched and met between two teams (by their members' current teams)."""

    __tablename__ = "insight_team_pairs"

    scope: Mapped[int] = mapped_column(primary_key=True)
    # A deleted team takes its rows along: its people have no team now, and count nowhere.
    team_a: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    team_b: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    matched: Mapped[int] = mapped_column(default=0)
    met: Mapped[int] = mapped_column(default=0)


class InsightTeam(db.Model):
    """One team's reach across other teams, from its team-pair rows (kept with them)."""

    __tablename__ = "insight_teams"

    scope: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    teams_matched: Mapped[int] = mapped_column(default=0)  # other teams with a pair matched
    teams_met: Mapped[int] = mapped_column(default=0)
    pairs_matched: Mapped[int] = mapped_column(default=0)  # people pairs with other teams
    pairs_met: Mapped[int] = mapped_column(default=0)


class InsightTeamSize(db.Model):
    """How many people a team has now (accounts not erased): the insights page's headcounts,
    largest teams and least connected teams read these instead of counting every person."""

    __tablename__ = "insight_team_sizes"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    people: Mapped[int] = mapped_column(default=0)
