"""/Users: people. A person reads as a SCIM User; writes go through the roster service's
upsert_person, as a roster import's do, with the identity provider as the authority.

What SCIM keeps beyond the person's fields lives in User.roster_values (what a directory last
set): the identity provider's userName, when it is not the email, and whether it says the
person is active. Account deletion clears both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import Response, current_app
from scim2_models import (
    Context,
    InvalidValueException,
    Meta,
    NotFoundException,
    PatchOp,
    UniquenessException,
)
from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session, selectinload

from matcher.auth.invitations import queue_invitation
from matcher.extensions import db
from matcher.models import Team, User
from matcher.models.people import normalise_name
from matcher.profile.service import delete_account
from matcher.profile.views import erase_snapshots_now
from matcher.roster.service import PersonRecord, find_person, upsert_person
from matcher.scim import bp
from matcher.scim.filters import Attribute, condition, parse_id
from matcher.scim.protocol import list_response, page, query_value, read_json, resource_response
from matcher.scim.protocol import response_parameters as parameters_for
from matcher.scim.resources import (
    ENTERPRISE_SCHEMA,
    POLICY,
    USER_SCHEMA,
    Email,
    EnterpriseUser,
    Manager,
    TeamMembership,
    UserResource,
    location,
)
from matcher.timezones import is_timezone

# Keys of User.roster_values that only SCIM writes: the userName, the kind of address the
# email is ("work" unless told), and whether the person is active.
USER_NAME_KEY = "scim_user_name"
EMAIL_TYPE_KEY = "scim_email_type"
ACTIVE_KEY = "active"
# Longest values stored (the columns' sizes).
NAME_MAX = 80
EMAIL_MAX = 254
EXTERNAL_ID_MAX = 255


# -- reading ----------------------------------------------------------------------------------


def user_name_of(user: User) -> str:
    """The person's SCIM userName: what the identity provider sent, else their email."""
    return str((user.roster_values or {}).get(USER_NAME_KEY) or user.email)


def email_type_of(user: User) -> str:
    """What kind of address the email is, as the identity provider last said ("work")."""
    return str((user.roster_values or {}).get(EMAIL_TYPE_KEY) or "work")


def is_active(user: User) -> bool:
    """False once the identity provider said active=false (until it says true again)."""
    return (user.roster_values or {}).get(ACTIVE_KEY) is not False


def provisioned(user: User) -> bool:
    """True for a person an identity provider created or took over through SCIM."""
    return USER_NAME_KEY in (user.roster_values or {})


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None else None


def to_resource(user: User) -> Any:
    """The person as a SCIM User with the enterprise extension (team and manager)."""
    config = current_app.config
    created = user.created_at
    changed = user.profile.updated_at if user.profile is not None else created
    team = user.team
    resource = UserResource(
        id=str(user.id),
        external_id=user.external_id,
        user_name=user_name_of(user),
        display_name=user.display_name,
        active=is_active(user),
        emails=[Email(value=user.email, type=email_type_of(user))],
        groups=(
            [
                TeamMembership(
                    value=str(team.id),
                    ref=location(config, f"/Groups/{team.id}"),
                    display=team.name,
                )
            ]
            if team is not None
            else None
        ),
        meta=Meta(
            resource_type="User",
            created=_utc(created),
            last_modified=_utc(max(created, changed or created)),
            location=location(config, f"/Users/{user.id}"),
        ),
    )
    if team is not None or user.manager_id is not None:
        resource[EnterpriseUser] = EnterpriseUser(
            department=team.name if team is not None else None,
            manager=(
                Manager(
                    value=str(user.manager_id),
                    ref=location(config, f"/Users/{user.manager_id}"),
                )
                if user.manager_id is not None
                else None
            ),
        )
    return resource


def live_users() -> Select[tuple[User]]:
    """Every person not erased."""
    return select(User).where(User.deleted_at.is_(None))


def find_user(session: Session, raw_id: str) -> User:
    """The live person with that SCIM id; NotFoundException otherwise."""
    user_id = parse_id(raw_id)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or user.is_deleted:
        raise NotFoundException(detail=f"There is no User {raw_id[:40]!r}.")
    return user


