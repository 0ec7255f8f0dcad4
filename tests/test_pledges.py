"""The pledge agreement on the web: drafting, visibility, signing, confirming, targets."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal as D

import pytest
import time_machine
from sqlalchemy import func, select

from portal.extensions import db
from portal.formatting import VN_TZ
from portal.models import Pledge, PledgeSignature, TargetRegistration
from portal.services.pledges import agreements as svc
from tests import factories

SIGN = {
    "representative_name": "Nguyễn Văn An",
    "representative_position": "Chủ tịch UBND",
    "signed_on": factories.vn_format(factories.past_date(3)),
}


@pytest.fixture
def cset(world):
    return factories.criteria_set(world)


@pytest.fixture
def pledge(world, cset):
    p = svc.create(db.session, world.cluster, world.year)
    db.session.commit()
    return p


def test_head_drafts_and_edits(world, cset, auth, client):
    meeting = factories.future_date(20)
    auth.login("head")
    assert "Tạo dự thảo giao ước" in client.get(f"/pledges/{world.cluster.id}/2026").text
    made = client.post(f"/pledges/{world.cluster.id}/2026")
    pledge = db.session.scalar(select(Pledge))
    assert made.status_code == 303 and made.headers["Location"] == f"/pledges/{pledge.id}/edit"
    bad = client.post(
        f"/pledges/{pledge.id}/edit",
        data={"title": "", "commitments": "", "criteria_set_id": "0", "meeting_date": "31/13/2025"},
    )
    assert bad.status_code == 422
    assert "Vui lòng nhập trường này." in bad.text and "dd/mm/yyyy" in bad.text
    good = client.post(
        f"/pledges/{pledge.id}/edit",
        data={
            "title": "Giao ước thi đua năm 2026",
            "commitments": "Cam kết một\nCam kết hai",
            "criteria_set_id": cset.id,
            "meeting_date": factories.vn_format(meeting),
            "meeting_place": "Hội trường UBND phường An Bình",
            "place": "Cao Lãnh",
        },
    )
    assert good.status_code == 303
    page = client.get(f"/pledges/{world.cluster.id}/2026").text
    assert "Cam kết hai" in page and f"Cao Lãnh, ngày {meeting:%d} tháng {meeting:%m} năm {meeting.year}" in page


def test_a_draft_is_hidden_from_members(world, cset, pledge, auth, client):
    svc.update(
        db.session,
        db.session.get(Pledge, pledge.id),
        criteria_set_id=None,
        meeting_date=None,
        title="Giao ước",
        commitments="Một",
    )
    db.session.commit()
    auth.login("member")
    assert client.get(f"/pledges/{pledge.id}/print").status_code == 404
    assert "chưa mở ký" in client.get(f"/pledges/{world.cluster.id}/2026").text
    auth.logout()
    auth.login("overseer")
    assert client.get(f"/pledges/{pledge.id}/print").status_code == 200


def test_members_sign_and_the_head_confirms(world, pledge, auth, client, hx):
    auth.login("member")
    bad = hx.post(f"/pledges/{pledge.id}/sign", data=SIGN | {"representative_name": " ", "signed_on": "hôm nay"})
    assert bad.status_code == 422 and "Vui lòng nhập trường này." in bad.text and "dd/mm/yyyy" in bad.text
    ok = hx.post(f"/pledges/{pledge.id}/sign", data=SIGN)
    assert ok.status_code == 200 and "1/3 đơn vị đã ký" in ok.text and "Đã ký" in ok.text
    assert hx.post(f"/pledges/{pledge.id}/sign", data=SIGN).status_code == 422  # already signed
    signature = db.session.scalar(select(PledgeSignature))
    assert client.post(f"/pledges/signatures/{signature.id}/confirm").status_code == 403
    auth.logout()
    auth.login("head")
    page = client.get(f"/pledges/{pledge.cluster_id}/2026").text
    unsigned = re.search(r'id="unsigned-list"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert "UBND phường An Bình" in unsigned and "UBND xã Tân Hồng" not in unsigned
    confirmed = hx.post(f"/pledges/signatures/{signature.id}/confirm")
    assert confirmed.status_code == 200 and db.session.get(PledgeSignature, signature.id).confirmed_at is not None


def _prefilled_signing_date(page: str) -> str:
    return re.search(r'<input[^>]*name="signed_on"[^>]*value="([^"]*)"', page).group(1)


def test_signing_at_half_past_one_in_the_morning_takes_the_prefilled_day(world, pledge, auth, client):
    """At 01:30 in Vietnam the server's UTC date is still yesterday; the form offers and accepts today in Vietnam."""
    early = datetime.combine(factories.future_date(1), time(1, 30), tzinfo=VN_TZ)
    with time_machine.travel(early, tick=False):
        auth.login("member")
        prefilled = _prefilled_signing_date(client.get(f"/pledges/{world.cluster.id}/2026").text)
        assert prefilled == factories.vn_format(early.date())
        signed = client.post(f"/pledges/{pledge.id}/sign", data=SIGN | {"signed_on": prefilled})
    assert signed.status_code == 303
    assert db.session.scalar(select(PledgeSignature.signed_on)) == early.date()


