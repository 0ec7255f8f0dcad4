"""In the browser: the self-assessment progress page updates by itself when a unit submits in another browser,
and never while the head is filling in a form of its table."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, Cluster, Criterion, Unit
from portal.services.platform import live
from portal.services.scoring import assessments
from tests import factories
from tests.browser import another_browser, fill_and_submit, label
from tests.live_helpers import redis_or_skip

pytestmark = pytest.mark.browser


@pytest.fixture
def province(self_round_open):
    return self_round_open


def _progress_url(live_db, province) -> str:
    with live_db() as session:
        cluster_id = session.scalar(select(Cluster.id).where(Cluster.name == province["cluster"]))
    return f"/scoring/{cluster_id}/{factories.YEAR}"


def _submit_in_the_database(live_db, province, unit_name: str) -> None:
    with live_db() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.name == unit_name))
        own = session.scalar(select(Assessment).where(Assessment.subject_unit_id == unit_id))
        for key, value in {"quant": "100", "direct": "25", "pass": "1", "bonus": "0", "minus": "0"}.items():
            criterion = session.get(Criterion, province["items"][key])
            assessments.save_score(session, own, criterion, value, "", expected_revision=None, user_id=None)
        assessments.submit(session, own, None)
        session.commit()


def test_the_progress_page_shows_a_submission_made_in_another_browser(
    page, browser, live_server, live_db, sign_in, province
):
    sign_in("head")
    page.goto(_progress_url(live_db, province))
    summary = page.locator("#progress-summary")
    expect(summary).to_have_text("0/3 đơn vị đã nộp bản tự chấm.")

    with live_db() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.name == "UBND xã Tân Hồng"))
        own = session.scalar(select(Assessment.id).where(Assessment.subject_unit_id == unit_id))
    with another_browser(browser, live_server.url, "member") as other:
        fill_and_submit(other, own, {"I.1": "50", "I.2": "25", "III.1": "0", "II.1": "0"})
    # the head's page was never reloaded: its region polls (304 while nothing changes) and swaps the new one in
    expect(summary).to_have_text("1/3 đơn vị đã nộp bản tự chấm.", timeout=15_000)
    row = page.locator("#progress-table tr[data-unit='UBND xã Tân Hồng']")
    expect(row).to_contain_text("Đã nộp")
    expect(row.get_by_role("button", name="Thẩm định")).to_be_visible()


def test_a_form_the_head_is_filling_in_is_never_swapped_out(page, live_db, sign_in, province, page_problems):
    sign_in("head")
    page.goto(_progress_url(live_db, province))
    summary = page.locator("#progress-summary")
    expect(summary).to_have_text("0/3 đơn vị đã nộp bản tự chấm.")
    row = page.locator("#progress-table tr[data-unit='UBND xã Tân Hồng']")
    row.locator("summary", has_text="Gia hạn").click()
    until = row.get_by_label(label("Gia hạn đến hết ngày"))
    typed = factories.vn_format(factories.future_date(5))
    until.fill(typed)
    _submit_in_the_database(live_db, province, "UBND phường Mỹ Trà")
    # two polls' time: the region holds back while the head is typing in it
    page.wait_for_timeout(12_000)
    expect(until).to_have_value(typed)
    expect(until).to_be_focused()
    expect(summary).to_have_text("0/3 đơn vị đã nộp bản tự chấm.")
    # the head gives up: the field back as it was, the form closed, the focus elsewhere; the update comes
    until.fill("")
    row.locator("summary", has_text="Gia hạn").click()
    page.locator("h1").click()
    expect(summary).to_have_text("1/3 đơn vị đã nộp bản tự chấm.", timeout=15_000)
    # and the head's form works as before
    row = page.locator("#progress-table tr[data-unit='UBND xã Tân Hồng']")
    row.locator("summary", has_text="Gia hạn").click()
    row.get_by_label(label("Gia hạn đến hết ngày")).fill(typed)
    row.locator("button[type=submit]", has_text="Gia hạn").click()
    expect(page.locator("#progress-table tr[data-unit='UBND xã Tân Hồng']")).to_contain_text(f"gia hạn đến {typed}")
    page_problems.assert_clean()


@pytest.fixture
def peer_province(seed):
    """The cluster's locked table and its peer round open (all pairs); no review submitted yet."""

    def build():
        from portal.services.scoring import reviews

        world = factories.world()
        cset, items = factories.scoring_table(world)
        reviews.open_round(db.session, reviews.create_round(db.session, cset, "all_pairs"))
        return {"cluster": world.cluster.name, "items": {key: item.id for key, item in items.items()}}

    return seed(build)


