"""Renaming and merging teams, projects and interests without losing anyone's profile."""

from __future__ import annotations

from sqlalchemy import func, select

from matcher.extensions import db
from matcher.models import AuditEntry, Interest, Team, User
from matcher.models.people import user_interests
from tests.admin.conftest import field_error


def interest_id(app, name: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Interest.id).where(Interest.key == name.casefold()))


def interests_of(app, user_id: int) -> list[str]:
    with app.app_context():
        return [i.name for i in db.session.get(User, user_id).interests]


def test_merge_keeps_everyone_and_leaves_no_duplicates(app, client, make_user, admin):
    both = make_user(email="both@example.com", interests=("K8s", "Kubernetes", "Rust"))
    only_k8s = make_user(email="k8s@example.com", interests=("K8s",))
    only_kube = make_user(email="kube@example.com", interests=("Kubernetes",))
    source, target = interest_id(app, "k8s"), interest_id(app, "kubernetes")
    page = client.get(f"/admin/vocabulary/interests/{source}").get_data(as_text=True)
    assert "Kubernetes (2 people)" in page
    response = client.post(
        f"/admin/vocabulary/interests/{source}/merge", data={"merge-target": str(target)}
    )
    assert response.status_code == 302
    assert interests_of(app, both) == ["Kubernetes", "Rust"]
    assert interests_of(app, only_k8s) == ["Kubernetes"]
    assert interests_of(app, only_kube) == ["Kubernetes"]
    assert interest_id(app, "k8s") is None
    with app.app_context():
        rows = db.session.scalar(
            select(func.count())
            .select_from(user_interests)
            .where(user_interests.c.interest_id == target)
        )
        assert rows == 3
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.action == "interests.merge" and entry.after["merged_into"] == "Kubernetes"


def test_merging_teams_moves_the_members(app, client, make_user, admin):
    ada = make_user(email="ada@example.com", team="Platform Eng")
    bo = make_user(email="bo@example.com", team="Platform")
    with app.app_context():
        source = db.session.scalar(select(Team.id).where(Team.key == "platform eng"))
        target = db.session.scalar(select(Team.id).where(Team.key == "platform"))
    client.post(f"/admin/vocabulary/teams/{source}/merge", data={"merge-target": str(target)})
    with app.app_context():
        assert db.session.get(User, ada).team_id == target == db.session.get(User, bo).team_id
        assert db.session.get(Team, source) is None


def test_rename_to_an_existing_key_says_merge_instead(app, client, make_user, admin):
    make_user(email="both@example.com", interests=("K8s", "Kubernetes"))
    source = interest_id(app, "k8s")
    response = client.post(
        f"/admin/vocabulary/interests/{source}/rename", data={"rename-name": "  KUBERNETES "}
    )
    assert response.status_code == 422
    assert "use merge instead" in field_error(response.get_data(as_text=True), "rename-name")
    assert interest_id(app, "k8s") == source
    # A new spelling of its own name (same key) and a fresh name are fine.
    client.post(f"/admin/vocabulary/interests/{source}/rename", data={"rename-name": "k8S"})
    with app.app_context():
        assert db.session.get(Interest, source).name == "k8S"
    client.post(f"/admin/vocabulary/interests/{source}/rename", data={"rename-name": "Kube  ops"})
    with app.app_context():
        assert db.session.get(Interest, source).name == "Kube ops"
        assert db.session.get(Interest, source).key == "kube ops"


def test_bad_vocabulary_input_gets_messages_not_errors(app, client, make_user, admin):
    make_user(email="both@example.com", interests=("K8s", "Kubernetes"))
    source = interest_id(app, "k8s")
    url = f"/admin/vocabulary/interests/{source}"
    response = client.post(url + "/rename", data={"rename-name": "   "})
    assert field_error(response.get_data(as_text=True), "rename-name") == "Give a name."
    response = client.post(url + "/rename", data={"rename-name": "x" * 5000})
    assert response.status_code == 422
    for target in ("abc", str(source), "999999", "1e309", ""):
        response = client.post(url + "/merge", data={"merge-target": target})
        assert response.status_code == 422, target
        assert "Pick the entry" in field_error(response.get_data(as_text=True), "merge-target")
    assert client.get("/admin/vocabulary/widgets").status_code == 404
    assert client.get("/admin/vocabulary/interests/999999").status_code == 404
    assert interest_id(app, "k8s") == source
