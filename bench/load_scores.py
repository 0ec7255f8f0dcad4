"""Load test of the autosave: many units saving their self-assessment at once, on gunicorn and PostgreSQL.

    .venv/bin/python -m bench.load_scores                   # 2 clusters × 25 units (50 clients), 20 criteria
    .venv/bin/python -m bench.load_scores --units 50 --criteria 40 --workers 4
    .venv/bin/python -m bench.load_scores --pace 3          # each client saves every 3 s on average (a person)

Creates a new database (--database-url, or <server of TEST_DATABASE_URL/DATABASE_URL>/load_<pid>),
runs `flask db upgrade`, seeds it (bench/seed_load.py), starts gunicorn with FLASK_CONFIG=production,
then one thread per unit signs in, opens its assessment page, reads the CSRF token and every
criterion's revision, and saves every criterion through `POST /scoring/assessments/<id>/scores/<criterion>`
as htmx does (HX-Request: true); a share of criteria is saved a second time with the revision the first
answer returned, one more save per unit sends a stale revision and must be refused with 409, and
finally, all units at the same moment, a second tab of the same browser saves a direct criterion at the
same instant as the first, from the same revision, twice: on a criterion not saved yet (both insert the
first score) and on a saved one (both update it); each time exactly one of the two must be accepted
(200) and the other refused (409). Those racing saves, 4 per unit all at the same moment, have a latency
row of their own ("race"); "save" is every other save.

Afterwards, in the database: exactly one score row per (assessment, criterion) saved, holding the last
value and note sent, with one revision per accepted write; direct points equal the value; every
quantitative criterion's points equal a fresh `methods.quantitative` over the stored values and
targets; one audit entry per accepted write; `flask audit verify` passes; no request got a 5xx or no
answer. Prints throughput, p50/p95/p99 latency and counts by status; exits 1 if any check fails.
Stops gunicorn and drops the database (unless --keep).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

from bench.harness import (
    Client,
    Gunicorn,
    Sample,
    ThrowawayDatabase,
    TransportError,
    audit_verify,
    csrf_token,
    derived_url,
    figures,
    format_figures,
    migrate,
    plain_url,
    seed,
    tallies_verify,
)

REVISION = re.compile(r'id="rev-(\d+)-(\d+)" value="(\d*)"')


@dataclass
class Options:
    clusters: int = 2
    units: int = 25
    criteria: int = 20
    workers: int = 4
    twice: float = 0.3  # share of criteria each unit saves a second time
    seed: int = 2026
    database_url: str | None = None
    keep: bool = False
    pace: float = 0.0  # mean seconds between a client's saves (0: back to back, a closed loop)


@dataclass
class UnitRun:
    """What one client did, as it saw it: the values it expects the database to hold."""

    unit: dict
    values: dict[int, Decimal] = field(default_factory=dict)  # criterion → last accepted value
    notes: dict[int, str] = field(default_factory=dict)
    writes: dict[int, int] = field(default_factory=dict)  # criterion → accepted (changing) saves
    errors: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)


@dataclass
class Outcome:
    failures: list[str]
    figures: dict
    report: str

    @property
    def ok(self) -> bool:
        return not self.failures


def _vn(value: Decimal) -> str:
    return str(value).replace(".", ",")


def _value(rng: random.Random, criterion: dict, other: Decimal | None = None) -> Decimal:
    while True:
        if criterion["method"] == "quantitative":
            value = Decimal(rng.randint(300, 4000)) / 10  # actual result, around the targets (100 … 400)
        else:
            value = Decimal(rng.randint(0, int(Decimal(criterion["max_points"]) * 4))) * Decimal("0.25")
        if value != other:
            return value


class UnitBrowser:
    """One unit's browser: sign in, open the form, save every criterion (some twice), one stale save;
    then a second tab (same cookies) racing the first from the same revision, on a first save and on a
    change of a saved score."""

    def __init__(self, address, password: str, run: UnitRun, criteria: list[dict], options: Options):
        self.address, self.password, self.run, self.options = address, password, run, options
        self.client = Client(address)
        self.rng = random.Random(options.seed * 100_003 + run.unit["unit_id"])
        self.aid = run.unit["assessment_id"]
        self.by_id = {c["id"]: c for c in criteria}
        self.name = run.unit["username"]
        self.lock = threading.Lock()  # the racing tab's thread shares the run and the random generator

    def __call__(self, start: threading.Barrier, race_start: threading.Barrier, opened: threading.Barrier) -> None:
        run, raced, paced = self.run, False, self.options.pace > 0
        try:
            start.wait()
            revisions = self.open()
            if paced:  # every unit signed in before the first paced save: sign-ins (scrypt) are not autosaves
                paced = False
                opened.wait(timeout=600)
            if revisions is None:
                return
            order = list(self.by_id)
            self.rng.shuffle(order)
            direct = [cid for cid in order if self.by_id[cid]["method"] == "direct"]
            fresh = direct.pop() if direct else None  # left for the race of two first saves
            order = [cid for cid in order if cid != fresh]
            twice = order[: round(len(order) * self.options.twice)]
            self.rng.shuffle(twice)
            for cid in order:
                self.think()
                revisions[cid] = self.save(self.client, cid, revisions[cid], f"Giải trình {cid}") or ""
            for cid in twice:
                self.think()
                revisions[cid] = self.save(self.client, cid, revisions[cid], f"Giải trình {cid}, sửa lần 2") or ""
            if twice and run.writes.get(twice[0], 0) >= 2:  # a colleague's tab still on revision 1: refused
                self.save(self.client, twice[0], "1", "Bản cũ, phải bị từ chối", expected=409)
            raced = True
            race_start.wait(timeout=300)  # every unit's two tabs at the same moment: the widest overlap
            if fresh is not None:  # both tabs make the first save (revision 0 on the page)
                self.race(fresh, revisions[fresh])
            if direct:  # both tabs change a saved score from the same revision
                self.race(direct[-1], revisions[direct[-1]])
        except (TransportError, RuntimeError, threading.BrokenBarrierError) as error:
            run.errors.append(f"{self.name}: {type(error).__name__} {error}")
        finally:
            if paced:
                with contextlib.suppress(threading.BrokenBarrierError):
                    opened.wait(timeout=600)
            if not raced:  # keep the count, so the others are not left waiting
                with contextlib.suppress(threading.BrokenBarrierError):
                    race_start.wait(timeout=300)
            self.client.close()
            run.samples += self.client.samples

    def think(self) -> None:
        """At a paced run, the time a person takes before the next autosave: uniform over 0,5 to 1,5 × pace."""
        if self.options.pace > 0:
            with self.lock:
                pause = self.rng.uniform(0.5, 1.5) * self.options.pace
            time.sleep(pause)

    def open(self) -> dict[int, str] | None:
        self.client.login(self.name, self.password)
        page = self.client.request("GET", f"/scoring/assessments/{self.aid}", "page")
        if page.status != 200:
            self.run.errors.append(f"{self.name}: assessment page HTTP {page.status}")
            return None
        self.token = csrf_token(page.text)
        revisions = {int(c): r for a, c, r in REVISION.findall(page.text) if int(a) == self.aid}
        if set(revisions) != set(self.by_id):
            self.run.errors.append(
                f"{self.name}: the page offers criteria {sorted(revisions)}, not {sorted(self.by_id)}"
            )
            return None
        return revisions

    def save(
        self, client: Client, cid: int, revision: str, note: str, expected: int | tuple = 200, kind: str = "save"
    ) -> str | None:
        """One autosave as htmx sends it; on 200 the value is what the database must hold, and the
        answer's out-of-band revision input must carry the next revision. `kind` names its latency row."""
        run = self.run
        value = self.rng_value(cid)
        answer = client.request(
            "POST",
            f"/scoring/assessments/{self.aid}/scores/{cid}",
            kind,
            form={"csrf_token": self.token, "value": _vn(value), "note": note, "revision": revision},
            headers={"HX-Request": "true", "HX-Current-URL": f"/scoring/assessments/{self.aid}"},
        )
        if answer.status not in (expected if isinstance(expected, tuple) else (expected,)):
            run.errors.append(f"{self.name}: save of criterion {cid} got HTTP {answer.status}, not {expected}")
            return None
        if answer.status != 200:
            return None
        new = {int(c): r for a, c, r in REVISION.findall(answer.text) if int(a) == self.aid}.get(cid)
        with self.lock:
            run.values[cid], run.notes[cid] = value, note
            run.writes[cid] = run.writes.get(cid, 0) + 1
            if new != str(run.writes[cid]):
                run.errors.append(f"{self.name}: criterion {cid} answered revision {new!r}, not {run.writes[cid]}")
        return new

    def rng_value(self, cid: int) -> Decimal:
        with self.lock:
            return _value(self.rng, self.by_id[cid], self.run.values.get(cid))

    def race(self, cid: int, revision: str) -> None:
        """Two tabs save one criterion at the same instant from the same revision: one 200, one 409."""
        tab = Client(self.address)
        tab.cookies = dict(self.client.cookies)
        both = threading.Barrier(2)
        before = self.run.writes.get(cid, 0)

        def press(client: Client, note: str) -> None:
            both.wait()
            try:
                self.save(client, cid, revision, note, expected=(200, 409), kind="race")
            except TransportError as error:
                self.run.errors.append(f"{self.name}: {error}")

        other = threading.Thread(target=press, args=(tab, "Tab thứ hai"))
        other.start()
        press(self.client, "Tab thứ nhất")
        other.join()
        tab.close()
        self.run.samples += tab.samples
        if self.run.writes.get(cid, 0) != before + 1:
            self.run.errors.append(
                f"{self.name}: two tabs saving criterion {cid} from revision {revision}: "
                f"{self.run.writes.get(cid, 0) - before} accepted, expected exactly 1"
            )


