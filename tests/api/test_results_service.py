"""results.cluster_totals (one GROUP BY for the cluster) agrees with assessments.totals (one assessment at a time)."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, Score
from portal.policy import ClusterYear
from portal.services.criteria import sets as criteria_svc
from portal.services.org import cluster_year
from portal.services.results import totals as results
from portal.services.scoring import assessments as svc
from tests import factories


def _deep_table(world, deduction_capped: bool):
    """Four levels under I, a bonus tree two levels deep, a deduction leaf that is its own section."""
    cset = criteria_svc.create_set(db.session, world.cluster, world.year, title="Bảng sâu", target_total=D(100))
    cset.deduction_capped = deduction_capped
    add = criteria_svc.add_criterion
    one = add(db.session, cset, None, code="I", title="Nhiệm vụ")
    a = add(db.session, cset, one, code="1", title="Kinh tế")
    b = add(db.session, cset, a, code="1.1", title="Ngân sách")
    leaves = [
        add(db.session, cset, b, code="a", title="Thu", max_points=D(30)),
        add(db.session, cset, b, code="b", title="Chi", max_points=D(20)),
        add(db.session, cset, a, code="1.2", title="Đầu tư", max_points=D(25)),
        add(db.session, cset, one, code="2", title="Đạt chuẩn", method="pass_fail", max_points=D(25)),
    ]
    bonus = add(db.session, cset, None, code="II", title="Thưởng", kind="bonus")
    inner = add(db.session, cset, bonus, code="1", title="Khen", kind="bonus")
    leaves += [
        add(
            db.session,
            cset,
            inner,
            code="a",
            title="Cờ",
            kind="bonus",
            method="per_occurrence",
            points_each=D(3),
            max_points=D(6),
        ),
        add(
            db.session,
            cset,
            bonus,
            code="2",
            title="Sáng kiến",
            kind="bonus",
            method="per_occurrence",
            points_each=D(1),
            max_points=D(2),
        ),
    ]
    leaves.append(
        add(
            db.session,
            cset,
            None,
            code="III",
            title="Trừ",
            kind="deduction",
            method="per_occurrence",
            points_each=D("2.5"),
            max_points=D(4),
        )
    )
    criteria_svc.publish(db.session, cset)
    criteria_svc.lock(db.session, cset)
    scoring_round = svc.open_self_round(db.session, cset)
    db.session.commit()
    return cset, scoring_round, leaves, one


def _raw(leaf, rng: random.Random) -> str:
    if leaf.method == "pass_fail":
        return rng.choice(["1", "0"])
    if leaf.method == "per_occurrence":
        return str(rng.randint(0, 4))
    return str(D(rng.randint(0, int(leaf.max_points) * 4)) / 4).replace(".", ",")


@pytest.mark.parametrize("deduction_capped", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cluster_totals_match_totals_of_each_assessment(world, deduction_capped, seed):
    for _ in range(3):
        cluster_year.add_membership(db.session, world.year, world.cluster, factories.unit())
    db.session.commit()
    cset, scoring_round, leaves, section = _deep_table(world, deduction_capped)
    rng = random.Random(seed)
    assessments = db.session.scalars(select(Assessment).order_by(Assessment.id)).all()
    for assessment in assessments:
        for leaf in rng.sample(leaves, rng.randint(0, len(leaves))):  # some leave criteria unscored
            svc.save_score(db.session, assessment, leaf, _raw(leaf, rng), expected_revision=None, user_id=None)
    # a stray row on a section (no leaf) counts for neither
    db.session.add(Score(assessment_id=assessments[0].id, criterion_id=section.id, value=D(50), points=D(50)))
    db.session.commit()
    for where in (scoring_round, ClusterYear(world.year.id, world.cluster.id)):
        rows = {row.assessment_id: row for row in results.cluster_totals(db.session, where, "self")}
        assert set(rows) == {a.id for a in assessments}
        for assessment in assessments:
            expected = svc.totals(db.session, assessment)
            got = rows[assessment.id]
            assert (got.base, got.bonus, got.deduction, got.total) == (
                expected.base,
                expected.bonus,
                expected.deduction,
                expected.total,
            ), assessment.id
    ranked = results.cluster_totals(db.session, scoring_round, "self")
    assert [r.total for r in ranked] == sorted((r.total for r in ranked), reverse=True)


def test_caps_and_uncapped_deductions(world):
    cset, scoring_round, leaves, _section = _deep_table(world, deduction_capped=False)
    mine = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == world.member.id))
    flag, idea, minus = leaves[4], leaves[5], leaves[6]
    for leaf, raw in ((flag, "2"), (idea, "2"), (minus, "1")):
        svc.save_score(db.session, mine, leaf, raw, expected_revision=None, user_id=None)
    # a deduction beyond its cap can only come from an older rule; written directly it stays uncapped here
    db.session.scalar(select(Score).where(Score.criterion_id == minus.id)).points = D("9.5")
    db.session.commit()
    [row] = [r for r in results.cluster_totals(db.session, scoring_round, "self") if r.assessment_id == mine.id]
    assert (row.bonus, row.deduction, row.total) == (D("8.00"), D("9.50"), D("-1.50"))  # bonus 6 + 2 = cap 8
    assert row.total == svc.totals(db.session, mine).total
    assert not row.submitted and row.subject_name == "UBND xã Tân Hồng"


def test_one_query(world, count_queries):
    _cset, scoring_round, _leaves, _section = _deep_table(world, deduction_capped=True)
    assert scoring_round.id  # loaded before counting (the commit expired it)
    with count_queries() as n:
        results.cluster_totals(db.session, scoring_round, "self")
    assert n() == 1
