"""Near-duplicate suggestions: "one name is part of the other" is not a reason to merge teams."""

from __future__ import annotations

from matcher.admin.duplicates import near_duplicates
from matcher.admin.merging import EntryUse


def entries(*names: str) -> list[EntryUse]:
    return [EntryUse(k, name, name.casefold(), 7) for k, name in enumerate(names)]


def test_contained_names_are_suggested_for_offices_but_not_for_teams():
    offices = near_duplicates(entries("Berlin Mitte", "Berlin"))
    assert [(s.keep.name, s.merge.name) for s in offices] == [("Berlin", "Berlin Mitte")]
    assert near_duplicates(entries("Data Platform", "Platform"), contained=False) == []
    # The other rules still apply to teams: spelling alone is the same team.
    same = near_duplicates(entries("Data-Platform", "data platform"), contained=False)
    assert len(same) == 1 and same[0].rule == 1


def test_the_teams_tab_does_not_offer_to_merge_two_teams(client, admin, make_user):
    make_user(email="a@example.com", team="Data Platform", projects=("Data Platform",))
    make_user(email="b@example.com", team="Platform", projects=("Platform",))
    teams = client.get("/admin/vocabulary/teams").get_data(as_text=True)
    projects = client.get("/admin/vocabulary/projects").get_data(as_text=True)
    assert "is part of" not in teams
    assert "“Platform” is part of “Data Platform”" in projects
