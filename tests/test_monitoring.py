"""The dashboard's read model: facts of every cluster in grouped queries, cached rankings that follow every
write, a unit's years along the merge chain, filters and Vietnamese search, the Excel file."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from portal.extensions import db
from portal.formatting import vn_today
from portal.models import Assessment, ScoringRound
from portal.models.base import utcnow
from portal.policy import ClusterYear
from portal.services.monitoring import export, history
from portal.services.monitoring.board import read_board
from portal.services.monitoring.filters import Filters, apply
from portal.services.monitoring.stages import Stage
from portal.services.monitoring.standings import StandingCache
from portal.services.org import cluster_year
from portal.services.org import structure as org
from portal.services.platform.live import data_version
from portal.services.scoring import assessments as scoring
from tests import factories

ANSWERS = {"quant": "100", "direct": "20", "pass": "1", "bonus": "0", "minus": "0"}


def own(scoring_round, unit) -> Assessment:
    return db.session.scalar(
        select(Assessment).where(Assessment.round_id == scoring_round.id, Assessment.subject_unit_id == unit.id)
    )


def submit_self(scoring_round, items, unit, **answers) -> None:
    assessment = own(scoring_round, unit)
    for key, raw in {**ANSWERS, **answers}.items():
        scoring.save_score(db.session, assessment, items[key], raw, "", expected_revision=None, user_id=None)
    scoring.submit(db.session, assessment, None)


@pytest.fixture
def opened(world):
    """The world's cluster with a locked table, targets for all, and its self round open."""
    cset, items = factories.scoring_table(world)
    self_round = scoring.open_self_round(db.session, cset, utcnow() + timedelta(days=10))
    db.session.commit()
    return cset, items, self_round


def board(cache=None):
    year = db.session.scalar(select(factories.EmulationYear).where(factories.EmulationYear.year == factories.YEAR))
    return read_board(db.session, year, cache or StandingCache(), data_version(db.session), utcnow(), vn_today())


def row_of(found, cluster):
    return next(r for r in found.rows if r.cluster.id == cluster.id)


def test_every_cluster_is_on_the_board_with_its_term(world):
    found = board()
    assert {r.cluster.id for r in found.rows} == {world.cluster.id, world.other_cluster.id}
    mine = row_of(found, world.cluster)
    assert mine.summary.head.id == world.head.id and [u.id for u in mine.summary.deputies] == [world.deputy.id]
    assert mine.overseer.id == world.overseer.id and mine.term.decision_number == "12/QĐ-HĐTĐKT"
    assert mine.stage == Stage.CRITERIA and mine.standing is None and mine.leader is None
    assert row_of(found, world.other_cluster).stage == Stage.CRITERIA


