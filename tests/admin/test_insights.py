"""Insights charts and the CSV exports, with hostile names."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from matcher.admin.csv_export import safe_cell
from matcher.extensions import db
from matcher.models import Feedback, Membership, Profile, User
from matcher.rounds import service
from tests.admin.conftest import WEEK


def publish_with_feedback(app, week: str = WEEK) -> None:
    """Run and publish a round; every member answers 'met' (rating 4) but the first, 'not_yet'."""
    with app.app_context():
        round_ = service.run_round(db.session, week, publish=True).round
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
            db.session.get(Profile, user.id).opted_out = True
        db.session.get(Profile, admin).opted_out = True
        db.session.commit()
    publish_with_feedback(app)
    page = client.get("/admin/insights").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Search &amp; Rescue" in page
    assert page.count("<svg") == 4  # heatmap, participation, meeting rate, new connections
    assert "People pairs who met, team × team" in page and "pairs met" in page  # title, legend
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
    from matcher.admin import insights

    monkeypatch.setattr(insights, "HEATMAP_TEAMS", 2)
    people = [("Big", 3), ("Mid", 2), ("Small", 1)]
    for team, size in people:
        for k in range(size):
            make_user(email=f"{team}{k}@example.com".lower(), name=f"{team} {k}", team=team)
    publish_with_feedback(app)
    page = client.get("/admin/insights").get_data(as_text=True)
    assert "The map shows the 2 largest of 4 teams" in page  # Big, Mid, Small and Admins
    heatmap = page[page.index("<svg") : page.index("</svg>")]
    assert "Big" in heatmap and "Mid" in heatmap and "Small" not in heatmap
    assert "Least connected teams" in page and "Small" in page
    teams = client.get("/admin/export/teams.csv").get_data(as_text=True)
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(teams))}
    assert set(rows) == {"team", "Admins", "Big", "Mid", "Small"}
    assert rows["Big"][0] == "3" and rows["Small"][0] == "1"
    # 7 people, 3 groups: everyone taking part met someone from another team.
    assert all(int(rows[t][1]) >= 1 for t in ("Big", "Mid", "Small"))


def test_team_connections_count_distinct_teams_and_pairs():
    from matcher.admin.insights import team_connections

    team_of = {1: "A", 2: "A", 3: "B", 4: "C", 5: "C"}
    reach, pairs = team_connections(
        {(1, 3), (2, 3), (1, 2), (4, 5)}, team_of, {"A": 2, "B": 1, "C": 2, "D": 0}
    )
    by_name = {r.name: r for r in reach}
    assert pairs[("A", "B")] == 2 and pairs[("A", "A")] == 1 and pairs[("C", "C")] == 1
    assert (by_name["A"].teams_met, by_name["A"].cross_team_pairs) == (1, 2)
    assert (by_name["C"].teams_met, by_name["C"].cross_team_pairs) == (0, 0)
    # Least connected first: C (people, same-team pair only) and D before A and B.
    assert [r.name for r in reach][:2] == ["C", "D"]


def test_safe_cell():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("\tx") == "'\tx" and safe_cell("\rx") == "'\rx"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("-2+3") == "'-2+3"
    assert safe_cell("Ada") == "Ada" and safe_cell(-1.5) == -1.5 and safe_cell(None) == ""
