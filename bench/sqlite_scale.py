"""SQLite (the embedded default) at one province's scale: every main page's time, and the ranking of all clusters.

    .venv/bin/python -m bench.sqlite_scale                                # 40 clusters × 25 units × 60 criteria
    .venv/bin/python -m bench.sqlite_scale --clusters 4 --units 10 --criteria 20 --repeat 3
    .venv/bin/python -m bench.sqlite_scale --path /tmp/province.db --keep # build once …
    .venv/bin/python -m bench.sqlite_scale --path /tmp/province.db --existing   # … and measure again

Issue 18, goal 6: with SQLite every page under 300 ms, the ranking of all clusters under 10 s.

Builds the year of `bench/results_read.py` in a SQLite file (`flask db upgrade`, then the structure
through the portal's services: clusters, units, a locked table of leaves, the self round, an all-pairs
peer round and the verification round; every stage's assessment; one reviewer per cluster leaves its
reviews as drafts), the 1,6 million scores inserted with one `executemany` in one transaction, then
`ANALYZE`. Then, in this one process with Flask's test client (as `bench/dashboard.py` does), signed in with
the role each page is for — the head of the middle cluster, a council member, the secretariat — it
requests every main page once cold (the first read: the results and the dashboard compute and fill
their per-worker caches) and --repeat times more (the median: what a read between writes costs), and
times the ranking of every cluster straight from the database (`monitoring.standings.compute` for each
cluster-year: the read and the results engine, no cache). Each page must answer 200. As a gunicorn
worker does (gunicorn.conf.py), the objects loaded with the app are frozen out of the garbage collector
before the first request. Prints the figures and the verdict against the goals; removes the file unless
--keep.
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import harness, results_read

GOAL_PAGE_MS = 300
GOAL_RANKING_S = 10
PASSWORD = "Tai-thu-2026!"  # bench.seed_load's


@dataclass
class Options:
    clusters: int = 40
    units: int = 25
    criteria: int = 60
    repeat: int = 5
    path: Path | None = None
    keep: bool = False
    existing: bool = False


def insert_scores(path: Path) -> int:
    """A score on every leaf of every assessment (the values of results_read.copy_scores), one transaction."""
    conn = sqlite3.connect(path)
    try:
        leaves = conn.execute(
            "SELECT a.id, c.id, c.position FROM assessments a JOIN criteria c ON c.set_id = a.criteria_set_id "
            "WHERE c.parent_id IS NOT NULL ORDER BY a.id, c.position"
        ).fetchall()

        def rows():
            for assessment_id, criterion_id, position in leaves:
                value = results_read.points(assessment_id, position)
                yield assessment_id, criterion_id, value, value, "", 1, "2026-11-20 08:00:00.000000"

        with conn:  # one transaction
            conn.executemany(
                "INSERT INTO scores (assessment_id, criterion_id, value, points, note, revision, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows(),
            )
        conn.execute("ANALYZE")
        conn.commit()
    finally:
        conn.close()
    return len(leaves)


def _app(url: str):
    os.environ.pop("FLASK_CONFIG", None)
    from config import normalise_database_url
    from portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "WTF_CSRF_ENABLED": False})


def build(url: str, options: Options) -> None:
    """The province's year, then the accounts of a council member and the secretariat."""
    from portal.extensions import db

    app = _app(url)
    with app.app_context():
        results_read.build(db.session, results_read.Options(options.clusters, options.units, options.criteria))
        _accounts(db.session)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _accounts(session) -> None:
    from portal.models import CouncilMember, User

    member = CouncilMember(full_name="Nguyễn Văn Đo Tải")
    council = User(username="bench-council", full_name=member.full_name, kind="council", council_member=member)
    secretariat = User(username="bench-secretariat", full_name="Ban Thi đua - Khen thưởng", kind="secretariat")
    for user in (council, secretariat):
        user.must_change_password = False
        user.set_password(PASSWORD)
    session.add_all([member, council, secretariat])


