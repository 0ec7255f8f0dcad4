"""The peer review page: create, adjust, open, deadline, close; by role; htmx; flat query counts."""

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, ReviewAssignment, ScoringRound, Term
from portal.services.criteria import sets as criteria_svc
from portal.services.org import cluster_year
from portal.services.scoring import reviews as svc
from tests import factories


@pytest.fixture
def locked(world):
    cset = factories.criteria_set(world)
    criteria_svc.lock(db.session, cset)
    db.session.commit()
    return cset


def _url(world):
    return f"/reviews/{world.cluster.id}/2026"


def _round():
    return db.session.scalar(select(ScoringRound).where(ScoringRound.kind == "peer"))


def _pairs():
    return {(a.reviewer_unit_id, a.subject_unit_id) for a in db.session.scalars(select(ReviewAssignment))}


def _draft(world, locked, mode="all_pairs", **kw):
    scoring_round = svc.create_round(db.session, locked, mode, **kw)
    db.session.commit()
    return scoring_round


def _opened(world, locked, mode="all_pairs", **kw):
    scoring_round = svc.create_round(db.session, locked, mode, **kw)
    svc.open_round(db.session, scoring_round)
    db.session.commit()
    return scoring_round


# ------------------------------------------------------------------------- access


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(_url(world))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_outsider_gets_not_found(client, auth, world, locked):
    scoring_round = _draft(world, locked)
    assignment_id = db.session.scalar(select(ReviewAssignment.id))
    auth.login("outsider")
    assert client.get(_url(world)).status_code == 404
    for url in (
        _url(world),
        f"/reviews/rounds/{scoring_round.id}/reassign",
        f"/reviews/rounds/{scoring_round.id}/assignments",
        f"/reviews/assignments/{assignment_id}/delete",
        f"/reviews/rounds/{scoring_round.id}/open",
        f"/reviews/rounds/{scoring_round.id}/deadline",
        f"/reviews/rounds/{scoring_round.id}/close",
    ):
        assert client.post(url, data={"mode": "all_pairs"}).status_code == 404, url
    assert len(_pairs()) == 6 and _round().status == "draft"


def test_a_self_round_is_not_a_peer_round(client, auth, world, locked):
    from portal.services.scoring import assessments

    self_round = assessments.open_self_round(db.session, locked)
    db.session.commit()
    auth.login("head")
    assert client.post(f"/reviews/rounds/{self_round.id}/close").status_code == 404


@pytest.mark.parametrize("role", ["member", "overseer", "council", "secretariat", "deputy"])
def test_only_the_head_runs_the_round(client, auth, world, locked, role):
    scoring_round = _draft(world, locked)
    auth.login(role)
    page = client.get(_url(world))
    assert page.status_code == 200
    assert "Mở vòng chấm chéo</button>" not in page.text
    assert client.post(f"/reviews/rounds/{scoring_round.id}/open").status_code == 403
    assert client.post(_url(world), data={"mode": "all_pairs"}).status_code == 403
    assert _round().status == "draft"


def test_deputy_runs_the_round_when_the_head_delegates(client, auth, world, locked):
    scoring_round = _draft(world, locked)
    db.session.scalar(select(Term).where(Term.cluster_id == world.cluster.id)).deputy_may_lead = True
    db.session.commit()
    auth.login("deputy")
    assert "Mở vòng chấm chéo</button>" in client.get(_url(world)).text
    assert client.post(f"/reviews/rounds/{scoring_round.id}/open").status_code == 303
    assert _round().status == "open"


def test_followers_read_progress_members_see_only_their_own_reviews(client, auth, world, locked):
    _opened(world, locked)
    for role in ("overseer", "secretariat", "deputy"):
        auth.login(role)
        page = client.get(_url(world)).text
        assert "Tiến độ: 0/6 bản chấm chéo đã nộp" in page, role
        assert "Đóng vòng chấm chéo</button>" not in page, role
        auth.logout()
    auth.login("council")  # a council member who does not oversee the cluster: the round's state only
    page = client.get(_url(world)).text
    assert "Đang mở" in page and "Tiến độ" not in page
    auth.logout()
    auth.login("member")
    page = client.get(_url(world)).text
    assert "Các đơn vị tôi chấm chéo" in page and "Tiến độ" not in page
    own = db.session.scalars(select(Assessment.id).where(Assessment.author_unit_id == world.member.id)).all()
    others = db.session.scalars(select(Assessment.id).where(Assessment.author_unit_id != world.member.id)).all()
    assert len(own) == 2
    for assessment_id in own:
        assert f'data-assessment-id="{assessment_id}"' in page
    for assessment_id in others:
        assert f'data-assessment-id="{assessment_id}"' not in page


