"""Where one autosave's time goes: its SQL statements, their time, and the rest, on PostgreSQL.

    .venv/bin/python -m bench.save_profile                 # 1 cluster × 2 units, 20 criteria, 40 saves
    .venv/bin/python -m bench.save_profile --saves 100 --database-url postgresql://…/<new name>

Creates a new database (same rules as bench/load_scores.py), runs `flask db upgrade`, seeds it
(bench/seed_load.py), then in this process signs one unit in with Flask's test client and saves its
criteria one after the other through `POST /scoring/assessments/<id>/scores/<criterion>` (htmx). For
every save it counts the SQL statements the request sends and the time spent in them (client side:
the round trip included), and prints the medians, the statements of one save in order, and the share
of the request spent outside SQL (Python: the view, the service, the audit hook, the template).
No concurrency: this is one save's cost, not a queue's.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time
from collections import Counter

from sqlalchemy import event

from bench.harness import ThrowawayDatabase, derived_url, migrate, seed


def _vn(number: float) -> str:
    return f"{number:.2f}".replace(".", ",")


class StatementLog:
    """Statements and their time, for the engine's cursor executions while `on`."""

    def __init__(self, engine):
        self.on, self.rows, self._started = False, [], 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_args):
        self._started = time.perf_counter()

    def _after(self, _conn, _cursor, statement, *_args):
        if self.on:
            self.rows.append((statement, time.perf_counter() - self._started))


def profile(url: str, saves: int, python: bool = False) -> None:
    os.environ.pop("FLASK_CONFIG", None)
    from config import normalise_database_url
    from portal import create_app
    from portal.extensions import db

    manifest = seed(url, "--clusters", "1", "--units", "2", "--criteria", "20")
    unit = manifest["units"][0]
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "WTF_CSRF_ENABLED": False})
    with app.app_context():
        log = StatementLog(db.engine)
    client = app.test_client()
    client.post("/login", data={"username": unit["username"], "password": manifest["password"]})
    criteria = [c["id"] for c in manifest["clusters"][0]["criteria"] if c["method"] == "direct"]
    profiler = cProfile.Profile() if python else None
    if profiler:
        profiler.enable()
    figures = _saves(client, log, unit["assessment_id"], criteria, saves)
    _report(*figures)
    if profiler:
        profiler.disable()
        _python_report(profiler, saves)


def _python_report(profiler: cProfile.Profile, saves: int) -> None:
    """The portal's own functions by cumulative time per save (the profiler's overhead included)."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(r"portal/|flask/app|jinja2/environment|sqlalchemy/orm/session", 25)
    stats.print_stats(r"platform/audit|render|commit", 12)
    print(f"cProfile, {saves} saves (divide cumtime by {saves} for one save):")
    print(out.getvalue())


def _saves(client, log: StatementLog, aid: int, criteria: list[int], saves: int):
    """Every save's request time, SQL time and statement count; the statements of the first update."""
    revisions: dict[int, int] = {}
    totals, sql_times, counts, first = [], [], [], None
    for n in range(saves):
        cid = criteria[n % len(criteria)]
        log.rows, log.on = [], True
        started = time.perf_counter()
        answer = client.post(
            f"/scoring/assessments/{aid}/scores/{cid}",
            data={"value": _vn(1 + n % 7), "note": f"Giải trình {n}", "revision": revisions.get(cid, "")},
            headers={"HX-Request": "true"},
        )
        totals.append(time.perf_counter() - started)
        log.on = False
        if answer.status_code != 200:
            raise SystemExit(f"save {n} answered HTTP {answer.status_code}")
        revisions[cid] = revisions.get(cid, 0) + 1
        sql_times.append(sum(t for _s, t in log.rows))
        counts.append(len(log.rows))
        if n == len(criteria):  # an update of a saved score (the common autosave)
            first = list(log.rows)
    return totals, sql_times, counts, first or log.rows


def _report(totals, sql_times, counts, one) -> None:
    ms = 1000
    print(f"saves: {len(totals)}")
    print(
        f"request median {statistics.median(totals) * ms:.1f} ms, SQL median {statistics.median(sql_times) * ms:.1f} ms"
    )
    print(f"statements per save: median {statistics.median(counts)}, min {min(counts)}, max {max(counts)}")
    kinds = Counter(s.split()[0].upper() for s, _t in one)
    print("one update save:", dict(kinds))
    for statement, seconds in one:
        print(f"  {seconds * ms:6.2f} ms  {' '.join(statement.split())[:150]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="a database to create (and drop)")
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--python", action="store_true", help="also cProfile the saves")
    options = parser.parse_args(argv)
    url = options.database_url or derived_url("profile")
    with ThrowawayDatabase(url, keep=options.keep):
        migrate(url)
        profile(url, options.saves, options.python)


if __name__ == "__main__":
    main()
