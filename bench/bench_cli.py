"""Time `codex-threads list` and `codex-threads show <id>` as whole processes on a big home.

    python bench/bench_cli.py [--home DIR | --threads 10000] [--runs 15]

Without `--home`, a home of `--threads` threads is made first with
`bench/make_home.py` (in a temporary folder, removed afterwards unless `--keep`).
Each command runs once to warm up (the OS page cache and Python's bytecode cache), then
`--runs` times; the table shows the median, minimum and maximum wall time of the whole
process, from spawn to exit, against the 300 ms budget of `list` and `show`.

Commands run piped (plain output, as in scripts) and on a pseudo-terminal (rich tables,
as a person sees them). Bytecode goes to a private `PYTHONPYCACHEPREFIX`, so runs
measure an installed package (compiled once), whatever `PYTHONDONTWRITEBYTECODE` says.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from codex_thread_store.cli.resolve import short_ids

BUDGET_MS = 300.0
HERE = Path(__file__).resolve().parent
SCRIPT = Path(sys.executable).parent / "codex-threads"


@dataclass
class Timing:
    label: str
    samples_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)


def _env(pycache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    env.pop("CODEX_THREADS_STORE", None)
    return env


def _run_piped(argv: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def _run_on_terminal(argv: Sequence[str], env: dict[str, str]) -> float:
    master, slave = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    try:
        while True:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:  # EIO: the child closed the terminal
                break
        code = proc.wait()
    finally:
        os.close(master)
    elapsed = (time.perf_counter() - start) * 1000
    if code != 0:
        raise SystemExit(f"{argv} failed on a terminal ({code})")
    return elapsed


def _measure(
    label: str, argv: Sequence[str], env: dict[str, str], runs: int, terminal: bool
) -> Timing:
    run = _run_on_terminal if terminal else _run_piped
    run(argv, env)  # warm-up
    return Timing(label, [run(argv, env) for _ in range(runs)])


def _ids(cli: list[str], env: dict[str, str], *, archived: bool) -> list[str]:
    argv = [*cli, "list", "--all", "--limit", "1000", "--jsonl"] + (
        ["--archived"] if archived else []
    )
    out = subprocess.run(argv, capture_output=True, env=env, check=True).stdout
    return [json.loads(line)["thread_id"] for line in out.splitlines()]


def _make_home(threads: int, parent: Path) -> Path:
    home = parent / "home"
    print(f"making a {threads:,}-thread home with bench/make_home.py ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, str(HERE / "make_home.py"), str(home), "--threads", str(threads)],
        check=True,
    )
    return home


def _print_table(timings: list[Timing], home: Path, threads: int) -> None:
    print(
        f"\ncodex-threads on {home} ({threads:,} threads), {len(timings[0].samples_ms)} runs each"
    )
    print(f"{'command':<42} {'median':>9} {'min':>9} {'max':>9}  budget {BUDGET_MS:.0f} ms")
    for t in timings:
        budget = (
            ""
            if not t.label.startswith(("list", "show"))
            else ("ok" if t.median < BUDGET_MS else "OVER")
        )
        print(
            f"{t.label:<42} {t.median:>7.0f}ms {min(t.samples_ms):>7.0f}ms "
            f"{max(t.samples_ms):>7.0f}ms  {budget}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, help="an existing home (default: make one)")
    parser.add_argument("--threads", type=int, default=10_000, help="size of the home to make")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command (>= 10)")
    parser.add_argument("--keep", action="store_true", help="keep the home that was made")
    args = parser.parse_args(argv)
    if args.runs < 10:
        parser.error("--runs must be at least 10")
    scratch = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        home = args.home or _make_home(args.threads, scratch)
        env = _env(scratch / "pycache")
        cli = [str(SCRIPT), "--home", str(home)]
        # The first command on a home builds its index; that is not what is being timed.
        active = _ids(cli, env, archived=False)
        every = sorted(active + _ids(cli, env, archived=True))
        thread_id = active[0]
        prefix = short_ids([thread_id], every)[thread_id]
        threads = len(every)
        cases: list[tuple[str, list[str], bool]] = [
            ("python -c pass (interpreter start)", [sys.executable, "-c", "pass"], False),
            (
                "import codex_thread_store",
                [sys.executable, "-c", "import codex_thread_store"],
                False,
            ),
            ("list (piped)", [*cli, "list"], False),
            ("list (terminal)", [*cli, "list"], True),
            ("list --json (piped)", [*cli, "list", "--json"], False),
            ("show <id> (piped)", [*cli, "show", thread_id], False),
            ("show <id> (terminal)", [*cli, "show", thread_id], True),
            (f"show <{len(prefix)}-char prefix> (piped)", [*cli, "show", prefix], False),
        ]
        timings = [
            _measure(label, argv_, env, args.runs, terminal) for label, argv_, terminal in cases
        ]
        _print_table(timings, home, threads)
        over = [
            t.label
            for t in timings
            if t.label.startswith(("list", "show")) and t.median >= BUDGET_MS
        ]
        if args.keep and not args.home:
            print(f"home kept at {home}", file=sys.stderr)
        return 1 if over else 0
    finally:
        if args.keep and not args.home:
            shutil.rmtree(scratch / "pycache", ignore_errors=True)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
