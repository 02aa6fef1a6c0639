"""`demo` (in process) and `schema`."""

from __future__ import annotations

import json
from pathlib import Path

from codex_thread_store.cli.exit_codes import ExitCode

from .conftest import Cli


def test_demo_builds_and_tours_a_home(tmp_path: Path) -> None:
    target = tmp_path / "demo-home"
    result = Cli(target)("demo", "--dir", str(target), home=False)
    assert result.exit_code == 0, result.stderr
    cli = Cli(target)
    rows = cli.rows("list", "--all")
    assert len(rows) == 5
    assert len(cli.rows("list", "--archived")) == 1
    labels = {row[1] for row in rows}
    assert "Parser flake" in labels
    sources = {row[2] for row in rows}
    assert sources == {"cli", "subAgent", "exec", "exec/nightly-triage"}
    parser = cli.json("show", "Parser flake")
    assert len(parser["turns"]) == 2
    children = cli.rows("list", "--children-of", "Parser flake")
    assert len(children) == 1
    forks = [t for t in cli.json("list")["items"] if t["forked_from_id"]]
    assert [f["forked_from_id"] for f in forks] == [parser["thread"]["thread_id"]]
    out = result.stdout
    assert out.index("$ codex-threads list") < out.index("$ codex-threads search")
    assert "Parser flake" in out.split("$ codex-threads search")[1]


def test_demo_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = Cli(tmp_path)("demo", "--dir", str(tmp_path), home=False)
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr == f"error: {tmp_path} is not empty; pick a new folder for the demo\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_schema_writes_json_schema(tmp_path: Path) -> None:
    result = Cli(tmp_path)("schema", "--out", str(tmp_path / "s"), home=False)
    assert result.exit_code == 0
    document = json.loads((tmp_path / "s" / "codex_thread_store.schema.json").read_text())
    assert "StoredThread" in document["$defs"]