def _user_name_column() -> ColumnElement[Any]:
    return func.coalesce(User.roster_values[USER_NAME_KEY].as_string(), User.email)


def _active_column() -> ColumnElement[Any]:
    return func.coalesce(User.roster_values[ACTIVE_KEY].as_boolean(), True)


def _filter_attributes() -> dict[str, Attribute]:
    team_name = select(Team.name).where(Team.id == User.team_id).scalar_subquery()
    extension = ENTERPRISE_SCHEMA.lower()
    return {
        "id": Attribute(User.id, "id"),
        "username": Attribute(_user_name_column(), "text"),
        "externalid": Attribute(User.external_id, "exact"),
        "displayname": Attribute(User.display_name, "text"),
        "emails": Attribute(User.email, "text"),
        "emails.value": Attribute(User.email, "text"),
        "active": Attribute(_active_column(), "boolean"),
        f"{extension}:department": Attribute(team_name, "text"),
        f"{extension}:manager": Attribute(User.manager_id, "id"),
        f"{extension}:manager.value": Attribute(User.manager_id, "id"),
    }


def list_users(session: Session, text: str | None, offset: int, count: int) -> tuple[int, list]:
    """The number of people a filter matches and one page of them, by id."""
    where = (
        condition(text, _filter_attributes(), (USER_SCHEMA, ENTERPRISE_SCHEMA)) if text else true()
    )
    query = live_users().where(where)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    if count == 0:
        return total, []
    people = session.scalars(
        query.options(selectinload(User.team), selectinload(User.profile))
        .order_by(User.id)
        .offset(offset)
        .limit(count)
    )
    return total, list(people)


# -- writing ----------------------------------------------------------------------------------


def prepared(payload: dict[str, Any], current: User | None = None) -> dict[str, Any]:
    """A POST or PUT body with what identity providers leave out filled in: displayName from
    name or userName, emails from an email userName, active (true, or as it is for PUT),
    and Entra's manager given as a bare id."""
    body = dict(payload)
    user_name = _key(body, "userName")
    name = _key(body, "name")
    display_key = _key(body, "displayName")
    display = body.get(display_key) if display_key else None
    if display is None or (isinstance(display, str) and not display.strip()):
        parts = body.get(name) if name else None
        derived = _full_name(parts) if isinstance(parts, dict) else None
        if not derived and current is not None:
            derived = current.display_name
        if not derived and user_name and isinstance(body.get(user_name), str):
            derived = body[user_name].partition("@")[0]
        if derived:
            body[display_key or "displayName"] = derived
    if _key(body, "active") is None:
        body["active"] = is_active(current) if current is not None else True
    emails = _key(body, "emails")
    if not (emails and body.get(emails)) and user_name and "@" in str(body.get(user_name)):
        body[emails or "emails"] = [{"value": body[user_name], "type": "work"}]
    extension = _key(body, ENTERPRISE_SCHEMA)
    if extension and isinstance(body.get(extension), dict):
        body[extension] = _manager_as_object(body[extension])
    return body


def _key(body: dict[str, Any], name: str) -> str | None:
    """The key of body that is name in any letter case (SCIM names ignore case)."""
    return next((key for key in body if key.lower() == name.lower()), None)


def _text_value(body: dict[str, Any], key: str | None) -> str:
    value = body.get(key) if key else None
    return value.strip() if isinstance(value, str) else ""


def _full_name(parts: dict[str, Any]) -> str:
    """A display name from SCIM name parts: formatted, else given and family names."""
    formatted = _text_value(parts, _key(parts, "formatted"))
    if formatted:
        return formatted
    given = _text_value(parts, _key(parts, "givenName"))
    family = _text_value(parts, _key(parts, "familyName"))
    return " ".join(part for part in (given, family) if part)


def _manager_as_object(extension: dict[str, Any]) -> dict[str, Any]:
    """Entra writes the manager as its id alone: make it {"value": id}."""
    key = _key(extension, "manager")
    if key and isinstance(extension[key], str | int) and not isinstance(extension[key], bool):
        return {**extension, key: {"value": str(extension[key])}}
    return extension


