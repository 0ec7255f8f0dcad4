"""The peer-review progress page builds its per-line links and labels once per page, and keeps its rendered
progress per worker until a write touches the cluster-year (issue 18)."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select

from portal.extensions import db
from portal.models import ScoringRound
from portal.models.scoring import ASSESSMENT_STATUSES
from portal.reviews import views
from portal.services.scoring import reviews
from tests import factories
from tests.signin import sign_in


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


def _reviews(world) -> str:
    return f"/reviews/{world.cluster.id}/{factories.YEAR}"


@pytest.fixture
def open_peer_round(world):
    cset, _items = factories.scoring_table(world)
    reviews.open_round(db.session, reviews.create_round(db.session, cset, "all_pairs"))
    db.session.commit()


def test_the_progress_is_rendered_once_and_then_kept_until_a_write(app, client, world, open_peer_round, count_queries):
    from portal import fragments

    sign_in(client, world.users["head"].id)
    first = client.get(_reviews(world)).get_data(as_text=True)
    kept = fragments.fragment_cache()
    computed = kept.computed
    with count_queries() as statements:
        again = client.get(_reviews(world))
    assert kept.computed == computed  # served from the worker's cache
    body = again.get_data(as_text=True)
    assert "Tiến độ: 0/6 bản chấm chéo đã nộp" in body and "Đóng vòng chấm chéo" in body
    tag = again.headers["ETag"].strip('"')
    assert f'id="review-progress" data-etag="{tag}"' in body  # the reading request's own tag, not a mark
    assert "@@" not in body and body.count('name="csrf_token"') == first.count('name="csrf_token"')
    reviews.close_round(db.session, db.session.scalar(select(ScoringRound).where(ScoringRound.kind == "peer")))
    db.session.commit()
    closed = client.get(_reviews(world)).get_data(as_text=True)
    assert kept.computed == computed + 1 and "Đóng vòng chấm chéo?" not in closed  # the close made it stale
    assert statements() < 15, statements()


def test_a_reader_who_may_only_follow_never_gets_the_heads_forms(client, world, open_peer_round):
    sign_in(client, world.users["head"].id)
    assert "Đóng vòng chấm chéo" in client.get(_reviews(world)).get_data(as_text=True)  # kept for those who manage
    sign_in(client, world.users["overseer"].id)
    body = client.get(_reviews(world)).get_data(as_text=True)
    assert "Tiến độ: 0/6 bản chấm chéo đã nộp" in body
    assert "Đóng vòng chấm chéo" not in body and "Lưu hạn" not in body
