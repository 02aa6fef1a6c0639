"""`bench/bench_agents_session.py` runs (quick, local pair only), prints every row, and
measures real work: each side reads back exactly the items it was given."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_agents_session.py"
PAIR = "LocalThreadStore vs SQLiteSession"
SIDES = ("ThreadSession", "SQLiteSession")


def test_quick_run_prints_every_row_and_reads_back_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--skip-postgres", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(out.read_text())
    sizes = results["sizes"]
    small, large = sizes["small"], sizes["large"]
    written = {
        "add_1": 1 + sizes["repeat"] * sizes["calls"],
        f"add_{sizes['batch']}": 1 + sizes["repeat"] * sizes["batch"],
        f"get_{small}_cold": small,
        f"get_{small}_warm": small,
        f"get_{large}_cold": large,
        f"get_{large}_warm": large,
    }
    rows = {row["id"]: row for row in results["rows"]}
    assert list(rows) == list(written)
    assert results["skipped"] == {"postgres": "--skip-postgres"}

    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    for row_id, count in written.items():
        row = rows[row_id]
        assert row["pair"] == "local"
        assert any(line.startswith(f"| {row['label']} | {PAIR} | ") for line in table), row_id
        assert len(row["ours_ms"]) == len(row["sdk_ms"]) == sizes["repeat"]
        assert all(ms > 0 for ms in row["ours_ms"] + row["sdk_ms"])
        assert row["ratio"] > 0
        checks = row["checks"]
        assert set(checks) == set(SIDES)
        for side in SIDES:
            check = checks[side]
            assert check["written"] == check["read"] == count, (row_id, side)
            assert check["read_digest"] == check["written_digest"], (row_id, side)
        # Both sides were given the same items.
        assert len({checks[side]["written_digest"] for side in SIDES}) == 1