def prepared_patch(payload: dict[str, Any]) -> dict[str, Any]:
    """A PATCH body with Entra's bare manager ids made {"value": id}."""
    operations_key = _key(payload, "Operations")
    operations = payload.get(operations_key) if operations_key else None
    if not isinstance(operations, list):
        return payload
    fixed = []
    for operation in operations:
        if isinstance(operation, dict):
            operation = dict(operation)
            path, value = operation.get("path"), operation.get("value")
            if isinstance(path, str) and path.lower().rstrip().endswith("manager"):
                if isinstance(value, str | int) and not isinstance(value, bool):
                    operation["value"] = {"value": str(value)}
            elif path is None and isinstance(value, dict):
                operation["value"] = _manager_keys_as_objects(value)
        fixed.append(operation)
    return {**payload, operations_key: fixed}


def _manager_keys_as_objects(value: dict[str, Any]) -> dict[str, Any]:
    fixed = dict(value)
    for key, item in value.items():
        lowered = key.lower()
        if lowered == f"{ENTERPRISE_SCHEMA.lower()}:manager" and isinstance(item, str | int):
            fixed[key] = {"value": str(item)}
        elif lowered == ENTERPRISE_SCHEMA.lower() and isinstance(item, dict):
            fixed[key] = _manager_as_object(item)
    return fixed


@dataclass(frozen=True)
class Wanted:
    """What a request asks of a person: the record for upsert_person, and the userName and
    active flag SCIM keeps beside it."""

    record: PersonRecord
    user_name: str
    active: bool
    email_type: str = "work"


def _check_length(value: str, limit: int, attribute: str) -> str:
    if len(value) > limit:
        raise InvalidValueException(detail=f"{attribute} is at most {limit} characters.")
    return value


def _email(value: str, attribute: str) -> str:
    """A valid address, lower-cased; invalidValue otherwise."""
    try:
        checked = validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as invalid:
        raise InvalidValueException(
            detail=f"{attribute} is not an email address: {invalid}"
        ) from None
    return _check_length(checked.lower(), EMAIL_MAX, attribute)


def _chosen_email(resource: Any) -> Email | None:
    """The work address, else the first."""
    emails = [e for e in resource.emails or [] if e.value]
    work = next((e for e in emails if (e.type or "").lower() == "work"), None)
    return work or (emails[0] if emails else None)


def _addresses_of(resource: Any) -> tuple[str, str, str]:
    """userName, the email address matcher writes to (checked) and its kind."""
    user_name = _check_length((resource.user_name or "").strip(), EMAIL_MAX, "userName")
    if not user_name:
        raise InvalidValueException(detail="userName is required.")
    chosen = _chosen_email(resource)
    if chosen is None:  # the schema requires emails; prepared() fills them from userName
        raise InvalidValueException(detail="emails is required.")
    kind = _check_length((chosen.type or "work").strip(), 20, "emails.type")
    return user_name, _email(chosen.value or "", "emails"), kind


def _display_name(value: str | None) -> str:
    name = normalise_name(value or "")
    if not name:
        raise InvalidValueException(detail="displayName is required.")
    return _check_length(name, NAME_MAX, "displayName")


def _office(resource: Any) -> str | None:
    """The work (else primary, else first) address's locality; None when none was sent."""
    addresses = [a for a in resource.addresses or [] if a.locality is not None]
    if not addresses:
        return None
    chosen = (
        next((a for a in addresses if (a.type or "").lower() == "work"), None)
        or next((a for a in addresses if a.primary), None)
        or addresses[0]
    )
    return _check_length(normalise_name(chosen.locality or ""), NAME_MAX, "addresses.locality")


def _time_zone(value: str | None) -> str | None:
    if value is None:
        return None
    zone = value.strip()
    if zone and not is_timezone(zone):
        raise InvalidValueException(detail=f"timezone {zone[:64]!r} is not an IANA time zone.")
    return zone or None


def _department(extension: EnterpriseUser | None) -> str:
    name = normalise_name((extension.department if extension else None) or "")
    return _check_length(name, NAME_MAX, "department")


