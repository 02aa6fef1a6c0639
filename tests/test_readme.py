"""The README's quick tours run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_api_tour_runs_and_prints_the_typed_view() -> None:
    tour = python_blocks()[0]
    result = subprocess.run(
        [sys.executable, "-c", tour], capture_output=True, text=True, timeout=60, check=True
    )
    assert "'Flaky test', 'Fix the flaky test'" in result.stdout
    assert "t1 completed Fixed: it raced." in result.stdout


def test_every_python_block_compiles() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 2
    for block in blocks:
        compile(block, str(README), "exec")