def pages(session) -> dict[str, list[tuple[str, str]]]:
    """The pages to time, by the account that reads them: (name, path)."""
    from sqlalchemy import func, select

    from portal.models import Assessment, CriteriaSet, EmulationYear, Membership, User

    year_id = session.scalar(select(func.max(Membership.year_id)))
    year = session.get(EmulationYear, year_id).year
    clusters = sorted(session.scalars(select(Membership.cluster_id).distinct().where(Membership.year_id == year_id)))
    middle = len(clusters) // 2
    cluster_id = clusters[middle]
    head = session.scalars(select(User).where(User.username == f"load-c{middle + 1:02d}-u001")).one()
    own = session.scalar(
        select(Assessment.id).where(Assessment.subject_unit_id == head.unit_id, Assessment.stage == "self")
    )
    review = session.scalar(
        select(Assessment.id)
        .where(Assessment.author_unit_id == head.unit_id, Assessment.stage == "peer")
        .order_by(Assessment.id)
        .limit(1)
    )
    set_id = session.scalar(select(CriteriaSet.id).where(CriteriaSet.cluster_id == cluster_id))
    other = session.scalar(
        select(Membership.unit_id)
        .where(Membership.cluster_id == cluster_id, Membership.year_id == year_id, Membership.unit_id != head.unit_id)
        .limit(1)
    )
    where = f"{cluster_id}/{year}"
    return {
        head.username: [
            ("home (head)", "/"),
            ("criteria of the cluster-year", f"/criteria/{where}"),
            ("criteria table", f"/criteria/sets/{set_id}"),
            ("pledge", f"/pledges/{where}"),
            ("scoring progress", f"/scoring/{where}"),
            ("own self-assessment", f"/scoring/assessments/{own}"),
            ("a peer review to fill in", f"/scoring/assessments/{review}"),
            ("peer-review progress", f"/reviews/{where}"),
            ("results", f"/results/{where}"),
            ("a unit's result", f"/results/{where}/units/{other}"),
            ("results Excel", f"/results/{where}.xlsx"),
            ("year-end meeting", f"/meetings/{where}"),
            ("publication", f"/publication/{where}"),
            ("notices", "/notices/"),
        ],
        "bench-council": [
            ("council dashboard", "/dashboard/"),
            ("dashboard: one cluster", f"/dashboard/clusters/{where}"),
            ("dashboard Excel", "/dashboard/export.xlsx"),
            ("clusters", "/clusters/"),
        ],
        "bench-secretariat": [
            ("home (secretariat)", "/"),
            ("units", "/units/"),
            ("the year", f"/years/{year}"),
            ("accounts", "/accounts/"),
            ("audit log", "/audit-log/"),
        ],
    }


