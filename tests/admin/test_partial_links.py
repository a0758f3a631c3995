"""Links into preview and what-if that carry only some fields get the current rules for the rest."""

from __future__ import annotations

import re

from tests.admin.support import WEEK


def field(page: str, name: str) -> str:
    """The visible <input> tag of a field."""
    return re.search(rf'<input[^>]*id="{name}"[^>]*>', page).group(0)


def test_preview_link_with_only_a_week_uses_the_current_rules(client, org):
    response = client.get("/admin/preview", query_string={"week": WEEK})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter a number" not in page and f"Current rules · {WEEK}" in page
    # The current rules are shown in the fields, cross-team included.
    assert 'value="2"' in field(page, "group_size")
    assert " checked" in field(page, "cross_team_only")


def test_a_sent_field_wins_and_an_absent_checkbox_then_means_unticked(client, org):
    page = client.get("/admin/preview", query_string={"week": WEEK, "group_size": "3"}).get_data(
        as_text=True
    )
    assert "Enter a number" not in page
    assert "Proposed rules" in page and "group size 3" in page
    assert "same team allowed" in page  # the checkbox was not sent with a rule field


def test_whatif_link_with_one_rule_simulates_with_the_rest_current(client, org):
    response = client.get("/admin/whatif", query_string={"group_size": "3"})
    assert response.status_code == 200
    assert "Enter a number" not in response.get_data(as_text=True)
