"""Rendered fragments kept per worker (`portal.fragments`): never a stale number, never another reader's markup.

The progress table and its reminder, the results table and the dashboard are rendered once and served from
the worker's cache until a write may have changed them. Each test reads a page (kept), changes something
the page shows through the services (committed, audited), and reads again: the change shows. A reader who
may do more sees more (their own variant); the CSRF token in a kept fragment is always the reader's own.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import ScoringRound, Term
from portal.models.base import utcnow
from portal.services.org import structure
from portal.services.platform import accounts
from portal.services.scoring import assessments as scoring
from tests import factories
from tests.signin import sign_in
from tests.test_dashboard import scored_cluster
from tests.test_evidence import HX, PDF, post_file
from tests.test_scoring_pages import fill_all, own

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BODY_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


@pytest.fixture
def opened(world):
    """The world's cluster with a locked table and its self round open; the table's leaves by key."""
    cset, items = factories.scoring_table(world)
    scoring.open_self_round(db.session, cset)
    db.session.commit()
    return items


def progress(client, world) -> str:
    page = client.get(f"/scoring/{world.cluster.id}/{world.year.year}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def computed(app) -> int:
    """How many fragments this app (worker) has rendered so far."""
    return app.extensions["fragments"].computed


def test_the_progress_is_kept_and_a_submission_an_address_and_a_name_show_on_the_next_read(
    app, client, auth, world, opened
):
    auth.login("head")
    assert "0/3 đơn vị đã nộp" in progress(client, world)
    made = computed(app)
    assert "0/3 đơn vị đã nộp" in progress(client, world) and computed(app) == made  # served as kept

    fill_all(world.member, opened)
    scoring.submit(db.session, own(world.member), None)
    db.session.commit()
    assert "1/3 đơn vị đã nộp" in progress(client, world)

    # an e-mail address changes no ranking, but the reminder shows it
    deputy = world.users["deputy"]
    accounts.update_user(
        db.session, deputy, full_name=deputy.full_name, email="vanthu@myt.gov.vn", active=True, acting_user_id=None
    )
    db.session.commit()
    assert "vanthu@myt.gov.vn" in progress(client, world)

    # nor does a cluster's name: the reminder's text holds it
    cluster = world.cluster
    structure.save_cluster(db.session, cluster, kind=cluster.kind, code=cluster.code, name="Cụm thi đua Đồng Tiến")
    db.session.commit()
    assert "Cụm thi đua Đồng Tiến — năm" in progress(client, world)

    # a unit renamed: its row and the reminder
    structure.rename_unit(db.session, world.deputy, "UBND phường Mỹ Trà Mới", factories.future_date(0))
    db.session.commit()
    body = progress(client, world)
    assert 'data-unit="UBND phường Mỹ Trà Mới"' in body and "- UBND phường Mỹ Trà Mới" in body


def test_a_units_own_card_is_kept_for_that_unit_and_shows_a_saved_score_and_a_submission_at_once(
    app, client, auth, world, opened
):
    auth.login("member")
    body = progress(client, world)
    assert f"Bản chấm của đơn vị {world.member.name}" in body and "0/5 tiêu chí đã chấm" in body
    assert "Đã nộp" not in body
    made = app.extensions["fragment-cards"].computed
    assert "0/5 tiêu chí đã chấm" in progress(client, world)
    assert app.extensions["fragment-cards"].computed == made  # served as kept

    draft = own(world.member)
    scoring.save_score(db.session, draft, opened["direct"], "10", "căn cứ", expected_revision=None, user_id=None)
    db.session.commit()
    assert "1/5 tiêu chí đã chấm" in progress(client, world)

    fill_all(world.member, opened)
    scoring.submit(db.session, own(world.member), None)
    db.session.commit()
    body = progress(client, world)
    assert "tiêu chí đã chấm" not in body and "Đã nộp" in body

    auth.logout()
    auth.login("deputy")  # another unit of the cluster: its own card, never the member's
    body = progress(client, world)
    assert f"Bản chấm của đơn vị {world.deputy.name}" in body
    assert f"Bản chấm của đơn vị {world.member.name}" not in body


def test_a_deputy_let_lead_sees_the_heads_actions_at_once(client, auth, world, opened):
    fill_all(world.member, opened)
    scoring.submit(db.session, own(world.member), None)
    db.session.commit()
    auth.login("head")
    assert "Thẩm định</button>" in progress(client, world)  # the head's variant is kept
    auth.logout()
    auth.login("deputy")
    assert "Thẩm định</button>" not in progress(client, world)  # not shared with the deputy

    term = db.session.scalar(select(Term).where(Term.cluster_id == world.cluster.id, Term.year_id == world.year.id))
    term.deputy_may_lead = True
    db.session.commit()
    assert "Thẩm định</button>" in progress(client, world)


def test_a_kept_fragment_carries_each_readers_own_csrf_token(app, client, auth, world, opened):
    fill_all(world.member, opened)
    scoring.submit(db.session, own(world.member), None)
    db.session.commit()
    second = app.test_client()
    for reader in (client, second):
        reader.post("/login", data={"username": "head", "password": factories.PASSWORD})
    first_page = progress(client, world)
    made = computed(app)
    second_page = progress(second, world)
    assert computed(app) == made  # the second session was served the kept table

    tokens = []
    for body in (first_page, second_page):
        own_token = BODY_TOKEN.search(body).group(1)
        in_forms = set(TOKEN.findall(body))
        assert in_forms == {own_token}  # the verify form in the kept table holds this reader's token
        tokens.append(own_token)
    assert tokens[0] != tokens[1]


def test_a_form_returned_with_errors_is_rendered_for_its_request_and_not_kept(client, auth, world, opened):
    fill_all(world.member, opened)
    scoring.submit(db.session, own(world.member), None)
    db.session.commit()
    auth.login("head")
    progress(client, world)
    url = f"/scoring/assessments/{own(world.member).id}/return"
    failed = client.post(url, data={"reason": ""})
    assert failed.status_code == 422
    assert "is-invalid" in failed.get_data(as_text=True)
    assert "is-invalid" not in progress(client, world)  # the kept table is the plain one


def test_the_results_table_in_another_language_is_its_own(client, world):
    found, units, _leaf, _round = scored_cluster(world, "Cụm Đ", 2)
    sign_in(client, world.users["secretariat"].id)
    url = f"/results/{found.id}/{world.year.year}"
    assert "Bấm tên cột để sắp xếp" in client.get(url).get_data(as_text=True)
    client.post("/language/en", data={})
    english = client.get(url).get_data(as_text=True)
    assert "Bấm tên cột để sắp xếp" not in english and units[0].name in english


def test_the_dashboard_shows_a_renamed_unit_a_renamed_overseer_and_a_new_leader_at_once(client, world):
    found, units, leaf, self_round = scored_cluster(world, "Cụm E", 2, points=["60", "40"])
    sign_in(client, world.users["council"].id)
    body = client.get("/dashboard/").get_data(as_text=True)
    assert units[0].name in body and "Lê Minh Tuấn" in body

    structure.rename_unit(db.session, units[0], "Cụm E — đơn vị đổi tên", factories.future_date(0))
    structure.save_council_member(db.session, world.overseer, full_name="Lê Minh Tuấn Anh")
    db.session.commit()
    body = client.get("/dashboard/").get_data(as_text=True)
    assert "Cụm E — đơn vị đổi tên" in body and "Lê Minh Tuấn Anh" in body

    # the leader's score returned for revision: the other unit leads
    scoring.return_for_revision(db.session, own(units[0]), "Sửa lại")
    db.session.commit()
    row = next(r for r in client.get("/dashboard/").get_data(as_text=True).split("<tr") if "Cụm E</a>" in r)
    leader = row.split('data-label="Dẫn đầu"')[1]
    assert units[1].name in leader and "<strong>40</strong>" in leader


def test_an_assessments_rows_show_a_saved_score_a_new_file_and_a_passed_deadline_at_once(
    app, client, auth, world, opened, tmp_path
):
    app.config.update(EVIDENCE_FOLDER=str(tmp_path / "evidence"))
    auth.login("member")
    current = own(world.member)
    url = f"/scoring/assessments/{current.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="25,5"' not in page and "autosave-form" in page
    made = computed(app)
    client.get(url)
    assert computed(app) == made  # the rows are kept

    saved = client.post(
        f"{url}/scores/{opened['direct'].id}", data={"value": "25,5", "note": "", "revision": "0"}, headers=HX
    )
    assert saved.status_code == 200
    assert 'value="25,5"' in client.get(url).get_data(as_text=True)

    assert post_file(client, current, opened["direct"], "bao-cao.pdf", PDF).status_code in (200, 303)
    assert "bao-cao.pdf" in client.get(url).get_data(as_text=True)  # a file changes no ranking, but shows

    self_round = db.session.scalar(select(ScoringRound).where(ScoringRound.id == current.round_id))
    self_round.deadline = utcnow() - timedelta(days=1)
    db.session.commit()
    late = client.get(url).get_data(as_text=True)
    assert "autosave-form" not in late and 'value="25,5"' not in late and "Đã quá hạn" in late