def test_a_self_round_past_its_deadline_shows_who_is_late(world, opened):
    _cset, items, self_round = opened
    submit_self(self_round, items, world.head)
    db.session.execute(
        update(ScoringRound).where(ScoringRound.id == self_round.id).values(deadline=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    mine = row_of(board(), world.cluster)
    assert mine.stage == Stage.SELF
    assert [(i.code, i.count) for i in mine.late] == [("self", 2)]
    assert (mine.done["submitted"].done, mine.done["submitted"].total) == (1, 3)
    assert mine.leader.unit_id == world.head.id  # the only one with points


def test_a_unit_given_more_time_is_not_late_until_its_extension_passes(world):
    """Read at moments relative to now: after the round's deadline, then after the unit's own one."""
    cset, items = factories.scoring_table(world)
    start = utcnow()
    self_round = scoring.open_self_round(db.session, cset, start + timedelta(days=1))
    submit_self(self_round, items, world.head)
    scoring.extend(db.session, own(self_round, world.deputy), start + timedelta(days=3), now=start)
    db.session.commit()
    year = world.year

    def late_at(moment):
        found = read_board(db.session, year, StandingCache(), data_version(db.session), moment, moment.date())
        return [(i.code, i.count) for i in row_of(found, world.cluster).late]

    assert late_at(start) == []
    assert late_at(start + timedelta(days=2)) == [("self", 1)]  # the member; the deputy still has time
    assert late_at(start + timedelta(days=4)) == [("self", 2)]  # the deputy's extension has passed too


def test_missing_targets_are_late_once_scoring_has_started(world):
    cset, items = factories.scoring_table(world, targets=False)
    scoring.open_self_round(db.session, cset)
    db.session.commit()
    mine = row_of(board(), world.cluster)
    assert mine.facts.quantitative == 1 and mine.facts.missing_targets == 3
    assert ("targets", 3) in [(i.code, i.count) for i in mine.late]


def test_a_score_saved_shows_the_new_leader_on_the_next_read(world, opened):
    _cset, items, self_round = opened
    cache = StandingCache()
    submit_self(self_round, items, world.head, direct="20")
    db.session.commit()
    first = row_of(board(cache), world.cluster)
    assert first.leader.unit_id == world.head.id
    computed = cache.computed
    assert row_of(board(cache), world.cluster).leader.unit_id == world.head.id
    assert cache.computed == computed  # nothing written: served from the cache
    submit_self(self_round, items, world.deputy, quant="200", direct="30")
    db.session.commit()
    again = row_of(board(cache), world.cluster)
    assert again.leader.unit_id == world.deputy.id and cache.computed == computed + 1
    assert again.leader.score > first.leader.score


def test_a_unit_year_over_year_follows_the_merge_chain(world, opened):
    _cset, items, self_round = opened
    submit_self(self_round, items, world.member, direct="25")
    db.session.commit()
    later = factories.year(factories.YEAR + 1, current=False)
    merged = factories.unit("UBND xã Tân Hồng Mới")
    cluster_year.add_membership(db.session, later, world.cluster, merged)
    org.merge_units(db.session, [world.member], merged, vn_today())
    db.session.commit()
    cache = StandingCache()
    before = history.predecessors(db.session, merged)
    assert [u.id for u in before] == [world.member.id]
    assert [u.id for u in history.successors(world.member)] == [merged.id]
    years = history.years(db.session, merged, before, cache, data_version(db.session))
    assert [(r.year, r.unit.id) for r in years] == [(factories.YEAR + 1, merged.id), (factories.YEAR, world.member.id)]
    newest, oldest = years
    assert newest.rank is None and newest.score is None  # no table in the later year
    assert oldest.rank == 1 and oldest.of == 3 and oldest.score > 0 and oldest.band


def test_filters_search_and_sort(world, opened):
    found = board().rows
    assert [r.cluster.id for r in apply(found, Filters(kind="block"), None)] == [world.other_cluster.id]
    assert [r.cluster.id for r in apply(found, Filters(stage="self"), None)] == [world.cluster.id]
    assert [r.cluster.id for r in apply(found, Filters(overseer="mine"), world.overseer.id)] == [world.cluster.id]
    assert apply(found, Filters(overseer="mine"), world.other_council.id) == []
    assert [r.cluster.id for r in apply(found, Filters(overseer=str(world.overseer.id)), None)] == [world.cluster.id]
    assert apply(found, Filters(late_only=True), None) == []
    for query in ("AN BINH", "an bình", "ẤN BÌNH", "phuong an binh", "le minh tuan", "KHOI CAC SO"):
        assert len(apply(found, Filters(q=query), None)) == 1, query
    assert apply(found, Filters(q="không có"), None) == []
    by_stage = [r.stage for r in apply(found, Filters(sort="stage", descending=True), None)]
    assert by_stage == [Stage.SELF, Stage.CRITERIA]
    names = [r.cluster.name for r in apply(found, Filters(sort="cluster"), None)]
    assert names == ["Cụm thi đua số 1", "Khối các sở"]
    assert [r.cluster.name for r in apply(found, Filters(sort="cluster", descending=True), None)] == names[::-1]


def test_the_excel_file_reads_back(world, opened):
    _cset, items, self_round = opened
    submit_self(self_round, items, world.head)
    db.session.commit()
    rows = apply(board().rows, Filters(), None)
    content = export.workbook(rows, "Tổng hợp năm", "Bộ lọc: không")
    sheet = load_workbook(BytesIO(content)).active
    assert sheet["A1"].value == "Tổng hợp năm" and sheet["A2"].value == "Bộ lọc: không"
    assert sheet["B4"].value == "Cụm, khối"
    first = [c.value for c in sheet[5]]
    assert first[1] == "Cụm thi đua số 1" and first[3] == world.head.name and first[5] == world.overseer.full_name
    assert first[7] == Stage.SELF.label and first[11] == 1 and first[14] == world.head.name and first[15] > 0
    assert sheet.cell(6, 2).value == "Khối các sở"


def test_the_cache_is_bounded(world, opened):
    cache = StandingCache(limit=1)
    wheres = [ClusterYear(world.year.id, c.id) for c in (world.cluster, world.other_cluster)]
    found = cache.get_many(db.session, wheres, data_version(db.session))
    assert found[wheres[0]] is not None and found[wheres[1]] is None  # the block has no table
    assert cache.kept == 1 and cache.computed == 2


def test_the_value_chart_is_accessible_escaped_svg():
    from portal.charts import value_chart

    svg = value_chart(
        [("<Tự chấm>", 3), ("Một tên đơn vị rất dài " * 4, D("87.5")), ("Không", 0)],
        ident="c1",
        title="Tiến độ <A>",
        description="Mô tả",
    )
    assert svg.startswith("<svg") and 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert "&lt;Tự chấm&gt;" in svg and "Tiến độ &lt;A&gt;" in svg
    assert svg.count('class="chart-bar"') == 3 and ">87,5<" in svg and ">3<" in svg
    assert "…" in svg  # a long label is shortened in the chart (the table beside has it whole)
    assert value_chart([], ident="c2", title="t", description="d").count("chart-bar") == 0


def test_the_meeting_publication_and_the_councils_decisions_move_the_stage(world):
    from portal.services.publication import council, snapshots
    from tests.meeting_helpers import where
    from tests.publication_helpers import award, voted

    voted(world)
    assert row_of(board(), world.cluster).stage == Stage.MEETING
    assert row_of(board(), world.other_cluster).stage == Stage.CRITERIA
    assert row_of(board(), world.cluster).facts.proposals == ()
    snapshots.publish(db.session, where(world), None)
    db.session.commit()
    published = row_of(board(), world.cluster)
    assert published.stage == Stage.PUBLISHED
    assert {(p.award, p.unit_id, p.verdict) for p in published.facts.proposals} == {
        ("co_thi_dua", world.head.id, None),
        ("bang_khen_toan_dien", world.head.id, None),
        ("bang_khen_toan_dien", world.deputy.id, None),
    }
    assert all(p.award_name and p.unit_name for p in published.facts.proposals)
    fields = council.DecisionFields(9, 2, 13, "approved", "", "125/QĐ-UBND", factories.past_date(3))
    proposals = [(award("co_thi_dua"), world.head), (award("bang_khen_toan_dien"), world.head)]
    proposals.append((award("bang_khen_toan_dien"), world.deputy))
    for kind, unit in proposals:
        assert row_of(board(), world.cluster).stage == Stage.PUBLISHED  # not every proposal decided yet
        council.decide(db.session, world.year.id, world.cluster.id, kind.id, unit.id, fields)
        db.session.commit()
    decided = row_of(board(), world.cluster)
    assert decided.stage == Stage.COUNCIL_DECISION
    assert {p.verdict for p in decided.facts.proposals} == {"approved"}
    cells = [c.value for c in load_workbook(BytesIO(export.workbook([decided], "t", "f"))).active[5]]
    assert "Đồng ý khen thưởng" in cells[-1] and world.deputy.name in cells[-1]