def time_pages(app, repeat: int) -> list[tuple[str, str, float, float, float]]:
    """(name, path, first ms, after-a-write ms, median ms of `repeat` reads) of every page, signed in with its role.

    First: the page's first read in this process (templates compiled, the results and dashboard caches
    filled). After a write: the read right after an audited write in the head's cluster-year (a score's
    note), which the results and the dashboard must compute again for that cluster-year. Then `repeat`
    reads with nothing written in between (the median)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Assessment, Score, User

    with app.app_context():
        by_user = pages(db.session)
        head = db.session.scalars(select(User).where(User.username == next(iter(by_user)))).one()
        score_id = db.session.scalar(
            select(Score.id)
            .join(Assessment, Assessment.id == Score.assessment_id)
            .where(Assessment.subject_unit_id == head.unit_id, Assessment.stage == "self")
            .limit(1)
        )
        db.session.remove()
    clients = {}
    for username in by_user:
        clients[username] = client = app.test_client()
        login = client.post("/login", data={"username": username, "password": PASSWORD})
        if login.status_code not in (302, 303):
            raise RuntimeError(f"sign-in of {username}: HTTP {login.status_code}")

    def read(username: str, name: str, path: str) -> float:
        began = time.perf_counter()
        response = clients[username].get(path)
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{name} {path} as {username}: HTTP {response.status_code}")
        return elapsed

    first = {(u, name): read(u, name, path) for u, listed in by_user.items() for name, path in listed}
    found = []
    for number, (username, name, path) in enumerate((u, n, p) for u, listed in by_user.items() for n, p in listed):
        with app.app_context():  # an audited write in the head's cluster-year, as an autosave of a note is
            db.session.get(Score, score_id).note = f"Ghi chú {number}"
            db.session.commit()
        after = read(username, name, path)
        warm = statistics.median(read(username, name, path) for _ in range(repeat))
        found.append((name, path, first[username, name], after, warm))
    return found


def time_ranking(app, repeat: int) -> tuple[float, int]:
    """Median seconds to rank every cluster of the year from the database (no cache), and how many."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import Membership
    from portal.policy import ClusterYear
    from portal.services.monitoring import standings

    with app.app_context():
        year_id = db.session.scalar(select(func.max(Membership.year_id)))
        clusters = sorted(db.session.scalars(select(Membership.cluster_id).distinct()))
        samples = []
        for _ in range(max(1, repeat // 2)):
            began = time.perf_counter()
            ranked = [standings.compute(db.session, ClusterYear(year_id, c)) for c in clusters]
            samples.append(time.perf_counter() - began)
            db.session.rollback()
            assert all(r is not None and r.scored for r in ranked)
        db.session.remove()
    return statistics.median(samples), len(clusters)


def report(figures: dict, options: Options) -> str:
    load, after = figures["load"], figures["load_after"]
    lines = [
        f"SQLite {figures['size_mb']:,.0f} MB: {figures['scores']:,} scores; each page's first read in the process, "
        f"its read after a write, the median of {options.repeat} reads; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} before, {after[0]:.2f} {after[1]:.2f} {after[2]:.2f} after",
        f"{'page':30} {'first ms':>9} {'written ms':>10} {'median ms':>9}   goal < {GOAL_PAGE_MS} ms (written, median)",
    ]
    for name, _path, first, after, warm in figures["pages"]:
        verdict = "met" if max(after, warm) < GOAL_PAGE_MS else "MISSED"
        lines.append(f"{name:30} {first:9,.1f} {after:10,.1f} {warm:9,.1f}   {verdict}")
    seconds, count = figures["ranking"]
    verdict = "met" if seconds < GOAL_RANKING_S else "MISSED"
    lines.append(
        f"ranking of all {count} clusters from the database: {seconds:,.2f} s (goal < {GOAL_RANKING_S} s: {verdict})"
    )
    return "\n".join(lines)


def run(options: Options, out=print) -> dict:
    folder = None
    path = options.path
    if path is None:
        folder = tempfile.TemporaryDirectory(prefix="sqlite-scale-")
        path = Path(folder.name) / "province.db"
    url = f"sqlite:///{path}"
    try:
        if not options.existing:
            if path.exists():
                raise SystemExit(f"{path} exists: give a new path, or --existing to measure on it")
            began = time.perf_counter()
            harness.migrate(url)
            build(url, options)
            built = time.perf_counter() - began
            scores = insert_scores(path)
            out(f"built in {time.perf_counter() - began:.0f} s (structure and assessments {built:.0f} s)")
        else:
            with sqlite3.connect(path) as conn:
                scores = conn.execute("SELECT count(*) FROM scores").fetchone()[0]
        app = _app(url)
        gc.freeze()  # what gunicorn.conf.py's post_worker_init does once a worker has loaded the app
        figures = {"scores": scores, "size_mb": path.stat().st_size / 1e6, "load": os.getloadavg()}
        figures["ranking"] = time_ranking(app, options.repeat)
        figures["pages"] = time_pages(app, options.repeat)
        figures["load_after"] = os.getloadavg()
        out(report(figures, options))
        return figures
    finally:
        if options.keep or options.existing:
            out(f"kept {path}")
        elif folder is not None:
            folder.cleanup()
        else:
            path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Options()
    parser.add_argument("--clusters", type=int, default=defaults.clusters)
    parser.add_argument("--units", type=int, default=defaults.units, help="member units per cluster")
    parser.add_argument("--criteria", type=int, default=defaults.criteria, help="leaf criteria per table")
    parser.add_argument("--repeat", type=int, default=defaults.repeat, help="warm reads of each page (median)")
    parser.add_argument("--path", type=Path, help="the SQLite file to build (default: in a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the file afterwards (with --path)")
    parser.add_argument("--existing", action="store_true", help="measure on --path as an earlier --keep run left it")
    args = parser.parse_args(argv)
    if min(args.clusters, args.units - 2, args.criteria, args.repeat) < 1:
        parser.error("at least 1 cluster, 3 units, 1 criterion and 1 run")
    if (args.keep or args.existing) and args.path is None:
        parser.error("--keep and --existing need --path")
    run(Options(**vars(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
