"""`reindex`, `doctor` (checks and repairs) and `stats`."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

from codex_thread_store.cli.exit_codes import ExitCode
from codex_thread_store.demo import DemoHome
from codex_thread_store.local import LocalThreadStoreConfig

from .conftest import Cli


def rollout_of(home: Path, thread_id: str) -> Path:
    (path,) = home.glob(f"**/rollout-*-{thread_id}.jsonl")
    return path


def kinds(report: dict[str, object]) -> list[str]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return sorted(f["kind"] for f in findings)


def test_reindex_rebuilds_and_keeps_names(cli: Cli, demo: DemoHome) -> None:
    index = LocalThreadStoreConfig(codex_home=demo.home).index_path
    result = cli.ok("reindex")
    assert result.stdout.startswith("reindexed 6 rollout files in ")
    assert result.stderr == ""  # no progress bar when not on a terminal
    for suffix in ("", "-wal", "-shm"):
        Path(str(index) + suffix).unlink(missing_ok=True)
    assert cli.json("show", "Parser flake")["thread"]["thread_id"] == demo.parser


def test_reindex_check_reports_without_writing(cli: Cli, demo: DemoHome) -> None:
    clean = cli.ok("reindex", "--check")
    assert clean.stdout == "index up to date: 6 threads\n"
    # A rollout copied in by hand (under a new id) is not in the index yet.
    source = rollout_of(demo.home, demo.release_notes)
    new_id = demo.release_notes[:-4] + "beef"
    copied = source.with_name(source.name.replace(demo.release_notes, new_id))
    copied.write_bytes(source.read_bytes().replace(demo.release_notes.encode(), new_id.encode()))
    index = LocalThreadStoreConfig(codex_home=demo.home).index_path
    before = index.read_bytes()
    stale = cli("reindex", "--check")
    assert stale.exit_code == ExitCode.PROBLEMS
    assert f"unindexed_file (1):\n  {copied}: " in stale.stdout
    assert stale.stdout.endswith("a reindex would fix 1 problem(s)\n")
    assert index.read_bytes() == before
    report = json.loads(cli("reindex", "--check", "--json").stdout)
    assert kinds(report) == ["unindexed_file"]
    cli.ok("reindex")
    assert cli.ok("reindex", "--check").stdout == "index up to date: 7 threads\n"


def test_reindex_needs_a_local_home() -> None:
    from click.testing import CliRunner

    from codex_thread_store.cli import main

    result = CliRunner().invoke(main, ["--store", "memory:", "reindex"])
    assert result.exit_code == ExitCode.USAGE
    assert "works on a local Codex home" in result.stderr


def test_doctor_on_a_healthy_home(cli: Cli) -> None:
    result = cli.ok("doctor")
    assert result.stdout.endswith("no problems found\n")
    assert "6 rollout files, 6 index rows" in result.stdout
    report = cli.json("doctor")
    assert report["findings"] == [] and report["codex_db_rows"] is None


def damage(demo: DemoHome) -> dict[str, Path]:
    """A torn tail, a malformed line, a rollout without an index row, a row without a file."""
    torn = rollout_of(demo.home, demo.parser)
    torn_bytes = torn.read_bytes()
    torn.write_bytes(torn_bytes + b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"ev')
    malformed = rollout_of(demo.home, demo.fork)
    with open(malformed, "ab") as fh:
        fh.write(b"this is not json\n")
    gone = rollout_of(demo.home, demo.triage)
    gone.unlink()
    return {"torn": torn, "malformed": malformed, "gone": gone}


def test_doctor_finds_damage_and_writes_nothing(cli: Cli, demo: DemoHome) -> None:
    paths = damage(demo)
    torn_before = paths["torn"].read_bytes()
    result = cli("doctor")
    assert result.exit_code == ExitCode.PROBLEMS
    out = result.stdout
    assert f"torn_tail (1):\n  {paths['torn']}: the last line is unterminated" in out
    assert f"malformed_lines (1):\n  {paths['malformed']}: 1 line(s)" in out
    assert f"orphan_row (1):\n  {paths['gone']}: the index lists a thread" in out
    assert "can be fixed with --repair" in out
    assert paths["torn"].read_bytes() == torn_before
    report = json.loads(cli("doctor", "--json").stdout)
    assert "torn_tail" in kinds(report) and "orphan_row" in kinds(report)


def test_doctor_repair_fixes_what_is_safe(cli: Cli, demo: DemoHome) -> None:
    paths = damage(demo)
    fragment = b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"ev'
    result = cli("doctor", "--repair")
    assert result.exit_code == ExitCode.PROBLEMS  # the malformed line is left alone
    assert f"-> repaired: cut {len(fragment)} byte(s); saved them to " in result.stdout
    assert "-> repaired: removed the row" in result.stdout
    assert result.stdout.endswith("1 problem(s) remain\n")
    assert paths["torn"].read_bytes().endswith(b"}\n")
    (saved,) = (demo.home / "codex-thread-store" / "doctor").iterdir()
    assert saved.read_bytes() == fragment
    assert demo.triage not in [r[0] for r in cli.rows("list", "--all")]
    after = json.loads(cli("doctor", "--json").stdout)
    assert kinds(after) == ["malformed_lines"]


def test_doctor_repair_rebuilds_a_damaged_index(cli: Cli, demo: DemoHome) -> None:
    index = LocalThreadStoreConfig(codex_home=demo.home).index_path
    for suffix in ("-wal", "-shm"):
        Path(str(index) + suffix).unlink(missing_ok=True)
    index.write_bytes(b"this is not a database" * 100)
    broken = json.loads(cli("doctor", "--json").stdout)
    assert kinds(broken) == ["index"]
    assert cli.ok("doctor", "--repair").stdout.endswith("repaired all 1 problem(s)\n")
    assert cli.ok("doctor").stdout.endswith("no problems found\n")


def test_doctor_compares_with_codex_database(cli: Cli, demo: DemoHome) -> None:
    db = sqlite3.connect(demo.home / "state_5.sqlite")
    db.execute(
        "CREATE TABLE threads (id TEXT PRIMARY KEY, rollout_path TEXT NOT NULL,"
        " archived INTEGER NOT NULL DEFAULT 0)"
    )
    rows = [
        (tid, str(rollout_of(demo.home, tid)), 0)
        for tid in demo.thread_ids
        if tid not in (demo.triage, demo.archived)
    ]
    rows.append((demo.archived, str(rollout_of(demo.home, demo.archived)), 0))  # wrong flag
    rows.append(("01a1fbf9-0000-7000-8000-000000000000", "/nowhere/rollout.jsonl", 0))
    db.executemany("INSERT INTO threads VALUES (?,?,?)", rows)
    db.commit()
    db.close()
    report = json.loads(cli("doctor", "--json").stdout)
    assert report["codex_db_rows"] == 6
    assert kinds(report) == [
        "codex_db_archived_mismatch",
        "codex_db_missing_row",
        "codex_db_orphan_row",
    ]
    by_kind = {f["kind"]: f for f in report["findings"]}
    assert by_kind["codex_db_missing_row"]["thread_id"] == demo.triage
    assert by_kind["codex_db_archived_mismatch"]["thread_id"] == demo.archived
    assert cli.ok("doctor", "--repair").stdout.endswith("repaired all 3 problem(s)\n")
    assert cli.ok("doctor").stdout.endswith("no problems found\n")
    db = sqlite3.connect(demo.home / "state_5.sqlite")
    try:
        flags = dict(db.execute("SELECT id, archived FROM threads").fetchall())
    finally:
        db.close()
    assert flags[demo.archived] == 1 and demo.triage in flags
    assert "01a1fbf9-0000-7000-8000-000000000000" not in flags


def test_doctor_reports_duplicates_and_files_without_session_meta(cli: Cli, demo: DemoHome) -> None:
    source = rollout_of(demo.home, demo.release_notes)
    twin = source.with_name("rollout-2020-01-01T00-00-00-" + demo.release_notes + ".jsonl")
    shutil.copyfile(source, twin)
    headless = source.with_name(
        "rollout-2020-01-01T00-00-00-01a1fbf9-0000-7000-8000-00000000abcd.jsonl"
    )
    headless.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[1:]))
    report = json.loads(cli("doctor", "--json").stdout)
    assert "duplicate_thread" in kinds(report) and "no_session_meta" in kinds(report)


def test_stats(cli: Cli, demo: DemoHome) -> None:
    stats = cli.json("stats")
    assert stats["total"]["threads"] == 6
    assert stats["archived"]["threads"] == 1
    assert stats["total"]["turns"] == 2 + 2 + 1 + 1 + 1 + 1
    size = sum(rollout_of(demo.home, t).stat().st_size for t in demo.thread_ids)
    assert stats["total"]["bytes"] == size
    assert stats["by_source"]["exec/nightly-triage"]["threads"] == 1
    assert stats["by_source"]["cli"]["threads"] == 3
    assert stats["by_provider"] == {
        "openai": {
            "threads": 5,
            "turns": 7,
            "bytes": size - stats["by_provider"]["ollama"]["bytes"],
        },
        "ollama": {"threads": 1, "turns": 1, "bytes": stats["by_provider"]["ollama"]["bytes"]},
    }
    assert sum(b["threads"] for b in stats["by_month"].values()) == 6
    rows = cli.rows("stats")
    assert ["threads", "all", "6", "8", str(size)] in rows


def test_stats_on_memory_store() -> None:
    from click.testing import CliRunner

    from codex_thread_store.cli import main

    result = CliRunner().invoke(main, ["--store", "memory:", "stats", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total"] == {"threads": 0, "turns": 0, "bytes": 0}


def test_mtime_of_untouched_files_is_kept_by_doctor(cli: Cli, demo: DemoHome) -> None:
    path = rollout_of(demo.home, demo.release_notes)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    damage(demo)  # so --repair really runs: cuts a tail, removes a row, rebuilds the index
    result = cli("doctor", "--repair")
    assert "-> repaired: index rebuilt from " in result.stdout
    assert path.stat().st_mtime == 1_000_000_000
