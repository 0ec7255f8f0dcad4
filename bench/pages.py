"""Requests per second of the portal's heavy pages under gunicorn, against a bare Flask route in the same server.

    .venv/bin/python -m bench.pages                                  # 40 clusters × 25 units × 60 criteria
    .venv/bin/python -m bench.pages --clusters 4 --units 10 --criteria 20 --duration 5

Builds a province-scale year in a new PostgreSQL database the way `bench/results_read.py` does (all-pairs
peer review, a score on every leaf of every assessment), then serves it with gunicorn (FLASK_CONFIG=production,
--workers sync workers) through `bench.pages:create()`: the portal's own app plus one route, `/bench-bare`,
returning a constant string: the framework floor, measured in the same server and the same run. Signed in
as a cluster head (the chair unit of the middle cluster) — and as a council member for the council's
dashboard —, it measures with `wrk` (installed from Debian's
packages when missing, else a bounded Python client with threads):

- the floor before the first page and after each page: each page is compared with the mean of the two
  floors measured around it (the machine is shared, its load drifts), every floor is printed;
- before each page's measure, `--warmup` seconds of the same load, not counted, so that every worker has
  filled its caches (the figures are the steady state; a worker's first read computes);
- the cluster results page, the progress page (the scoring cluster-year page), the self-assessment page of
  the head's own assessment, the peer-review progress page, and the council dashboard when this branch has it.

Prints requests per second, the ratio against the floor and the goal of issue 18, and the peak resident
memory (VmHWM) of every gunicorn worker after the run. The machine is shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace

from bench import harness

BARE = "/bench-bare"
GOALS = {"results": 40, "progress": 40, "dashboard": 25, "assessment": 25, "reviews": None}


def create():
    """The WSGI app gunicorn serves: the portal, plus the bare route of the floor."""
    from portal import create_app

    app = create_app()
    app.add_url_rule(BARE, "bench_bare", lambda: "ok")
    return app


@dataclass
class Options:
    clusters: int = 40
    units: int = 25
    criteria: int = 60
    duration: int = 10
    connections: int = 8
    workers: int = 4
    warmup: int = 2  # seconds of load before each page's measure, not counted: every worker fills its caches
    database_url: str | None = None
    keep: bool = False
    existing: bool = False  # measure on a database an earlier --keep run built


COUNCIL = "bench-council"
COUNCIL_PASSWORD = "Do-tai-2026!"


# ---------------------------------------------------------------- load tool


def wrk_path() -> str | None:
    """wrk, installed from Debian's packages when missing and we may; None when it cannot be had."""
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, timeout=300, check=False)
    return shutil.which("wrk")


def with_wrk(wrk: str, address: tuple[str, int], path: str, cookie: str, options: Options) -> tuple[float, int]:
    """Requests per second and the count of non-2xx/3xx answers, from wrk's summary."""
    command = [wrk, "-t2", f"-c{options.connections}", f"-d{options.duration}s", "-H", f"Cookie: {cookie}"]
    done = subprocess.run(
        [*command, f"http://{address[0]}:{address[1]}{path}"], capture_output=True, text=True, check=True
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", done.stdout)
    if rate is None:
        raise RuntimeError(f"wrk said:\n{done.stdout}\n{done.stderr}")
    return float(rate.group(1)), int(bad.group(1)) if bad else 0


def with_threads(address: tuple[str, int], path: str, cookies: dict, options: Options) -> tuple[float, int]:
    """The fallback: `connections` threads, each one keep-alive client, for `duration` seconds."""
    counts, bad, stop = [0] * options.connections, [0] * options.connections, time.monotonic() + options.duration

    def loop(index: int) -> None:
        client = harness.Client(address)
        client.cookies = dict(cookies)
        while time.monotonic() < stop:
            status = client.request("GET", path, "page").status
            counts[index] += 1
            bad[index] += status >= 400
        client.close()

    began = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(options.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - began), sum(bad)


# ---------------------------------------------------------------- the run


def build(url: str, options: Options) -> dict:
    """The province's year (bench.results_read's build and COPY of the scores) and a council member's
    account; returns the pages to read."""
    from bench import results_read
    from config import normalise_database_url
    from portal import create_app
    from portal.extensions import db

    os.environ.pop("FLASK_CONFIG", None)
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url)})
    sizes = results_read.Options(options.clusters, options.units, options.criteria)
    with app.app_context():
        results_read.build(db.session, sizes)
        _council_user(db)
        db.session.remove()
        db.engine.dispose()
    scores = results_read.copy_scores(url)
    pages = locate(url)
    pages["scores"] = scores
    return pages