def _manager_email(session: Session, extension: EnterpriseUser | None) -> str:
    """The manager's address ("" for none); invalidValue for an id that is nobody."""
    manager = extension.manager if extension is not None else None
    raw = (manager.value or "").strip() if manager is not None else ""
    if manager is not None and not raw and manager.ref:
        raw = str(manager.ref).rstrip("/").rpartition("/")[2]
    if not raw:
        return ""
    manager_id = parse_id(raw)
    found = session.get(User, manager_id) if manager_id is not None else None
    if found is None or found.is_deleted:
        raise InvalidValueException(detail=f"manager {raw[:40]!r} is not a User in matcher.")
    return found.email


def _external_id(value: str | None) -> str:
    return _check_length((value or "").strip(), EXTERNAL_ID_MAX, "externalId")


def wanted_from(
    session: Session, resource: Any, *, extension_sent: bool, replacing: bool
) -> Wanted:
    """What a whole resource (POST, PUT) asks. Without the enterprise extension, team and
    manager are left as they are, so a provider that does not map them never clears them."""
    user_name, email, kind = _addresses_of(resource)
    extension = resource[EnterpriseUser]
    record = PersonRecord(
        email=email,
        name=_display_name(resource.display_name),
        team=_department(extension) if extension_sent else None,
        manager_email=_manager_email(session, extension) if extension_sent else None,
        office=_office(resource),
        time_zone=_time_zone(resource.timezone),
        external_id=(
            _external_id(resource.external_id)
            if replacing or resource.external_id is not None
            else None
        ),
        active=bool(resource.active),
    )
    return Wanted(record, user_name, bool(resource.active), kind)


def _holder_of_user_name(session: Session, user_name: str) -> User | None:
    return session.scalar(
        live_users().where(func.lower(_user_name_column()) == user_name.lower()).limit(1)
    )


def _check_unique(session: Session, wanted: Wanted, user: User | None) -> User | None:
    """Refuse a userName or email another person has (409); for a new person, the existing
    account it takes over: one with that email that no identity provider provisioned yet."""
    email = wanted.record.email
    holder = _holder_of_user_name(session, wanted.user_name)
    owner = find_person(session, email)
    if user is None:
        if holder is not None and (provisioned(holder) or holder is not owner):
            raise UniquenessException(detail=f"userName {wanted.user_name!r} is taken.")
        if owner is not None and provisioned(owner):
            raise UniquenessException(detail=f"Another User has the email {email}.")
        return owner
    if holder is not None and holder is not user:
        raise UniquenessException(detail=f"userName {wanted.user_name!r} is taken.")
    if owner is not None and owner is not user:
        raise UniquenessException(detail=f"Another User has the email {email}.")
    return user


def _today() -> date:
    return datetime.now(UTC).date()


def _remember(session: Session, user: User, wanted: Wanted, was_active: bool) -> None:
    """Keep the userName and active flag; invite someone reactivated who never accepted."""
    values = {**(user.roster_values or {}), USER_NAME_KEY: wanted.user_name}
    values[EMAIL_TYPE_KEY] = wanted.email_type
    values[ACTIVE_KEY] = wanted.active
    if values != user.roster_values:
        user.roster_values = values
    if wanted.active and not was_active and not user.is_verified:
        queue_invitation(session, user)


def create_person(session: Session, wanted: Wanted) -> User:
    """Create (or take over by email) the person; invited unless inactive. Not committed."""
    existing = _check_unique(session, wanted, None)
    outcome = upsert_person(
        session, wanted.record, today=_today(), overwrite=True, invite=wanted.active
    )
    _remember(session, outcome.user, wanted, is_active(existing) if existing else True)
    return outcome.user


def update_person(session: Session, user: User, wanted: Wanted) -> None:
    """Apply what a PUT or PATCH asks to the person (their address too). Not committed."""
    _check_unique(session, wanted, user)
    was_active = is_active(user)
    moved = wanted.record.email != user.email
    if moved:
        user.email = wanted.record.email
    upsert_person(session, wanted.record, today=_today(), overwrite=True, invite=False)
    _remember(session, user, wanted, was_active)
    if moved and wanted.active and was_active and not user.is_verified:
        queue_invitation(session, user)  # the first one went to the old address


