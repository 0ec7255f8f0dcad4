"""Failure test of the submit: SIGKILL gunicorn workers in the middle of submissions.

    .venv/bin/python -m bench.kill_submit                     # 2 clusters × 15 units, 4 criteria, 2 kills
    .venv/bin/python -m bench.kill_submit --units 40 --kills 3

Creates a new database (--database-url, or <server of TEST_DATABASE_URL/DATABASE_URL>/kill_<pid>),
migrates it, seeds it with every unit's self-assessment fully scored (bench/seed_load.py --scored),
starts gunicorn (FLASK_CONFIG=production). Every unit signs in and opens its form; then, in kills + 2
waves (a share of the units each; one kill per wave, the last wave takes whatever kills are left, so a
wave that ends before a worker is caught costs nothing), the wave's units press "Nộp bản tự chấm" at
once, every other unit in two tabs (`POST /scoring/assessments/<id>/submit`, HX-Request; exactly one of
a unit's presses may succeed, the other is "already submitted", 422), while a watcher finds, in
pg_locks, a transaction that has already written a submission (it holds the assessments table's
RowExclusiveLock) but not committed, maps its connection to the gunicorn worker that owns it
(pg_stat_activity.client_port → /proc/net/tcp → /proc/<pid>/fd). To be sure of the moment, it first
freezes every worker (SIGSTOP), looks again, sends SIGKILL to a worker whose submission is still
uncommitted, and lets the others go on (SIGCONT); so each kill lands between the UPDATE and the COMMIT
(at the very latest while the COMMIT is on its way, before the answer is sent). gunicorn replaces the
worker; the request it was serving gets no answer.

Afterwards every assessment must be either submitted once (status, submitted_at, submitted_by_user_id,
and exactly one audit entry of that submission, matching the row) or still a draft with nothing of the
submission written (no submitted_at, no submitter, no audit entry); every request answered 204 must be
submitted; no 5xx; `flask audit verify` passes; and submitting the drafts again works. Exits 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.harness import (
    Client,
    Gunicorn,
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

WRITING_SUBMISSION = """
SELECT a.pid, a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.relation = 'assessments'::regclass AND l.mode = 'RowExclusiveLock'
  AND l.granted AND a.datname = current_database() AND a.pid <> pg_backend_pid()
"""
BUSY = """
SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND (state LIKE 'idle in transaction%' OR (state = 'active' AND backend_type = 'client backend'))
"""
SUBMISSION_ENTRIES = """
SELECT object_id, changes FROM audit_entries
WHERE object_type = 'Assessment' AND action = 'update' AND changes->'status'->>1 = 'submitted'
"""


@dataclass
class KillOptions:
    clusters: int = 2
    units: int = 15
    criteria: int = 4
    workers: int = 4
    kills: int = 2
    tabs: int = 2  # every other unit presses submit in this many tabs at once: exactly one may succeed
    database_url: str | None = None
    keep: bool = False


@dataclass
class Kill:
    """A worker killed, frozen, while its transaction held a written, uncommitted submission (a COMMIT
    already on its way may still complete: then the submission stands, whole, but unanswered)."""

    worker: int
    backend: int


@dataclass
class KillOutcome:
    failures: list[str]
    kills: list[Kill]
    answered: dict[int, list[int]] = field(default_factory=dict)  # assessment → HTTP statuses (0: no answer)
    drafts_after_kill: list[int] = field(default_factory=list)
    report: str = ""

    @property
    def ok(self) -> bool:
        return not self.failures


def _socket_inodes(port: int) -> set[str]:
    """Inodes of local TCP sockets whose local port is `port` (the client side of a PostgreSQL connection)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def worker_owning(port: int, workers: list[int]) -> int | None:
    """The gunicorn worker holding the TCP connection whose local port is `port`."""
    inodes = {f"socket:[{inode}]" for inode in _socket_inodes(port)}
    for pid in workers:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    return None


