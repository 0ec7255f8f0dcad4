"""read_cluster with kept frames (the settings, table and members of a cluster-year) is never stale.

The ranking keeps each cluster-year's frame by data version and reads the scores every time
(`read.read_cluster(frames=…)`): a score saved keeps the frame and shows at once; any other audited
write to the cluster-year (settings, a band rule, an ineligibility, a mark, a review handed in, a
membership) drops it. After each write the framed read equals a fresh one.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assessment, ScoringRound
from portal.services.monitoring import standings
from portal.services.monitoring.standings import StandingCache
from portal.services.org import cluster_year as cluster_year_svc
from portal.services.platform import live
from portal.services.results import applicability, bands, eligibility, read
from portal.services.results import settings as settings_svc
from portal.services.results.cache import VersionedCache
from portal.services.results.inputs import Basis, Settings
from portal.services.scoring import assessments as scoring
from tests import factories
from tests.test_results_read import SELF, _fill, scenario  # noqa: F401  (scenario: a fixture)


def framed(frames: VersionedCache, where):
    """The framed read and a fresh one, in a transaction of their own (as a request reads)."""
    db.session.commit()
    kept = read.read_cluster(db.session, where.cluster_id, where.year_id, frames=frames)
    fresh = read.read_cluster(db.session, where.cluster_id, where.year_id)
    db.session.commit()
    return kept, fresh


def _unit(cluster, unit):
    return next(u for u in cluster.units if u.unit_id == unit.id)


def test_a_saved_score_keeps_the_frame_and_shows_at_once(world, scenario):  # noqa: F811
    where, items = scenario["where"], scenario["items"]
    frames = VersionedCache(ignored=read.FRAME_IGNORES)
    kept, fresh = framed(frames, where)
    assert kept == fresh and frames.computed == 1 and frames.kept == 1
    draft = db.session.scalar(
        select(Assessment).where(Assessment.subject_unit_id == world.member.id, Assessment.status == "draft")
    )
    # the member's own self-assessment is a draft: a score saved on it counts for nothing until it is handed in
    scoring.save_score(db.session, draft, items["c"], "12", "", expected_revision=None, user_id=None)
    again, fresh = framed(frames, where)
    assert again == fresh and frames.computed == 1  # the score's entry dropped nothing
    _fill(draft, items, {key: value for key, value in SELF["head"].items() if key not in ("b", "c")})
    again, fresh = framed(frames, where)
    assert again == fresh and frames.computed == 1
    scoring.submit(db.session, draft, None)  # the member's self-assessment handed in: its points count now
    after, fresh = framed(frames, where)
    assert after == fresh and frames.computed == 2
    assert _unit(after, world.member).scores[items["c"].id].self_points == D("12")
    assert _unit(kept, world.member).scores[items["c"].id].self_points is None


def _settings(world, built):
    settings_svc.save(db.session, built["where"], Settings(basis=Basis.PEER_MEAN))


def _band_rule(world, built):
    shares = dict(zip(bands.CODES, [(D("0.5"), D("0.5")), (D("0.4"), D("0.4")), (D("0.3"), D("0.3"))], strict=True))
    bands.save(db.session, world.year.id, None, shares)


def _ineligibility(world, built):
    eligibility.mark(
        db.session,
        world.year,
        world.head,
        kind="inspection",
        reason="Kiểm toán nhà nước",
        starts_on=date(world.year.year, 3, 1),
        user_id=None,
    )


def _mark(world, built):
    where, leaf = built["where"], built["items"]["c"]
    applicability.mark(db.session, where, world.head, leaf, "Không phát sinh", user_id=None)


def _review_handed_in(world, built):
    peer_round = db.session.scalar(select(ScoringRound).where(ScoringRound.kind == "peer"))
    review = db.session.scalar(
        select(Assessment).where(
            Assessment.round_id == peer_round.id,
            Assessment.author_unit_id == world.member.id,
            Assessment.subject_unit_id == world.head.id,
        )
    )
    _fill(review, built["items"], SELF["head"])
    scoring.submit(db.session, review, None)


def _membership(world, built):
    cluster_year_svc.add_membership(db.session, world.year, world.cluster, factories.unit("Đơn vị mới"))


@pytest.mark.parametrize(
    "change", [_settings, _band_rule, _ineligibility, _mark, _review_handed_in, _membership], ids=lambda c: c.__name__
)
def test_any_other_write_to_the_cluster_year_drops_its_frame(world, scenario, change):  # noqa: F811
    where = scenario["where"]
    frames = VersionedCache(ignored=read.FRAME_IGNORES)
    before, _fresh = framed(frames, where)
    change(world, scenario)
    after, fresh = framed(frames, where)
    assert after == fresh and after != before and frames.computed == 2


def test_a_session_with_writes_of_its_own_reads_afresh_and_keeps_nothing(world, scenario):  # noqa: F811
    where = scenario["where"]
    frames = VersionedCache(ignored=read.FRAME_IGNORES)
    framed(frames, where)
    settings_svc.save(db.session, where, Settings(basis=Basis.PEER_MEAN))  # not committed
    seen = read.read_cluster(db.session, where.cluster_id, where.year_id, frames=frames)
    assert seen.settings.basis == Basis.PEER_MEAN
    db.session.rollback()
    kept, fresh = framed(frames, where)
    assert kept == fresh and kept.settings.basis != Basis.PEER_MEAN


def test_the_ranking_reads_only_the_scores_again_after_a_score_is_saved(world, scenario):  # noqa: F811
    where, items = scenario["where"], scenario["items"]
    cache = StandingCache()
    first = cache.get_many(db.session, [where], live.data_version(db.session))[where]
    db.session.commit()
    assert (cache.computed, cache.frames_computed) == (1, 1)
    draft = db.session.scalar(
        select(Assessment).where(Assessment.subject_unit_id == world.member.id, Assessment.status == "draft")
    )
    scoring.save_score(db.session, draft, items["c"], "12", "", expected_revision=None, user_id=None)
    db.session.commit()
    again = cache.get_many(db.session, [where], live.data_version(db.session))[where]
    assert (cache.computed, cache.frames_computed) == (2, 1)  # the ranking computed again, its frame kept
    assert again == first == standings.compute(db.session, where)
