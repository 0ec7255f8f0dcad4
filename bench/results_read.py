"""Benchmark of the results read: `results.read.read_cluster` against the bare SQL over the same rows.

    .venv/bin/python -m bench.results_read                 # 40 clusters × 25 units × 60 criteria, all-pairs
    .venv/bin/python -m bench.results_read --clusters 4 --units 10 --criteria 20 --repeat 3

Creates a new PostgreSQL database (--database-url, or <server of TEST_DATABASE_URL/DATABASE_URL>/results_<pid>),
runs `flask db upgrade`, and builds a province-scale year: the structure through the portal's services
(bench/seed_load.py: clusters, units, a locked table of leaves, the self round; then per cluster an
all-pairs peer round opened and the verification round), every stage's assessment (self, verified,
final, one peer review per ordered pair; one reviewer per cluster leaves its reviews as drafts) and a
score on every leaf of every assessment, the scores written with COPY. Then, in one run, after a warm-up:

- one cluster: `read_cluster` (and with `detail=True`) against the bare SQL that sums the same rows
  (its cluster-year's assessments and their scores, grouped per unit and criterion);
- every cluster: `read_cluster` for each against the bare SQL over all of the year's rows (one
  statement) and against the bare SQL run once per cluster;
- both again as the ranking reads (monitoring.standings): `read_cluster(frames=…)`, the frames kept by data
  version, the data version read in each transaction;
- one cluster as a cluster page reads it: only `read_cluster(frames=…)` timed, its transaction begun and its
  data version read before (a page's first statement brings it: `access.cluster_year_in_scope`), the
  rollback after (a request ends with one whatever it read);
- the bare SQL of one cluster planned each time (psycopg prepares a statement run 5 times on a connection
  and forgets it at every rollback, so the read's statements are planned every time): not the floor,
  what planning adds;
- for comparison, `results.totals.cluster_totals` (the previous read) of one cluster's peer stage.

Prints the median of --repeat runs of each and the ratios; drops the database unless --keep.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass

from bench.harness import ThrowawayDatabase, derived_url, migrate, plain_url

BARE = """
SELECT a.subject_unit_id, s.criterion_id, count(s.points), sum(s.points)
FROM assessments a JOIN scores s ON s.assessment_id = a.id
WHERE a.round_id IN (SELECT id FROM scoring_rounds WHERE year_id = %(year)s {cluster})
GROUP BY a.subject_unit_id, s.criterion_id
"""
ONE_CLUSTER = "AND cluster_id = %(cluster)s"


@dataclass
class Options:
    clusters: int = 40
    units: int = 25
    criteria: int = 60
    repeat: int = 5
    database_url: str | None = None
    keep: bool = False
    existing: bool = False  # measure on a database an earlier run kept (the sizes are then the ones it was built with)


def points(assessment_id: int, position: int) -> str:
    """A leaf's points (0 … 10 by 0,25), spread over units and reviewers."""
    return f"{((assessment_id * 7 + position * 13) % 41) * 0.25:.2f}"


def build(session, options: Options) -> tuple[int, list[int]]:
    """The province's year; returns its id and the cluster ids."""
    from sqlalchemy import insert, select, update

    from bench import seed_load
    from portal.models import Assessment, CriteriaSet, ScoringRound
    from portal.models.base import utcnow
    from portal.services.scoring import reviews, verification

    manifest = seed_load.seed(session, options.clusters, options.units, options.criteria, scored=False)
    cluster_ids = [c["id"] for c in manifest["clusters"]]
    year_id = session.scalar(select(ScoringRound.year_id).limit(1))
    withholding = set()
    for number, cluster_id in enumerate(cluster_ids):
        cset = session.scalar(select(CriteriaSet).where(CriteriaSet.cluster_id == cluster_id))
        self_round = session.scalar(
            select(ScoringRound).where(ScoringRound.criteria_set_id == cset.id, ScoringRound.kind == "self")
        )
        peer_round = reviews.create_round(session, cset, "all_pairs", seed=number)
        reviews.open_round(session, peer_round)
        check = verification.verification_round(session, self_round)
        members = [u["unit_id"] for u in manifest["units"] if u["cluster_id"] == cluster_id]
        withholding.add(members[-1])
        session.execute(
            insert(Assessment),
            [
                {
                    "round_id": check.id,
                    "criteria_set_id": cset.id,
                    "subject_unit_id": unit_id,
                    "author_unit_id": members[0],
                    "stage": stage,
                    "status": "draft",
                    "created_at": utcnow(),
                }
                for stage in ("verified", "final")
                for unit_id in members
            ],
        )
    session.execute(
        update(Assessment)
        .where((Assessment.stage != "peer") | Assessment.author_unit_id.not_in(withholding))
        .values(status="submitted", submitted_at=utcnow())
    )
    session.commit()
    return year_id, cluster_ids