def patched(session: Session, user: User, payload: dict[str, Any]) -> Wanted:
    """What a PATCH asks: its operations applied to the person as SCIM shows them, and
    only the fields they changed in the record (the name always: the record needs it)."""
    before = to_resource(user)
    after = before.model_copy(deep=True)
    operations = PatchOp[UserResource].model_validate(
        prepared_patch(payload), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY
    )
    operations.patch(after, scim_policy=POLICY)
    user_name, email, kind = _addresses_of(after)
    display = after.display_name
    if display == before.display_name and after.name is not None:
        # Name parts make the display name only when they make a whole name.
        parts = after.name
        if parts.formatted or (parts.given_name and parts.family_name):
            display = parts.formatted or f"{parts.given_name} {parts.family_name}"
    old, new = before[EnterpriseUser], after[EnterpriseUser]
    old_team = old.department if old else None
    new_team = new.department if new else None
    old_manager = old.manager.value if old and old.manager else None
    new_manager = new.manager.value if new and new.manager else None
    record = PersonRecord(
        email=email,
        name=_display_name(display),
        team=_department(new) if new_team != old_team else None,
        manager_email=_manager_email(session, new) if new_manager != old_manager else None,
        office=_office(after),
        time_zone=_time_zone(after.timezone),
        external_id=(
            _external_id(after.external_id) if after.external_id != before.external_id else None
        ),
        active=bool(after.active) if after.active != before.active else None,
    )
    return Wanted(record, user_name, bool(after.active), kind)


def _validated(payload: dict[str, Any], context: Context) -> Any:
    return UserResource.model_validate(payload, scim_ctx=context, scim_policy=POLICY)


def _extension_sent(payload: dict[str, Any]) -> bool:
    return _key(payload, ENTERPRISE_SCHEMA) is not None


# -- routes -----------------------------------------------------------------------------------


def _answer(user: User, status: int = 200, context: Context = Context.RESOURCE_QUERY_RESPONSE):
    parameters = parameters_for(UserResource)
    return resource_response(to_resource(user), context, status, parameters)


@bp.get("/Users")
def users_index() -> Response:
    """A page of people, filtered by `filter` when given."""
    parameters = parameters_for(UserResource)
    wanted_page = page()
    total, people = list_users(
        db.session, query_value("filter"), wanted_page.offset, wanted_page.count
    )
    return list_response(
        UserResource, [to_resource(u) for u in people], total, wanted_page.start, parameters
    )


@bp.post("/Users")
def users_create() -> Response:
    """Provision a person (201): invited by email unless created inactive."""
    payload = prepared(read_json())
    resource = _validated(payload, Context.RESOURCE_CREATION_REQUEST)
    wanted = wanted_from(
        db.session, resource, extension_sent=_extension_sent(payload), replacing=False
    )
    user = create_person(db.session, wanted)
    db.session.commit()
    return _answer(user, 201, Context.RESOURCE_CREATION_RESPONSE)


@bp.get("/Users/<user_id>")
def users_show(user_id: str) -> Response:
    """One person."""
    return _answer(find_user(db.session, user_id))


@bp.put("/Users/<user_id>")
def users_replace(user_id: str) -> Response:
    """Replace what SCIM sets of a person (write-only values left out stay as they are)."""
    user = find_user(db.session, user_id)
    payload = prepared(read_json(), current=user)
    resource = _validated(payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    wanted = wanted_from(
        db.session, resource, extension_sent=_extension_sent(payload), replacing=True
    )
    update_person(db.session, user, wanted)
    db.session.commit()
    return _answer(user, 200, Context.RESOURCE_REPLACEMENT_RESPONSE)


@bp.patch("/Users/<user_id>")
def users_patch(user_id: str) -> Response:
    """Apply PATCH operations (Okta's and Entra's forms included)."""
    user = find_user(db.session, user_id)
    wanted = patched(db.session, user, read_json())
    update_person(db.session, user, wanted)
    db.session.commit()
    return _answer(user, 200, Context.RESOURCE_PATCH_RESPONSE)


@bp.delete("/Users/<user_id>")
def users_delete(user_id: str) -> Response:
    """Erase the person as account deletion does (204); they are gone for good."""
    user = find_user(db.session, user_id)
    delete_account(db.session, user)
    db.session.commit()
    erase_snapshots_now()
    return Response(status=204)
