"""The bell, the notices page, opening a notice, "mark all read", the digest preference and the unsubscribe link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, NoticePreference, Notification, User
from portal.models.base import utcnow
from portal.models.notices import NoticeKind
from portal.services.notices import digest, events, inbox


def _notice(world, user_name: str, text: str, minutes_ago: int = 0) -> Notification:
    user = world.users[user_name]
    events.notify(
        db.session,
        [user.id],
        NoticeKind.ROUND_OPENED,
        cluster_id=world.cluster.id,
        year_id=world.year.id,
        message=text,
        params={},
        endpoint="scoring.for_cluster",
        args={"cluster_id": world.cluster.id, "year": world.year.year},
        now=utcnow() - timedelta(minutes=minutes_ago),
    )
    db.session.commit()
    return db.session.scalars(select(Notification).order_by(Notification.id.desc())).first()


def _unread(user) -> int:
    return len(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        ).all()
    )


def test_the_bell_counts_the_users_unread_notices(world, auth, client):
    for minutes in (3, 2, 1):
        _notice(world, "member", f"Thông báo {minutes}", minutes)
    _notice(world, "head", "Của trưởng cụm")
    auth.login("member")
    page = client.get("/")
    assert 'id="notice-bell"' in page.text and "Thông báo: 3 chưa đọc" in page.text
    assert client.get("/notices/bell").text.count('id="notice-bell"') == 1


def test_no_bell_before_signing_in(client, world):
    assert 'id="notice-bell"' not in client.get("/login").text


def test_the_list_is_the_users_own_newest_first_unread_marked(world, auth, client):
    old = _notice(world, "member", "Cũ hơn", 10)
    _notice(world, "member", "Mới nhất", 1)
    _notice(world, "deputy", "Của đơn vị phó cụm")
    old.read_at = utcnow()
    db.session.commit()
    auth.login("member")
    page = client.get("/notices/")
    assert page.status_code == 200
    assert page.text.index("Mới nhất") < page.text.index("Cũ hơn")
    assert "Của đơn vị phó cụm" not in page.text
    assert page.text.count("notice-unread") == 1


def test_opening_a_notice_marks_it_read_and_goes_where_the_user_acts(world, auth, client):
    notice = _notice(world, "member", "Vòng tự chấm đã mở")
    auth.login("member")
    response = client.post(f"/notices/{notice.id}/open")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/scoring/{world.cluster.id}/{world.year.year}")
    assert db.session.get(Notification, notice.id).read_at is not None


def test_nobody_opens_someone_elses_notice(world, auth, client):
    notice = _notice(world, "head", "Của trưởng cụm")
    auth.login("member")
    assert client.post(f"/notices/{notice.id}/open").status_code == 404
    assert db.session.get(Notification, notice.id).read_at is None


def test_a_notice_whose_page_is_gone_leads_to_the_notices_page(world, auth, client):
    notice = _notice(world, "member", "Trang cũ")
    notice.endpoint = "somewhere.removed"
    db.session.commit()
    auth.login("member")
    assert client.post(f"/notices/{notice.id}/open").headers["Location"].endswith("/notices/")


def test_mark_all_read_refreshes_the_bell_through_htmx(world, auth, client, hx):
    for minutes in (2, 1):
        _notice(world, "member", f"Thông báo {minutes}", minutes)
    _notice(world, "head", "Của trưởng cụm")
    auth.login("member")
    response = hx.post("/notices/read-all")
    assert response.status_code == 200 and "notices-changed" in response.headers["HX-Trigger"]
    assert "<html" not in response.text and "notice-unread" not in response.text
    assert _unread(world.users["member"]) == 0 and _unread(world.users["head"]) == 1


def test_mark_all_read_without_htmx_redirects(world, auth, client):
    _notice(world, "member", "Một")
    auth.login("member")
    response = client.post("/notices/read-all")
    assert response.status_code == 303 and response.headers["Location"].endswith("/notices/")


def test_the_list_page_three_ways(world, auth, client, hx):
    _notice(world, "member", "Vòng tự chấm đã mở")
    auth.login("member")
    assert "<html" in client.get("/notices/").text
    fragment = hx.get("/notices/")
    assert "<html" not in fragment.text and "Vòng tự chấm đã mở" in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    assert "<html" in hx.history_restore("/notices/").text


def test_the_list_pages_by_page_size(world, auth, client, app):
    app.config["PAGE_SIZE"] = 2
    for minutes in range(5, 0, -1):
        _notice(world, "member", f"Thông báo số {minutes}", minutes)
    auth.login("member")
    second = client.get("/notices/?page=2").text
    assert "Thông báo số 3" in second and "Thông báo số 4" in second  # newest first: 1 2 | 3 4 | 5
    assert "Thông báo số 2" not in second and "Thông báo số 5" not in second


def test_the_list_and_the_bell_take_the_same_queries_whatever_the_number(world, auth, client, count_queries):
    auth.login("member")
    _notice(world, "member", "Một")
    client.get("/notices/")
    with count_queries() as few:
        client.get("/notices/")
    for minutes in range(30):
        _notice(world, "member", f"Thông báo {minutes}", minutes)
    with count_queries() as many:
        client.get("/notices/")
    assert many() == few()
    with count_queries() as bell:
        client.get("/notices/bell")
    with count_queries() as plain:
        client.get("/account/sessions")
    assert bell() <= plain()


def test_the_bells_count_is_read_with_the_user_and_read_again_once_the_notices_change(world, count_queries):
    member = world.users["member"]
    for minutes in (3, 2, 1):
        _notice(world, "member", f"Thông báo {minutes}", minutes)
    first = db.session.scalars(select(Notification).where(Notification.user_id == member.id)).first()
    # what the sign-in's statement reads beside the user
    count = db.session.scalar(select(inbox.unread_column(User.id)).where(User.id == member.id))
    inbox.remember_unread(db.session, member.id, count)
    with count_queries() as statements:
        assert inbox.unread_count(db.session, member.id) == 3
    assert statements() == 0
    assert inbox.unread_count(db.session, world.users["head"].id) == 0  # another user's: counted

    inbox.mark_read(db.session, first)
    assert inbox.unread_count(db.session, member.id) == 2
    inbox.remember_unread(db.session, member.id, 2)
    events.notify(
        db.session,
        [member.id],
        NoticeKind.ROUND_OPENED,
        cluster_id=world.cluster.id,
        year_id=world.year.id,
        message="Mới",
        params={},
        endpoint="scoring.for_cluster",
        args={"cluster_id": world.cluster.id, "year": world.year.year},
    )
    assert inbox.unread_count(db.session, member.id) == 3
    inbox.remember_unread(db.session, member.id, 3)
    inbox.mark_all_read(db.session, member.id)
    assert inbox.unread_count(db.session, member.id) == 0
    inbox.remember_unread(db.session, member.id, 0)
    member_id = member.id
    db.session.commit()  # another transaction: counted again
    with count_queries() as statements:
        assert inbox.unread_count(db.session, member_id) == 0
    assert statements() == 1


def test_a_page_with_the_bell_sends_no_count_of_its_own(world, auth, client, count_queries, app):
    from sqlalchemy import event

    _notice(world, "member", "Một")
    auth.login("member")
    client.get("/")
    statements = []
    listen = lambda _conn, _cursor, statement, *_args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        page = client.get("/")
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert "Thông báo: 1 chưa đọc" in page.text
    counts = [s for s in statements if "notifications" in s]
    assert len(counts) == 1 and "user_sessions" in counts[0]  # read in the sign-in's statement


# --- the digest preference and unsubscribing -----------------------------------------------------


def test_the_digest_is_off_until_the_user_turns_it_on(world, auth, client):
    world.users["member"].email = "vanthu@tanhong.gov.vn"
    db.session.commit()
    auth.login("member")
    assert 'name="digest"' in client.get("/notices/").text
    assert db.session.get(NoticePreference, world.users["member"].id) is None
    response = client.post("/notices/preferences", data={"digest": "y"})
    assert response.status_code == 303
    assert db.session.get(NoticePreference, world.users["member"].id).digest is True
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "NoticePreference"))
    client.post("/notices/preferences", data={})
    assert db.session.get(NoticePreference, world.users["member"].id).digest is False


def test_no_digest_without_an_address(world, auth, client, hx):
    auth.login("member")
    response = hx.post("/notices/preferences", data={"digest": "y"})
    assert response.status_code == 422 and "chưa có địa chỉ e-mail" in response.text
    assert db.session.get(NoticePreference, world.users["member"].id) is None


@pytest.fixture
def subscribed(world, app):
    user = world.users["member"]
    user.email = "vanthu@tanhong.gov.vn"
    digest.set_digest(db.session, user, True)
    db.session.commit()
    return digest.unsubscribe_token(app.config["SECRET_KEY"], user.id)


def test_the_unsubscribe_link_works_without_signing_in(world, client, subscribed):
    page = client.get(f"/notices/unsubscribe/{subscribed}")
    assert page.status_code == 200 and "member" in page.text
    assert db.session.get(NoticePreference, world.users["member"].id).digest is True  # a GET changes nothing
    done = client.post(f"/notices/unsubscribe/{subscribed}")
    assert done.status_code == 200 and "Đã tắt thư tổng hợp" in done.text
    assert db.session.get(NoticePreference, world.users["member"].id).digest is False


def test_a_tampered_or_foreign_token_is_refused(world, client, subscribed, app):
    assert client.get(f"/notices/unsubscribe/{subscribed[:-2]}xx").status_code == 404
    foreign = digest.unsubscribe_token("another-secret", world.users["member"].id)
    assert client.post(f"/notices/unsubscribe/{foreign}").status_code == 404
    other_purpose = digest.URLSafeSerializer(app.config["SECRET_KEY"]).dumps(world.users["member"].id)
    assert client.post(f"/notices/unsubscribe/{other_purpose}").status_code == 404  # no salt: not an unsubscribe
    assert db.session.get(NoticePreference, world.users["member"].id).digest is True


def test_a_notice_is_shown_in_the_readers_language_and_an_old_row_by_its_text(world, auth, client):
    from tests.publication_helpers import published

    published(world)  # "results published": a catalogue entry and its values
    old = Notification(
        user_id=world.users["member"].id,
        kind=NoticeKind.ROUND_OPENED,
        cluster_id=world.cluster.id,
        year_id=world.year.id,
        text="Thông báo cũ chỉ có chữ.",  # written before notices kept their catalogue entry
        endpoint="scoring.for_cluster",
        args={},
    )
    db.session.add(old)
    db.session.commit()
    auth.login("member")
    vietnamese = client.get("/notices/").text
    assert f"{world.cluster.name}: kết quả thi đua năm {world.year.year} đã được công bố." in vietnamese
    client.post("/language/en", data={"next": "/"})
    english = client.get("/notices/").text
    assert f"{world.cluster.name}: the {world.year.year} emulation results have been published." in english
    assert "Thông báo cũ chỉ có chữ." in english
    assert db.session.get(type(world.users["member"]), world.users["member"].id).locale == "en"
