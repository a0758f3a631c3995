"""Preview, drafts, overrides (swap, take out) and publishing, on a real database."""

from __future__ import annotations

import re
from itertools import combinations

from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import AuditEntry, DoNotPair, Membership, OutboxMessage, Round, User
from matcher.rounds import publishing
from tests.admin.support import (
    WEEK,
    field_error,
    groups_of,
    place_of,
    rules_args,
    save_draft,
    table_counts,
)
from tests.support import MEMBER_PASSWORD, coffee, coffee_member, login


def teams(app) -> dict[int, int]:
    with app.app_context():
        return dict(db.session.execute(select(User.id, User.team_id)).all())


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_preview_shows_metrics_side_by_side_and_writes_nothing(app, client, org):
    before = table_counts(app)
    page = client.get("/admin/preview").get_data(as_text=True)
    assert "Current rules" in page and "Proposed rules" not in page
    response = client.get("/admin/preview", query_string=rules_args(group_size="3"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Current rules" in page and "Proposed rules" in page
    assert page.count("<svg") == 2 and page.count("Group scores") >= 2
    for label in ("Cross-team pairs", "Common interest or project", "Repeats", "Unmatched"):
        assert page.count(label) == 2
    assert "100%" in page  # every pair is cross-team with cross_team_only
    assert "Person00" in page and "Payments" in page
    assert table_counts(app) == before


def test_preview_reports_bad_values_next_to_fields(client, org):
    response = client.get(
        "/admin/preview",
        query_string=rules_args(week="2026-W99", weight_novelty="NaN", group_size="7"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "2026 has no week 99" in field_error(page, "week")
    assert "finite number" in field_error(page, "weight_novelty")
    assert "from 2 to 4" in field_error(page, "group_size")
    response = client.get("/admin/preview", query_string=rules_args(group_size="7"))
    page = response.get_data(as_text=True)
    assert "Current rules" in page and "Proposed rules" not in page  # current still shown


def test_unmatched_people_are_listed_with_the_reason(app, client, make_user, admin):
    with app.app_context():
        coffee_member(db.session, admin).opted_out = True
        db.session.commit()
    make_user(email="a@example.com", name="Alone A", team="Solo")
    make_user(email="b@example.com", name="Alone B", team="Solo")
    page = client.get("/admin/preview", query_string=rules_args()).get_data(as_text=True)
    assert "Alone A" in page and "everyone else is on the same team" in page


def test_draft_swap_take_out_publish(app, client, org, admin):
    round_id = save_draft(client, group_size="2")
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        assert round_.status == "draft" and round_.week == WEEK
        assert round_.rules["weights"]["novelty"] == 1.0  # the proposed rules were used
    assert actions(app) == ["round.draft"]
    groups = groups_of(app, round_id)
    team_of = teams(app)
    # Saving the same week twice is refused with a message.
    response = client.post("/admin/preview/save", data={**rules_args(), "use": "current"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "exists already" in page

    # A swap putting two people of one team together is refused, and says why in general terms.
    bad = next(
        (a, c)
        for g1, g2 in combinations(groups, 2)
        for a in g1
        for c in g2
        if team_of[[x for x in g1 if x != a][0]] == team_of[c]
    )
    response = client.post(
        f"/admin/rounds/{round_id}/swap",
        data={
            "swap-first": place_of(app, round_id, bad[0]),
            "swap-second": place_of(app, round_id, bad[1]),
        },
    )
    assert response.status_code == 422
    assert "breaks a hard constraint" in field_error(response.get_data(as_text=True), "swap-second")
    assert groups_of(app, round_id) == groups

    # A swap that would pair someone with a person on their do-not-pair list: same answer.
    def valid_swaps():
        for g1, g2 in combinations(groups, 2):
            for a in g1:
                for c in g2:
                    new1 = [x for x in g1 if x != a] + [c]
                    new2 = [x for x in g2 if x != c] + [a]
                    if all(
                        team_of[x] != team_of[y]
                        for g in (new1, new2)
                        for x, y in combinations(g, 2)
                    ):
                        yield a, c, new1, new2

    a, c, new1, _ = next(valid_swaps())
    with app.app_context():
        db.session.add(DoNotPair(user_id=new1[0], blocked_user_id=c))
        db.session.commit()
    response = client.post(
        f"/admin/rounds/{round_id}/swap",
        data={"swap-first": place_of(app, round_id, a), "swap-second": place_of(app, round_id, c)},
    )
    page = response.get_data(as_text=True)
    assert (
        field_error(page, "swap-second")
        == "This swap breaks a hard constraint, so nothing was changed."
    )
    assert "do-not-pair" not in page.lower()
    assert groups_of(app, round_id) == groups

    # A valid swap goes through, is rescored by the engine and audited.
    blocked = {new1[0], c}
    a, c, new1, new2 = next(
        s for s in valid_swaps() if not any(blocked <= set(g) for g in (s[2], s[3]))
    )
    response = client.post(
        f"/admin/rounds/{round_id}/swap",
        data={"swap-first": place_of(app, round_id, a), "swap-second": place_of(app, round_id, c)},
    )
    assert response.status_code == 302
    after = groups_of(app, round_id)
    assert sorted(map(sorted, after)) == sorted(
        map(sorted, [g for g in groups if a not in g and c not in g] + [new1, new2])
    )
    with app.app_context():
        team_names = {u.id: u.team.name for u in db.session.scalars(select(User))}
        round_ = db.session.get(Round, round_id)
        for group in round_.groups:
            members = [m.user_id for m in group.memberships]
            if a in members or c in members:
                # Rescored by the engine: reasons name only the teams now in the group.
                named = {t for t in set(team_names.values()) if any(t in r for r in group.reasons)}
                assert named <= {team_names[m] for m in members}, (group.reasons, members)
                assert group.score > 0
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "round.swap")
        ).one()
        assert entry.actor_id == admin
        assert sorted(map(sorted, entry.after["groups"].values())) == sorted(
            [sorted(new1), sorted(new2)]
        )

    # Taking someone out leaves them (and a lone partner) unmatched with the reason.
    out = after[0][0]
    lone = [x for x in after[0] if x != out]
    response = client.post(
        f"/admin/rounds/{round_id}/take-out", data={"out-person": place_of(app, round_id, out)}
    )
    assert response.status_code == 302
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        reasons = {item["user_id"]: item["reason"] for item in round_.unmatched}
        assert reasons[out] == "taken out by an admin"
        assert all(uid in reasons for uid in lone)
        assert all(out not in [m.user_id for m in g.memberships] for g in round_.groups)
    page = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert "taken out by an admin" in page
    assert actions(app) == ["round.draft", "round.swap", "round.take_out"]

    # People outside this round (a place that is not one of its groups') or garbage are
    # refused next to the field.
    with app.app_context():
        no_place = (db.session.scalar(select(func.max(Membership.id))) or 0) + 1
    for value in (str(no_place), "abc", "-1", "99999999999999999999999"):
        response = client.post(f"/admin/rounds/{round_id}/take-out", data={"out-person": value})
        assert response.status_code == 422
        assert "Pick someone" in field_error(response.get_data(as_text=True), "out-person")

    # Publishing queues one message per member, in the same transaction.
    members = sum(len(g) for g in groups_of(app, round_id))
    response = client.post(f"/admin/rounds/{round_id}/publish")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Round, round_id).status == "published"
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == members
    assert actions(app)[-1] == "round.publish"
    # The admin is told where the messages go and what sends them (no mail server here).
    said = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert f"{members} messages queued" in said
    assert "written as .eml files to" in said and "flask outbox send" in said
    overview = client.get("/admin/").get_data(as_text=True)
    assert f"{members} waiting" in overview and "0 sent" in overview

    # Published rounds are read-only: no swap, take-out, discard or second publish.
    frozen, counts = groups_of(app, round_id), table_counts(app)
    remaining = groups_of(app, round_id)
    client.post(
        f"/admin/rounds/{round_id}/swap",
        data={"swap-first": remaining[0][0], "swap-second": remaining[1][0]},
    )
    client.post(f"/admin/rounds/{round_id}/take-out", data={"out-person": remaining[0][0]})
    client.post(f"/admin/rounds/{round_id}/discard")
    response = client.post(f"/admin/rounds/{round_id}/publish", follow_redirects=True)
    assert "read-only" in response.get_data(as_text=True)
    assert groups_of(app, round_id) == frozen and table_counts(app) == counts
    page = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert "swap-first" not in page and "Publish 2026" not in page


def test_discard_deletes_a_draft(app, client, org):
    round_id = save_draft(client)
    other = save_draft(client, week="2026-W50")
    assert client.post(f"/admin/rounds/{round_id}/discard").status_code == 302
    with app.app_context():
        assert db.session.get(Round, round_id) is None
        assert db.session.get(Round, other) is not None
        assert publishing.find_round(db.session, coffee(db.session), WEEK) is None
    assert actions(app)[-1] == "round.discard"
    # Ids of other rounds (or none) never reach another round's data.
    assert client.post(f"/admin/rounds/{round_id}/swap", data={}).status_code == 404
    assert client.get(f"/admin/rounds/{round_id}").status_code == 404
    page = client.get("/admin/rounds").get_data(as_text=True)
    assert "2026-W50" in page and re.search(r"status-draft", page)


def test_a_swap_back_into_last_weeks_pairs_breaks_the_cooldown(app, client, make_user, admin):
    with app.app_context():
        coffee_member(db.session, admin).opted_out = True
        db.session.commit()
    for name, team in [("a", "Payments"), ("b", "Search"), ("c", "Platform"), ("d", "Mobile")]:
        make_user(email=f"{name}@example.com", name=name.upper(), team=team)
    with app.app_context():
        last_id = publishing.run_round(
            db.session, coffee(db.session), "2026-W48", publish=True
        ).round.id
        db.session.commit()
    last_week = {frozenset(g) for g in groups_of(app, last_id)}
    round_id = save_draft(client)  # cooldown 4: nobody meets last week's partner again
    first, second = groups_of(app, round_id)
    # The swap that would bring back last week's two pairs.
    swap = next(
        (x, y)
        for x in first
        for y in second
        if {
            frozenset([*[m for m in first if m != x], y]),
            frozenset([*[m for m in second if m != y], x]),
        }
        == last_week
    )
    response = client.post(
        f"/admin/rounds/{round_id}/swap",
        data={
            "swap-first": place_of(app, round_id, swap[0]),
            "swap-second": place_of(app, round_id, swap[1]),
        },
    )
    assert "breaks a hard constraint" in field_error(response.get_data(as_text=True), "swap-second")
    assert groups_of(app, round_id) == [first, second]


def test_round_groups_are_paged_and_searchable(app, client, org, monkeypatch):
    from matcher.admin import summaries

    monkeypatch.setattr(summaries, "GROUPS_PER_PAGE", 2)
    round_id = save_draft(client)
    total = len(groups_of(app, round_id))
    assert total > 2
    first = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert f"Groups ({total})" in first and "Page 1 of" in first and "Next →" in first
    second = client.get(f"/admin/rounds/{round_id}?page=2").get_data(as_text=True)
    numbers = re.findall(r'<td class="muted">(\d+)</td>', second)
    assert numbers == ["3", "4"]
    # Search by a member's name: only their group, with its number in the whole round.
    with app.app_context():
        member = db.session.get(User, groups_of(app, round_id)[-1][0]).display_name
    found = client.get(f"/admin/rounds/{round_id}", query_string={"q": member.upper()})
    page = found.get_data(as_text=True)
    assert re.findall(r'<td class="muted">(\d+)</td>', page) == [str(total)]
    assert f"1 of {total} groups match" in page
    # Hostile paging and queries are clamped, never an error.
    for query in ("page=abc", "page=-5", "page=99999", "q=%25", "q=" + "x" * 500):
        assert client.get(f"/admin/rounds/{round_id}?{query}").status_code == 200


def test_preview_shows_the_first_page_of_groups_only(client, org, monkeypatch):
    from matcher.admin import summaries

    monkeypatch.setattr(summaries, "GROUPS_PER_PAGE", 1)
    page = client.get("/admin/preview", query_string=rules_args()).get_data(as_text=True)
    assert "The first 1 of" in page and "save the draft to browse and search them all" in page


def test_deleting_an_account_erases_its_name_and_email_from_the_audit_log(app, client, org, admin):
    from matcher.models import Membership

    round_id = save_draft(client)
    groups = groups_of(app, round_id)
    ada = groups[0][0]
    other = groups[1][0]
    with app.app_context():
        ada_name = db.session.get(User, ada).display_name
        ada_email = db.session.get(User, ada).email
    for action in ("deactivate", "reactivate"):
        assert client.post(f"/admin/people/{ada}/{action}").status_code == 302
    client.post(
        f"/admin/rounds/{round_id}/swap",
        data={
            "swap-first": place_of(app, round_id, ada),
            "swap-second": place_of(app, round_id, other),
        },
    )
    client.post(
        f"/admin/rounds/{round_id}/take-out", data={"out-person": place_of(app, round_id, ada)}
    )
    log = client.get("/admin/audit").get_data(as_text=True)
    assert ada_name in log and ada_email in log

    own = app.test_client()
    login(own, ada_email)
    response = own.post("/me/delete", data={"password": MEMBER_PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    log = client.get("/admin/audit").get_data(as_text=True)
    assert ada_name not in log and ada_email not in log
    assert f"Deleted user #{ada}" in log
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry)).all()
        assert [e.action for e in entries].count("round.swap") == 1
        assert not any(ada_email in str(e.target) + str(e.after) for e in entries)
        assert not any(ada_name in str(e.target) + str(e.after) for e in entries)
        # The other side of the swap keeps their name.
        other_name = db.session.get(User, other).display_name
        assert any(other_name in (e.target or "") for e in entries if e.action == "round.swap")
        assert db.session.scalar(select(func.count()).select_from(Membership)) > 0


def test_swap_lists_hold_the_shown_groups_and_search_brings_two_together(
    app, client, org, monkeypatch
):
    from matcher.admin import summaries

    monkeypatch.setattr(summaries, "GROUPS_PER_PAGE", 2)
    round_id = save_draft(client)
    groups = groups_of(app, round_id)
    with app.app_context():
        names = {uid: db.session.get(User, uid).display_name for g in groups for uid in g}

    def offered(page: str) -> set[int]:
        form = page[page.index('name="swap-first"') : page.index("</select>")]
        return {int(v) for v in re.findall(r'value="(\d+)"', form)}

    first_page = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    # The lists offer places (memberships): a mentor is in several groups of one round.
    assert offered(first_page) == {place_of(app, round_id, uid) for g in groups[:2] for uid in g}
    a, b = groups[0][0], groups[-1][0]
    both = client.get(
        f"/admin/rounds/{round_id}", query_string={"q": f"{names[a]}, {names[b]}"}
    ).get_data(as_text=True)
    assert offered(both) == {place_of(app, round_id, uid) for uid in {*groups[0], *groups[-1]}}
    # Anyone in the round may be submitted, whatever page the form came from.
    response = client.post(
        f"/admin/rounds/{round_id}/swap",
        data={"swap-first": place_of(app, round_id, a), "swap-second": place_of(app, round_id, b)},
    )
    assert response.status_code in (302, 422)
    assert "Pick someone who is in a group" not in response.get_data(as_text=True)
