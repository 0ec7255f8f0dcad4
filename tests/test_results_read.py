"""results.read.read_cluster: the engine's input from one aggregate read, checked against hand-made stages.

The scenario goes through the portal's own services: self-assessments, verification with an
explanation and a final score, an all-pairs peer round in which one unit withholds its reviews,
a criterion marked not applicable and an ineligible unit. The query count stays the same when
the cluster grows. Run on PostgreSQL too: TEST_DATABASE_URL=postgresql://…
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import insert, select, update

from portal.extensions import db
from portal.models import Assessment, NotApplicable, Score, ScoringRound
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.criteria import sets as criteria_svc
from portal.services.org import cluster_year
from portal.services.results import applicability, eligibility, engine
from portal.services.results import settings as settings_svc
from portal.services.results.inputs import Basis, LeafScores, NonParticipation, Settings
from portal.services.results.read import read_cluster, read_table
from portal.services.results.read_scores import _Cents
from portal.services.scoring import assessments as scoring
from portal.services.scoring import reviews, verification
from tests import factories


def deep_table(world, cluster=None):
    """I. 1 (1.1 a: 30, 1.2: 20), 2: 30; II. a leaf section: 20; III. bonus 1: 2 each, cap 5;
    IV. a deduction leaf section: 0,5 each, cap 3. Every scored item is scored directly."""
    cset = criteria_svc.create_set(
        db.session, cluster or world.cluster, world.year, title="Bảng 2026", target_total=D(100)
    )
    add = criteria_svc.add_criterion
    one = add(db.session, cset, None, code="I", title="Nhiệm vụ chính trị")
    group = add(db.session, cset, one, code="1", title="Kinh tế")
    deeper = add(db.session, cset, group, code="1.1", title="Ngân sách")
    items = {
        "a": add(db.session, cset, deeper, code="a", title="Thu ngân sách", max_points=D(30)),
        "b": add(db.session, cset, group, code="1.2", title="Đầu tư công", max_points=D(20)),
        "c": add(db.session, cset, one, code="2", title="Cải cách hành chính", max_points=D(30)),
        "d": add(db.session, cset, None, code="II", title="Xây dựng Đảng", max_points=D(20)),
    }
    bonus = add(db.session, cset, None, code="III", title="Điểm thưởng", kind="bonus")
    items["bonus"] = add(
        db.session,
        cset,
        bonus,
        code="1",
        title="Sáng kiến",
        kind="bonus",
        method="per_occurrence",
        points_each=D(2),
        max_points=D(5),
    )
    items["minus"] = add(
        db.session,
        cset,
        None,
        code="IV",
        title="Báo cáo trễ",
        kind="deduction",
        method="per_occurrence",
        points_each=D("0.5"),
        max_points=D(3),
    )
    criteria_svc.publish(db.session, cset)
    criteria_svc.lock(db.session, cset)
    db.session.flush()
    return cset, items, {"I": one, "1": group, "1.1": deeper}


def _fill(assessment, items, values: dict[str, str], notes: dict[str, str] | None = None):
    for key, raw in values.items():
        scoring.save_score(
            db.session,
            assessment,
            items[key],
            raw,
            (notes or {}).get(key, ""),
            expected_revision=None,
            user_id=None,
        )


def _of(scoring_round, subject, author=None):
    return db.session.scalar(
        select(Assessment).where(
            Assessment.round_id == scoring_round.id,
            Assessment.subject_unit_id == subject.id,
            Assessment.author_unit_id == (author or subject).id,
        )
    )


SELF = {
    "head": {"a": "30", "b": "20", "c": "28", "d": "20", "bonus": "2", "minus": "0"},
    "deputy": {"a": "25", "b": "18", "c": "27,5", "d": "19", "bonus": "1", "minus": "2"},
}
PEER = {  # reviewer → subject → points on a, c
    ("head", "deputy"): {"a": "20", "c": "25"},
    ("head", "member"): {"a": "15", "c": "20,25"},
    ("deputy", "head"): {"a": "29", "c": "27"},
    ("deputy", "member"): {"a": "17", "c": "22"},
}


@pytest.fixture
def scenario(world):
    """Self scores of head and deputy (the member's stays a draft), the deputy verified → explained → final,
    an all-pairs peer round in which the member submits nothing, a mark and an ineligibility."""
    cset, items, parents = deep_table(world)
    units = {"head": world.head, "deputy": world.deputy, "member": world.member}
    where = ClusterYear(world.year.id, world.cluster.id)
    applicability.mark(db.session, where, world.member, items["b"], "Không có dự án đầu tư công", user_id=None)
    self_round = scoring.open_self_round(db.session, cset)
    for name in ("head", "deputy"):
        own = _of(self_round, units[name])
        _fill(own, items, SELF[name])
        scoring.submit(db.session, own, None)
    _fill(_of(self_round, world.member), items, {"a": "10"})  # a draft counts for nothing

    deputy_self = _of(self_round, world.deputy)
    verified = verification.start_verification(db.session, deputy_self, world.head.id)
    _fill(verified, items, {"a": "22", "minus": "3"}, {"a": "Số liệu kho bạc thấp hơn", "minus": "Ba báo cáo trễ"})
    scoring.submit(db.session, verified, None)
    explanation = verification.start_explanation(db.session, verified)
    _fill(explanation, items, {"a": "24"}, {"a": "Bổ sung chứng từ"})
    scoring.submit(db.session, explanation, None)
    final = verification.start_final(db.session, verified, world.head.id)
    _fill(final, items, {"a": "23"}, {"a": "Chấp nhận một phần giải trình"})
    scoring.submit(db.session, final, None)

    peer_round = reviews.create_round(db.session, cset, "all_pairs")
    reviews.open_round(db.session, peer_round)
    for (reviewer, subject), points in PEER.items():
        review = _of(peer_round, units[subject], units[reviewer])
        values = {**SELF["head"], **points}
        if subject == "member":
            del values["b"]  # "b" does not apply to the member: its peers' forms refuse a score for it
        _fill(review, items, values)
        scoring.submit(db.session, review, None)
    inspection = eligibility.mark(
        db.session,
        world.year,
        world.deputy,
        kind="inspection",
        reason="Thanh tra tỉnh đang thanh tra công tác tài chính",
        starts_on=date(world.year.year, 6, 1),
        user_id=None,
    )
    db.session.commit()
    return {"set": cset, "items": items, "parents": parents, "where": where, "inspection": inspection}


def _unit(result, unit):
    return next(u for u in result.units if u.unit_id == unit.id)


def test_the_table_sections_groups_and_leaves(world, scenario):
    items, parents = scenario["items"], scenario["parents"]
    table = read_table(db.session, scenario["where"])
    assert table.criteria_set_id == scenario["set"].id
    assert (table.target_total, table.deduction_capped, table.scored_maximum) == (D(100), True, D(100))
    assert [(s.code, s.kind, s.max_points) for s in table.sections] == [
        ("I", "scored", D(80)),
        ("II", "scored", D(20)),
        ("III", "bonus", D(5)),
        ("IV", "deduction", D(3)),
    ]
    assert [(g.code, g.max_points) for g in table.groups] == [
        ("I.1", D(50)),
        ("I.2", D(30)),
        ("II", D(20)),  # a leaf section is its own group
        ("III.1", D(5)),
        ("IV", D(3)),
    ]
    sections = {s.code: s.criterion_id for s in table.sections}
    assert [
        (leaf.criterion_id, leaf.section_id, leaf.group_id, leaf.kind, leaf.max_points) for leaf in table.leaves
    ] == [
        (items["a"].id, sections["I"], parents["1"].id, "scored", D(30)),  # four levels down: group is I.1
        (items["b"].id, sections["I"], parents["1"].id, "scored", D(20)),
        (items["c"].id, sections["I"], items["c"].id, "scored", D(30)),
        (items["d"].id, items["d"].id, items["d"].id, "scored", D(20)),
        (items["bonus"].id, sections["III"], items["bonus"].id, "bonus", D(5)),
        (items["minus"].id, items["minus"].id, items["minus"].id, "deduction", D(3)),
    ]


def test_stages_of_submitted_assessments(world, scenario):
    items = scenario["items"]
    result = read_cluster(db.session, world.cluster.id, world.year.id)
    assert (result.cluster_id, result.year_id, result.detail) == (world.cluster.id, world.year.id, False)
    assert [u.name for u in result.units] == ["UBND phường An Bình", "UBND phường Mỹ Trà", "UBND xã Tân Hồng"]
    deputy = _unit(result, world.deputy)
    a = deputy.scores[items["a"].id]
    assert (a.self_points, a.verified, a.explanation, a.final) == (D(25), D(22), D(24), D(23))
    assert a.verified_reason == a.final_reason == ""  # reasons come with detail
    minus = deputy.scores[items["minus"].id]
    assert (minus.self_points, minus.verified, minus.explanation, minus.final) == (D(1), D("1.5"), D("1.5"), D("1.5"))
    head = _unit(result, world.head)
    assert head.scores[items["c"].id].self_points == D(28)
    assert head.scores[items["c"].id].verified is None  # never verified
    member = _unit(result, world.member)
    assert member.scores[items["a"].id].self_points is None  # its self-assessment is a draft
    assert set(member.scores) == {leaf.criterion_id for leaf in result.table.leaves}


def test_peer_view_is_count_and_sum_and_the_range_when_the_basis_needs_it(world, scenario):
    """The member withheld reviews: the lowest-basis rule (the default) takes the trimmed mean, so the
    range is read; the squares (the spread's standard deviation) only with detail."""
    items = scenario["items"]
    result = read_cluster(db.session, world.cluster.id, world.year.id)
    member = _unit(result, world.member)
    view = member.scores[items["c"].id].peer
    assert (view.count, view.total, view.low, view.high) == (2, D("42.25"), D("20.25"), D(22))
    assert view.squares is None and view.by_reviewer is None
    head = _unit(result, world.head)
    assert head.scores[items["a"].id].peer.count == 1  # the member withheld its review of the head
    assert head.scores[items["bonus"].id].peer.total == D(4)  # two occurrences of 2 points


@pytest.mark.parametrize(
    ("basis", "non_participation", "ranged"),
    [
        (Basis.AGREED, NonParticipation.FIXED_DEDUCTION, False),
        (Basis.PEER_MEAN, NonParticipation.FIXED_DEDUCTION, False),
        (Basis.BLEND, NonParticipation.FIXED_DEDUCTION, False),
        (Basis.TRIMMED_MEAN, NonParticipation.FIXED_DEDUCTION, True),
        (Basis.AGREED, NonParticipation.LOWEST_BASIS, True),  # a unit withheld reviews
    ],
)
def test_what_is_read_per_basis(world, scenario, basis, non_participation, ranged):
    settings_svc.save(db.session, scenario["where"], Settings(basis=basis, non_participation=non_participation))
    db.session.commit()
    c = scenario["items"]["c"].id
    plain = _unit(read_cluster(db.session, world.cluster.id, world.year.id), world.member).scores[c].peer
    assert (plain.count, plain.total, plain.squares, plain.by_reviewer) == (2, D("42.25"), None, None)
    assert (plain.low, plain.high) == ((D("20.25"), D(22)) if ranged else (None, None))
    # the member withheld reviews: under the lowest-basis rule only its own leaves need the range
    head = _unit(read_cluster(db.session, world.cluster.id, world.year.id), world.head).scores[c].peer
    assert (head.low is not None) is (basis == Basis.TRIMMED_MEAN)
    detail = _unit(read_cluster(db.session, world.cluster.id, world.year.id, detail=True), world.member).scores[c].peer
    assert (detail.count, detail.total, detail.low, detail.high) == (2, D("42.25"), D("20.25"), D(22))
    assert detail.squares == D("20.25") ** 2 + D(22) ** 2 == D("894.0625")
    assert detail.by_reviewer == {world.head.id: D("20.25"), world.deputy.id: D(22)}
    # the engine's figures are the same either way; the spread without detail has the mean (and the range if read)
    plain_result = engine.compute(read_cluster(db.session, world.cluster.id, world.year.id))
    detail_result = engine.compute(read_cluster(db.session, world.cluster.id, world.year.id, detail=True))
    for a, b in zip(plain_result.units, detail_result.units, strict=True):
        assert (a.unit_id, a.rank, a.compared_total, a.band) == (b.unit_id, b.rank, b.compared_total, b.band)
        assert [leaf.points for leaf in a.leaves] == [leaf.points for leaf in b.leaves]
    spread = next(leaf.peer for leaf in _unit(plain_result, world.member).leaves if leaf.criterion_id == c)
    assert (spread.count, spread.mean, spread.std_dev) == (2, D("21.13"), None)
    assert (spread.low is not None) is ranged


def test_detail_adds_each_reviewer_and_the_reasons(world, scenario):
    items = scenario["items"]
    result = read_cluster(db.session, world.cluster.id, world.year.id, detail=True)
    assert result.detail
    member = _unit(result, world.member)
    assert member.scores[items["a"].id].peer.by_reviewer == {world.head.id: D(15), world.deputy.id: D(17)}
    deputy = _unit(result, world.deputy)
    a = deputy.scores[items["a"].id]
    assert a.verified_reason == "Số liệu kho bạc thấp hơn"
    assert a.final_reason == "Chấp nhận một phần giải trình"
    assert deputy.scores[items["minus"].id].final_reason == "Ba báo cáo trễ"  # carried over from the verification
    assert deputy.scores[items["b"].id].verified_reason == ""


def test_marks_withheld_reviews_and_ineligibility(world, scenario):
    items = scenario["items"]
    result = read_cluster(db.session, world.cluster.id, world.year.id)
    member, deputy, head = (_unit(result, u) for u in (world.member, world.deputy, world.head))
    assert member.not_applicable == frozenset({items["b"].id}) and head.not_applicable == frozenset()
    assert (member.withheld_reviews, deputy.withheld_reviews, head.withheld_reviews) == (2, 0, 0)
    assert deputy.ineligible_reason == "Đang thanh tra, kiểm tra: Thanh tra tỉnh đang thanh tra công tác tài chính"
    assert member.ineligible_reason == ""
    eligibility.end(db.session, scenario["inspection"], date(world.year.year, 7, 1))
    db.session.commit()  # ended in July: the period still overlaps the year
    assert _unit(read_cluster(db.session, world.cluster.id, world.year.id), world.deputy).ineligible_reason


def test_no_table_no_input(world):
    with pytest.raises(DomainError, match="chưa có bảng tiêu chí"):
        read_cluster(db.session, world.cluster.id, world.year.id)


def test_settings_come_with_the_input(world, scenario):
    assert read_cluster(db.session, world.cluster.id, world.year.id).settings == Settings()
    settings_svc.save(db.session, scenario["where"], Settings(basis=Basis.MEDIAN, trim_min_reviewers=4))
    db.session.commit()
    chosen = read_cluster(db.session, world.cluster.id, world.year.id).settings
    assert (chosen.basis, chosen.trim_min_reviewers) == (Basis.MEDIAN, 4)


def test_the_table_stays_the_one_the_scores_were_given_against(world, scenario):
    """A newer version made after scoring opened is in force, but the scores point at the old one."""
    criteria_svc.new_version(db.session, scenario["set"], "Điều chỉnh điểm chuẩn theo hướng dẫn mới")
    db.session.commit()
    result = read_cluster(db.session, world.cluster.id, world.year.id)
    assert result.table.criteria_set_id == scenario["set"].id
    assert _unit(result, world.head).scores[scenario["items"]["a"].id].self_points == D(30)


def test_before_scoring_the_table_in_force_and_no_scores(world):
    cset, items, _parents = deep_table(world)
    db.session.commit()
    result = read_cluster(db.session, world.cluster.id, world.year.id)
    assert result.table.criteria_set_id == cset.id
    assert all(scores == LeafScores() for u in result.units for scores in u.scores.values())
    assert {u.withheld_reviews for u in result.units} == {0}


def test_a_draft_peer_round_withholds_nothing(world):
    cset, _items, _parents = deep_table(world)
    reviews.create_round(db.session, cset, "all_pairs")
    db.session.commit()
    assert {u.withheld_reviews for u in read_cluster(db.session, world.cluster.id, world.year.id).units} == {0}


def test_scores_of_a_parent_or_of_another_table_count_for_nothing(world, scenario):
    head_self = db.session.scalar(
        select(Assessment).where(Assessment.subject_unit_id == world.head.id, Assessment.stage == "self")
    )
    section = scenario["parents"]["I"]
    db.session.add(Score(assessment_id=head_self.id, criterion_id=section.id, value=D(80), points=D(80)))
    db.session.commit()
    result = read_cluster(db.session, world.cluster.id, world.year.id)
    assert section.id not in _unit(result, world.head).scores


# ---------------------------------------------------------------- a constant number of queries


def _populate(world, cluster, units: list) -> None:
    """`cluster` with these members, every stage submitted and all-pairs peer review. Rows written
    directly (the services are tested above); one not-applicable mark per unit."""
    members = set(cluster_year.member_ids(db.session, world.year.id, cluster.id))
    for unit in units:
        if unit.id not in members:
            cluster_year.add_membership(db.session, world.year, cluster, unit)
    cset, items, _parents = deep_table(world, cluster)
    self_round = scoring.open_self_round(db.session, cset)
    peer_round = reviews.create_round(db.session, cset, "all_pairs")
    reviews.open_round(db.session, peer_round)
    check = verification.verification_round(db.session, self_round)
    db.session.add_all(
        Assessment(
            round_id=check.id,
            criteria_set_id=cset.id,
            subject_unit_id=unit.id,
            author_unit_id=units[0].id,
            stage=stage,
        )
        for stage in ("verified", "final")
        for unit in units
    )
    db.session.flush()
    rounds = (self_round.id, peer_round.id, check.id)
    db.session.execute(update(Assessment).where(Assessment.round_id.in_(rounds)).values(status="submitted"))
    ids = db.session.scalars(select(Assessment.id).where(Assessment.round_id.in_(rounds))).all()
    db.session.execute(
        insert(Score),
        [
            {"assessment_id": aid, "criterion_id": item.id, "value": D(1), "points": D(1), "note": "Lý do"}
            for aid in ids
            for item in items.values()
        ],
    )
    db.session.execute(
        insert(NotApplicable),
        [
            {"criteria_set_id": cset.id, "criterion_id": items["c"].id, "unit_id": u.id, "reason": "Không có"}
            for u in units
        ],
    )
    db.session.commit()


@pytest.mark.parametrize("detail", [False, True])
def test_queries_do_not_grow_with_units_and_reviewers(world, count_queries, detail):
    small = [world.head, world.deputy, world.member]
    large = [world.outsider] + [factories.unit() for _ in range(7)]
    _populate(world, world.cluster, small)
    _populate(world, world.other_cluster, large)
    counts = {}
    year_id = world.year.id
    for cluster_id, units in ((world.cluster.id, small), (world.other_cluster.id, large)):
        db.session.expire_all()
        with count_queries() as n:
            result = read_cluster(db.session, cluster_id, year_id, detail=detail)
        counts[len(units)] = n()
        assert len(result.units) == len(units)
        peer = result.units[0].scores[result.table.leaves[0].criterion_id].peer
        assert peer.count == len(units) - 1
        assert (peer.by_reviewer is not None) is detail
        assert all(len(u.not_applicable) == 1 for u in result.units)
    assert counts[3] == counts[8] == 4, counts  # context, table, members, scores (nobody withheld reviews)


def test_whole_cents_become_the_decimals_the_database_would_give():
    """The aggregate's points come as whole cents; each becomes the Decimal PostgreSQL gives NUMERIC(9, 2)."""
    cents = _Cents({None: None})
    cents.LIMIT = 3
    assert [str(cents[n]) for n in (700, -29, 0, 1234567)] == ["7.00", "-0.29", "0.00", "12345.67"]
    assert cents[725] is cents[725] and cents[None] is None  # made once; None stays None
    assert len(cents) <= cents.LIMIT + 1 and cents[None] is None  # cleared past the limit; None made again


def test_every_assessment_is_on_its_rounds_table_even_after_a_newer_version(world, scenario):
    """The read filters the table on the round (read_scores.submitted): it leans on this."""
    criteria_svc.new_version(db.session, scenario["set"], "Điều chỉnh điểm chuẩn theo hướng dẫn mới")
    db.session.commit()
    pairs = db.session.execute(
        select(Assessment.criteria_set_id, ScoringRound.criteria_set_id).join(
            ScoringRound, ScoringRound.id == Assessment.round_id
        )
    ).all()
    stages = set(db.session.scalars(select(Assessment.stage).distinct()))
    assert stages == {"self", "verified", "explanation", "final", "peer"}
    assert pairs and all(own == rounds for own, rounds in pairs)
