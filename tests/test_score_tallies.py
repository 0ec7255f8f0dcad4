"""Score tallies (models/tallies.py): kept by triggers, read by the results instead of the scores.

Besides these tests, every test of the suite ends by comparing the tallies with the scores
(tests/conftest.py `_check_tallies`), so each write path the suite exercises checks the triggers.
Run on PostgreSQL too: TEST_DATABASE_URL=postgresql://…
"""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest
from sqlalchemy import create_engine, delete, select, text, update

from portal.extensions import db
from portal.models import Assessment, Score, ScoreTally, ScoringRound
from portal.services.results import read_scores, tallies
from portal.services.results.read import read_cluster
from portal.services.scoring import assessments as scoring
from tests import test_results_read as base

scenario = base.scenario  # the fixture: self, verification and peer stages through the services
_fill, _of = base._fill, base._of


def _rows(statement, where, set_id, units=None) -> list[tuple]:
    values = {**where._asdict(), "set_id": set_id}
    if units is not None:
        values["units"] = units
    return sorted(tuple(row) for row in db.session.execute(statement, values))


def _member(where, world):
    """The member's input as the results read it."""
    return next(
        u for u in read_cluster(db.session, where.cluster_id, where.year_id).units if u.unit_id == world.member.id
    )


def _tally(round_id, subject_id, criterion_id, stage, author_id=0):
    row = db.session.get(ScoreTally, (round_id, subject_id, criterion_id, stage, author_id))
    return None if row is None else (row.n, row.cents)


@pytest.mark.parametrize("withheld", [False, True], ids=["basis only", "with the withholding unit's range"])
def test_the_tallied_aggregate_reads_what_the_scores_give(world, scenario, withheld):
    """The read's statement from the tallies gives the same rows as the same aggregate over the scores."""
    where, set_id = scenario["where"], scenario["set"].id
    units = [world.member.id] if withheld else None
    from_tallies = read_scores.tallied(where, set_id, units=units)
    from_scores = read_scores.aggregate(where, set_id, ranged=False, units=units)
    assert _rows(from_tallies, where, set_id) == _rows(from_scores, where, set_id)
    assert len(_rows(from_tallies, where, set_id)) > 10  # every stage and the peer scores are in it


def test_submit_adds_return_subtracts_and_drafts_count_for_nothing(world, scenario):
    items, where = scenario["items"], scenario["where"]
    self_round = db.session.scalar(select(ScoringRound).where(ScoringRound.kind == "self"))
    member = _of(self_round, world.member)
    a = items["a"].id
    assert _tally(self_round.id, world.member.id, a, "self", world.member.id) is None  # a draft: nothing

    _fill(member, items, {"c": "20", "d": "15", "bonus": "0", "minus": "0"})  # "b" does not apply to it
    scoring.submit(db.session, member, None)
    db.session.flush()
    assert _tally(self_round.id, world.member.id, a, "self", world.member.id) == (1, 1000)
    assert _member(where, world).scores[a].self_points == D("10.00")

    scoring.return_for_revision(db.session, member, "Thiếu minh chứng")
    db.session.flush()
    assert _tally(self_round.id, world.member.id, a, "self", world.member.id) == (0, 0)
    assert _member(where, world).scores[a].self_points is None

    _fill(member, items, {"a": "12,5"})  # saved while returned (a draft again): still nothing
    db.session.flush()
    assert _tally(self_round.id, world.member.id, a, "self", world.member.id) == (0, 0)
    scoring.submit(db.session, member, None)
    db.session.commit()
    assert _tally(self_round.id, world.member.id, a, "self", world.member.id) == (1, 1250)
    assert tallies.drift(db.session) == []


def test_peer_scores_share_one_row_per_subject_and_criterion(world, scenario):
    peer_round = db.session.scalar(select(ScoringRound).where(ScoringRound.kind == "peer"))
    a = scenario["items"]["a"].id
    assert _tally(peer_round.id, world.member.id, a, "peer") == (2, 1500 + 1700)  # head 15, deputy 17
    assert _tally(peer_round.id, world.head.id, a, "peer") == (1, 2900)  # the member withheld its review