def drive(address, manifest: dict, options: Options) -> tuple[list[UnitRun], float]:
    """Every unit at once, one thread each; returns their runs and the wall time of the whole."""
    criteria = {c["id"]: c["criteria"] for c in manifest["clusters"]}
    runs = [UnitRun(unit) for unit in manifest["units"]]
    start, race_start = threading.Barrier(len(runs) + 1), threading.Barrier(len(runs))
    opened = threading.Barrier(len(runs))
    threads = [
        threading.Thread(
            target=UnitBrowser(address, manifest["password"], run, criteria[run.unit["cluster_id"]], options),
            args=(start, race_start, opened),
            daemon=True,
        )
        for run in runs
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return runs, time.perf_counter() - began


def check_database(url: str, manifest: dict, runs: list[UnitRun]) -> list[str]:
    """The database after the run against what every client was told was saved."""
    from portal.services.criteria import methods

    failures: list[str] = []
    with psycopg.connect(plain_url(url)) as conn:
        rows = conn.execute(
            "SELECT s.assessment_id, s.criterion_id, s.value, s.points, s.note, s.revision, a.subject_unit_id,"
            " a.round_id FROM scores s JOIN assessments a ON a.id = s.assessment_id"
        ).fetchall()
        targets = {
            (unit_id, cid): target
            for unit_id, cid, target in conn.execute("SELECT unit_id, criterion_id, target FROM target_registrations")
        }
        audited = dict(
            conn.execute(
                "SELECT action, count(*) FROM audit_entries WHERE object_type = 'Score' GROUP BY action"
            ).fetchall()
        )
    stored: dict[tuple[int, int], list] = defaultdict(list)
    for row in rows:
        stored[(row[0], row[1])].append(row)
    expected = {(r.unit["assessment_id"], cid): (r, cid) for r in runs for cid in r.values}
    failures += [
        f"score row nobody saved: assessment {a}, criterion {c}" for a, c in sorted(set(stored) - set(expected))
    ]
    for key, (run, cid) in sorted(expected.items()):
        found = stored.get(key, [])
        if len(found) != 1:
            failures.append(f"assessment {key[0]}, criterion {cid}: {len(found)} score rows, expected exactly 1")
            continue
        _aid, _cid, value, _points, note, revision, *_ = found[0]
        if value is None or value != run.values[cid] or note != run.notes[cid]:
            failures.append(
                f"assessment {key[0]}, criterion {cid}: stored {value} «{note}», last sent {run.values[cid]} "
                f"«{run.notes[cid]}» (lost update)"
            )
        if revision != run.writes[cid]:
            failures.append(
                f"assessment {key[0]}, criterion {cid}: revision {revision}, accepted writes {run.writes[cid]}"
            )
    failures += _check_points(manifest, rows, targets, methods)
    creates, updates = len(expected), sum(r.writes[c] - 1 for r in runs for c in r.writes)
    if audited.get("create", 0) != creates or audited.get("update", 0) != updates:
        failures.append(
            f"audit entries for scores: {audited.get('create', 0)} created / {audited.get('update', 0)} updated, "
            f"expected {creates} / {updates} (one per accepted write)"
        )
    return failures


def _check_points(manifest: dict, rows, targets: dict, methods) -> list[str]:
    failures = []
    method = {c["id"]: c for cluster in manifest["clusters"] for c in cluster["criteria"]}
    groups: dict[tuple[int, int], list] = defaultdict(list)
    for row in rows:
        aid, cid, value, points, _note, _rev, unit_id, round_id = row
        criterion = method[cid]
        if criterion["method"] == "quantitative":
            groups[(round_id, cid)].append(row)
        elif value is not None and points != methods.round_points(value):
            failures.append(f"assessment {aid}, criterion {cid}: points {points} for the direct value {value}")
    for (_round_id, cid), group in groups.items():
        results = {row[6]: (row[2], targets.get((row[6], cid))) for row in group}
        fresh = methods.quantitative(results, Decimal(method[cid]["max_points"]))
        for aid, _cid, value, points, _note, _rev, unit_id, _r in group:
            want = fresh[unit_id] if value is not None else None
            if points != want:
                failures.append(
                    f"assessment {aid}, quantitative criterion {cid}: stored points {points}, "
                    f"a fresh recompute gives {want}"
                )
    return failures


def run(options: Options, out=print) -> Outcome:
    url = options.database_url or derived_url("load")
    units = options.clusters * options.units
    out(
        f"load: {options.clusters} clusters × {options.units} units = {units} clients, {options.criteria} criteria, "
        f"gunicorn -w {options.workers}, database {plain_url(url).rsplit('/', 1)[-1]}, "
        + (f"paced: a save every {options.pace:g} s on average per client" if options.pace else "closed loop")
    )
    with ThrowawayDatabase(url, keep=options.keep):
        began = time.perf_counter()
        migrate(url)
        manifest = seed(
            url, "--clusters", str(options.clusters), "--units", str(options.units), "--criteria", str(options.criteria)
        )
        out(f"database migrated and seeded in {time.perf_counter() - began:.1f} s")
        with Gunicorn(url, options.workers) as server:
            runs, elapsed = drive(server.address, manifest, options)
            log = server.log_text()
        samples = [s for r in runs for s in r.samples]
        result = figures(samples, elapsed)
        failures = [e for r in runs for e in r.errors]
        server_errors = sum(n for code, n in result["status"].items() if code >= 500)
        if server_errors:
            failures.append(f"{server_errors} requests answered with a 5xx")
        if result["status"].get(0):
            failures.append(f"{result['status'][0]} requests got no answer")
        failures += check_database(url, manifest, runs)
        passed, verdict = audit_verify(url)
        if not passed:
            failures.append(f"flask audit verify: {verdict}")
        tallied, said = tallies_verify(url)
        if not tallied:
            failures.append(f"flask results tallies: {said}")
    saves = sum(sum(r.writes.values()) for r in runs)
    lines = [format_figures(result), f"accepted saves: {saves}; audit: {verdict}"]
    if failures:
        lines.append(f"FAILED ({len(failures)}):")
        lines += [f"  ✗ {failure}" for failure in failures[:50]]
        if "Traceback" in log:
            lines.append("gunicorn log (tracebacks):\n" + "\n".join(log.splitlines()[-80:]))
    else:
        lines.append(
            "OK: every saved value present exactly once with its last value, points recomputed, "
            "no 5xx, audit chain intact"
        )
    report = "\n".join(lines)
    out(report)
    return Outcome(failures, result, report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Options()
    parser.add_argument("--database-url", help="a database to create (and drop); default <server>/load_<pid>")
    parser.add_argument("--clusters", type=int, default=defaults.clusters)
    parser.add_argument("--units", type=int, default=defaults.units, help="units (= concurrent clients) per cluster")
    parser.add_argument("--criteria", type=int, default=defaults.criteria, help="leaf criteria per table")
    parser.add_argument("--workers", type=int, default=defaults.workers, help="gunicorn workers")
    parser.add_argument("--twice", type=float, default=defaults.twice, help="share of criteria saved a second time")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed of the values sent")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--pace", type=float, default=defaults.pace, help="mean seconds between a client's saves (0: back to back)"
    )
    args = parser.parse_args(argv)
    options = Options(
        clusters=args.clusters,
        units=args.units,
        criteria=args.criteria,
        workers=args.workers,
        twice=args.twice,
        seed=args.seed,
        database_url=args.database_url,
        keep=args.keep,
        pace=args.pace,
    )
    return 0 if run(options).ok else 1


if __name__ == "__main__":
    sys.exit(main())
