"""The what-if form: proposed rules to simulate."""

from __future__ import annotations

from matcher.admin.forms.rules import EngineRulesForm


class WhatIfForm(EngineRulesForm):
    """Proposed rules to simulate (a GET form: it writes nothing)."""

    class Meta:
        csrf = False