def copy_scores(url: str) -> int:
    """A score on every leaf of every assessment, with COPY; returns how many.

    The score tallies' triggers (models/tallies.py) are switched off for the COPY where the role may
    (`session_replication_role`, a superuser's), and the tallies rebuilt from the scores in the same
    transaction: one grouped INSERT instead of 1,6 million trigger calls (with them on: the same rows)."""
    import psycopg
    from sqlalchemy import insert
    from sqlalchemy.dialects import postgresql

    from portal.models import ScoreTally
    from portal.services.results import tallies

    fill = insert(ScoreTally).from_select([*tallies.KEY, "n", "cents"], tallies.expected())
    fill_sql = str(fill.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with psycopg.connect(plain_url(url)) as conn:
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        if superuser:
            conn.execute("SET LOCAL session_replication_role = replica")
        leaves = conn.execute(
            "SELECT a.id, c.id, c.position FROM assessments a JOIN criteria c ON c.set_id = a.criteria_set_id "
            "WHERE c.parent_id IS NOT NULL ORDER BY a.id, c.position"
        ).fetchall()
        buffer = io.StringIO()
        for assessment_id, criterion_id, position in leaves:
            value = points(assessment_id, position)
            buffer.write(f"{assessment_id}\t{criterion_id}\t{value}\t{value}\t\t1\t2026-11-20 08:00:00\n")
        buffer.seek(0)
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY scores (assessment_id, criterion_id, value, points, note, revision, updated_at) FROM STDIN"
            ) as copy,
        ):
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        if superuser:
            conn.execute("SET LOCAL session_replication_role = DEFAULT")
            conn.execute("DELETE FROM score_tallies")
            conn.execute(fill_sql)
        conn.commit()
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return len(leaves)


