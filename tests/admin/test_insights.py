"""Insights charts and the CSV exports, with hostile names."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from matcher.admin.exports import safe_cell
from matcher.extensions import db
from matcher.models import Feedback, Membership, User
from matcher.rounds import publishing
from tests.admin.support import WEEK
from tests.support import coffee, coffee_member


def publish_with_feedback(app, week: str = WEEK) -> None:
    """Run and publish a round; every member answers 'met' (rating 4) but the first, 'not_yet'."""
    with app.app_context():
        round_ = publishing.run_round(db.session, coffee(db.session), week, publish=True).round
        memberships = db.session.scalars(
            select(Membership).where(Membership.round_id == round_.id).order_by(Membership.id)
        ).all()
        for k, m in enumerate(memberships):
            met = k > 0
            db.session.add(
                Feedback(
                    membership_id=m.id,
                    group_id=m.group_id,
                    user_id=m.user_id,
                    status="met" if met else "not_yet",
                    rating=4 if met else None,
                    private_note='=HYPERLINK("http://evil")' if k == 1 else None,
                )  # fmt: skip
            )
        db.session.commit()


def test_insights_show_participation_feedback_and_an_escaped_heatmap(app, client, make_user, admin):
    for name, team in [
        ("Xena", "<script>alert(1)</script>"),
        ("Vera", "<script>alert(1)</script>"),
        ("Yuri", "Search & Rescue"),
        ("Ugo", "Search & Rescue"),
        ("Zoe", "Lonely"),
    ]:
        make_user(email=f"{name.lower()}@example.com", name=name, team=team)
    with app.app_context():
        # Zoe and the admin sit this round out, so Lonely and Admins stay unconnected.
        for user in db.session.scalars(select(User).where(User.display_name.in_(["Zoe"]))):
            coffee_member(db.session, user.id).opted_out = True
        coffee_member(db.session, admin).opted_out = True
        db.session.commit()
    publish_with_feedback(app)
    page = client.get("/admin/insights").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Search &amp; Rescue" in page
    # Two heatmaps (met, matched), participation, meeting rate, new pairs matched and met.
    assert page.count("<svg") == 6
    assert "People pairs who met (“we met”), team × team" in page and "pairs met" in page
    assert "Teams nobody from another team has met yet" in page and "Lonely" in page
    # 4 answers, 3 "met": a 75% meeting rate and an average rating of 4.0.
    assert "75%" in page and "4.0" in page


def test_exports_are_attachments_and_formula_safe(app, client, make_user, admin):
    make_user(email="evil@example.com", name="=cmd()", team="+Team")
    make_user(email="ok@example.com", name="Olga", team="Search")
    publish_with_feedback(app)
    for what in ("rounds", "pairs", "feedback", "teams"):
        response = client.get(f"/admin/export/{what}.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"].startswith("attachment; filename=")
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert len(rows) >= 2
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (what, cell)
    feedback = client.get("/admin/export/feedback.csv").get_data(as_text=True)
    people = [row[2] for row in csv.reader(io.StringIO(feedback))]
    assert "'=cmd()" in people
    assert "'=HYPERLINK" in feedback  # admins see private notes, defused
    pairs = client.get("/admin/export/pairs.csv").get_data(as_text=True)
    assert "=cmd()" in pairs  # present, and (checked above) never at the start of a cell
    assert client.get("/admin/export/secrets.csv").status_code == 404


def test_big_orgs_get_the_largest_teams_on_the_map_and_every_team_in_the_table(
    app, client, make_user, admin, monkeypatch
):
    from matcher.admin import metrics

    monkeypatch.setattr(metrics, "HEATMAP_TEAMS", 2)
    people = [("Big", 3), ("Mid", 2), ("Small", 1)]
    for team, size in people:
        for k in range(size):
            make_user(email=f"{team}{k}@example.com".lower(), name=f"{team} {k}", team=team)
    publish_with_feedback(app)
    page = client.get("/admin/insights").get_data(as_text=True)
    assert "The maps show the 2 largest of 4 teams" in page  # Big, Mid, Small and Admins
    heatmap = page[page.index("<svg") : page.index("</svg>")]
    assert "Big" in heatmap and "Mid" in heatmap and "Small" not in heatmap
    assert "Least connected teams" in page and "Small" in page
    teams = client.get("/admin/export/teams.csv").get_data(as_text=True)
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(teams))}
    assert set(rows) == {"team", "Admins", "Big", "Mid", "Small"}
    assert rows["Big"][0] == "3" and rows["Small"][0] == "1"
    # 7 people, 3 groups: everyone taking part was matched with someone from another team.
    assert all(int(rows[t][1]) >= 1 for t in ("Big", "Mid", "Small"))


def test_team_connections_count_distinct_teams_and_pairs():
    from matcher.admin.metrics import team_connections

    team_of = {1: "A", 2: "A", 3: "B", 4: "C", 5: "C"}
    matched = {(1, 3), (2, 3), (1, 2), (4, 5)}
    reach, pairs, met = team_connections(
        matched, {(1, 3)}, team_of, {"A": 2, "B": 1, "C": 2, "D": 0}
    )
    by_name = {r.name: r for r in reach}
    assert pairs[("A", "B")] == 2 and pairs[("A", "A")] == 1 and pairs[("C", "C")] == 1
    assert met == {("A", "B"): 1}
    assert (by_name["A"].teams_matched, by_name["A"].pairs_matched) == (1, 2)
    assert (by_name["A"].teams_met, by_name["A"].pairs_met) == (1, 1)
    assert (by_name["C"].teams_matched, by_name["C"].pairs_matched) == (0, 0)
    # Least connected first: C (people, same-team pair only) and D before A and B.
    assert [r.name for r in reach][:2] == ["C", "D"]


def test_safe_cell():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("\tx") == "'\tx" and safe_cell("\rx") == "'\rx"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("-2+3") == "'-2+3"
    assert safe_cell("Ada") == "Ada" and safe_cell(-1.5) == -1.5 and safe_cell(None) == ""


def make_round(app, week: str, status: str, groups: list[list[tuple[int, str | None]]]) -> None:
    """A round with exactly these groups; each member answers as given (None: no answer)."""
    from matcher.models import MatchGroup, Round
    from matcher.programmes.catalogue import default_programme
    from matcher.weeks import parse_week

    with app.app_context():
        round_ = Round(
            programme_id=default_programme(db.session).id,
            week=week,
            starts_on=parse_week(week),
            status=status,
            rules={},
        )
        round_.participant_count = sum(len(g) for g in groups)
        db.session.add(round_)
        for members in groups:
            group = MatchGroup(round=round_)
            db.session.add(group)
            for user_id, said in members:
                membership = Membership(group=group, round=round_, user_id=user_id)
                db.session.add(membership)
                db.session.flush()
                if said is not None:
                    db.session.add(
                        Feedback(
                            membership_id=membership.id,
                            group_id=group.id,
                            user_id=user_id,
                            status=said,
                            rating=5 if said == "met" else None,
                        )
                    )
        db.session.commit()


def cells(svg: str) -> dict[str, int]:
    """The heatmap's non-empty cells above the diagonal: {'A × B': 1}."""
    found = {}
    for a, b, n in re.findall(r"<title>([^<×]+) × ([^<:]+): (\d+)</title>", svg):
        if a < b and int(n):
            found[f"{a} × {b}"] = int(n)
    return found


