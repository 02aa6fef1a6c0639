"""Stored text never drives the terminal (issue: hardening, finding 6).

A thread whose name, first message, cwd, messages and tool output carry OSC 52
(clipboard), OSC 0 (title), OSC 8 (links), clear-screen, BEL, BS, NUL, a C1 CSI and a
bidirectional override: every human-readable output shows those as visible escapes,
piped or on a terminal; a newline or tab in a field never forges a row; `--json` keeps
the exact text.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from builders import agent_message, tid, user_message
from codex_thread_store import (
    AppendThreadItemsParams,
    CreateThreadParams,
    ThreadMetadataPatch,
    ThreadPersistenceMetadata,
    UpdateThreadMetadataParams,
)
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

from .conftest import Cli
from .terminal import run_on_terminal

CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
TITLE = "\x1b]0;owned\x07"
LINK = "\x1b]8;;http://evil.invalid\x1b\\click\x1b]8;;\x1b\\"
CLEAR = "\x1b[2J\x1b[H"
NAME = f"innocent{CLIPBOARD}{TITLE}"
QUESTION = f"fix the needle bug{CLEAR}{LINK}\u202etxt.exe"
CWD = "/work/repo\nfake-id\tforged row\r"
ANSWER = f"done\x07\x08\x00\x9b31mred{TITLE}"

# What rich itself writes on a terminal: colours (SGR), and for progress bars the cursor
# shown/hidden, a line erased, one line up. Nothing else may reach the terminal.
RICH_STYLE = re.compile(r"\x1b\[(?:[0-9;]*m|\?25[lh]|2K|1A)|\r(?=\x1b\[)")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("hostile") / "home"

    async def build() -> None:
        async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
            await store.create_thread(
                CreateThreadParams(thread_id=tid(1), metadata=ThreadPersistenceMetadata(cwd=CWD))
            )
            await store.persist_thread(tid(1))
            await store.append_items(
                AppendThreadItemsParams(
                    thread_id=tid(1), items=[user_message(QUESTION), agent_message(ANSWER)]
                )
            )
            await store.shutdown_thread(tid(1))
            await store.update_thread_metadata(
                UpdateThreadMetadataParams(
                    thread_id=tid(1),
                    patch=ThreadMetadataPatch(name=NAME, preview=QUESTION),
                )
            )

    asyncio.run(build())
    return home


def assert_inert(output: str) -> None:
    """No control character but newline and tab, once rich's colours are set aside."""
    leftover = CONTROL.findall(RICH_STYLE.sub("", output).replace("\r\n", "\n"))
    assert leftover == [], output


COMMANDS = [
    ["list"],
    ["show", tid(1)],
    ["show", tid(1), "--full"],
    ["search", "needle"],
    ["stats"],
    ["doctor"],
    ["export", tid(1)],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_piped_output_shows_controls_as_escapes(hostile_home: Path, args: list[str]) -> None:
    result = Cli(hostile_home)(*args)
    assert result.exit_code in (0, 5), result.stderr  # doctor exits 5 on findings
    assert_inert(result.stdout)
    assert_inert(result.stderr)


@pytest.mark.parametrize("args", COMMANDS[:5], ids=[" ".join(a[:2]) for a in COMMANDS[:5]])
def test_terminal_output_shows_controls_as_escapes(hostile_home: Path, args: list[str]) -> None:
    run = run_on_terminal(["--home", str(hostile_home), *args])
    assert run.code == 0, run.output
    assert_inert(run.output)
    assert "\\x1b]52" in run.output or args[0] == "stats"  # shown, not obeyed


def test_a_newline_or_tab_in_a_field_never_forges_a_row(hostile_home: Path) -> None:
    rows = Cli(hostile_home).rows("list")
    assert len(rows) == 1
    assert len(rows[0]) == 7
    assert rows[0][4] == "/work/repo\\nfake-id\\tforged row\\r"


def test_json_output_keeps_the_exact_text(hostile_home: Path) -> None:
    [thread] = Cli(hostile_home).json("list")["items"]
    assert (thread["name"], thread["cwd"], thread["preview"]) == (NAME, CWD, QUESTION)
    shown = Cli(hostile_home).json("show", tid(1))
    texts = [item.get("text") for turn in shown["turns"] for item in turn["items"]]
    assert ANSWER in texts
