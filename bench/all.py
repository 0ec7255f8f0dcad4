"""Every measurement of issue 18 in one command, one after the other, on one province-scale year.

    .venv/bin/python -m bench.all                      # 40 clusters × 25 units × 60 criteria (about an hour)
    .venv/bin/python -m bench.all --small              # 4 × 10 × 20: every script runs, in a few minutes
    .venv/bin/python -m bench.all --only results_read,pages
    .venv/bin/python -m bench.all --list               # the steps and the goal each one measures

The province-scale PostgreSQL year is built once, by the first step that needs it (`pages --keep`: the year of
`results_read` plus a council member's account), and the next ones measure on it (`--existing`); it is dropped
at the end (`--keep` keeps it and prints its URL). The other steps build what they need themselves (the
autosave and kill scenarios their own small year, `sqlite_scale` its SQLite file). Each step's output is shown
as it comes and written to `bench/runs/<date-time>.log`; a step that fails is reported and the next one still
runs. Nothing is asserted here: the figures, each against its floor from the same run, are what to read
(bench/README.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench import harness

RUNS = Path(__file__).with_name("runs")


@dataclass(frozen=True)
class Step:
    name: str
    goal: str
    shared_year: bool  # measures on the province-scale PostgreSQL year
    args: tuple[str, ...] = ()


STEPS = (
    Step("results_engine", "the results engine alone, every basis, with and without detail", False),
    Step("pages", "goals 2, 4, 5: pages' requests per second against the bare route; workers' peak memory", True),
    Step("results_read", "goal 1: the results read against the bare SQL aggregate (one cluster, every cluster)", True),
    Step("dashboard", "issue 17: the council's dashboard in process against a bare route", False),
    Step("save_profile", "goal 3: one autosave's statements and where its time goes", False),
    Step("load_scores", "goal 3: 50 writers saving back to back (closed loop)", False),
    Step("load_scores", "goal 3: 50 writers saving at a person's pace (every 3 s on average)", False, ("--pace", "3")),
    Step("kill_submit", "submissions under SIGKILL: nothing lost or doubled; audit verify", False),
    Step("sqlite_scale", "goal 6: SQLite at one province's scale (pages, ranking of every cluster)", False),
)

SMALL = {"clusters": 4, "units": 10, "criteria": 20}
SIZED = {"results_read", "pages", "dashboard", "sqlite_scale"}  # the steps that take --clusters/--units/--criteria


def _label(step: Step) -> str:
    return " ".join((step.name, *step.args))


def command(step: Step, url: str, small: bool, year_built: bool) -> list[str]:
    """The step's command line: the shared year's URL (built by the first step that needs it), the sizes."""
    args = [sys.executable, "-m", f"bench.{step.name}", *step.args]
    if step.shared_year:
        args += ["--database-url", url, "--existing" if year_built else "--keep"]
    if small and step.name in SIZED:
        args += [f"--{key}={value}" for key, value in SMALL.items()]
        if step.name == "pages":
            args += ["--duration", "3"]
    return args


def run(steps: list[Step], small: bool, keep: bool) -> int:
    RUNS.mkdir(exist_ok=True)
    log_path = RUNS / f"{datetime.now():%Y%m%d-%H%M%S}.log"
    url = harness.derived_url("all")
    year_built, failed = False, []
    with log_path.open("w", encoding="utf-8") as log:
        for step in steps:
            args = command(step, url, small, year_built)
            heading = f"\n== {_label(step)} — {step.goal}\n$ {' '.join(args[1:])}\n"
            print(heading, flush=True)
            log.write(heading)
            started = time.monotonic()
            with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
                for line in process.stdout:
                    sys.stdout.write(line)
                    log.write(line)
            elapsed = f"-- {_label(step)}: exit {process.returncode} after {time.monotonic() - started:.0f} s\n"
            print(elapsed, end="", flush=True)
            log.write(elapsed)
            if process.returncode != 0:
                failed.append(_label(step))
            elif step.shared_year:
                year_built = True
        if year_built and not keep:
            harness.ThrowawayDatabase(url).drop()
        summary = f"\nlog: {log_path}\n" + (f"failed: {', '.join(failed)}\n" if failed else "every step ran\n")
        if year_built and keep:
            summary += f"kept the province-scale year: {url}\n"
        print(summary, end="")
        log.write(summary)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="4 clusters × 10 units × 20 criteria")
    parser.add_argument("--only", help="comma-separated step names (see --list)")
    parser.add_argument("--keep", action="store_true", help="keep the province-scale PostgreSQL year")
    parser.add_argument("--list", action="store_true", help="print the steps and exit")
    args = parser.parse_args(argv)
    if args.list:
        for step in STEPS:
            print(f"{_label(step):<22} {step.goal}")
        return 0
    steps = list(STEPS)
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        unknown = wanted - {step.name for step in STEPS}
        if unknown:
            parser.error(f"unknown step(s): {', '.join(sorted(unknown))} (see --list)")
        steps = [step for step in STEPS if step.name in wanted]
    return run(steps, args.small, args.keep)


if __name__ == "__main__":
    sys.exit(main())