def test_members_do_not_see_a_draft_plan(client, auth, world, locked):
    _draft(world, locked, "team", team_ids=[world.head.id])
    auth.login("member")
    page = client.get(_url(world)).text
    assert "đang được chuẩn bị" in page and world.deputy.name not in page


# ------------------------------------------------------------------------- the head's workflow


def test_head_without_a_locked_table_is_told_to_lock_it(client, auth, world):
    factories.criteria_set(world)
    auth.login("head")
    page = client.get(_url(world)).text
    assert "Phải khóa bảng tiêu chí" in page and 'name="mode"' not in page


def test_head_creates_a_balanced_round(client, auth, world, locked):
    for name in ("UBND xã Mỹ Hiệp", "UBND xã Bình Thạnh"):
        cluster_year.add_membership(db.session, world.year, world.cluster, factories.unit(name))
    db.session.commit()
    due = factories.future_date(30)
    auth.login("head")
    page = client.get(_url(world)).text
    assert 'value="k_each"' in page and 'value="team"' in page  # the form, with the three modes
    response = client.post(_url(world), data={"mode": "k_each", "k": "2", "deadline": factories.vn_format(due)})
    assert response.status_code == 303
    scoring_round = _round()
    assert (scoring_round.status, scoring_round.assignment_mode, scoring_round.reviews_per_unit) == (
        "draft",
        "k_each",
        2,
    )
    assert scoring_round.deadline == factories.vn_moment(due, 23, 59, 59)  # the end of that day in Vietnam, in UTC
    assert len(_pairs()) == 10
    page = client.get(_url(world)).text
    assert "Phân công chấm chéo: 10 lượt chấm" in page and f"{factories.vn_format(due)} 23:59" in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"mode": "k_each", "k": "3"}, "Số đơn vị chấm mỗi đơn vị phải từ 1 đến n−1"),
        ({"mode": "k_each", "k": "hai"}, "Nhập một số nguyên"),
        ({"mode": "k_each", "k": ""}, "Nhập số đơn vị chấm mỗi đơn vị (k)"),
        ({"mode": "team"}, "Chọn ít nhất một đơn vị vào tổ kiểm tra chéo"),
        ({"mode": "team", "team": ["999999"]}, "chỉ gồm các đơn vị thành viên"),
        ({"mode": "all_pairs", "deadline": "31/02/2025"}, "Thời hạn không hợp lệ"),
        ({"mode": "all_pairs", "deadline": "01/01/2020 08:00"}, "Hạn chấm chéo phải sau thời điểm hiện tại"),
        ({"mode": ""}, "Chọn cách phân công"),
    ],
)
def test_create_errors_next_to_the_field(client, auth, world, locked, data, message):
    auth.login("head")
    response = client.post(_url(world), data=data)
    assert response.status_code == 422
    assert message in response.text
    assert _round() is None and _pairs() == set()


def test_deadline_with_a_time(client, auth, world, locked):
    due = factories.future_date(30)
    auth.login("head")
    client.post(_url(world), data={"mode": "all_pairs", "deadline": f"{factories.vn_format(due)} 17:00"})
    assert _round().deadline == factories.vn_moment(due, 17)


def test_one_round_a_year(client, auth, world, locked):
    _draft(world, locked)
    auth.login("head")
    response = client.post(_url(world), data={"mode": "all_pairs"})
    assert response.status_code == 422 and "đã được lập" in response.text