def aggregate_sql(session, year_id: int, cluster_id: int) -> str:
    """The aggregate statement read_cluster runs for one cluster-year, with its values written in: to run it bare."""
    from sqlalchemy import select

    from portal.policy import ClusterYear
    from portal.services.results import read, read_scores, scope

    where = ClusterYear(year_id, cluster_id)
    cluster = read.read_cluster(session, cluster_id, year_id)  # what the basis needs: its settings, who withheld
    ranged = read.ranges_needed(cluster.settings, [])[0]  # the aggregate itself (not the withholding units' ranges)
    set_id = session.scalar(select(scope.table_set_id(where)))
    dialect = session.get_bind().dialect
    statement = read_scores.statement_for(ranged, False, dialect.name)  # as read_scores.aggregated chooses
    statement = statement.params(year_id=year_id, cluster_id=cluster_id, set_id=set_id)
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def measure(session, url: str, year_id: int, cluster_ids: list[int], repeat: int) -> dict[str, float]:
    """Median seconds of each measure, the measures taking turns (the machine's load falls on all alike)."""
    import psycopg

    from portal.policy import ClusterYear
    from portal.services.platform import live
    from portal.services.results import read, totals
    from portal.services.results.cache import VersionedCache

    one = cluster_ids[len(cluster_ids) // 2]
    statements = {cluster_id: aggregate_sql(session, year_id, cluster_id) for cluster_id in cluster_ids}
    session.rollback()

    def read_one(detail: bool = False):
        read.read_cluster(session, one, year_id, detail=detail)
        session.rollback()  # each read in its own transaction, as in a request

    def read_all():
        for cluster_id in cluster_ids:
            read.read_cluster(session, cluster_id, year_id)
            session.rollback()

    # as the ranking reads (monitoring.standings): its frames kept by data version, read once per transaction
    frames = VersionedCache(ignored=read.FRAME_IGNORES)

    def framed_one():
        read.read_cluster(session, one, year_id, frames=frames)
        session.rollback()

    def in_page_one() -> float:
        """The read alone, as a cluster page makes it: the page's first statement has begun the transaction
        and brought the data version (`access.cluster_year_in_scope`), and its rollback ends the request
        whatever it read; the seconds of read_cluster only."""
        live.data_version(session)
        began = time.perf_counter()
        read.read_cluster(session, one, year_id, frames=frames)
        took = time.perf_counter() - began
        session.rollback()
        return took

    def framed_all():
        for cluster_id in cluster_ids:
            read.read_cluster(session, cluster_id, year_id, frames=frames)
            session.rollback()

    with psycopg.connect(plain_url(url), autocommit=True) as conn:

        def bare(cluster_id: int | None, prepare: bool | None = None):
            statement = BARE.format(cluster=ONE_CLUSTER if cluster_id else "")
            conn.execute(statement, {"year": year_id, "cluster": cluster_id}, prepare=prepare).fetchall()

        def same_aggregate(cluster_id: int):
            conn.execute(statements[cluster_id]).fetchall()

        measures = {
            "bare_one": lambda: bare(one),
            "bare_one_planned": lambda: bare(one, prepare=False),  # not the floor: what planning it each time adds
            "aggregate_one": lambda: same_aggregate(one),
            "read_one": read_one,
            "read_one_detail": lambda: read_one(True),
            "framed_one": framed_one,
            "in_page_one": in_page_one,
            "bare_all": lambda: bare(None),
            "bare_each": lambda: [bare(c) for c in cluster_ids],
            "aggregate_each": lambda: [same_aggregate(c) for c in cluster_ids],
            "read_all": read_all,
            "framed_all": framed_all,
        }
        figures = timed(measures, repeat)
    began = time.perf_counter()
    totals.cluster_totals(session, ClusterYear(year_id, one), "peer")
    figures["totals_one"] = time.perf_counter() - began
    session.rollback()
    return figures


def timed(measures: dict, repeat: int) -> dict[str, float]:
    """Median seconds of each call, the calls taking turns; the first turn warms the caches up and is not counted.

    Each turn takes the calls in another order (shuffled, the same seeds every run): in a fixed order a call
    always ran after the same other call, and paid for what that one left behind (a read with detail leaves
    40 000 objects to the collector and the CPU caches cold: the one-cluster read after it measured ×1,7 the
    bare sum where it measures ×1,3 taking turns with the bare sum alone)."""
    times: dict[str, list[float]] = {name: [] for name in measures}
    order = list(measures.items())
    for turn in range(repeat + 1):
        random.Random(turn).shuffle(order)
        for name, call in order:
            began = time.perf_counter()
            took = call()  # the seconds of its own part (a float), or the call is timed whole
            if turn:
                times[name].append(took if isinstance(took, float) else time.perf_counter() - began)
    return {name: statistics.median(values) for name, values in times.items()}


def report(figures: dict[str, float], options: Options, scores: int) -> str:
    def shown(measured: str, baseline: str | None = None) -> str:
        text = f"{figures[measured] * 1000:,.1f} ms"
        return text if baseline is None else f"{text} (read ×{figures[against[baseline]] / figures[measured]:.2f})"

    against = {"one": "read_one", "all": "read_all"}
    return "\n".join(
        [
            f"{options.clusters} clusters × {options.units} units × {options.criteria} criteria, all-pairs peer "
            f"review: {scores:,} scores; median of {options.repeat} runs",
            f"one cluster:  read_cluster {shown('read_one')}, with detail {shown('read_one_detail')}",
            f"  bare SQL sum {shown('bare_one', 'one')}; the read's aggregate run bare {shown('aggregate_one', 'one')}",
            f"  (the bare sum is prepared after 5 runs on its connection; planned each time, as the read's statements "
            f"are after every rollback: {shown('bare_one_planned')})",
            f"  as the ranking reads (frames kept, data version read): read_cluster {shown('framed_one')} "
            f"(×{figures['framed_one'] / figures['bare_one']:.2f} the bare SQL sum)",
            f"  in a page (transaction begun and data version read by the page's first statement; the rollback "
            f"after): read_cluster {shown('in_page_one')} "
            f"(×{figures['in_page_one'] / figures['bare_one']:.2f} the bare SQL sum)",
            f"all clusters: read_cluster × {options.clusters} {shown('read_all')}",
            f"  bare SQL sum over all rows {shown('bare_all', 'all')}, per cluster {shown('bare_each', 'all')}; "
            f"the read's aggregate run bare per cluster {shown('aggregate_each', 'all')}",
            f"  as the ranking reads (frames kept): read_cluster × {options.clusters} {shown('framed_all')} "
            f"(×{figures['framed_all'] / figures['bare_all']:.2f} the bare SQL sum over all rows)",
            f"previous read, totals.cluster_totals of one cluster's peer stage: {shown('totals_one')} "
            f"(×{figures['totals_one'] / figures['bare_one']:.0f} the bare SQL sum)",
        ]
    )


def run(options: Options, out=print) -> dict[str, float]:
    url = options.database_url or derived_url("results")
    if options.existing:
        figures, scores = measured(url, options, built=False)
    else:
        with ThrowawayDatabase(url, keep=options.keep):
            began = time.perf_counter()
            migrate(url)
            figures, scores = measured(url, options, built=True, out=out, began=began)
    out(report(figures, options, scores))
    return figures


def measured(url: str, options: Options, *, built: bool, out=print, began: float = 0.0) -> tuple[dict, int]:
    """Build the year (unless it is there: --existing) and measure; returns the figures and the number of scores."""
    os.environ.pop("FLASK_CONFIG", None)
    from sqlalchemy import func, select

    from config import normalise_database_url
    from portal import create_app
    from portal.extensions import db
    from portal.models import Membership, Score

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url)})
    with app.app_context():
        if built:
            year_id, cluster_ids = build(db.session, options)
            scores = copy_scores(url)
            out(f"database built in {time.perf_counter() - began:.0f} s")
        else:
            year_id = db.session.scalar(select(func.max(Membership.year_id)))
            cluster_ids = sorted(db.session.scalars(select(Membership.cluster_id).distinct()))
            options.clusters = len(cluster_ids)  # as built (units and criteria: the options given)
            scores = db.session.scalar(select(func.count()).select_from(Score))
        figures = measure(db.session, url, year_id, cluster_ids, options.repeat)
        db.session.remove()
        db.engine.dispose()
    return figures, scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Options()
    parser.add_argument("--database-url", help="a database to create (and drop); default <server>/results_<pid>")
    parser.add_argument("--clusters", type=int, default=defaults.clusters)
    parser.add_argument("--units", type=int, default=defaults.units, help="member units per cluster")
    parser.add_argument("--criteria", type=int, default=defaults.criteria, help="leaf criteria per table")
    parser.add_argument("--repeat", type=int, default=defaults.repeat, help="runs of each measure (median)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--existing", action="store_true", help="measure on the database --database-url kept by an earlier --keep run"
    )
    args = parser.parse_args(argv)
    if min(args.clusters, args.units - 1, args.criteria, args.repeat) < 1:
        parser.error("at least 1 cluster, 2 units, 1 criterion and 1 run")
    if args.existing and not args.database_url:
        parser.error("--existing needs --database-url")
    run(Options(args.clusters, args.units, args.criteria, args.repeat, args.database_url, args.keep, args.existing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
