"""The council's dashboard at province scale, in process: its time per request against a bare route's.

Seeds a throw-away PostgreSQL database through `bench.seed_load` (C clusters × U units × K criteria, every
self-assessment filled in) and submits every self-assessment, then serves requests with Flask's test
client in this one process, signed in as a council member: a bare route returning a constant string (the
framework floor), the dashboard with its rankings cached (the usual read), the poll answered 304, the
Excel file, and the first read after a write: a score's note (one ranking computed again) and a unit's
name (every ranking computed again). The ratios are
taken in the same run. gunicorn adds its own cost to every request alike; `bench/README.md` has the figures.

    .venv/bin/python -m bench.dashboard                     # 40 clusters × 25 units × 5 criteria
    .venv/bin/python -m bench.dashboard --clusters 3 --units 6
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench import harness


def _timed(client, path: str, repeat: int, headers: dict | None = None, status: int = 200) -> float:
    """The median seconds of `repeat` requests (each must answer `status`)."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers or {})
        samples.append(time.perf_counter() - started)
        assert response.status_code == status, (path, response.status_code)
    return statistics.median(samples)


def _council_user(db) -> str:
    from portal.models import CouncilMember, User

    member = CouncilMember(full_name="Nguyễn Văn Đo Tải")
    user = User(username="bench-council", full_name="Nguyễn Văn Đo Tải", kind="council", council_member=member)
    user.must_change_password = False
    user.set_password(harness_password())
    db.session.add_all([member, user])
    db.session.commit()
    return user.username


def harness_password() -> str:
    return "Do-tai-2026!"


def _signed_in(url: str):
    """The app (with a bare route added) and a test client signed in as a council member."""
    from sqlalchemy import update

    from config import normalise_database_url
    from portal import create_app
    from portal.extensions import db
    from portal.models import Assessment

    os.environ.pop("FLASK_CONFIG", None)
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url), "WTF_CSRF_ENABLED": False})
    app.add_url_rule("/bench-bare", "bench_bare", lambda: "ok")
    with app.app_context():
        db.session.execute(update(Assessment).values(status="submitted"))
        username = _council_user(db)
    client = app.test_client()
    login = client.post("/login", data={"username": username, "password": harness_password()})
    assert login.status_code in (302, 303), login.status_code
    return app, client


def measure(url: str, repeat: int) -> dict:
    """Median seconds per request of the bare route and of each dashboard read."""
    app, client = _signed_in(url)
    client.get("/dashboard/")  # every ranking computed once, then cached
    figures = {"bare": _timed(client, "/bench-bare", repeat)}
    figures["dashboard"] = _timed(client, "/dashboard/", repeat)
    tag = client.get("/dashboard/", headers={"HX-Request": "true"}).headers["ETag"]
    figures["poll_304"] = _timed(client, "/dashboard/", repeat, {"HX-Request": "true", "If-None-Match": tag}, 304)
    figures["excel"] = _timed(client, "/dashboard/export.xlsx", max(3, repeat // 5))
    figures["score_saved"] = _after_writes(app, client, "score")
    figures["unit_renamed"] = _after_writes(app, client, "unit")
    return figures


def _after_writes(app, client, kind: str) -> float:
    """The median seconds of the dashboard read right after a write: a score's note (one cluster's ranking
    is computed again) or a unit's name (every ranking is: names are in them)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import Score, Unit

    samples = []
    for number in range(3):
        with app.app_context():
            if kind == "score":
                score = db.session.scalars(select(Score).order_by(Score.id).limit(1)).first()
                score.note = f"Ghi chú {number}"  # an audited write in one cluster-year
            else:
                unit = db.session.scalars(select(Unit).order_by(Unit.id).limit(1)).first()
                unit.name = f"{unit.name.split(' (')[0]} ({number})"
            db.session.commit()
        started = time.perf_counter()
        assert client.get("/dashboard/").status_code == 200
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=harness.derived_url("dash"))
    parser.add_argument("--clusters", type=int, default=40)
    parser.add_argument("--units", type=int, default=25)
    parser.add_argument("--criteria", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args(argv)
    with harness.ThrowawayDatabase(options.database_url, keep=options.keep) as database:
        harness.migrate(database.url)
        sizes = (
            "--clusters",
            str(options.clusters),
            "--units",
            str(options.units),
            "--criteria",
            str(options.criteria),
        )
        harness.seed(database.url, *sizes, "--scored")
        figures = measure(database.url, options.repeat)
    print(f"{options.clusters} clusters × {options.units} units × {options.criteria} criteria, PostgreSQL, in process")
    bare = figures["bare"]
    for name, seconds in figures.items():
        print(f"{name:12} {seconds * 1000:8.1f} ms  {1 / seconds:8.0f} req/s  {bare / seconds * 100:6.1f} % of bare")


if __name__ == "__main__":
    main()