def test_adjust_by_hand_with_htmx(client, hx, auth, world, locked):
    scoring_round = _draft(world, locked, "team", team_ids=[world.head.id])
    auth.login("head")
    response = hx.post(
        f"/reviews/rounds/{scoring_round.id}/assignments",
        data={"reviewer_unit_id": world.member.id, "subject_unit_id": world.head.id},
    )
    assert response.status_code == 200 and "<html" not in response.text
    assert "Đã thêm phân công." in response.text and "Phân công chấm chéo: 3 lượt chấm" in response.text
    assert (world.member.id, world.head.id) in _pairs()
    refused = hx.post(
        f"/reviews/rounds/{scoring_round.id}/assignments",
        data={"reviewer_unit_id": world.member.id, "subject_unit_id": world.member.id},
    )
    assert refused.status_code == 422 and "không tự chấm chéo chính mình" in refused.text
    assignment_id = db.session.scalar(
        select(ReviewAssignment.id).where(ReviewAssignment.reviewer_unit_id == world.member.id)
    )
    removed = hx.post(f"/reviews/assignments/{assignment_id}/delete")
    assert removed.status_code == 200 and "Phân công chấm chéo: 2 lượt chấm" in removed.text
    assert "Chưa có đơn vị nào chấm: UBND phường An Bình." in removed.text  # the team of one is not reviewed


def test_regenerate(client, auth, world, locked):
    scoring_round = _draft(world, locked, "team", team_ids=[world.head.id])
    auth.login("head")
    response = client.post(f"/reviews/rounds/{scoring_round.id}/reassign", data={"mode": "all_pairs"})
    assert response.status_code == 303 and len(_pairs()) == 6
    assert _round().assignment_mode == "all_pairs"
    failed = client.post(f"/reviews/rounds/{scoring_round.id}/reassign", data={"mode": "k_each", "k": "7"})
    assert failed.status_code == 422 and "từ 1 đến n−1" in failed.text and len(_pairs()) == 6


def test_an_assignment_of_another_cluster_is_not_found(client, auth, world, locked):
    _draft(world, locked)
    other = ScoringRound(
        cluster_id=world.other_cluster.id, year_id=world.year.id, criteria_set_id=locked.id, kind="peer", status="draft"
    )
    db.session.add(other)
    db.session.flush()
    stranger = factories.unit("Sở Xây dựng")
    cluster_year.add_membership(db.session, world.year, world.other_cluster, stranger)
    foreign = ReviewAssignment(round_id=other.id, reviewer_unit_id=world.outsider.id, subject_unit_id=stranger.id)
    db.session.add(foreign)
    db.session.commit()
    auth.login("head")
    assert client.post(f"/reviews/assignments/{foreign.id}/delete").status_code == 404
    assert client.post(f"/reviews/rounds/{other.id}/open").status_code == 404
    assert db.session.get(ReviewAssignment, foreign.id) is not None


def test_open_deadline_close(client, hx, auth, world, locked):
    scoring_round = _draft(world, locked, "k_each", k=1, seed=5)
    auth.login("head")
    opened = hx.post(f"/reviews/rounds/{scoring_round.id}/open")
    assert opened.status_code == 200 and "Đã mở vòng chấm chéo: 3 bản chấm được giao." in opened.text
    assert db.session.scalars(select(Assessment.stage)).all() == ["peer"] * 3
    again = hx.post(f"/reviews/rounds/{scoring_round.id}/open")
    assert again.status_code == 422 and len(db.session.scalars(select(Assessment.id)).all()) == 3  # nothing added
    due = factories.future_date(40)
    deadline = f"{factories.vn_format(due)} 17:00"
    moved = hx.post(f"/reviews/rounds/{scoring_round.id}/deadline", data={"deadline": deadline})
    assert moved.status_code == 200 and _round().deadline == factories.vn_moment(due, 17)
    bad = hx.post(f"/reviews/rounds/{scoring_round.id}/deadline", data={"deadline": "ngày mai"})
    assert bad.status_code == 422 and "Thời hạn không hợp lệ" in bad.text
    assert _round().deadline == factories.vn_moment(due, 17)
    closed = client.post(f"/reviews/rounds/{scoring_round.id}/close")
    assert closed.status_code == 303 and _round().status == "closed" and _round().closed_at is not None
    page = client.get(_url(world)).text
    assert "Đã đóng" in page and "ghi nhận là thiếu" in page
    assert client.post(f"/reviews/rounds/{scoring_round.id}/close").status_code == 422
    assert client.post(f"/reviews/rounds/{scoring_round.id}/deadline", data={"deadline": ""}).status_code == 422