class Killer(threading.Thread):
    """Watches PostgreSQL for uncommitted submissions and SIGKILLs the worker writing one, `count` times."""

    def __init__(self, url: str, server: Gunicorn, count: int, go: threading.Event, until: threading.Event):
        super().__init__(daemon=True)
        self.url, self.server, self.count, self.go, self.until = url, server, count, go, until
        self.kills: list[Kill] = []
        self.error: str | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(plain_url(self.url), autocommit=True) as conn:
                self.go.wait()
                while len(self.kills) < self.count and not self.until.is_set():
                    self._try(conn)
                    time.sleep(0.005)  # let the workers run between looks
        except Exception as error:  # reported as a failure of the scenario, never swallowed
            self.error = f"{type(error).__name__}: {error}"

    def _try(self, conn) -> None:
        if not conn.execute(WRITING_SUBMISSION).fetchall():
            return
        killed = {k.worker for k in self.kills}
        workers = [pid for pid in self.server.worker_pids() if pid not in killed]
        _signal(workers, signal.SIGSTOP)  # frozen, no worker can send its COMMIT nor its answer
        try:
            for backend, port in conn.execute(WRITING_SUBMISSION).fetchall():
                worker = worker_owning(port, workers)
                if worker is not None:
                    os.kill(worker, signal.SIGKILL)
                    self.kills.append(Kill(worker, backend))
                    return
        finally:
            _signal([pid for pid in workers if pid not in {k.worker for k in self.kills}], signal.SIGCONT)


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # a worker that just exited
            os.kill(pid, signum)


class Unit:
    """One unit's browser, signed in, with `tabs` tabs on its form (sharing its cookies)."""

    def __init__(self, address, unit: dict, tabs: int):
        self.unit, self.aid = unit, unit["assessment_id"]
        self.tabs = [Client(address) for _ in range(tabs)]
        self.token = ""

    def sign_in(self, password: str, errors: list[str]) -> None:
        first = self.tabs[0]
        try:
            first.login(self.unit["username"], password)
            page = first.request("GET", f"/scoring/assessments/{self.aid}", "page")
            self.token = csrf_token(page.text)
        except (TransportError, RuntimeError) as error:
            errors.append(f"{self.unit['username']}: {error}")
        for tab in self.tabs[1:]:
            tab.cookies = dict(first.cookies)

    def press(self, tab: Client, answered: dict, start: threading.Barrier, delay: float, together: threading.Barrier):
        """After the common start and this unit's small delay, all its tabs press at once: their
        connections queue side by side, so two workers take them at the same time."""
        start.wait()
        time.sleep(delay)
        together.wait()
        self.submit(tab, answered)

    def submit(self, tab: Client, answered: dict[int, list[int]]) -> None:
        """Press "Nộp bản tự chấm" as htmx sends it; the status (0 when the worker died under it) is recorded."""
        try:
            status = tab.request(
                "POST",
                f"/scoring/assessments/{self.aid}/submit",
                "submit",
                form={"csrf_token": self.token},
                headers={"HX-Request": "true", "HX-Current-URL": f"/scoring/assessments/{self.aid}"},
            ).status
        except TransportError:
            status = 0
        answered.setdefault(self.aid, []).append(status)


