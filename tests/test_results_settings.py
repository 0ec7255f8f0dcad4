"""Results settings (the head's choices per cluster-year) and classification bands (the secretariat's per year)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, BandRule, ResultSettings
from portal.models import results as models
from portal.models.base import utcnow
from portal.policy import ClusterYear
from portal.services import DomainError
from portal.services.results import bands, inputs
from portal.services.results import settings as svc
from portal.services.results.inputs import (
    DEFAULT_BANDS,
    Band,
    Basis,
    FloorLevel,
    NonParticipation,
    ScaleMode,
    Settings,
    TieBreaker,
    TieRule,
)
from tests import factories


def test_the_default_bands_are_the_stored_band_codes_with_their_labels():
    assert [(band.code, band.label) for band in DEFAULT_BANDS] == list(models.BAND_CODES.items())


@pytest.fixture
def here(world):
    return ClusterYear(world.year.id, world.cluster.id)


@pytest.fixture
def table(world):
    cset, items = factories.scoring_table(world)
    db.session.commit()
    return cset, items


def test_no_row_means_the_defaults(here):
    assert svc.find(db.session, here) is None
    assert svc.load(db.session, here) == Settings()


def test_a_row_with_its_defaults_reads_as_the_defaults(world, here):
    db.session.add(ResultSettings(cluster_id=world.cluster.id, year_id=world.year.id))
    db.session.commit()
    assert svc.load(db.session, here) == Settings()


def test_save_and_load_every_choice(world, here, table):
    cset, _items = table
    section = next(c for c in cset.criteria if c.parent_id is None and c.kind == "scored")
    chosen = Settings(
        basis=Basis.BLEND,
        trim_min_reviewers=5,
        self_weight=D("0.3"),
        scale_mode=ScaleMode.RAW,
        tie_rules=(TieRule(TieBreaker.SECTION, section.id), TieRule(TieBreaker.FEWER_DEDUCTIONS)),
        non_participation=NonParticipation.FIXED_DEDUCTION,
        non_participation_points=D("7.5"),
        floor_level=FloorLevel.LEAF,
        reviewer_bias_share=D("0.08"),
        self_excess_share=D("0.15"),
        mutual_share=D("0.1"),
    )
    row = svc.save(db.session, here, chosen)
    db.session.commit()
    assert row.tie_rules == [{"breaker": "section", "section_id": section.id}, {"breaker": "fewer_deductions"}]
    assert svc.load(db.session, here) == chosen
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "ResultSettings"))
    assert entry.action == "create" and entry.changes["basis"] == [None, "blend"]
    assert entry.object_label == f"Cách tính kết quả: {world.cluster.name} (năm {world.year.year})"
    svc.save(db.session, here, Settings(basis=Basis.MEDIAN))
    db.session.commit()
    assert db.session.scalars(select(ResultSettings)).all() == [row]  # one row per cluster-year
    assert svc.load(db.session, here) == Settings(basis=Basis.MEDIAN)


SECTION_OF_TABLE = object()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"basis": "mean"}, "basis", "cách tính điểm"),
        ({"trim_min_reviewers": 2}, "trim_min_reviewers", "từ 3 đến 100"),
        ({"trim_min_reviewers": True}, "trim_min_reviewers", "từ 3 đến 100"),
        ({"self_weight": D("1.5")}, "self_weight", "từ 0 đến 1"),
        ({"self_weight": D("0.12345")}, "self_weight", "4 chữ số thập phân"),
        ({"self_weight": "nửa"}, "self_weight", "nhập một số"),
        ({"scale_mode": "ratio"}, "scale_mode", "so sánh"),
        ({"non_participation": "ignore"}, "non_participation", "không chấm chéo"),
        ({"non_participation_points": D(-1)}, "non_participation_points", "từ 0 đến 10000"),
        ({"non_participation_points": D("0.125")}, "non_participation_points", "2 chữ số"),
        ({"floor_level": "section"}, "floor_level", "cấp tiêu chí"),
        ({"reviewer_bias_share": D(0)}, "reviewer_bias_share", "lớn hơn 0"),
        ({"mutual_share": D("1.01")}, "mutual_share", "từ 0 đến 1"),
        ({"self_excess_share": D("NaN")}, "self_excess_share", "từ 0 đến 1"),
        ({"tie_rules": (TieRule("coin"),)}, "tie_rules", "phân định"),
        ({"tie_rules": (TieRule(TieBreaker.SECTION, None),)}, "tie_rules", "một phần chấm điểm"),
        ({"tie_rules": (TieRule(TieBreaker.SECTION, SECTION_OF_TABLE),)}, "tie_rules", "một phần chấm điểm"),
        ({"tie_rules": (TieRule(TieBreaker.FEWER_DEDUCTIONS),) * 2}, "tie_rules", "một lần"),
    ],
)
def test_every_value_is_checked(here, table, change, field, message):
    cset, items = table
    if change.get("tie_rules") and change["tie_rules"][0].section_id is SECTION_OF_TABLE:
        bonus_section = next(c for c in cset.criteria if c.parent_id is None and c.kind == "bonus")
        change = {"tie_rules": (TieRule(TieBreaker.SECTION, bonus_section.id),)}  # not a scored section
    with pytest.raises(DomainError, match=message) as error:
        svc.save(db.session, here, Settings(**change))
    assert error.value.field == field
    assert svc.find(db.session, here) is None


def test_a_locked_row_refuses_changes(here):
    row = svc.save(db.session, here, Settings())
    row.locked_at = utcnow()
    db.session.commit()
    with pytest.raises(DomainError, match="đã công bố"):
        svc.save(db.session, here, Settings(basis=Basis.PEER_MEAN))
    assert svc.load(db.session, here).basis is Basis.AGREED


def test_the_database_refuses_values_outside_the_sets(world):
    db.session.add(ResultSettings(cluster_id=world.cluster.id, year_id=world.year.id, basis="mode"))
    with pytest.raises(Exception, match="(?i)check"):
        db.session.flush()
    db.session.rollback()


# ---------------------------------------------------------------- bands


SHARES = {"xuat_sac": (D("0.95"), D("0.9")), "tot": (D("0.85"), D("0.8")), "hoan_thanh": (D("0.6"), D("0.5"))}


def _band_tuples(found):
    return [(b.code, b.min_total_share, b.min_floor_share) for b in found]


def test_bands_default_then_every_kind_then_the_clusters_kind(world, here):
    block = ClusterYear(world.year.id, world.other_cluster.id)
    assert bands.for_cluster(db.session, here) == DEFAULT_BANDS
    bands.save(db.session, world.year.id, None, SHARES)
    db.session.commit()
    assert _band_tuples(bands.for_cluster(db.session, here)) == [(c, *SHARES[c]) for c in bands.CODES]
    assert bands.for_cluster(db.session, block) == bands.for_cluster(db.session, here)
    for_blocks = {**SHARES, "xuat_sac": (D("0.92"), D("0.9"))}
    bands.save(db.session, world.year.id, "block", for_blocks)
    db.session.commit()
    assert bands.for_cluster(db.session, block)[0] == Band("xuat_sac", DEFAULT_BANDS[0].label, D("0.92"), D("0.9"))
    assert bands.for_cluster(db.session, here)[0].min_total_share == D("0.95")  # a cụm keeps the rules for all
    assert bands.for_kind(db.session, world.year.id, "block")[0].min_total_share == D("0.92")
    assert bands.for_kind(db.session, world.year.id, "cluster")[0].min_total_share == D("0.95")
    assert svc.load(db.session, block).bands == bands.for_cluster(db.session, block)
    bands.reset(db.session, world.year.id, "block")
    db.session.commit()
    assert bands.for_cluster(db.session, block)[0].min_total_share == D("0.95")
    next_year = factories.year(world.year.year + 1, current=False)
    assert bands.for_kind(db.session, next_year.id, None) == DEFAULT_BANDS


def test_saving_again_updates_the_three_rows_and_is_audited(world):
    bands.save(db.session, world.year.id, "cluster", SHARES)
    bands.save(db.session, world.year.id, "cluster", {**SHARES, "tot": (D("0.8"), D("0.8"))})
    db.session.commit()
    assert db.session.scalar(select(BandRule).where(BandRule.code == "tot")).min_total_share == D("0.8")
    assert len(db.session.scalars(select(BandRule)).all()) == 3
    labels = db.session.scalars(select(AuditEntry.object_label).where(AuditEntry.object_type == "BandRule")).all()
    assert f"Xếp loại “Hoàn thành tốt nhiệm vụ”: Cụm thi đua (năm {world.year.year})" in labels


@pytest.mark.parametrize(
    ("kind", "shares", "field", "message"),
    [
        ("district", SHARES, "cluster_kind", "loại cụm"),
        (None, {"xuat_sac": SHARES["xuat_sac"]}, None, "ba mức"),
        (None, {**SHARES, "tot": (D(0), D("0.8"))}, "tot_total", "lớn hơn 0"),
        (None, {**SHARES, "tot": (D("0.85"), D("1.2"))}, "tot_floor", "từ 0 đến 1"),
        (None, {**SHARES, "tot": ("tám", D("0.8"))}, "tot_total", "nhập một số"),
        (None, {**SHARES, "tot": (D("0.95"), D("0.8"))}, "xuat_sac_total", "cao hơn mức dưới"),
        (None, {**SHARES, "hoan_thanh": (D("0.6"), D("0.85"))}, "tot_floor", "không được thấp hơn"),
    ],
)
def test_bands_are_checked(world, kind, shares, field, message):
    with pytest.raises(DomainError, match=message) as error:
        bands.save(db.session, world.year.id, kind, shares)
    assert error.value.field == field
    assert db.session.scalars(select(BandRule)).all() == []


def test_equal_floors_are_allowed(world):
    shares = {**SHARES, "tot": (D("0.85"), D("0.9"))}
    assert len(bands.save(db.session, world.year.id, None, shares)) == 3


def test_bands_a_published_result_used_are_not_changed(world, here):
    row = svc.save(db.session, here, Settings())
    row.locked_at = utcnow()
    db.session.commit()
    for kind in ("cluster", None):
        with pytest.raises(DomainError, match="công bố kết quả"):
            bands.save(db.session, world.year.id, kind, SHARES)
    bands.save(db.session, world.year.id, "block", SHARES)  # blocks are classified apart
    db.session.commit()
    with pytest.raises(DomainError, match="công bố kết quả"):
        bands.reset(db.session, world.year.id, "cluster")
    bands.reset(db.session, world.year.id, "block")


def test_rules_for_every_kind_stay_free_when_each_locked_kind_has_its_own(world, here):
    bands.save(db.session, world.year.id, "cluster", SHARES)
    row = svc.save(db.session, here, Settings())
    row.locked_at = utcnow()
    db.session.commit()
    bands.save(db.session, world.year.id, None, SHARES)  # the locked cụm is classified by its own rules
    assert inputs.BELOW_BANDS not in bands.CODES