def test_open_without_assignments_is_refused(client, auth, world, locked):
    scoring_round = _draft(world, locked, "team", team_ids=[world.head.id])
    for assignment in db.session.scalars(select(ReviewAssignment)).all():
        db.session.delete(assignment)
    db.session.commit()
    auth.login("head")
    response = client.post(f"/reviews/rounds/{scoring_round.id}/open")
    assert response.status_code == 422 and "Chưa có phân công nào" in response.text
    assert _round().status == "draft" and db.session.scalar(select(Assessment.id)) is None


# ------------------------------------------------------------------------- htmx and queries


def test_page_fragment_and_history_restore(client, hx, auth, world, locked):
    _draft(world, locked)
    auth.login("head")
    full = client.get(_url(world))
    fragment = hx.get(_url(world))
    restored = hx.history_restore(_url(world))
    assert "<html" in full.text and "<html" not in fragment.text and "<html" in restored.text
    assert "Phân công chấm chéo" in fragment.text
    assert "HX-Request" in full.headers["Vary"]


def test_cluster_page_links_here(client, auth, world):
    auth.login("member")
    assert f'href="/reviews/{world.cluster.id}/2026"' in client.get(f"/clusters/{world.cluster.id}?year=2026").text


def _grow(world, total: int) -> None:
    for i in range(total - 3):
        cluster_year.add_membership(db.session, world.year, world.cluster, factories.unit(f"UBND xã Thử {total}-{i}"))
    db.session.commit()


@pytest.mark.parametrize("state", ["draft", "open"])
@pytest.mark.parametrize("role", ["head", "member", "overseer"])
def test_query_count_is_flat_in_the_cluster_size(app, auth, client, count_queries, state, role):
    counts = []
    for total in (4, 12):
        with app.app_context():
            db.drop_all()
            db.create_all()
            world = factories.world()
            cset = factories.criteria_set(world)
            criteria_svc.lock(db.session, cset)
            _grow(world, total)
            (_opened if state == "open" else _draft)(world, cset)
            auth.login(role)
            client.get(_url(world))  # warm up (caches, first-request work)
            with count_queries() as n:
                assert client.get(_url(world)).status_code == 200
            counts.append(n())
            auth.logout()
    assert counts[0] == counts[1], counts


def test_reviewer_follows_the_link_to_its_review(app, client, auth, world, locked):
    if "scoring.assessment" not in app.view_functions:
        pytest.skip("the assessment page (scoring.assessment) is not there yet")
    _opened(world, locked)
    auth.login("member")
    page = client.get(_url(world)).text
    own = db.session.scalars(select(Assessment.id).where(Assessment.author_unit_id == world.member.id)).all()
    for assessment_id in own:
        assert f'href="/scoring/assessments/{assessment_id}"' in page
        assert client.get(f"/scoring/assessments/{assessment_id}").status_code == 200
    other = db.session.scalar(select(Assessment.id).where(Assessment.author_unit_id != world.member.id))
    assert client.get(f"/scoring/assessments/{other}").status_code == 404  # another reviewer's draft


def test_opening_a_round_names_the_units_without_a_submitted_self_assessment(client, auth, world, locked):
    """Before the head opens the peer round, the page (and the confirmation) names every unit whose
    self-assessment is not handed in; once all are in, nothing is listed."""
    from portal.services.scoring import assessments

    assessments.open_self_round(db.session, locked)
    head_own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.head.id))
    items = {c.code: c for c in criteria_svc.load_tree(db.session, locked).leaves()}
    for code, raw in (("1", "10"), ("2", "30")):
        assessments.save_score(db.session, head_own, items[code], raw, "", expected_revision=None, user_id=None)
    assessments.submit(db.session, head_own, None)
    _draft(world, locked)
    auth.login("head")
    page = client.get(_url(world)).text
    listed = page.split('id="self-not-submitted"', 1)[1].split("</div>", 1)[0]
    assert "2 đơn vị chưa nộp bản tự chấm:" in listed
    assert world.deputy.name in listed and world.member.name in listed and world.head.name not in listed
    confirm = re.search(r'hx-confirm="([^"]*Mở vòng chấm chéo\?[^"]*)"', page).group(1)
    assert "chưa nộp bản tự chấm:" in confirm and world.deputy.name in confirm and world.member.name in confirm
    auth.logout()
    auth.login("member")
    assert 'id="self-not-submitted"' not in client.get(_url(world)).text  # members see no draft plan
