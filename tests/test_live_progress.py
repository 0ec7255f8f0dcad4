"""The progress pages are live like the dashboard (portal/live.py): the self-assessment/verification page
(`scoring.for_cluster`) and the peer-review page (`reviews.for_cluster`) answer a poll that finds nothing new
with 304, a submission with 200 and the new figure; the poll is authorised like the page; a 304 costs the
same few queries whatever the cluster's size; with Redis each page has its own event stream."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment
from portal.services.org import cluster_year
from portal.services.platform import live
from portal.services.scoring import assessments
from portal.services.scoring import reviews as peer
from tests import factories
from tests.live_helpers import Listener, redis_or_skip
from tests.signin import sign_in

pytestmark = pytest.mark.usefixtures("whole_minute")  # a poll must get the ETag of the same minute


@pytest.fixture
def table(world):
    cset, items = factories.scoring_table(world)
    db.session.commit()
    return cset, items


def _fill_and_submit(assessment: Assessment, items) -> None:
    for key, raw in (("quant", "60"), ("direct", "25"), ("pass", "1"), ("bonus", "1"), ("minus", "0")):
        assessments.save_score(db.session, assessment, items[key], raw, "căn cứ", expected_revision=None, user_id=None)
    assessments.submit(db.session, assessment, None)
    db.session.commit()


def _own(unit) -> Assessment:
    return db.session.scalar(
        select(Assessment).where(Assessment.subject_unit_id == unit.id, Assessment.stage == "self")
    )


@pytest.fixture
def self_round(world, table):
    cset, items = table
    assessments.open_self_round(db.session, cset)
    db.session.commit()
    return items


@pytest.fixture
def peer_round(world, table):
    cset, items = table
    scoring_round = peer.create_round(db.session, cset, "all_pairs")
    peer.open_round(db.session, scoring_round)
    db.session.commit()
    return items


def _scoring(world) -> str:
    return f"/scoring/{world.cluster.id}/{factories.YEAR}"


def _reviews(world) -> str:
    return f"/reviews/{world.cluster.id}/{factories.YEAR}"


def _tag(response) -> str:
    return response.headers["ETag"].strip('"')


def test_the_scoring_progress_answers_304_until_a_unit_submits(client, hx, world, self_round):
    sign_in(client, world.users["head"].id)
    page = client.get(_scoring(world))
    body = page.get_data(as_text=True)
    tag = _tag(page)
    # the region polls the page's own URL with the tag it shows, and takes itself out of the answer
    assert f'id="scoring-live" data-etag="{tag}" hx-get="{_scoring(world)}" hx-select="#scoring-live"' in body
    assert "every 5s" in body and "sse:changed" not in body and "sse.min.js" not in body  # no Redis: polling
    assert "0/3 đơn vị đã nộp" in body
    unchanged = hx.get(_scoring(world), headers={"If-None-Match": page.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.get_data() == b"" and "HX-Request" in unchanged.headers["Vary"]
    _fill_and_submit(_own(world.member), self_round)
    changed = hx.get(_scoring(world), headers={"If-None-Match": page.headers["ETag"]})
    assert changed.status_code == 200 and _tag(changed) != tag
    text = changed.get_data(as_text=True)
    assert "1/3 đơn vị đã nộp" in text and f'data-etag="{_tag(changed)}"' in text


def test_a_verification_sent_reaches_the_member_on_its_own_scoring_page(client, hx, world, self_round):
    from portal.services.scoring import verification

    _fill_and_submit(_own(world.member), self_round)
    sign_in(client, world.users["member"].id)
    page = client.get(_scoring(world))
    verified = verification.start_verification(db.session, _own(world.member), world.head.id)
    assessments.submit(db.session, verified, None)  # sent to the unit
    db.session.commit()
    link = f"/scoring/assessments/{verified.id}"
    assert link not in page.get_data(as_text=True)
    changed = hx.get(_scoring(world), headers={"If-None-Match": page.headers["ETag"]})
    assert changed.status_code == 200 and link in changed.get_data(as_text=True)


def test_the_peer_review_progress_answers_304_until_a_review_is_submitted(client, hx, world, peer_round):
    sign_in(client, world.users["head"].id)
    page = client.get(_reviews(world))
    body = page.get_data(as_text=True)
    tag = _tag(page)
    assert f'id="review-progress" data-etag="{tag}" hx-get="{_reviews(world)}" hx-select="#review-progress"' in body
    assert "Tiến độ: 0/6 bản chấm chéo đã nộp" in body
    assert hx.get(_reviews(world), headers={"If-None-Match": page.headers["ETag"]}).status_code == 304
    review = db.session.scalar(
        select(Assessment).where(Assessment.stage == "peer", Assessment.author_unit_id == world.member.id)
    )
    _fill_and_submit(review, peer_round)
    changed = hx.get(_reviews(world), headers={"If-None-Match": page.headers["ETag"]})
    text = changed.get_data(as_text=True)
    assert changed.status_code == 200 and "<html" not in text  # the round's block, the region inside it
    assert "Tiến độ: 1/6 bản chấm chéo đã nộp" in text and f'data-etag="{_tag(changed)}"' in text


def test_a_change_made_on_the_peer_page_leaves_the_region_live_with_the_new_tag(client, hx, world, table):
    """An htmx change re-renders the round's block: its progress region keeps polling, with a tag the next
    poll finds unchanged (so the success message beside it is not swapped away)."""
    cset, _items = table
    scoring_round = peer.create_round(db.session, cset, "all_pairs")
    db.session.commit()
    sign_in(client, world.users["head"].id)
    opened = hx.post(f"/reviews/rounds/{scoring_round.id}/open")
    text = opened.get_data(as_text=True)
    assert opened.status_code == 200 and 'id="review-progress"' in text
    tag = text.split('id="review-progress" data-etag="', 1)[1].split('"', 1)[0]
    assert hx.get(_reviews(world), headers={"If-None-Match": f'"{tag}"'}).status_code == 304


def test_the_poll_is_authorised_like_the_page(client, hx, world, self_round):
    sign_in(client, world.users["head"].id)
    tag = client.get(_scoring(world)).headers["ETag"]
    sign_in(client, world.users["outsider"].id)
    assert hx.get(_scoring(world), headers={"If-None-Match": tag}).status_code == 404
    assert hx.get(_reviews(world), headers={"If-None-Match": tag}).status_code == 404
    # the tag is the user's own: another reader of the page gets the page, not the head's 304
    sign_in(client, world.users["overseer"].id)
    assert hx.get(_scoring(world), headers={"If-None-Match": tag}).status_code == 200


def test_a_flashed_message_is_never_hidden_behind_a_304(client, world, self_round):
    sign_in(client, world.users["head"].id)
    tag = client.get(_scoring(world)).headers["ETag"]
    with client.session_transaction() as session:
        session["_flashes"] = [("warning", "Các đơn vị chưa nộp chưa khai báo địa chỉ e-mail.")]
    again = client.get(_scoring(world), headers={"If-None-Match": tag})
    assert again.status_code == 200 and "chưa khai báo địa chỉ e-mail" in again.get_data(as_text=True)
    assert client.get(_scoring(world), headers={"If-None-Match": tag}).status_code == 304


def test_a_form_sent_back_with_errors_is_not_live(client, world, table):
    sign_in(client, world.users["head"].id)
    refused = client.post(f"/scoring/{world.cluster.id}/{factories.YEAR}/open", data={"deadline": "31/02/2025"})
    assert refused.status_code == 422 and 'id="scoring-live"' not in refused.get_data(as_text=True)


def _grow(world, count: int) -> None:
    for n in range(count):
        cluster_year.add_membership(db.session, world.year, world.cluster, factories.unit(f"UBND xã Thêm {n}"))
    db.session.commit()


@pytest.mark.parametrize("page", ["scoring", "reviews"])
def test_a_poll_that_finds_nothing_new_costs_the_same_few_queries_at_any_size(app, client, hx, count_queries, page):
    counts = []
    for extra in (0, 9):
        with app.app_context():
            db.drop_all()
            db.create_all()
            world = factories.world()
            _grow(world, extra)
            cset, _items = factories.scoring_table(world)
            if page == "scoring":
                assessments.open_self_round(db.session, cset)
            else:
                peer.open_round(db.session, peer.create_round(db.session, cset, "all_pairs"))
            db.session.commit()
            url = _scoring(world) if page == "scoring" else _reviews(world)
            sign_in(client, world.users["head"].id)
            tag = hx.get(url).headers["ETag"]
            with count_queries() as n:
                assert hx.get(url, headers={"If-None-Match": tag}).status_code == 304
            counts.append(n())
    assert counts[0] == counts[1] <= 6, counts  # the session, the user, the offices, the scope, the version


@pytest.fixture
def redis_client():
    return redis_or_skip("the live-update (SSE) tests need it")


@pytest.mark.parametrize("page", ["scoring", "reviews"])
def test_with_redis_the_page_listens_to_its_own_stream_which_passes_a_commit_on(
    app, client, world, self_round, redis_client, page
):
    app.extensions["live_redis"] = redis_client  # as create_app does when REDIS_URL is set
    app.config["LIVE_STREAM_SECONDS"] = 30  # the listener stops at the event
    live.install(db.session, live.redis_publisher(redis_client))
    try:
        if page == "reviews":
            cset = _own(world.member).round.criteria_set
            peer.open_round(db.session, peer.create_round(db.session, cset, "all_pairs"))
            db.session.commit()
        url = _scoring(world) if page == "scoring" else _reviews(world)
        sign_in(client, world.users["outsider"].id)
        assert client.get(f"{url}/live").status_code == 404  # not a reader of the page: no stream either
        sign_in(client, world.users["head"].id)
        body = client.get(url).get_data(as_text=True)
        assert f'sse-connect="{url}/live"' in body and "sse:changed" in body and "sse.min.js" in body
        response = client.get(f"{url}/live", buffered=False)
        assert response.mimetype == "text/event-stream"
        listener = Listener(response)
        assert listener.first.startswith(b"retry:")
        assert listener.subscribed()
        _fill_and_submit(_own(world.deputy), self_round)
        assert listener.changed()
    finally:
        live.install(db.session, None)  # the next apps publish nothing unless they set Redis up
