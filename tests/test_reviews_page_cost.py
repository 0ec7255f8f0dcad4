"""The peer-review progress page builds its per-line links and labels once per page (issue 18)."""

from __future__ import annotations

from flask import url_for

from portal.models.scoring import ASSESSMENT_STATUSES
from portal.reviews import views


def test_the_one_built_url_is_url_for_of_every_id(app):
    with app.test_request_context():
        build = views.assessment_urls()
        for assessment_id in (1, 7, 42, 1234567):
            assert build(assessment_id) == url_for("scoring.assessment", assessment_id=assessment_id)
        assert build(None) is None


def test_each_status_label_is_there_once_translated(app):
    with app.test_request_context():
        labels = views._status_labels()
    assert set(labels) == set(ASSESSMENT_STATUSES)
    assert all(isinstance(text, str) and text for text in labels.values())