def test_a_meeting_ahead_is_the_prefilled_signing_date(world, pledge, auth, client, hx):
    """The agreement is dated the day of its meeting; a member signing ahead of it signs with that date."""
    meeting = factories.future_date(12)
    pledge.meeting_date = meeting
    db.session.commit()
    auth.login("member")
    page = client.get(f"/pledges/{world.cluster.id}/2026").text
    assert _prefilled_signing_date(page) == factories.vn_format(meeting)
    other_day = factories.vn_format(meeting - timedelta(days=1))
    refused = hx.post(f"/pledges/{pledge.id}/sign", data=SIGN | {"signed_on": other_day})
    assert refused.status_code == 422 and "Ngày ký không được sau hôm nay" in refused.text
    assert db.session.scalar(select(func.count()).select_from(PledgeSignature)) == 0
    signed = hx.post(f"/pledges/{pledge.id}/sign", data=SIGN | {"signed_on": factories.vn_format(meeting)})
    assert signed.status_code == 200 and "1/3 đơn vị đã ký" in signed.text
    assert db.session.scalar(select(PledgeSignature.signed_on)) == meeting


def test_amending_asks_members_to_sign_again(world, pledge, auth, client):
    auth.login("member")
    client.post(f"/pledges/{pledge.id}/sign", data=SIGN)
    auth.logout()
    auth.login("head")
    client.post(
        f"/pledges/{pledge.id}/edit",
        data={"title": pledge.title, "commitments": "Cam kết đã sửa", "criteria_set_id": pledge.criteria_set_id},
    )
    auth.logout()
    auth.login("member")
    page = client.get(f"/pledges/{pledge.cluster_id}/2026").text
    assert "Cần ký xác nhận lại" in page and "Ký xác nhận lại giao ước" in page
    assert client.post(f"/pledges/{pledge.id}/sign", data=SIGN).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(PledgeSignature)) == 2


def test_charter_proves_what_was_signed(world, pledge, auth, client):
    import hashlib

    auth.login("member")
    client.post(f"/pledges/{pledge.id}/sign", data=SIGN)
    digest = db.session.scalar(select(PledgeSignature.charter_hash))
    response = client.get(f"/pledges/{pledge.id}/charters/{digest}")
    assert response.status_code == 200 and response.headers["X-Charter-Verified"] == "true"
    assert hashlib.sha256(response.data).hexdigest() == digest
    assert "Thu ngân sách" in response.get_data(as_text=True)
    assert client.get(f"/pledges/{pledge.id}/charters/{'0' * 64}").status_code == 404


@pytest.mark.parametrize(
    "username, view, sign, edit",
    [
        ("secretariat", 200, 403, 403),
        ("overseer", 200, 403, 403),
        ("council", 200, 403, 403),
        ("head", 200, 303, 200),
        ("deputy", 200, 303, 403),
        ("member", 200, 303, 403),
        ("outsider", 404, 404, 404),
    ],
)
def test_permissions(world, pledge, auth, client, username, view, sign, edit):
    auth.login(username)
    assert client.get(f"/pledges/{pledge.id}/print").status_code == view
    assert client.post(f"/pledges/{pledge.id}/sign", data=SIGN).status_code == sign
    assert client.get(f"/pledges/{pledge.id}/edit").status_code == edit