def test_insights_count_matched_and_met_apart(app, client, make_user, admin):
    ids = {
        name: make_user(email=f"{name}@example.com", name=name, team=name[0].upper())
        for name in ("a1", "a2", "b1", "b2", "c1", "d1")
    }
    a1, a2, b1, b2, c1, d1 = (ids[n] for n in ("a1", "a2", "b1", "b2", "c1", "d1"))
    # W48: a trio; only a1 says "we met", so a1 met c1 and d1, but c1 and d1 only matched.
    make_round(app, "2026-W48", "closed", [[(a1, "met"), (c1, None), (d1, None)]])
    # W49: a met pair, a pair that did not meet (one answer, one silence), a silent pair.
    make_round(
        app, "2026-W49", "published",
        [[(a1, "met"), (b1, "met")], [(a2, "will_not_meet"), (c1, None)], [(b2, None), (d1, None)]],
    )  # fmt: skip
    # W50, next week's round: published, one answer ("not yet"), nobody has met.
    make_round(
        app, "2026-W50", "published", [[(a2, None), (d1, "not_yet")], [(b2, None), (c1, None)]]
    )
    make_round(app, "2026-W51", "draft", [[(a2, None), (b2, None)]])  # drafts never count

    data = compute_insights(app)
    assert (data.team_pairs_met, data.team_pairs_matched, data.team_pairs_possible) == (3, 6, 10)
    assert (data.people_pairs_met, data.people_pairs_matched) == (3, 8)
    assert data.unconnected == ("Admins",) and data.never_matched == ("Admins",)
    per_round = {r.week: (r.answers, r.met, r.new_pairs, r.new_met) for r in data.rounds}
    assert per_round == {
        "2026-W48": (1, 1, 3, 2),
        "2026-W49": (3, 2, 3, 1),
        "2026-W50": (1, 0, 2, 0),
    }
    reach = {
        r.name: (r.people, r.teams_met, r.teams_matched, r.pairs_met, r.pairs_matched)
        for r in data.least_connected
    }
    assert reach == {
        "A": (2, 3, 3, 3, 5),
        "B": (2, 1, 3, 1, 3),
        "C": (1, 1, 3, 1, 4),
        "D": (1, 1, 3, 1, 4),
        "Admins": (1, 0, 0, 0, 0),
    }
    assert [r.name for r in data.least_connected] == ["Admins", "B", "C", "D", "A"]

    page = client.get("/admin/insights").get_data(as_text=True)
    for label, value in [
        ("Team pairs met", '3 <span class="small">of 10</span>'),
        ("Team pairs matched", '6 <span class="small">of 10</span>'),
        ("People pairs met", "3"),
        ("People pairs matched", "8"),
    ]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page, label
    met_map, matched_map = re.findall(r'<svg[^>]*class="chart heatmap".*?</svg>', page, re.S)
    assert "People pairs who met (“we met”), team × team" in met_map
    assert cells(met_map) == {"A × B": 1, "A × C": 1, "A × D": 1}
    assert "3 of 10 team pairs have met at least once." in met_map
    assert "People pairs matched, team × team" in matched_map
    assert cells(matched_map) == {
        "A × B": 1, "A × C": 2, "A × D": 2, "B × C": 1, "B × D": 1, "C × D": 1,
    }  # fmt: skip
    assert "6 of 10 team pairs have been matched at least once." in matched_map
    row = re.search(r"<tr><td>B</td>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row) == ["2", "1 of 4", "3 of 4", "1", "3"]
    week = re.search(r"<tr><td>2026-W49</td>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", week)[-5:] == ["3", "67%", "5.0", "3", "1"]
    teams = client.get("/admin/export/teams.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(teams)))
    assert rows[0] == [
        "team", "people", "other_teams_matched", "other_teams_met",
        "cross_team_pairs_matched", "cross_team_pairs_met",
    ]  # fmt: skip
    assert rows[1:] == [
        ["A", "2", "3", "3", "5", "3"],
        ["Admins", "1", "0", "0", "0", "0"],
        ["B", "2", "3", "1", "3", "1"],
        ["C", "1", "3", "1", "4", "1"],
        ["D", "1", "3", "1", "4", "1"],
    ]


def compute_insights(app):
    from matcher.admin.metrics import compute

    with app.app_context():
        return compute(db.session)
