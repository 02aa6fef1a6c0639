"""Every code block of docs/agents.md runs as written, each in a fresh interpreter in an
empty folder; the one that needs a model gets the scripted one (no network)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "agents.md").read_text(), re.S)

# `model` in the guide stands for any Agents SDK model; here, a scripted one.
MODEL = (
    "from tests.agents_sdk.fake_model import ScriptedModel, reply\n"
    "model = ScriptedModel([[reply('Sorry about that: it ships today.')]])\n"
)


def test_the_guide_has_its_three_ways_in() -> None:
    assert len(BLOCKS) == 3
    for block in BLOCKS:
        code = [line for line in block.splitlines() if line.strip() and "import" not in line]
        assert len(code) < 10, block


@pytest.mark.parametrize("block", BLOCKS, ids=["conversation", "agents-sdk", "sync"])
def test_a_block_runs_as_written(block: str, tmp_path: Path) -> None:
    code = (MODEL if "model=model" in block else "") + block
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    shown = subprocess.run(
        [sys.executable, "-m", "codex_thread_store", "--home", "codex-home", "list"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    assert len(shown.stdout.strip().splitlines()) == 1, shown.stdout