def test_a_score_changed_moved_or_deleted_while_submitted(world, scenario):
    """Writes that bypass the services (SQL by hand) are kept too: the triggers are in the database."""
    self_round = db.session.scalar(select(ScoringRound).where(ScoringRound.kind == "self"))
    head = _of(self_round, world.head)
    a, c = scenario["items"]["a"].id, scenario["items"]["c"].id
    score = db.session.scalar(select(Score).where(Score.assessment_id == head.id, Score.criterion_id == a))
    key = (self_round.id, world.head.id, a, "self", world.head.id)

    db.session.execute(update(Score).where(Score.id == score.id).values(points=D("29.75")))
    assert _tally(*key) == (1, 2975)
    db.session.execute(update(Score).where(Score.id == score.id).values(points=None))
    assert _tally(*key) == (0, 0)
    db.session.execute(update(Score).where(Score.id == score.id).values(points=D("1.01")))
    db.session.execute(delete(Score).where(Score.assessment_id == head.id, Score.criterion_id == c))
    assert _tally(self_round.id, world.head.id, c, "self", world.head.id) == (0, 0)
    db.session.execute(update(Score).where(Score.id == score.id).values(criterion_id=c))  # moved to another leaf
    assert _tally(*key) == (0, 0) and _tally(self_round.id, world.head.id, c, "self", world.head.id) == (1, 101)
    db.session.commit()
    assert tallies.drift(db.session) == []


def test_deleting_a_submitted_assessment_or_a_round_takes_its_tallies(world, scenario):
    peer_round = db.session.scalar(select(ScoringRound).where(ScoringRound.kind == "peer"))
    a = scenario["items"]["a"].id
    review = _of(peer_round, world.member, world.head)
    db.session.execute(delete(Assessment).where(Assessment.id == review.id))
    assert _tally(peer_round.id, world.member.id, a, "peer") == (1, 1700)
    assert tallies.drift(db.session) == []

    db.session.execute(delete(ScoringRound).where(ScoringRound.id == peer_round.id))
    assert not db.session.scalars(select(ScoreTally).where(ScoreTally.round_id == peer_round.id)).all()
    db.session.commit()
    assert tallies.drift(db.session) == []


def test_rebuild_repairs_what_drift_finds(world, scenario, app):
    self_round = db.session.scalar(select(ScoringRound).where(ScoringRound.kind == "self"))
    db.session.execute(update(ScoreTally).where(ScoreTally.round_id == self_round.id).values(n=7))
    db.session.commit()
    found = tallies.drift(db.session)
    assert found and all(d.kept[0] == 7 for d in found)

    runner = app.test_cli_runner()
    checked = runner.invoke(args=["results", "tallies"])
    assert checked.exit_code == 1 and "không khớp" in checked.output
    rebuilt = runner.invoke(args=["results", "tallies", "--rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    db.session.expire_all()
    assert tallies.drift(db.session) == []
    assert runner.invoke(args=["results", "tallies"]).exit_code == 0


def test_concurrent_reviews_of_one_subject_both_count(world, scenario, app):
    """Two reviewers submit their reviews of the same subject at the same moment, each in its own
    transaction: the second waits for the first's tally rows and adds its part to what was committed."""
    url = db.engine.url
    if url.get_backend_name() != "postgresql":
        pytest.skip("concurrent transactions: PostgreSQL only (SQLite has one writer at a time)")
    peer_round = db.session.scalar(select(ScoringRound).where(ScoringRound.kind == "peer"))
    a = scenario["items"]["a"].id
    ids = []
    for reviewer in (world.head, world.deputy):  # both reviews of the member back to drafts
        review = _of(peer_round, world.member, reviewer)
        scoring.return_for_revision(db.session, review, "Chấm lại")
        ids.append(review.id)
    db.session.commit()
    assert _tally(peer_round.id, world.member.id, a, "peer") == (0, 0)

    engine = create_engine(url)
    first_in = threading.Event()
    errors = []

    def submit(assessment_id: int, hold: bool):
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE assessments SET status = 'submitted' WHERE id = :id"), {"id": assessment_id})
                if hold:
                    first_in.set()
                    threading.Event().wait(0.5)  # the other transaction now waits on the same tally rows
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)

    first = threading.Thread(target=submit, args=(ids[0], True))
    first.start()
    first_in.wait(5)
    second = threading.Thread(target=submit, args=(ids[1], False))
    second.start()
    first.join(10)
    second.join(10)
    engine.dispose()
    assert not errors
    db.session.expire_all()
    assert _tally(peer_round.id, world.member.id, a, "peer") == (2, 1500 + 1700)
    assert tallies.drift(db.session) == []


def test_a_restored_backup_has_its_tallies(world, scenario, app, tmp_path):
    expected = sorted(tuple(r) for r in db.session.execute(select(ScoreTally.__table__)) if r.n)
    runner = app.test_cli_runner()
    path = tmp_path / "sao-luu.zip"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    db.session.commit()
    restored = runner.invoke(args=["restore", "--force", str(path)])
    assert restored.exit_code == 0, restored.output
    db.session.expire_all()
    assert sorted(tuple(r) for r in db.session.execute(select(ScoreTally.__table__)) if r.n) == expected
    assert tallies.drift(db.session) == []
