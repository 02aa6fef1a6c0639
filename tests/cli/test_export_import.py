"""`export` in every format, and `import` (byte-exact copy, duplicates, --new-id, stdin)."""

from __future__ import annotations

import json
from pathlib import Path

from codex_thread_store.cli.commands.show import ShowResult
from codex_thread_store.cli.exit_codes import ExitCode
from codex_thread_store.codec import decode_json
from codex_thread_store.demo import DemoHome
from codex_thread_store.types import StoredThread

from .conftest import Cli
from .terminal import run_piped


def rollout_of(home: Path, thread_id: str) -> Path:
    (path,) = home.glob(f"**/rollout-*-{thread_id}.jsonl")
    return path


def test_markdown(ro_cli: Cli, shared_demo: DemoHome) -> None:
    md = ro_cli.ok("export", "Parser flake").stdout
    assert md.startswith("# Parser flake\n")
    assert f"| id | {shared_demo.parser} |" in md
    assert "## Turn 1 · completed · " in md and "## Turn 2 · completed · " in md
    assert "**You**\n\ntest_parallel_parse is flaky" in md
    failing = "**Tool output** `shell · exit code 1`\n\n```\n$ pytest tests/test_parser.py -q"
    assert failing in md
    assert "1 failed, 19 passed in 3.12s" in md  # exports are never folded


def test_html_is_escaped_and_self_contained(ro_cli: Cli) -> None:
    page = ro_cli.ok("export", "Parser flake", "--format", "html").stdout
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Parser flake</title>" in page
    assert "expected [&#x27;a&#x27;, &#x27;b&#x27;]" in page
    assert "<script" not in page and "http" not in page.split("</style>")[0]


def test_json_matches_show_json(ro_cli: Cli, shared_demo: DemoHome) -> None:
    exported = ro_cli.ok("export", shared_demo.fork, "--format", "json").stdout
    assert decode_json(exported.encode(), ShowResult).thread.thread_id == shared_demo.fork
    assert json.loads(exported) == ro_cli.json("show", shared_demo.fork)


def test_jsonl_is_the_rollout_byte_for_byte(ro_cli: Cli, shared_demo: DemoHome) -> None:
    out = run_piped(
        ["--home", str(shared_demo.home), "export", "Parser flake", "--format", "jsonl"]
    )
    assert out.returncode == 0
    assert out.stdout == rollout_of(shared_demo.home, shared_demo.parser).read_bytes()


def test_output_file(ro_cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "thread.md"
    result = ro_cli.ok("export", "Parser flake", "-o", str(target))
    assert result.stdout == ""
    assert target.read_text().startswith("# Parser flake")
    assert result.stderr.startswith(f"wrote {target} (")


def test_import_into_another_home_round_trips(
    ro_cli: Cli, shared_demo: DemoHome, tmp_path: Path
) -> None:
    exported = tmp_path / "parser.jsonl"
    ro_cli.ok("export", shared_demo.parser, "--format", "jsonl", "-o", str(exported))
    other = Cli(tmp_path / "other-home")  # import makes the home
    result = other.ok("import", str(exported))
    assert result.stdout == f"imported {shared_demo.parser}\n"
    assert rollout_of(other.home, shared_demo.parser).read_bytes() == exported.read_bytes()
    original = ro_cli.json("show", shared_demo.parser)
    copied = other.json("show", shared_demo.parser)
    assert copied["turns"] == original["turns"]
    assert copied["thread"]["preview"] == original["thread"]["preview"]


def test_import_refuses_a_duplicate_unless_new_id(cli: Cli, demo: DemoHome) -> None:
    source = rollout_of(demo.home, demo.release_notes)
    duplicate = cli("import", str(source))
    assert duplicate.exit_code == ExitCode.CONFLICT
    assert duplicate.stderr == (
        f"error: thread-store conflict: thread {demo.release_notes} already exists in this "
        "store; pass --new-id to import a copy under a new id\n"
    )
    copy = cli.ok("import", "--new-id", str(source), "--json").stdout
    thread = decode_json(copy.encode(), StoredThread)
    assert thread.thread_id != demo.release_notes
    assert thread.preview == cli.json("show", demo.release_notes)["thread"]["preview"]
    copied = rollout_of(demo.home, thread.thread_id).read_bytes()
    assert demo.release_notes.encode() not in copied
    assert copied == source.read_bytes().replace(
        demo.release_notes.encode(), thread.thread_id.encode()
    )


def test_import_from_stdin_and_into_memory(shared_demo: DemoHome, tmp_path: Path) -> None:
    data = rollout_of(shared_demo.home, shared_demo.triage).read_bytes()
    piped = run_piped(["--home", str(tmp_path / "h"), "import", "-"], input=data)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == f"imported {shared_demo.triage}\n".encode()
    memory = run_piped(["--store", "memory:", "import", "-", "--json"], input=data)
    assert memory.returncode == 0, memory.stderr
    thread = decode_json(memory.stdout, StoredThread)
    assert thread.thread_id == shared_demo.triage
    assert thread.model_provider == "ollama"
    assert thread.rollout_path is None


def test_import_refuses_what_is_not_a_rollout(cli: Cli, tmp_path: Path) -> None:
    for content in (b"", b"hello\n", b'{"timestamp":"t","type":"event_msg","payload":{}}\n'):
        bad = tmp_path / "bad.jsonl"
        bad.write_bytes(content)
        result = cli("import", str(bad))
        assert result.exit_code == ExitCode.USAGE, content
        assert "not a rollout JSONL" in result.stderr
    missing = cli("import", str(tmp_path / "missing.jsonl"))
    assert missing.exit_code == ExitCode.USAGE


def test_import_cuts_a_torn_last_line(demo: DemoHome, tmp_path: Path) -> None:
    data = rollout_of(demo.home, demo.triage).read_bytes()
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(data + b'{"timestamp":"2026-')
    other = Cli(tmp_path / "h2")
    other.ok("import", str(torn))
    assert rollout_of(other.home, demo.triage).read_bytes() == data


def test_import_a_compressed_rollout(shared_demo: DemoHome, tmp_path: Path) -> None:
    import zstandard

    data = rollout_of(shared_demo.home, shared_demo.triage).read_bytes()
    packed = tmp_path / (rollout_of(shared_demo.home, shared_demo.triage).name + ".zst")
    packed.write_bytes(zstandard.ZstdCompressor().compress(data))
    other = Cli(tmp_path / "h3")
    other.ok("import", str(packed))
    assert rollout_of(other.home, shared_demo.triage).read_bytes() == data


def test_jsonl_of_a_store_without_files_reads_back(shared_demo: DemoHome) -> None:
    import asyncio

    from codex_thread_store.export import rollout_jsonl
    from codex_thread_store.importer import import_rollout, parse_import
    from codex_thread_store.memory import InMemoryThreadStore

    original = parse_import(rollout_of(shared_demo.home, shared_demo.triage).read_bytes())

    async def export_from_memory() -> bytes:
        async with InMemoryThreadStore() as store:
            thread = await import_rollout(store, original)
            return await rollout_jsonl(store, thread)

    exported = parse_import(asyncio.run(export_from_memory()))
    assert exported.thread_id == shared_demo.triage
    assert [line.item.to_json() for line in exported.lines[1:]] == [
        line.item.to_json() for line in original.lines[1:]
    ]
    assert all(line.timestamp.endswith("Z") for line in exported.lines)
