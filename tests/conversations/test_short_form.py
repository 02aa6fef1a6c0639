"""No silent drops: the short form through the raw paths (LiveThread, ThreadStore) is kept
as the message it is, a user's is a turn the CLI shows, and what the policy leaves out on
purpose is counted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from codex_thread_store import (
    AppendThreadItemsParams,
    CreateThreadParams,
    ListTurnsParams,
    LiveThread,
    LoadThreadHistoryParams,
    ReadThreadParams,
    RolloutItem,
    ThreadStore,
    TurnItemsView,
    UserMessageItem,
)
from codex_thread_store.cli import main
from codex_thread_store.local import LocalThreadStore, LocalThreadStoreConfig

SHORT = {"role": "user", "content": "Plan a trip to Lisbon"}


@pytest.mark.parametrize("mode", ["legacy", "paginated"])
async def test_a_short_form_user_message_through_live_thread_is_a_turn(
    store: ThreadStore, mode: str
) -> None:
    live = await LiveThread.create(store, CreateThreadParams(history_mode=mode), collect_git=False)
    result = await live.append_items([RolloutItem.response_item(SHORT)])
    await live.flush()
    assert result.kept >= 2 and result.dropped == {}
    page = await store.list_turns(
        ListTurnsParams(thread_id=live.thread_id, items_view=TurnItemsView.FULL)
    )
    (turn,) = page.turns
    assert any(isinstance(item, UserMessageItem) for item in turn.items)
    thread = await store.read_thread(ReadThreadParams(thread_id=live.thread_id))
    assert thread.preview == SHORT["content"]
    await live.shutdown()


async def test_the_store_keeps_a_short_form_item_as_a_message(store: ThreadStore) -> None:
    live = await LiveThread.create(store, CreateThreadParams(), collect_git=False)
    await store.append_items(
        AppendThreadItemsParams(thread_id=live.thread_id, items=[RolloutItem.response_item(SHORT)])
    )
    await live.flush()
    history = await store.load_history(LoadThreadHistoryParams(thread_id=live.thread_id))
    messages = [i.payload for i in history.items if i.type == "response_item"]
    assert messages == [
        {
            "role": "user",
            "type": "message",
            "content": [{"type": "input_text", "text": SHORT["content"]}],
            "codex_thread_store_original": {"input": SHORT},
        }
    ]
    await live.shutdown()


async def test_what_the_policy_leaves_out_is_counted(store: ThreadStore) -> None:
    live = await LiveThread.create(store, CreateThreadParams(), collect_git=False)
    delta = RolloutItem.event_msg({"type": "agent_message_delta", "delta": "Hel"})
    result = await live.append_items(
        [delta, delta, RolloutItem.response_item({"type": "computer_call", "call_id": "x"})]
    )
    assert result.kept == 0
    assert result.dropped == {"event_msg:agent_message_delta": 2, "response_item:computer_call": 1}
    await live.append_items([delta])
    assert live.dropped["event_msg:agent_message_delta"] == 3
    await live.shutdown()


def test_the_cli_shows_the_naive_adapters_thread_with_its_turn(tmp_path: Path) -> None:
    home = tmp_path / "home"

    async def write() -> LiveThread:
        async with LocalThreadStore(LocalThreadStoreConfig(codex_home=home)) as store:
            live = await LiveThread.create(store, CreateThreadParams(), collect_git=False)
            for item in (SHORT, {"role": "assistant", "content": "Lisbon in May: go."}):
                await live.append_items([RolloutItem.response_item(item)])
            await live.shutdown()
            return live

    live = asyncio.run(write())
    shown = CliRunner().invoke(main, ["--home", str(home), "show", live.thread_id])
    assert shown.exit_code == 0, shown.output
    assert "(no turns)" not in shown.output
    assert SHORT["content"] in shown.output and "Lisbon in May: go." in shown.output
    listed = CliRunner().invoke(main, ["--home", str(home), "list"])
    assert SHORT["content"] in listed.output
