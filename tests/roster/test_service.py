"""The directory service: create or update people by email, keep what people edited, managers,
pauses, invitations once; one person (the contract SCIM uses) and a whole file. Every backend."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import (
    DoNotPair,
    MatchGroup,
    Membership,
    OutboxMessage,
    PendingDoNotPair,
    ProgrammeMember,
    User,
)
from matcher.profile.service import delete_account
from matcher.programmes import catalogue
from matcher.programmes.members import membership
from matcher.roster.service import (
    PAUSED_BY_DIRECTORY,
    PersonRecord,
    RosterError,
    find_person,
    set_manager,
    upsert_people,
    upsert_person,
)
from tests.roster.support import dump
from tests.support import coffee, published_round

TODAY = datetime.now(UTC).date()
ADA = PersonRecord(
    email="Ada@Example.com",
    name="Ada Lovelace",
    team="Payments",
    manager_email="",
    office="London",
    time_zone="Europe/London",
    join_date=TODAY - timedelta(days=700),
    programmes=("coffee",),
    external_id="E-1",
)


def upsert(app, record: PersonRecord, **options):
    """upsert_person, committed; (created, changed, kept, user id)."""
    with app.app_context():
        coffee(db.session)
        outcome = upsert_person(db.session, record, today=TODAY, **options)
        db.session.commit()
        return outcome.created, outcome.changed, outcome.kept, outcome.user.id


def invitations(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "invitation")
        )


def test_a_new_person_is_invited_unverified_without_a_password(app):
    created, changed, kept, user_id = upsert(app, ADA)
    assert created and kept == ()
    assert changed == ("name", "team", "manager_email", "office", "time_zone", "join_date",
                       "programmes", "external_id")  # fmt: skip
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.email == "ada@example.com" and user.display_name == "Ada Lovelace"
        assert user.password_hash is None and user.email_verified_at is None
        assert user.invited_at is not None and user.external_id == "E-1"
        assert user.team.name == "Payments" and user.joined_on == ADA.join_date
        assert (user.profile.location, user.profile.timezone) == ("London", "Europe/London")
        member = membership(db.session, coffee(db.session), user_id)
        assert member is not None and not member.opted_out
        assert user.roster_values["office"] == "London"
        assert user.roster_values["programmes"] == ["coffee"]
    assert invitations(app) == 1


def test_the_same_record_twice_changes_nothing_and_invites_once(app):
    upsert(app, ADA)
    before = dump(app)
    created, changed, kept, _ = upsert(app, ADA)
    assert (created, changed, kept) == (False, (), ())
    assert dump(app) == before  # every column, updated_at included
    assert invitations(app) == 1


def test_a_field_the_person_edited_is_kept_unless_the_admin_overwrites(app):
    _, _, _, user_id = upsert(app, ADA)
    with app.app_context():  # the person moves office and renames themselves on their profile
        user = db.session.get(User, user_id)
        user.profile.location = "Home"
        user.display_name = "Ada King"
        db.session.commit()
    moved = dataclasses.replace(ADA, office="Paris", team="Search", name="Ada Lovelace")
    created, changed, kept, _ = upsert(app, moved)
    assert changed == ("team",) and kept == ("name", "office")
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.display_name, user.profile.location, user.team.name) == (
            "Ada King", "Home", "Search",
        )  # fmt: skip
    # Kept again next time (the roster's value is still not theirs), until overwritten.
    assert upsert(app, moved)[1:3] == ((), ("name", "office"))
    assert upsert(app, moved, overwrite=True)[1:3] == (("name", "office"), ())
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.display_name, user.profile.location) == ("Ada Lovelace", "Paris")


def test_a_field_no_roster_ever_set_is_filled_for_someone_who_signed_up(app, make_user):
    user_id = make_user(email="ada@example.com", team="Old team", location="Berlin")
    created, changed, kept, same = upsert(app, ADA)
    assert not created and same == user_id and kept == ()
    assert "team" in changed and "office" in changed
    assert invitations(app) == 0  # they have an account: no invitation
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.password_hash is not None and user.email_verified_at is not None


def test_case_and_spacing_of_team_and_office_are_not_changes(app):
    upsert(app, ADA)
    before = dump(app)
    same = dataclasses.replace(ADA, team=" payments ", office="LONDON")
    assert upsert(app, same)[1:3] == ((), ())
    assert dump(app)["users"] == before["users"] and dump(app)["profiles"] == before["profiles"]


def test_managers_by_email_cleared_by_empty_and_never_a_loop(app):
    _, _, _, boss = upsert(app, dataclasses.replace(ADA, email="boss@example.com"))
    _, changed, _, ada = upsert(app, dataclasses.replace(ADA, manager_email="BOSS@example.com"))
    with app.app_context():
        assert db.session.get(User, ada).manager_id == boss
    # The boss reporting to Ada would close a loop.
    with app.app_context(), pytest.raises(RosterError, match="cannot report to their own"):
        upsert_person(
            db.session,
            dataclasses.replace(ADA, email="boss@example.com", manager_email="ada@example.com"),
            today=TODAY,
        )
    with app.app_context(), pytest.raises(RosterError, match="own manager"):
        upsert_person(
            db.session, dataclasses.replace(ADA, manager_email="ada@example.com"), today=TODAY
        )
    with app.app_context(), pytest.raises(RosterError, match="neither in the file nor"):
        upsert_person(
            db.session, dataclasses.replace(ADA, manager_email="nobody@example.com"), today=TODAY
        )
    assert upsert(app, ADA)[1] == ("manager_email",)  # "" clears
    with app.app_context():
        assert db.session.get(User, ada).manager_id is None


def test_manager_ids_name_managers_the_database_does_not_know_yet(app):
    with app.app_context():
        coffee(db.session)
        boss = upsert_person(
            db.session, dataclasses.replace(ADA, email="boss@example.com"), today=TODAY
        ).user
        outcome = upsert_person(
            db.session,
            dataclasses.replace(ADA, manager_email="chief@example.com"),
            today=TODAY,
            manager_ids={"Chief@Example.com": boss.id},
        )
        assert outcome.user.manager_id == boss.id
        db.session.rollback()


def test_an_inactive_record_pauses_every_programme_and_an_active_one_resumes_only_that(app):
    with app.app_context():
        coffee(db.session)
        buddies = catalogue.create_programme(
            db.session, catalogue.ProgrammeValues(name="Buddies", slug="buddies", kind="buddies"),
            None,
        )  # fmt: skip
        hub = catalogue.create_programme(
            db.session, catalogue.ProgrammeValues(name="Hub", slug="hub"), None
        )
        db.session.commit()
        buddies, hub = buddies.id, hub.id
    record = dataclasses.replace(ADA, programmes=("coffee", "buddies", "hub"))
    _, _, _, ada = upsert(app, record)
    _, _, _, bob = upsert(app, dataclasses.replace(record, email="bob@example.com"))
    with app.app_context():  # a past round, and Ada was paused for missed coffees in the hub
        published_round(db.session, TODAY - timedelta(days=TODAY.weekday() + 14), (ada, bob))
        db.session.get(ProgrammeMember, (hub, ada)).opted_out = True
        db.session.get(ProgrammeMember, (hub, ada)).pause_reason = "missed 3 coffees"
        db.session.commit()
        history = db.session.scalar(select(func.count()).select_from(Membership))
    created, changed, _, _ = upsert(app, dataclasses.replace(record, active=False))
    assert changed == ("active",)
    with app.app_context():
        reasons = {
            m.programme_id: (m.opted_out, m.pause_reason)
            for m in db.session.scalars(
                select(ProgrammeMember).where(ProgrammeMember.user_id == ada)
            )
        }
        assert reasons == {
            coffee(db.session).id: (True, PAUSED_BY_DIRECTORY),
            buddies: (True, PAUSED_BY_DIRECTORY),
            hub: (True, "missed 3 coffees"),
        }
        assert db.session.scalar(select(func.count()).select_from(Membership)) == history
        assert db.session.scalar(select(func.count()).select_from(MatchGroup)) == 1
    assert upsert(app, dataclasses.replace(record, active=False))[1] == ()
    assert upsert(app, dataclasses.replace(record, active=True))[1] == ("active",)
    with app.app_context():
        reasons = {
            m.programme_id: (m.opted_out, m.pause_reason)
            for m in db.session.scalars(
                select(ProgrammeMember).where(ProgrammeMember.user_id == ada)
            )
        }
        assert reasons[coffee(db.session).id] == (False, None)
        assert reasons[hub] == (True, "missed 3 coffees")


def test_a_programme_the_person_left_stays_left_unless_overwritten(app):
    _, _, _, ada = upsert(app, ADA)
    with app.app_context():
        membership(db.session, coffee(db.session), ada).opted_out = True
        db.session.commit()
    assert upsert(app, ADA)[1:3] == ((), ("programmes",))
    assert upsert(app, ADA, overwrite=True)[1:3] == (("programmes",), ())
    with app.app_context():
        assert not membership(db.session, coffee(db.session), ada).opted_out


def test_new_joiners_join_a_buddy_programme_as_newcomers_others_as_buddies(app):
    with app.app_context():
        coffee(db.session)
        catalogue.create_programme(
            db.session, catalogue.ProgrammeValues(name="Buddies", slug="buddies", kind="buddies"),
            None,
        )  # fmt: skip
        catalogue.create_programme(
            db.session,
            catalogue.ProgrammeValues(name="Mentoring", slug="mentoring", kind="mentoring"),
            None,
        )
        db.session.commit()
    new = dataclasses.replace(ADA, join_date=TODAY - timedelta(days=3), programmes=("buddies",))
    _, _, _, ada = upsert(app, new)
    _, _, _, bob = upsert(app, dataclasses.replace(ADA, email="bob@example.com",
                                                    programmes=("buddies",)))  # fmt: skip
    with app.app_context():
        roles = dict(
            db.session.execute(select(ProgrammeMember.user_id, ProgrammeMember.role)).all()
        )
        assert roles == {ada: "newcomer", bob: "buddy"}
        with pytest.raises(RosterError, match="join it from their profile"):
            upsert_person(
                db.session,
                dataclasses.replace(ADA, email="cy@example.com", programmes=("mentoring",)),
                today=TODAY,
            )
        with pytest.raises(RosterError, match="no programme “nope”"):
            upsert_person(db.session, dataclasses.replace(ADA, programmes=("nope",)), today=TODAY)


def test_an_erased_account_is_never_brought_back(app):
    _, _, _, old = upsert(app, ADA)
    with app.app_context():
        delete_account(db.session, db.session.get(User, old))
        db.session.commit()
        erased = dump(app)["users"]
    created, _, _, new = upsert(app, ADA)
    assert created and new != old
    with app.app_context():
        assert db.session.get(User, old).email == f"deleted-{old}@deleted.invalid"
        assert find_person(db.session, "ada@example.com").id == new
    assert [row for row in dump(app)["users"] if row[0] == old] == [
        row for row in erased if row[0] == old
    ]


def test_someone_who_asked_never_to_meet_the_address_is_kept_apart(app, make_user):
    bob = make_user(email="bob@example.com", name="Bob")
    with app.app_context():
        db.session.add(PendingDoNotPair(user_id=bob, email="ada@example.com"))
        db.session.commit()
    _, _, _, ada = upsert(app, ADA)
    with app.app_context():
        assert db.session.get(DoNotPair, (bob, ada)) is not None
        assert db.session.scalar(select(func.count()).select_from(PendingDoNotPair)) == 0


def test_a_file_and_single_upserts_make_the_same_rows_and_invitations(app, client):
    """upsert_people inserts new people in bulk; what it stores and queues must be exactly what
    upsert_person (and auth's queue_invitation) do, and its invitation link must work."""
    records = [
        dataclasses.replace(ADA, email=f"single{i}@example.com", manager_email="") for i in range(2)
    ]
    with app.app_context():
        coffee(db.session)
        for record in records:
            upsert_person(db.session, record, today=TODAY, invited_by="Root")
        batch = upsert_people(
            db.session,
            [dataclasses.replace(r, email=r.email.replace("single", "file")) for r in records],
            today=TODAY,
            invited_by="Root",
        )
        assert batch.errors == {} and batch.invitations == 2
        db.session.commit()
        users = {u.email: u for u in db.session.scalars(select(User))}
        skip = {"id", "email", "created_at", "invited_at", "session_token"}
        columns = [c.name for c in User.__table__.columns if c.name not in skip]
        for i in range(2):
            single, bulk = users[f"single{i}@example.com"], users[f"file{i}@example.com"]
            assert [getattr(single, c) for c in columns] == [getattr(bulk, c) for c in columns]
            assert (single.profile.location, single.profile.timezone) == (
                bulk.profile.location, bulk.profile.timezone,
            )  # fmt: skip
        messages = {m.user_id: m for m in db.session.scalars(select(OutboxMessage))}
        single, bulk = (
            messages[users["single0@example.com"].id],
            messages[users["file0@example.com"].id],
        )
        assert sorted(single.payload) == sorted(bulk.payload)
        assert single.payload["invited_by"] == bulk.payload["invited_by"] == "Root"
        assert single.dedupe_key.rsplit(":", 1)[0] == f"invitation:{single.user_id}"
        assert bulk.dedupe_key.rsplit(":", 1)[0] == f"invitation:{bulk.user_id}"
        link = bulk.payload["url"].removeprefix(app.config["BASE_URL"].rstrip("/"))
    response = client.post(link, data={"password": "a fine new passphrase",
                                       "confirm": "a fine new passphrase"})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        assert find_person(db.session, "file0@example.com").email_verified_at is not None


def test_a_file_puts_managers_first_whatever_the_order(app):
    records = [
        dataclasses.replace(ADA, email="c@example.com", manager_email="b@example.com"),
        dataclasses.replace(ADA, email="b@example.com", manager_email="a@example.com"),
        dataclasses.replace(ADA, email="a@example.com", manager_email=""),
    ]
    with app.app_context():
        coffee(db.session)
        batch = upsert_people(db.session, records, today=TODAY)
        assert batch.errors == {} and [batch.results[i].status for i in range(3)] == ["new"] * 3
        db.session.commit()
        a, b, c = (find_person(db.session, f"{x}@example.com") for x in "abc")
        assert (a.manager_id, b.manager_id, c.manager_id) == (None, a.id, b.id)


def test_set_manager_refuses_self_unknown_erased_and_loops(app, make_user):
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob")
    gone = make_user(email="gone@example.com", name="Gone")
    with app.app_context():
        delete_account(db.session, db.session.get(User, gone))
        db.session.commit()
        user = db.session.get(User, ada)
        assert set_manager(db.session, user, " BOB@example.com ").id == bob
        db.session.commit()
        for email, message in [
            ("ada@example.com", "own manager"),
            ("nobody@example.com", "Nobody in matcher"),
            ("gone@example.com", "Nobody in matcher"),
            (f"deleted-{gone}@deleted.invalid", "Nobody in matcher"),
        ]:
            with pytest.raises(RosterError, match=message):
                set_manager(db.session, user, email)
        with pytest.raises(RosterError, match="cannot report to their own report"):
            set_manager(db.session, db.session.get(User, bob), "ada@example.com")
        assert set_manager(db.session, user, "") is None and user.manager_id is None
