"""/Groups: teams. One Group per team, its members the people in it (erased accounts left
out). Adding a member moves the person into the team and removing one leaves them without
a team, both through upsert_person as a roster import would; deleting a Group removes the
team and leaves its people without one (nothing else of theirs changes)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app
from scim2_models import (
    Context,
    InvalidValueException,
    Meta,
    NotFoundException,
    PatchOp,
    ResponseParameters,
    UniquenessException,
)
from sqlalchemy import String, cast, exists, false, func, null, select, true
from sqlalchemy.orm import Session

from matcher.extensions import db
from matcher.models import Team, User
from matcher.models.people import normalise_name, vocabulary_key
from matcher.roster.service import PersonRecord, upsert_person
from matcher.scim import bp
from matcher.scim.filters import Attribute, condition, parse_id
from matcher.scim.protocol import list_response, page, query_value, read_json, resource_response
from matcher.scim.protocol import response_parameters as parameters_for
from matcher.scim.resources import GROUP_SCHEMA, POLICY, Group, Member, location

NAME_MAX = 80


def to_group(team: Team, member_ids: Iterable[int] | None) -> Group:
    """The team as a SCIM Group (members None when they were not asked for)."""
    config = current_app.config
    return Group(
        id=str(team.id),
        display_name=team.name,
        members=(
            [
                Member(value=str(i), ref=location(config, f"/Users/{i}"), type="User")
                for i in sorted(member_ids)
            ]
            if member_ids is not None
            else None
        ),
        meta=Meta(resource_type="Group", location=location(config, f"/Groups/{team.id}")),
    )


def members_of(session: Session, team_ids: Iterable[int]) -> dict[int, list[int]]:
    """The live people of each team, by team id."""
    wanted = list(team_ids)
    found: dict[int, list[int]] = {team_id: [] for team_id in wanted}
    if not wanted:
        return found
    rows = session.execute(
        select(User.team_id, User.id).where(User.team_id.in_(wanted), User.deleted_at.is_(None))
    )
    for team_id, user_id in rows:
        found[team_id].append(user_id)
    return found


def find_team(session: Session, raw_id: str) -> Team:
    """The team with that SCIM id; NotFoundException otherwise."""
    team_id = parse_id(raw_id)
    team = session.get(Team, team_id) if team_id is not None else None
    if team is None:
        raise NotFoundException(detail=f"There is no Group {raw_id[:40]!r}.")
    return team


def _is_member(value: str) -> Any:
    user_id = parse_id(value)
    if user_id is None:
        return false()
    return exists().where(User.team_id == Team.id, User.id == user_id, User.deleted_at.is_(None))


def _filter_attributes() -> dict[str, Attribute]:
    member = Attribute(Team.id, "custom", build=_is_member)
    return {
        "id": Attribute(Team.id, "id"),
        "displayname": Attribute(Team.name, "text"),
        # Teams keep no external id: nothing matches one.
        "externalid": Attribute(cast(null(), String), "exact"),
        "members": member,
        "members.value": member,
    }


def list_teams(session: Session, text: str | None, offset: int, count: int) -> tuple[int, list]:
    """The number of teams a filter matches and one page of them, by id."""
    where = condition(text, _filter_attributes(), (GROUP_SCHEMA,)) if text else true()
    query = select(Team).where(where)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if count == 0:
        return total, []
    return total, list(session.scalars(query.order_by(Team.id).offset(offset).limit(count)))


def _wants_members(parameters: ResponseParameters[Any] | None) -> bool:
    """False when the client left members out (attributes without it, or excluded)."""
    if parameters is None:
        return True
    named = {
        str(p).lower().rpartition(":")[2].partition(".")[0] for p in parameters.attributes or []
    }
    excluded = {str(p).lower().rpartition(":")[2] for p in parameters.excluded_attributes or []}
    if parameters.attributes:
        return "members" in named
    return "members" not in excluded


def _team_name(value: str | None) -> str:
    name = normalise_name(value or "")
    if not name:
        raise InvalidValueException(detail="displayName is required.")
    if len(name) > NAME_MAX:
        raise InvalidValueException(detail=f"displayName is at most {NAME_MAX} characters.")
    return name


def _check_free(session: Session, name: str, team: Team | None) -> None:
    other = session.scalar(select(Team).where(Team.key == vocabulary_key(name)))
    if other is not None and other is not team:
        raise UniquenessException(detail=f"There is already a Group named {other.name!r}.")


def _people(session: Session, group: Group) -> dict[int, User]:
    """The people the Group's members name; invalidValue for one that is not a live User."""
    people: dict[int, User] = {}
    for member in group.members or []:
        if member.type and member.type.lower() != "user":
            raise InvalidValueException(detail="Members are Users (teams hold no groups).")
        raw = (member.value or "").strip()
        if not raw and member.ref:
            raw = str(member.ref).rstrip("/").rpartition("/")[2]
        user_id = parse_id(raw)
        user = session.get(User, user_id) if user_id is not None else None
        if user is None or user.is_deleted:
            raise InvalidValueException(detail=f"member {raw[:40]!r} is not a User in matcher.")
        people[user.id] = user
    return people


