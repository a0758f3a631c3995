"""Helpers of the programme tests: weeks relative to today, programmes, joins and rounds."""

from __future__ import annotations

from datetime import date, timedelta

from matcher.extensions import db
from matcher.models import Programme, Round, User
from matcher.programmes import catalogue, members
from matcher.rounds import publishing
from matcher.weeks import week_label

# Rounds are computed for weeks relative to today, so the new-joiner rule (joined within N
# weeks of the round's Monday) holds on any date.
THIS_MONDAY = date.today() - timedelta(days=date.today().weekday())


def week(offset: int) -> str:
    """The ISO week `offset` weeks from this one."""
    return week_label(THIS_MONDAY + timedelta(weeks=offset))


def make_programme(slug: str, kind: str, **values: object) -> Programme:
    """A programme (added and flushed) of that kind."""
    defaults = dict(catalogue.KIND_DEFAULTS[kind])
    defaults.update(values)
    return catalogue.create_programme(
        db.session,
        catalogue.ProgrammeValues(name=slug.title(), slug=slug, kind=kind, **defaults),
        None,
    )


def join(programme: Programme, user_id: int, role: str | None = None) -> None:
    user = db.session.get(User, user_id)
    members.join(db.session, programme, user, members.Choice(programme.id, role), THIS_MONDAY)


def run(programme: Programme, week_label_: str, publish: bool = True) -> Round:
    outcome = publishing.run_round(db.session, programme, week_label_, publish=publish)
    db.session.commit()
    assert outcome.round is not None
    return outcome.round


def pairs(round_: Round) -> list[tuple[int, ...]]:
    return sorted(tuple(sorted(m.user_id for m in g.memberships)) for g in round_.groups)
