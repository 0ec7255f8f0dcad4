"""Reliability gate: ≥ 50 concurrent clients autosave scores on gunicorn (4 workers) and PostgreSQL.

A reduced run of bench/load_scores.py (the full size and its figures: docs/reference/development.md).
"""

from __future__ import annotations

import pytest

from bench import load_scores

pytestmark = [pytest.mark.postgres, pytest.mark.load]


def test_fifty_units_saving_at_once_lose_nothing(postgres_server):
    outcome = load_scores.run(load_scores.Options(clusters=2, units=25, criteria=6, workers=4))

    assert outcome.ok, outcome.report
    status = outcome.figures["status"]
    assert not any(code >= 500 or code == 0 for code in status), status
    assert status[409] == 3 * 50  # per unit: the deliberately stale save, and the losing tab of each race
    assert outcome.figures["by_kind"]["save"]["requests"] >= 50 * 6