def _today() -> Any:
    return datetime.now(UTC).date()


def _move(session: Session, user: User, team_name: str) -> None:
    """Put the person in that team ("" for none), as a directory sets it."""
    record = PersonRecord(email=user.email, name=user.display_name, team=team_name)
    upsert_person(session, record, today=_today(), overwrite=True, invite=False)


def set_members(session: Session, team: Team, people: dict[int, User]) -> None:
    """Make exactly these people the team's (others in it are left without a team)."""
    current = set(members_of(session, [team.id])[team.id])
    for user_id in sorted(current - set(people)):
        user = session.get(User, user_id)
        if user is not None:
            _move(session, user, "")
    for user_id in sorted(set(people) - current):
        _move(session, people[user_id], team.name)


def rename(session: Session, team: Team, name: str) -> None:
    """Give the team a new name (409 when another team has it)."""
    if name == team.name:
        return
    _check_free(session, name, team)
    team.name = name
    team.key = vocabulary_key(name)


def create_team(session: Session, group: Group) -> Team:
    """A new team with the Group's name and members (not committed)."""
    name = _team_name(group.display_name)
    _check_free(session, name, None)
    people = _people(session, group)
    team = Team(name=name, key=vocabulary_key(name))
    session.add(team)
    session.flush()
    set_members(session, team, people)
    return team


def remove_team(session: Session, team: Team) -> None:
    """Remove the team; its people are left without one (not committed)."""
    set_members(session, team, {})
    session.flush()
    session.delete(team)


def _answer(team: Team, status: int = 200, context: Context = Context.RESOURCE_QUERY_RESPONSE):
    parameters = parameters_for(Group)
    members = members_of(db.session, [team.id])[team.id] if _wants_members(parameters) else None
    return resource_response(to_group(team, members), context, status, parameters)


@bp.get("/Groups")
def groups_index() -> Response:
    """A page of teams, filtered by `filter` when given."""
    parameters = parameters_for(Group)
    wanted_page = page()
    total, teams = list_teams(
        db.session, query_value("filter"), wanted_page.offset, wanted_page.count
    )
    members = members_of(db.session, [t.id for t in teams]) if _wants_members(parameters) else {}
    groups = [to_group(t, members.get(t.id) if members else None) for t in teams]
    return list_response(Group, groups, total, wanted_page.start, parameters)


@bp.post("/Groups")
def groups_create() -> Response:
    """Make a team (201); its members move into it."""
    group = Group.model_validate(
        read_json(), scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY
    )
    team = create_team(db.session, group)
    db.session.commit()
    return _answer(team, 201, Context.RESOURCE_CREATION_RESPONSE)


@bp.get("/Groups/<group_id>")
def groups_show(group_id: str) -> Response:
    """One team."""
    return _answer(find_team(db.session, group_id))


@bp.put("/Groups/<group_id>")
def groups_replace(group_id: str) -> Response:
    """Rename the team and make its members exactly those sent."""
    team = find_team(db.session, group_id)
    group = Group.model_validate(
        read_json(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
    )
    people = _people(db.session, group)
    rename(db.session, team, _team_name(group.display_name))
    set_members(db.session, team, people)
    db.session.commit()
    return _answer(team, 200, Context.RESOURCE_REPLACEMENT_RESPONSE)


@bp.patch("/Groups/<group_id>")
def groups_patch(group_id: str) -> Response:
    """Apply PATCH operations: rename, add, remove or replace members."""
    team = find_team(db.session, group_id)
    before = to_group(team, members_of(db.session, [team.id])[team.id])
    after = before.model_copy(deep=True)
    operations = PatchOp[Group].model_validate(
        read_json(), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    operations.patch(after, scim_policy=POLICY)
    people = _people(db.session, after)
    rename(db.session, team, _team_name(after.display_name))
    set_members(db.session, team, people)
    db.session.commit()
    return _answer(team, 200, Context.RESOURCE_PATCH_RESPONSE)


@bp.delete("/Groups/<group_id>")
def groups_delete(group_id: str) -> Response:
    """Remove the team (204); its people stay, without a team."""
    remove_team(db.session, find_team(db.session, group_id))
    db.session.commit()
    return Response(status=204)
