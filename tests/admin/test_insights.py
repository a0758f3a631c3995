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
    for what in ("rounds", "pairs", "feedback"):
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


def test_safe_cell():
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("\tx") == "'\tx" and safe_cell("\rx") == "'\rx"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)" and safe_cell("-2+3") == "'-2+3"
    assert safe_cell("Ada") == "Ada" and safe_cell(-1.5) == -1.5 and safe_cell(None) == ""