def test_the_peer_review_progress_shows_a_review_submitted_meanwhile(page, live_db, sign_in, peer_province):
    sign_in("head")
    with live_db() as session:
        cluster_id = session.scalar(select(Cluster.id).where(Cluster.name == peer_province["cluster"]))
    page.goto(f"/reviews/{cluster_id}/{factories.YEAR}")
    progress = page.locator("#review-progress")
    expect(progress).to_contain_text("Tiến độ: 0/6 bản chấm chéo đã nộp")
    with live_db() as session:
        member = session.scalar(select(Unit.id).where(Unit.name == "UBND xã Tân Hồng"))
        review = session.scalar(
            select(Assessment).where(Assessment.stage == "peer", Assessment.author_unit_id == member)
        )
        for key, value in {"quant": "100", "direct": "25", "pass": "1", "bonus": "0", "minus": "0"}.items():
            criterion = session.get(Criterion, peer_province["items"][key])
            assessments.save_score(session, review, criterion, value, "", expected_revision=None, user_id=None)
        assessments.submit(session, review, None)
        session.commit()
    expect(progress).to_contain_text("Tiến độ: 1/6 bản chấm chéo đã nộp", timeout=15_000)
    expect(page.get_by_role("heading", name="Hạn chấm chéo")).to_be_visible()  # the forms beside it stay


@pytest.fixture
def streaming(live_app):
    """The live server with Redis, as with REDIS_URL set: pages listen to their event stream, and their
    region's fallback poll (every LIVE_STREAM_SECONDS) is set far beyond the test's waits, so only an
    event can refresh it in time."""
    client = redis_or_skip("the event-stream browser test needs it")
    seconds = live_app.config["LIVE_STREAM_SECONDS"]
    live_app.config["LIVE_STREAM_SECONDS"] = 120
    live_app.extensions["live_redis"] = client
    live.install(db.session, live.redis_publisher(client))
    try:
        yield client
    finally:
        live.install(db.session, None)
        live_app.extensions.pop("live_redis", None)
        live_app.config["LIVE_STREAM_SECONDS"] = seconds
        client.close()


def test_with_redis_the_progress_page_refreshes_on_the_event_stream(page, live_db, sign_in, province, streaming):
    streams = []
    page.on("request", lambda request: streams.append(request.url) if request.resource_type == "eventsource" else None)
    sign_in("head")
    url = _progress_url(live_db, province)
    listening = streaming.pubsub_numsub(live.CHANNEL)[0][1]
    page.goto(url)
    summary = page.locator("#progress-summary")
    expect(summary).to_have_text("0/3 đơn vị đã nộp bản tự chấm.")
    expect(page.locator(f"[sse-connect='{url}/live']")).to_have_count(1)
    _until(lambda: streaming.pubsub_numsub(live.CHANNEL)[0][1] > listening)  # the page's stream subscribed
    assert any(stream.endswith(f"{url}/live") for stream in streams), streams
    _submit_in_the_database(live_db, province, "UBND phường Mỹ Trà")
    # the fallback poll comes every 120 s: within these 10 s only the stream's "changed" can have refreshed it
    expect(summary).to_have_text("1/3 đơn vị đã nộp bản tự chấm.", timeout=10_000)
    expect(page.locator("#progress-table tr[data-unit='UBND phường Mỹ Trà']")).to_contain_text("Đã nộp")


def _until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.05)
