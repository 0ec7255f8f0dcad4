"""The results pages read a cluster-year's report from the worker's cache, and it is never stale.

Each write that can change a number — a score, the settings, a band rule, an ineligibility — is seen
by the next read of the page, in this app and in a second app sharing the database (another gunicorn
worker); a read with nothing written computes nothing; a rolled-back write leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import threading
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import Assessment, AuditEntry, AuditSeal, Cluster, Criterion, Membership, Score, Unit
from portal.models.results import IneligibilityKind
from portal.policy import ClusterYear
from portal.services.org import cluster_year as cluster_year_svc
from portal.services.platform import live
from portal.services.results import bands, eligibility, invalidation, report
from portal.services.results import settings as settings_svc
from portal.services.results.cache import VersionedCache
from portal.services.results.inputs import Basis, Settings
from portal.services.scoring import assessments as scoring
from tests import factories
from tests.conftest import IsolatedClient
from tests.signin import sign_in
from tests.test_dashboard import scored_cluster
from tests.test_results_read import scenario  # noqa: F401  (a fixture)

CELL = re.compile(r'<td[^>]*data-label="([^"]*)"[^>]*>(.*?)</td>', re.S)
TAG = re.compile(r"<[^>]+>")


def table(client, cluster: Cluster | int, year: int) -> dict[str, dict[str, str]]:
    """The ranked table as shown: unit name → column label → the cell's text."""
    page = client.get(f"/results/{getattr(cluster, 'id', cluster)}/{year}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    rows = {}
    for row in body.split("<tr")[1:]:
        cells = {label: " ".join(TAG.sub(" ", text).split()) for label, text in CELL.findall(row)}
        if "Đơn vị" in cells:
            rows[cells["Đơn vị"]] = cells
    return rows


def reports(app) -> VersionedCache:
    return app.extensions["results_reports"]


def rescore(unit, leaf, value: str) -> None:
    """The unit's self-assessment returned, its one criterion saved again with `value`, submitted."""
    own = db.session.scalar(select(Assessment).where(Assessment.subject_unit_id == unit.id))
    scoring.return_for_revision(db.session, own, "Bổ sung minh chứng")
    score = db.session.scalar(select(Score).where(Score.assessment_id == own.id))
    scoring.save_score(db.session, own, leaf, value, "", expected_revision=score.revision, user_id=None)
    scoring.submit(db.session, own, None)


def test_a_saved_score_shows_on_the_next_read_and_nothing_written_computes_nothing(app, client, world):
    found, units, leaf, _round = scored_cluster(world, "Cụm R", 3, points=["60", "40", "10"])
    sign_in(client, world.users["secretariat"].id)
    before = table(client, found, world.year.year)
    assert before[units[0].name]["Hạng"].startswith("1") and before[units[2].name]["Tổng điểm"] == "10"
    computed = reports(app).computed
    table(client, found, world.year.year)
    client.get(f"/results/{found.id}/{world.year.year}/units/{units[0].id}")
    client.get(f"/results/{found.id}/{world.year.year}.xlsx")
    assert reports(app).computed == computed  # the table, a unit's page and Excel: one report, kept
    rescore(units[2], leaf, "95")
    db.session.commit()
    after = table(client, found, world.year.year)
    assert after[units[2].name]["Tổng điểm"] == "95" and after[units[2].name]["Hạng"].startswith("1")
    assert after[units[0].name]["Hạng"].startswith("2")


def test_the_settings_basis_changed_changes_the_ranks_at_once(app, client, world, scenario):  # noqa: F811
    sign_in(client, world.users["secretariat"].id)
    before = table(client, world.cluster, world.year.year)
    settings_svc.save(db.session, scenario["where"], Settings(basis=Basis.PEER_MEAN))
    db.session.commit()
    after = table(client, world.cluster, world.year.year)
    fresh = report.cluster_report(db.session, scenario["where"], detail=True).result.units
    assert {u.name: u.rank for u in fresh} == {
        name: int(re.match(r"\d+", row["Hạng"])[0]) for name, row in after.items()
    }
    assert {name: row["Tổng điểm"] for name, row in after.items()} != {n: r["Tổng điểm"] for n, r in before.items()}
    assert "Trung bình điểm chấm chéo" in client.get(f"/results/{world.cluster.id}/{world.year.year}").get_data(
        as_text=True
    )


def test_a_band_rule_changed_changes_the_bands(app, client, world):
    found, units, _leaf, _round = scored_cluster(world, "Cụm B", 2, points=["60", "20"])
    sign_in(client, world.users["secretariat"].id)
    top = bands.LABELS[bands.CODES[0]]
    assert table(client, found, world.year.year)[units[0].name]["Xếp loại"] != top
    shares = dict(zip(bands.CODES, [(D("0.5"), D("0.5")), (D("0.4"), D("0.4")), (D("0.3"), D("0.3"))], strict=True))
    bands.save(db.session, world.year.id, None, shares)  # year-wide: every kind of cluster
    db.session.commit()
    assert table(client, found, world.year.year)[units[0].name]["Xếp loại"] == top


def test_an_ineligibility_is_flagged_at_once(app, client, world):
    found, units, _leaf, _round = scored_cluster(world, "Cụm E", 2)
    sign_in(client, world.users["secretariat"].id)
    assert table(client, found, world.year.year)[units[1].name]["Khen thưởng"] == "Đủ điều kiện"
    eligibility.mark(
        db.session,
        world.year,
        units[1],
        kind=IneligibilityKind.INSPECTION,
        reason="Thanh tra tỉnh",
        starts_on=date(world.year.year, 2, 1),
        user_id=None,
    )
    db.session.commit()
    shown = table(client, found, world.year.year)[units[1].name]["Khen thưởng"]
    assert "Không đủ điều kiện khen thưởng" in shown and "Thanh tra tỉnh" in shown


def test_a_rolled_back_write_is_neither_served_nor_kept(app, client, world):
    found, units, leaf, _round = scored_cluster(world, "Cụm L", 2, points=["70", "30"])
    where = ClusterYear(world.year.id, found.id)
    cache = VersionedCache()

    def read():
        return cache.get(db.session, where, "r", live.data_version(db.session), lambda: _totals(where))

    assert read() == [D(70), D(30)]
    rescore(units[1], leaf, "90")
    db.session.flush()
    assert live.has_writes(db.session) and read() == [D(90), D(70)]  # its own writes: computed, not kept
    seen_uncommitted = live.data_version(db.session)
    db.session.rollback()
    for n in range(seen_uncommitted):  # later writes elsewhere, until the version passes the one seen
        if live.data_version(db.session) > seen_uncommitted:
            break
        world.users["council"].full_name = f"Trần Thu Hà ({n})"
        db.session.commit()
    assert not live.has_writes(db.session) and read() == [D(70), D(30)] and cache.kept == 1
    sign_in(client, world.users["secretariat"].id)
    assert table(client, found, world.year.year)[units[1].name]["Tổng điểm"] == "30"


def _totals(where: ClusterYear) -> list[D]:
    return [u.raw_total for u in report.cluster_report(db.session, where).result.units]


def test_a_move_a_cluster_kind_and_a_deletion_touch_everything(app, world):
    found, units, _leaf, _round = scored_cluster(world, "Cụm M", 3)
    version = live.data_version(db.session)
    found.kind = "block"  # its bands are a block's now
    db.session.commit()
    assert invalidation.touched(db.session, version, live.data_version(db.session)) is invalidation.EVERYTHING
    version = live.data_version(db.session)
    found.name = "Cụm M (đổi tên)"  # not in its results
    db.session.commit()
    assert invalidation.touched(db.session, version, live.data_version(db.session)) == set()
    other, *_rest = scored_cluster(world, "Cụm N", 2)
    moved = settings_svc.save(db.session, ClusterYear(world.year.id, found.id), Settings(basis=Basis.PEER_MEAN))
    db.session.commit()
    version = live.data_version(db.session)
    moved.cluster_id = other.id
    db.session.commit()  # the cluster-year it left is touched too, which its current place does not tell
    assert invalidation.touched(db.session, version, live.data_version(db.session)) is invalidation.EVERYTHING
    version = live.data_version(db.session)
    cluster_year_svc.remove_membership(
        db.session, db.session.scalar(select(Membership).where(Membership.unit_id == units[2].id))
    )
    db.session.commit()
    assert invalidation.touched(db.session, version, live.data_version(db.session)) is invalidation.EVERYTHING


def test_at_most_limit_values_are_kept_the_least_recently_read_going_first(app, world):
    cache = VersionedCache(limit=2)
    wheres = [ClusterYear(world.year.id, n) for n in (1, 2, 3)]
    version = live.data_version(db.session)
    for where in (wheres[0], wheres[1], wheres[0], wheres[2]):
        cache.get(db.session, where, None, version, lambda where=where: where.cluster_id)
    assert cache.kept == 2 and cache.computed == 3
    assert cache.get(db.session, wheres[0], None, version, lambda: "again") == 1  # read last but one: kept
    assert cache.get(db.session, wheres[1], None, version, lambda: "again") == "again"  # the oldest: gone


def test_two_workers_sharing_the_database_both_see_a_write(tmp_path):
    """Two `create_app()`s on one database file, as two gunicorn workers: each keeps its own cache."""
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shared.db'}",
        "EVIDENCE_FOLDER": str(tmp_path / "evidence"),
        "WTF_CSRF_ENABLED": False,
        "REDIS_URL": None,
    }
    first, second = create_app(config), create_app(config)
    clients = []
    with first.app_context():
        db.create_all()
        world = factories.world()
        found, units, leaf, _round = scored_cluster(world, "Cụm W", 2, points=["70", "30"])
        for app in (first, second):
            app.test_client_class = IsolatedClient
            clients.append(app.test_client())
            sign_in(clients[-1], world.users["secretariat"].id)
        year, cluster_id, name = world.year.year, found.id, units[1].name
        for client, app in zip(clients, (first, second), strict=True):
            with app.app_context():
                assert table(client, cluster_id, year)[name]["Tổng điểm"] == "30"
        rescore(units[1], leaf, "80")  # written through the first worker's database session
        db.session.commit()
    for client, app in zip(clients, (first, second), strict=True):
        with app.app_context():
            shown = table(client, cluster_id, year)[name]
            assert shown["Tổng điểm"] == "80" and shown["Hạng"].startswith("1")
            db.session.remove()
            db.engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="two writers committing out of id order need PostgreSQL (SQLite serialises writers: ids commit in order)",
)
def test_writes_committed_out_of_id_order_are_both_seen(app, client, world):
    """A writer takes the lower entry ids but commits after another writer whose entries the cache has seen:
    sealed later, at a newer position, its write still reaches the next read."""
    found, units, leaf, _round = scored_cluster(world, "Cụm O", 3, points=["60", "40", "10"])
    slow_unit, leaf_id, year = units[2].id, leaf.id, world.year.year
    names = [unit.name for unit in units]
    sign_in(client, world.users["secretariat"].id)
    table(client, found, year)
    flushed, release, seen = threading.Event(), threading.Event(), {}

    def slow_writer():
        with app.app_context():
            try:
                rescore(db.session.get(Unit, slow_unit), db.session.get(Criterion, leaf_id), "95")
                db.session.flush()
                seen["slow"] = db.session.scalar(select(func.max(AuditEntry.id)))  # its own, not committed
                flushed.set()
                release.wait(30)
                db.session.commit()
            finally:
                flushed.set()
                db.session.remove()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert flushed.wait(30) and "slow" in seen
    rescore(units[1], leaf, "85")
    db.session.commit()
    fast = db.session.scalar(
        select(func.min(AuditEntry.id)).where(AuditEntry.id > seen["slow"], AuditEntry.object_type == "Score")
    )
    assert fast is not None  # the second writer's entries have higher ids than the first one's
    shown = table(client, found, year)  # kept at a version that holds the second write and not the first
    assert shown[names[1]]["Tổng điểm"] == "85" and shown[names[2]]["Tổng điểm"] == "10"
    release.set()
    thread.join(30)
    sealed = dict(db.session.execute(select(AuditSeal.entry_id, AuditSeal.position)).all())
    assert sealed[seen["slow"]] > sealed[fast]  # the lower id is sealed later: chain order is commit order
    shown = table(client, found, year)
    assert shown[names[2]]["Tổng điểm"] == "95" and shown[names[2]]["Hạng"].startswith("1")
    assert shown[names[1]]["Tổng điểm"] == "85"


def test_the_data_version_is_read_once_per_transaction_and_again_once_it_writes(app, world, count_queries):
    db.session.commit()
    first = live.data_version(db.session)
    with count_queries() as statements:
        assert live.data_version(db.session) == first  # a page and its caches: one read per request
    assert statements() == 0
    factories.unit("Đơn vị ghi sau khi đọc phiên bản")
    db.session.flush()  # audited: the version read before no longer covers this transaction
    with count_queries() as statements:
        live.data_version(db.session)
    assert statements() >= 1  # read again (on SQLite the entry is sealed already; PostgreSQL seals after the commit)
    db.session.commit()
    with count_queries() as statements:
        after = live.data_version(db.session)
    assert statements() == 1 and after > first