def test_targets_own_and_compiled(world, cset, pledge, auth, client, hx):
    item = svc.quantitative_items(db.session, cset)[0]
    auth.login("member")
    saved = hx.post(
        f"/pledges/targets/{item.id}", data={f"c{item.id}-target": "1.250,5", f"c{item.id}-note": "Kế hoạch"}
    )
    assert saved.status_code == 200 and "Đã lưu" in saved.text
    bad = hx.post(f"/pledges/targets/{item.id}", data={f"c{item.id}-target": "-3"})
    assert bad.status_code == 422 and "không được âm" in bad.text
    assert db.session.scalar(select(TargetRegistration.target)) == D("1250.5")
    page = client.get(f"/pledges/{world.cluster.id}/2026/targets").text
    assert "Tổng hợp chỉ tiêu" not in page and "1.250,5" in page
    auth.logout()
    auth.login("outsider")
    assert hx.post(f"/pledges/targets/{item.id}", data={f"c{item.id}-target": "5"}).status_code == 404
    auth.logout()
    auth.login("head")
    compiled = client.get(f"/pledges/{world.cluster.id}/2026/targets").text
    assert "Tổng hợp chỉ tiêu" in compiled and "1.250,5" in compiled


def test_query_count_is_flat(world, pledge, auth, client, count_queries):
    from portal.services.org import cluster_year
    from tests import factories

    auth.login("head")
    url = f"/pledges/{world.cluster.id}/2026"
    client.get(url)
    with count_queries() as small:
        client.get(url)
    for _ in range(10):
        cluster_year.add_membership(db.session, world.year, world.cluster, factories.unit())
    db.session.commit()
    with count_queries() as big:
        client.get(url)
    assert big() == small()


def test_word_export_reads_back(world, pledge, auth, client):
    from io import BytesIO

    from docx import Document

    auth.login("member")
    client.post(f"/pledges/{pledge.id}/sign", data=SIGN)
    response = client.get(f"/pledges/{pledge.id}/export.docx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    document = Document(BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "GIAO ƯỚC THI ĐUA" in text and "Độc lập - Tự do - Hạnh phúc" in cells
    assert "NGUYỄN VĂN AN" in cells.upper() and "UBND PHƯỜNG AN BÌNH" in cells.upper()
    auth.logout()
    auth.login("outsider")
    assert client.get(f"/pledges/{pledge.id}/export.docx").status_code == 404


def test_target_autosave_answers_out_of_band_and_works_without_javascript(world, cset, pledge, auth, client, hx):
    """The autosave's answer carries only the row's status (never the inputs being typed in); a plain
    form post (no JavaScript) redirects to the page, or re-renders it with the message next to the field."""
    item = svc.quantitative_items(db.session, cset)[0]
    auth.login("member")
    url = f"/pledges/targets/{item.id}"
    saved = hx.post(url, data={f"c{item.id}-target": "12,5", f"c{item.id}-note": "Kế hoạch"})
    assert saved.status_code == 200 and 'hx-swap-oob="true"' in saved.text and "Đã lưu lúc" in saved.text
    assert "<input" not in saved.text and "<form" not in saved.text
    refused = hx.post(url, data={f"c{item.id}-target": "12,5", f"c{item.id}-note": "x" * 2001})
    assert refused.status_code == 422 and "Tối đa 2000 ký tự." in refused.text
    assert f'data-field="c{item.id}-note"' in refused.text and "<input" not in refused.text

    plain = client.post(url, data={f"c{item.id}-target": "1.300", f"c{item.id}-note": "Theo kế hoạch"})
    assert plain.status_code == 303 and plain.headers["Location"] == f"/pledges/{world.cluster.id}/2026/targets"
    page = client.get(plain.headers["Location"]).text
    assert "Đã lưu chỉ tiêu 1." in page and 'value="1.300"' in page
    bad = client.post(url, data={f"c{item.id}-target": "-3", f"c{item.id}-note": "Ghi chú mới"})
    assert bad.status_code == 422 and "<html" in bad.text
    row = re.search(rf'<tr id="target-{item.id}".*?</tr>', bad.text, re.S).group(0)
    assert "Chỉ tiêu không được âm." in row and 'value="-3"' in row and 'value="Ghi chú mới"' in row
    assert "is-invalid" in row
    stored = db.session.execute(select(TargetRegistration.target, TargetRegistration.note)).one()
    assert tuple(stored) == (D("1300"), "Theo kế hoạch")