def _in_parallel(targets: list[tuple]) -> None:
    threads = [threading.Thread(target=target, args=args, daemon=True) for target, *args in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _settle(url: str, timeout: float = 60) -> None:
    """Wait until the killed workers' transactions are gone (PostgreSQL rolls them back on the closed socket)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        while conn.execute(BUSY).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.1)


def _wait_workers(server: Gunicorn, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(server.worker_pids()) < server.workers and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # a replaced worker imports the app before it accepts


def check_states(url: str, manifest: dict, answered: dict[int, list[int]]) -> tuple[list[str], list[int]]:
    """Every assessment fully submitted once, or untouched; returns the failures and the drafts."""
    failures, drafts = [], []
    with psycopg.connect(plain_url(url)) as conn:
        rows = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT id, status, submitted_at, submitted_by_user_id FROM assessments WHERE stage = 'self'"
            )
        }
        entries: dict[int, list[dict]] = {}
        for object_id, changes in conn.execute(SUBMISSION_ENTRIES):
            entries.setdefault(int(object_id), []).append(changes)
    for unit in manifest["units"]:
        aid = unit["assessment_id"]
        status, submitted_at, submitted_by = rows[aid]
        logged, statuses = entries.get(aid, []), answered.get(aid, [])
        if statuses.count(204) > 1:
            failures.append(f"assessment {aid}: submitted {statuses.count(204)} times (answers {statuses})")
        if any(s not in (0, 204, 422) for s in statuses):
            failures.append(f"assessment {aid}: submit answered {statuses}")
        if status == "submitted":
            if submitted_at is None or submitted_by != unit["user_id"]:
                failures.append(f"assessment {aid}: submitted with submitted_at={submitted_at}, by={submitted_by}")
            if len(logged) != 1:
                failures.append(f"assessment {aid}: submitted, with {len(logged)} audit entries of the submission")
            elif logged[0].get("submitted_at", [None, None])[1] != (submitted_at and submitted_at.isoformat()):
                failures.append(f"assessment {aid}: the audit entry's submitted_at does not match the row")
        elif status == "draft":
            drafts.append(aid)
            if submitted_at is not None or submitted_by is not None or logged:
                failures.append(
                    f"assessment {aid}: half-submitted draft (submitted_at={submitted_at}, by={submitted_by}, "
                    f"{len(logged)} audit entries)"
                )
            if 204 in statuses or 422 in statuses:  # 422: "already submitted", which it is not
                failures.append(f"assessment {aid}: a draft, but its submits were answered {statuses}")
        else:
            failures.append(f"assessment {aid}: status {status!r}, expected 'submitted' or 'draft'")
    return failures, drafts


class KillScenario:
    def __init__(self, options: KillOptions, url: str):
        self.options, self.url = options, url
        self.outcome = KillOutcome([], [])
        self.again: dict[int, list[int]] = {}
        self.verdict = ""
        self.samples: list = []
        self.elapsed = 0.0  # seconds the waves of presses took, together

    def run(self, server: Gunicorn, manifest: dict) -> None:
        outcome = self.outcome
        # every other unit presses in several tabs; a killed single press leaves a draft to submit again
        units = [Unit(server.address, u, self.options.tabs if i % 2 else 1) for i, u in enumerate(manifest["units"])]
        _in_parallel([(u.sign_in, manifest["password"], outcome.failures) for u in units])
        # in waves, one kill in each: a single wave may end before a second worker is caught (2 cores; with one
        # wave to spare, 1 run in about 10 of the suite's missed one kill)
        waves = self.options.kills + 2  # two waves to spare
        for number in range(waves):
            if number:
                _settle(self.url)
                _wait_workers(server)
            wanted = self.options.kills - len(outcome.kills)
            self.wave(server, units[number::waves], wanted if number == waves - 1 else min(wanted, 1))
        self.figures = figures(self.samples, self.elapsed)
        _settle(self.url)
        failures, drafts = check_states(self.url, manifest, outcome.answered)
        outcome.failures += failures
        outcome.drafts_after_kill = drafts
        self.audit("after the kills")
        _wait_workers(server)
        _in_parallel([(u.submit, u.tabs[0], self.again) for u in units if u.aid in drafts])
        outcome.failures += [f"re-submitting draft {a}: HTTP {s}" for a, s in self.again.items() if s != [204]]
        failures, left = check_states(self.url, manifest, {})
        outcome.failures += failures + [f"assessment {a} still a draft after re-submitting" for a in left]
        self.audit("after re-submitting")
        if len(outcome.kills) < self.options.kills:
            outcome.failures.append(
                f"only {len(outcome.kills)} of {self.options.kills} workers were caught in the middle of a "
                "submission (each wave ended first: use more units)"
            )

    def wave(self, server: Gunicorn, units: list[Unit], kills: int) -> None:
        """Every tab of these units presses submit at once while the watcher kills up to `kills` workers."""
        go, done = threading.Event(), threading.Event()
        killer = Killer(self.url, server, kills, go, done)
        killer.start()
        start = threading.Barrier(sum(len(u.tabs) for u in units) + 1)
        presses = []
        for index, unit in enumerate(units):
            together = threading.Barrier(len(unit.tabs))
            presses += [(unit.press, tab, self.outcome.answered, start, index * 0.003, together) for tab in unit.tabs]
        wave = threading.Thread(target=_in_parallel, args=(presses,))
        wave.start()
        go.set()
        start.wait()
        began = time.perf_counter()
        wave.join()
        self.elapsed += time.perf_counter() - began
        done.set()
        killer.join()
        self.samples += [s for u in units for t in u.tabs for s in t.samples if s.kind == "submit"]
        self.outcome.kills += killer.kills
        if killer.error:
            self.outcome.failures.append(f"the watcher failed: {killer.error}")

    def cut_off(self) -> str:
        """What became of the assessments whose press got no answer."""
        rolled_back = taken_over = committed = 0
        for aid, statuses in self.outcome.answered.items():
            if 0 not in statuses:
                continue
            if aid in self.outcome.drafts_after_kill:
                rolled_back += 1
            elif 204 in statuses:
                taken_over += 1
            else:
                committed += 1
        return (
            f"presses without answer, by assessment: {rolled_back} rolled back (left a draft), {taken_over} rolled "
            f"back then submitted by the unit's other tab, {committed} committed just before the kill"
        )

    def audit(self, when: str) -> None:
        passed, self.verdict = audit_verify(self.url)
        if not passed:
            self.outcome.failures.append(f"flask audit verify {when}: {self.verdict}")
        tallied, said = tallies_verify(self.url)  # the submissions cut off took their tallies with them
        if not tallied:
            self.outcome.failures.append(f"flask results tallies {when}: {said}")

    def report(self, log: str) -> str:
        outcome = self.outcome
        statuses = [s for answers in outcome.answered.values() for s in answers]
        lines = [
            "killed workers (each seen with a written, uncommitted submission): "
            + (", ".join(f"{k.worker} (PostgreSQL backend {k.backend})" for k in outcome.kills) or "none"),
            f"{self.options.kills + 2} waves ({len(statuses)} presses): {statuses.count(204)} submitted (204), "
            f"{statuses.count(422)} refused as already submitted (422), {statuses.count(0)} without answer; "
            f"{len(outcome.drafts_after_kill)} drafts left, re-submitted {len(self.again)}",
            self.cut_off(),
            format_figures(self.figures),
            f"audit: {self.verdict}",
        ]
        if outcome.failures:
            lines.append(f"FAILED ({len(outcome.failures)}):")
            lines += [f"  ✗ {failure}" for failure in outcome.failures[:50]]
            if "Traceback" in log:
                lines.append("gunicorn log:\n" + "\n".join(log.splitlines()[-80:]))
        else:
            lines.append(
                "OK: every assessment submitted exactly once or an untouched draft; drafts re-submitted; "
                "audit chain intact"
            )
        return "\n".join(lines)


def run(options: KillOptions, out=print) -> KillOutcome:
    url = options.database_url or derived_url("kill")
    out(
        f"kill: {options.clusters} clusters × {options.units} units submitting at once (every other one in "
        f"{options.tabs} tabs); "
        f"gunicorn -w {options.workers}, {options.kills} SIGKILLs, database {plain_url(url).rsplit('/', 1)[-1]}"
    )
    scenario = KillScenario(options, url)
    with ThrowawayDatabase(url, keep=options.keep):
        migrate(url)
        sizes = (
            "--clusters",
            str(options.clusters),
            "--units",
            str(options.units),
            "--criteria",
            str(options.criteria),
        )
        manifest = seed(url, *sizes, "--scored")
        with Gunicorn(url, options.workers) as server:
            scenario.run(server, manifest)
            log = server.log_text()
    scenario.outcome.report = scenario.report(log)
    out(scenario.outcome.report)
    return scenario.outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = KillOptions()
    parser.add_argument("--database-url", help="a database to create (and drop); default <server>/kill_<pid>")
    parser.add_argument("--clusters", type=int, default=defaults.clusters)
    parser.add_argument("--units", type=int, default=defaults.units, help="units (= concurrent submits) per cluster")
    parser.add_argument("--criteria", type=int, default=defaults.criteria)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--kills", type=int, default=defaults.kills, help="workers to SIGKILL mid-submission")
    parser.add_argument("--tabs", type=int, default=defaults.tabs, help="tabs per unit pressing submit at once")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    options = KillOptions(
        clusters=args.clusters,
        units=args.units,
        criteria=args.criteria,
        workers=args.workers,
        kills=args.kills,
        tabs=args.tabs,
        database_url=args.database_url,
        keep=args.keep,
    )
    return 0 if run(options).ok else 1


if __name__ == "__main__":
    sys.exit(main())