def _council_user(db) -> None:
    """A council member who oversees no cluster (the dashboard shows them all) and can sign in."""
    from portal.models import CouncilMember, User

    member = CouncilMember(full_name="Nguyễn Văn Đo Tải")
    user = User(username=COUNCIL, full_name=member.full_name, kind="council", council_member=member)
    user.must_change_password = False
    user.set_password(COUNCIL_PASSWORD)
    db.session.add_all([member, user])
    db.session.commit()


def locate(url: str) -> dict:
    """The pages to read in a built database: the middle cluster of the newest year, its head's pages."""
    from sqlalchemy import func, select

    from config import normalise_database_url
    from portal import create_app
    from portal.extensions import db
    from portal.models import Assessment, EmulationYear, Membership, Score, User

    os.environ.pop("FLASK_CONFIG", None)
    app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url)})
    with app.app_context():
        year_id = db.session.scalar(select(func.max(Membership.year_id)))
        cluster_ids = sorted(
            db.session.scalars(select(Membership.cluster_id).where(Membership.year_id == year_id).distinct())
        )
        cluster_id = cluster_ids[len(cluster_ids) // 2]
        year = db.session.get(EmulationYear, year_id).year
        head = db.session.scalars(
            select(User).where(User.username == f"load-c{len(cluster_ids) // 2 + 1:02d}-u001")
        ).one()
        assessment_id = db.session.scalar(
            select(Assessment.id).where(Assessment.subject_unit_id == head.unit_id, Assessment.stage == "self")
        )
        pages = {
            "username": head.username,
            "results": f"/results/{cluster_id}/{year}",
            "progress": f"/scoring/{cluster_id}/{year}",
            "assessment": f"/scoring/assessments/{assessment_id}",
            "reviews": f"/reviews/{cluster_id}/{year}",
            "scores": db.session.scalar(select(func.count(Score.id))),
        }
        if "dashboard.index" in app.view_functions:
            pages["dashboard"] = "/dashboard/"
        db.session.remove()
        db.engine.dispose()
    return pages


def peak_memory(pids: list[int]) -> list[int]:
    """VmHWM (KiB) of each process."""
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as file:
                status = file.read()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            found.append(int(match.group(1)))
    return found


def measure(url: str, pages: dict, options: Options, out=print) -> dict:
    """Requests per second of the floor and each page; the workers' peak memory."""
    wrk = wrk_path()
    out(f"load tool: {wrk or 'Python threads (wrk not installable)'}")
    with harness.Gunicorn(url, workers=options.workers, app="bench.pages:create()") as server:
        head = harness.Client(server.address)
        head.login(pages["username"], "Tai-thu-2026!")
        council = harness.Client(server.address)  # the dashboard is the council's page (403 for a cluster head)
        council.login(COUNCIL, COUNCIL_PASSWORD)
        names = [name for name in ("results", "progress", "dashboard", "assessment", "reviews") if name in pages]
        reader = {name: council if name == "dashboard" else head for name in names}
        for name in names:  # every page answers before it is measured
            status = reader[name].request("GET", pages[name], name).status
            if status != 200:
                raise RuntimeError(f"{name} {pages[name]} answered {status}:\n{server.log_tail()}")

        def rate(path: str, client: harness.Client, duration: int | None = None) -> tuple[float, int]:
            timed = options if duration is None else replace(options, duration=duration)
            if wrk:
                cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
                return with_wrk(wrk, server.address, path, cookie, timed)
            return with_threads(server.address, path, client.cookies, timed)

        # the floor before and after every page: the machine is shared, so each page is compared with the
        # floor measured next to it (the mean of the two around it)
        floors = [rate(BARE, head)]
        figures: dict = {}
        for name in names:
            if options.warmup:
                rate(pages[name], reader[name], options.warmup)  # each worker computes and keeps its own
            figures[name] = rate(pages[name], reader[name])
            floors.append(rate(BARE, head))
        figures["floors"] = floors
        figures["names"] = names
        figures["memory"] = peak_memory(server.worker_pids())
    return figures


def report(figures: dict, pages: dict, options: Options, load: tuple[float, float, float]) -> str:
    floors = [rate for rate, _errors in figures["floors"]]
    lines = [
        f"{options.clusters} clusters × {options.units} units × {options.criteria} criteria, all-pairs peer review, "
        f"{pages['scores']:,} scores; gunicorn {options.workers} workers, {options.connections} connections, "
        f"{options.duration} s each after {options.warmup} s of warm-up; load average before "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        f"floor {BARE} before, between and after the pages: {', '.join(f'{f:,.0f}' for f in floors)} req/s "
        f"(mean {sum(floors) / len(floors):,.0f})",
        "page          req/s   floor around   of floor   goal         errors",
    ]
    for name, goal in GOALS.items():
        if name not in figures:
            lines.append(f"{name:12} not in this branch")
            continue
        index = figures["names"].index(name)
        floor = (floors[index] + floors[index + 1]) / 2
        per_second, errors = figures[name]
        share = per_second / floor * 100
        verdict = "" if goal is None else f"≥ {goal} % {'met' if share >= goal else 'MISSED'}"
        lines.append(f"{name:12} {per_second:7,.1f}  {floor:9,.0f}     {share:6.1f} %   {verdict:13} {errors}")
    memory = figures["memory"]
    if memory:
        lines.append(
            f"worker peak RSS (VmHWM): max {max(memory) / 1024:.0f} MiB "
            f"({', '.join(f'{m / 1024:.0f}' for m in memory)}); goal ≤ 150 MiB "
            f"{'met' if max(memory) <= 150 * 1024 else 'MISSED'}"
        )
    return "\n".join(lines)


def run(options: Options, out=print) -> dict:
    url = options.database_url or harness.derived_url("pages")
    if options.existing:
        harness.migrate(url)  # the code may have moved on since the database was built
        pages = locate(url)
        load = os.getloadavg()
        figures = measure(url, pages, options, out)
    else:
        with harness.ThrowawayDatabase(url, keep=options.keep):
            began = time.perf_counter()
            harness.migrate(url)
            pages = build(url, options)
            out(f"database built in {time.perf_counter() - began:.0f} s")
            load = os.getloadavg()
            figures = measure(url, pages, options, out)
    out(report(figures, pages, options, load))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Options()
    parser.add_argument("--database-url", help="a database to create (and drop); default <server>/pages_<pid>")
    parser.add_argument("--clusters", type=int, default=defaults.clusters)
    parser.add_argument("--units", type=int, default=defaults.units, help="member units per cluster")
    parser.add_argument("--criteria", type=int, default=defaults.criteria, help="leaf criteria per table")
    parser.add_argument("--duration", type=int, default=defaults.duration, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=defaults.connections)
    parser.add_argument("--workers", type=int, default=defaults.workers, help="gunicorn workers")
    parser.add_argument(
        "--warmup", type=int, default=defaults.warmup, help="seconds of load before each page, not counted"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--existing", action="store_true", help="measure on the database --database-url kept by an earlier --keep run"
    )
    args = parser.parse_args(argv)
    if args.existing and not args.database_url:
        parser.error("--existing needs --database-url")
    if min(args.clusters, args.units - 2, args.criteria, args.duration) < 1:
        parser.error("at least 1 cluster, 3 units, 1 criterion and 1 second")
    run(Options(**{k: v for k, v in vars(args).items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
