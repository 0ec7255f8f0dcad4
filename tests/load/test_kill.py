"""Reliability gate: SIGKILL of gunicorn workers in the middle of submissions leaves no half-submitted assessment.

A reduced run of bench/kill_submit.py: every kill lands on a worker whose transaction was seen in
PostgreSQL with the submission written but not committed.
"""

from __future__ import annotations

import pytest

from bench import kill_submit

pytestmark = [pytest.mark.postgres, pytest.mark.load]


def test_killed_workers_leave_each_assessment_submitted_or_untouched(postgres_server):
    outcome = kill_submit.run(kill_submit.KillOptions(clusters=3, units=25, criteria=4, workers=4, kills=2))

    assert outcome.ok, outcome.report
    assert len(outcome.kills) == 2
    assert any(0 in statuses for statuses in outcome.answered.values()), "no request was cut off by a kill"
    assert len(outcome.answered) == 3 * 25  # every unit pressed; check_states saw each end submitted once or a draft
