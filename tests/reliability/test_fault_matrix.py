"""The fault matrix script (`bench/fault_matrix.py`) runs, and finds nothing lost,
duplicated, unreadable or wedged, in a short run (the documented run uses 50 trials)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "fault_matrix.py"


def test_the_fault_matrix_finds_nothing_lost(tmp_path: Path) -> None:
    out = tmp_path / "matrix.md"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--trials", "4", "--markdown", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    rows = [line.split(" | ") for line in out.read_text().splitlines()[2:]]
    assert len(rows) >= 17
    for row in rows:
        if row[1] != "skipped":
            assert row[3:7] == ["0", "0", "0", "0"], row
