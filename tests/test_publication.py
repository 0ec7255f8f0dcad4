"""Publication of a cluster-year's results: the precondition, the content-addressed snapshot, the lock it sets
(settings and scores refuse changes), immutability (the ORM everywhere, a trigger on PostgreSQL), recompute
equal to the stored numbers and a tampered number reported, revisions with their diff, and the online ballots
frozen so that a voter checks its receipt on the record."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from portal.extensions import db
from portal.models import Assessment, AuditEntry, ResultSnapshot
from portal.models.publication import SnapshotChangeRefused
from portal.services import DomainError
from portal.services.publication import codec, compose, receipts, revisions, snapshots
from portal.services.results import engine, scope
from portal.services.results.read import read_cluster
from portal.services.scoring import assessments as scoring
from tests.meeting_helpers import where
from tests.publication_helpers import POINTS, published, voted, voted_online


def test_publishing_needs_a_closed_meeting_with_nominations(world):
    voted(world, close=False)
    with pytest.raises(DomainError, match="đã kết thúc"):
        snapshots.publish(db.session, where(world), None)
    assert db.session.scalar(select(func.count()).select_from(ResultSnapshot)) == 0


def test_publishing_without_a_meeting_is_refused(world):
    with pytest.raises(DomainError, match="đã kết thúc"):
        snapshots.publish(db.session, where(world), None)


def test_the_snapshot_is_content_addressed_and_holds_what_the_numbers_come_from(world):
    _units, items, snapshot = published(world)
    content = snapshots.content_of(snapshot)
    assert snapshot.hash == hashlib.sha256(snapshot.content.encode()).hexdigest() == codec.digest(content)
    assert snapshot.revision == 1 and snapshot.parent_hash is None
    assert len(content["criteria_sha256"]) == 64
    assert {n["unit_id"] for n in content["nominations"] if n["outcome"] == "elected"} == {
        world.head.id,
        world.deputy.id,
    }
    assert [r["unit_id"] for r in content["table"]][0] == world.head.id
    assert content["table"][0]["compared_total"] == "90.00"
    assert content["computed"]["approved"]["units"][0]["unit_id"] == world.head.id
    assert {t["award"] for t in content["tallies"]} == {"co_thi_dua", "bang_khen_toan_dien"}
    # the stored input computes the same result as the database does
    fresh = read_cluster(db.session, world.cluster.id, world.year.id)
    assert codec.decode(content["input"]) == fresh
    assert engine.compute(codec.decode(content["input"])) == engine.compute(fresh)
    assert scope.is_locked(db.session, where(world))
    logged = db.session.scalar(select(func.count()).where(AuditEntry.object_type == "ResultSnapshot"))
    assert logged == 1
    with pytest.raises(DomainError, match="đã công bố"):
        snapshots.publish(db.session, where(world), None)


def test_a_score_cannot_be_saved_after_publication(world):
    _units, items, _snapshot = published(world)
    own = db.session.scalar(select(Assessment).where(Assessment.author_unit_id == world.member.id))
    with pytest.raises(DomainError, match="đã công bố|đã đóng"):
        scoring.save_score(db.session, own, items["a"], "60", "", expected_revision=None, user_id=None)
    own.round.status = "open"  # even were the round reopened, the publication holds
    with pytest.raises(DomainError, match="đã công bố"):
        scoring.check_open(own, own.round.created_at)
    db.session.rollback()


def test_the_orm_refuses_to_change_or_delete_a_snapshot(world):
    _units, _items, snapshot = published(world)
    snapshot.reason = "sửa lén"
    with pytest.raises(SnapshotChangeRefused):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ResultSnapshot, snapshot.hash))
    with pytest.raises(SnapshotChangeRefused):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE result_snapshots SET reason = 'x'", "DELETE FROM result_snapshots"])
def test_the_database_refuses_to_change_a_snapshot(world, statement):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the immutability trigger is PostgreSQL's (SQLite relies on the ORM hook)")
    published(world)
    with pytest.raises(DBAPIError, match="immutable"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ResultSnapshot)) == 1


def test_recompute_gives_the_stored_numbers(world):
    _units, _items, snapshot = published(world)
    assert compose.recompute(snapshots.content_of(snapshot)) == []


def test_recompute_reports_a_tampered_number(world):
    _units, _items, snapshot = published(world)
    content = snapshots.content_of(snapshot)
    content["computed"]["approved"]["units"][0]["compared_total"] = "99.00"
    content["table"][1]["rank"] = 1
    found = compose.recompute(content)
    paths = {d.path: (d.stored, d.computed) for d in found}
    key = f"computed.approved.units[đơn vị {world.head.id}].compared_total"
    assert paths[key] == ("99.00", "90.00")
    assert any(p.startswith("table[") and p.endswith(".rank") for p in paths)


def test_a_correction_is_a_new_revision_with_its_parent_and_the_diff_shows_whose_rank_moved(world):
    _units, items, first = published(world)
    correction = snapshots.Correction(world.member.id, items["a"].id, "59")
    with pytest.raises(DomainError, match="lý do"):
        snapshots.revise(db.session, where(world), correction, "  ", None)
    with pytest.raises(DomainError, match="từ 0 đến 60"):
        too_many = snapshots.Correction(world.member.id, items["a"].id, "61")
        snapshots.revise(db.session, where(world), too_many, "x", None)
    second = snapshots.revise(db.session, where(world), correction, "Sai sót khi nhập điểm", None)
    db.session.commit()
    assert (second.revision, second.parent_hash, second.reason) == (2, first.hash, "Sai sót khi nhập điểm")
    assert [s.revision for s in snapshots.history(db.session, where(world))] == [1, 2]
    assert compose.recompute(snapshots.content_of(second)) == []
    change = revisions.diff(snapshots.content_of(first), snapshots.content_of(second))
    assert [(p.unit_id, p.before, str(p.after), p.reason) for p in change.points] == [
        (world.member.id, None, "59", "Sai sót khi nhập điểm")
    ]
    moved = {r.unit_id: (r.rank_before, r.rank_after) for r in change.moved}
    assert moved == {world.member.id: (2, 1), world.head.id: (1, 2)}  # 94 passes 90; the deputy (78) stays third
    assert json.loads(second.content)["nominations"] == json.loads(first.content)["nominations"]
    with pytest.raises(DomainError, match="không thay đổi"):
        snapshots.revise(db.session, where(world), correction, "Lặp lại", None)
    assert POINTS  # the scores the table was built from


def _results_verify(runner, *args):
    return runner.invoke(args=["results", "verify", *args])


def test_flask_results_verify_says_khop_and_reports_a_tampered_row(world, runner):
    _units, _items, snapshot = published(world)
    result = _results_verify(runner, "--cluster", str(world.cluster.id), "--year", str(world.year.year))
    assert result.exit_code == 0 and "lần 1" in result.output and ": khớp" in result.output
    assert "Đã kiểm tra 0 lần" in _results_verify(runner, "--cluster", str(world.other_cluster.id)).output
    if db.engine.dialect.name == "postgresql":  # someone with the database owner's rights lifts the trigger
        db.session.execute(text("SET LOCAL portal.audit_rewrite = 'on'"))
    tampered = snapshot.content.replace('"compared_total":"90.00"', '"compared_total":"99.00"')
    assert tampered != snapshot.content
    db.session.execute(text("UPDATE result_snapshots SET content = :c"), {"c": tampered})
    db.session.commit()
    result = _results_verify(runner)
    assert result.exit_code == 1 and "KHÔNG khớp" in result.output and "mã băm không đúng" in result.output
    assert "lưu 99.00, tính lại 90.00" in result.output


def test_the_snapshot_freezes_the_online_ballots_and_a_receipt_checks_against_it(world):
    codes, snapshot = voted_online(world)
    content = snapshots.content_of(snapshot)
    [window] = content["online_ballots"]
    assert window["window"] == 1
    by_award = {a["award"]: a["ballots"] for a in window["awards"]}
    assert set(by_award) == {"co_thi_dua", "bang_khen_toan_dien"}
    assert sorted(b["choices"] for b in by_award["bang_khen_toan_dien"]) == sorted(
        [sorted([world.head.id, world.deputy.id]), [world.head.id], [world.deputy.id]]
    )
    hashes = [b["receipt_sha256"] for b in by_award["co_thi_dua"]]
    assert hashes == sorted(hashes) and len(set(hashes)) == 3
    assert not any(key in json.dumps(window) for key in ("unit_id", "user", "voted_at"))
    assert receipts.ballot_count(content) == 6

    found = receipts.check(content, codes["member"].lower())  # as the voter types it
    assert found is not None and found.window == 1
    names = {world.head.id: world.head.name, world.deputy.id: world.deputy.name}
    award_names = {a["award"]: a["award_name"] for a in window["awards"]}
    assert dict(found.choices) == {
        award_names["co_thi_dua"]: [world.head.name],
        award_names["bang_khen_toan_dien"]: [names[i] for i in sorted(names)],  # choices are kept in id order
    }
    assert receipts.check(content, "AAAA-AAAA-AAAA-AAAA") is None
    assert receipts.check(content, "short") is None
    assert compose.recompute(content) == []


def test_a_snapshot_without_online_ballots_answers_no_receipt(world):
    _units, _items, snapshot = published(world)
    content = snapshots.content_of(snapshot)
    assert content["online_ballots"] == []
    assert receipts.ballot_count(content) == 0 and receipts.check(content, "A" * 16) is None
