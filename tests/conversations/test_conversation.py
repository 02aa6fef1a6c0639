"""`Conversation` on every store: plain items in, the same items out, and a thread Codex
reads as turns (user and agent messages, preview, name, model, tokens)."""

from __future__ import annotations

from typing import Any

import pytest

from codex_thread_store import (
    AgentMessageItem,
    Conversation,
    InvalidRequest,
    ListTurnsParams,
    LoadThreadHistoryParams,
    ReadThreadParams,
    ThreadNotFound,
    ThreadStore,
    TokenUsage,
    TurnItemsView,
    UserMessageItem,
)
from codex_thread_store.conversations.replay import Replay
from codex_thread_store.protocol.items.model import TextInput

USER = {"role": "user", "content": "What's the weather in Paris?"}
CALL = {
    "type": "function_call",
    "call_id": "c1",
    "name": "weather",
    "arguments": '{"city":"Paris"}',
}
OUTPUT = {"type": "function_call_output", "call_id": "c1", "output": "sunny"}
REASONING = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "Ask the tool."}],
}
ANSWER = {
    "type": "message",
    "role": "assistant",
    "id": "msg_1",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Sunny in Paris.", "annotations": []}],
}
CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "And Rome?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c2", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
        ],
    },
    {"role": "tool", "tool_call_id": "c2", "content": "rainy"},
    {"role": "assistant", "content": "Rainy in Rome."},
]


@pytest.fixture(params=["legacy", "paginated"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def turns_of(store: ThreadStore, thread_id: str) -> list[Any]:
    page = await store.list_turns(
        ListTurnsParams(thread_id=thread_id, items_view=TurnItemsView.FULL, page_size=100)
    )
    return page.turns


def said(turn: Any) -> list[tuple[str, str]]:
    out = []
    for item in turn.items:
        if isinstance(item, UserMessageItem):
            texts = [part.text for part in item.content if isinstance(part, TextInput)]
            out.append(("user", " ".join(texts)))
        elif isinstance(item, AgentMessageItem):
            out.append(("agent", item.text))
    return out


async def test_items_come_back_as_they_went_in(store: ThreadStore, mode: str) -> None:
    convo = await Conversation.start(store, history_mode=mode, cwd="/work/app")
    await convo.append([USER])
    await convo.append([REASONING, CALL, OUTPUT, ANSWER])
    assert await convo.items() == [USER, REASONING, CALL, OUTPUT, ANSWER]
    assert await convo.items(2) == [OUTPUT, ANSWER]
    assert await convo.items(0) == []
    thread_id = convo.thread_id
    await convo.close()

    again = await Conversation.resume(store, thread_id)
    assert await again.items() == [USER, REASONING, CALL, OUTPUT, ANSWER]
    await again.close()


async def test_reads_are_copies(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    await convo.append([USER])
    (first,) = await convo.items()
    first["content"] = "changed"
    assert await convo.items() == [USER]
    await convo.close()


async def test_chat_messages_round_trip_and_read_as_responses_items(
    store: ThreadStore, mode: str
) -> None:
    convo = await Conversation.start(store, history_mode=mode)
    await convo.append_chat(CHAT)
    assert await convo.chat_messages() == CHAT
    items = await convo.items()
    assert [i.get("type") for i in items] == [
        "message",
        "message",
        "function_call",
        "function_call_output",
        "message",
    ]
    assert items[2]["call_id"] == "c2" and items[3]["output"] == "rainy"
    thread_id = convo.thread_id
    await convo.close()
    again = await Conversation.resume(store, thread_id)
    assert await again.chat_messages() == CHAT
    await again.close()


async def test_responses_items_read_as_chat(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    await convo.append([USER, REASONING, CALL, OUTPUT, ANSWER])
    assert await convo.chat_messages() == [
        {"role": "user", "content": USER["content"]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": CALL["arguments"]},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "assistant", "content": "Sunny in Paris."},
    ]
    await convo.close()


async def test_turns_are_opened_and_closed_as_codex_shows_them(
    store: ThreadStore, mode: str
) -> None:
    convo = await Conversation.start(
        store, history_mode=mode, name="Weather", model="gpt-5", cwd="/work/app"
    )
    await convo.append([USER])
    await convo.append([CALL, OUTPUT])
    await convo.append(
        [ANSWER], usage=TokenUsage(input_tokens=30, output_tokens=12, total_tokens=42)
    )
    await convo.append([{"role": "user", "content": "Thanks!"}])
    await convo.append([{"role": "assistant", "content": "You're welcome."}])
    await convo.close()

    turns = await turns_of(store, convo.thread_id)
    assert [said(t) for t in turns] == [
        [("user", USER["content"]), ("agent", "Sunny in Paris.")],
        [("user", "Thanks!"), ("agent", "You're welcome.")],
    ]
    assert [t.status for t in turns] == ["completed", "completed"]
    thread = await store.read_thread(ReadThreadParams(thread_id=convo.thread_id))
    assert thread.name == "Weather"
    assert thread.preview == USER["content"]
    assert thread.model == "gpt-5"
    assert thread.cwd == "/work/app"
    assert thread.token_usage is not None
    assert thread.token_usage.total_tokens == 42


async def test_a_turn_left_open_is_continued_after_resume(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    await convo.append([USER, CALL])
    thread_id = convo.thread_id
    await convo.close()
    again = await Conversation.resume(store, thread_id)
    await again.append([OUTPUT, ANSWER])
    await again.close()
    turns = await turns_of(store, thread_id)
    assert len(turns) == 1 and turns[0].status == "completed"
    assert said(turns[0]) == [("user", USER["content"]), ("agent", "Sunny in Paris.")]


async def test_usage_adds_up(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    await convo.append([USER, ANSWER], usage=TokenUsage(total_tokens=10, input_tokens=10))
    await convo.append([USER, ANSWER], usage=TokenUsage(total_tokens=5, output_tokens=5))
    thread = await store.read_thread(ReadThreadParams(thread_id=convo.thread_id))
    assert thread.token_usage is not None
    assert thread.token_usage.total_tokens == 15
    await convo.close()


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"type": "computer_call", "call_id": "x"}, "computer_call"),
        ({"type": "function_call", "name": "f", "call_id": "x"}, "'arguments'"),
        ({"role": "robot", "content": "hi"}, "robot"),
        ({"role": "user", "content": 3}, "content"),
        ({"role": "user", "content": [{"type": "input_video"}]}, "input_video"),
        ("just text", "expected an object"),
    ],
)
async def test_an_item_codex_cannot_keep_is_refused_whole(
    store: ThreadStore, bad: Any, words: str
) -> None:
    convo = await Conversation.start(store)
    await convo.append([USER])
    with pytest.raises(InvalidRequest, match="item 1") as caught:
        await convo.append([ANSWER, bad])
    assert words in str(caught.value)
    assert await convo.items() == [USER]
    thread_id = convo.thread_id
    await convo.close()
    history = await store.load_history(LoadThreadHistoryParams(thread_id=thread_id))
    assert Replay.of(history.items).context == [
        {
            **USER,
            "type": "message",
            "content": [{"type": "input_text", "text": USER["content"]}],
            "codex_thread_store_original": {"input": USER},
        }
    ]


async def test_pop_removes_the_newest_item_durably(store: ThreadStore, mode: str) -> None:
    convo = await Conversation.start(store, history_mode=mode)
    await convo.append([USER, CALL, OUTPUT, ANSWER])
    assert await convo.pop() == ANSWER
    assert await convo.pop() == OUTPUT
    assert await convo.items() == [USER, CALL]
    thread_id = convo.thread_id
    await convo.close()
    again = await Conversation.resume(store, thread_id)
    assert await again.items() == [USER, CALL]
    assert await again.pop() == CALL
    assert await again.pop() == USER
    assert await again.pop() is None
    await again.close()
    history = await store.load_history(LoadThreadHistoryParams(thread_id=thread_id))
    assert Replay.of(history.items).context == []


async def test_pop_in_a_legacy_thread_rolls_back_the_turn_codex_shows(store: ThreadStore) -> None:
    convo = await Conversation.start(store, history_mode="legacy")
    await convo.append([{"role": "user", "content": "one"}, {"role": "assistant", "content": "1"}])
    await convo.append([{"role": "user", "content": "two"}, {"role": "assistant", "content": "2"}])
    assert await convo.pop() == {"role": "assistant", "content": "2"}
    turns = await turns_of(store, convo.thread_id)
    assert [said(t) for t in turns] == [[("user", "one"), ("agent", "1")], [("user", "two")]]
    assert await convo.pop() == {"role": "user", "content": "two"}
    turns = await turns_of(store, convo.thread_id)
    assert [said(t) for t in turns] == [[("user", "one"), ("agent", "1")]]
    await convo.close()


async def test_clear_empties_the_context_and_the_history_stays(
    store: ThreadStore, mode: str
) -> None:
    convo = await Conversation.start(store, history_mode=mode)
    await convo.append([USER, ANSWER])
    await convo.clear()
    assert await convo.items() == []
    await convo.append([{"role": "user", "content": "fresh start"}])
    thread_id = convo.thread_id
    await convo.close()
    again = await Conversation.resume(store, thread_id)
    assert await again.items() == [{"role": "user", "content": "fresh start"}]
    await again.close()
    turns = await turns_of(store, thread_id)
    assert said(turns[0])[0] == ("user", USER["content"])  # history is append-only


async def test_open_creates_then_resumes(store: ThreadStore) -> None:
    thread_id = "01a23648-8f19-7195-8962-100bacc9b6f8"
    convo = await Conversation.open(store, thread_id, name="Made by open")
    await convo.append([USER])
    await convo.close()
    again = await Conversation.open(store, thread_id, name="ignored")
    assert again.thread_id == thread_id and await again.items() == [USER]
    await again.close()
    thread = await store.read_thread(ReadThreadParams(thread_id=thread_id))
    assert thread.name == "Made by open"


async def test_negative_limit_is_refused(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    with pytest.raises(InvalidRequest, match="limit"):
        await convo.items(-1)
    await convo.close()


async def test_reading_takes_no_writer(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    await convo.append([USER, ANSWER])
    await convo.close()
    reader = await Conversation.resume(store, convo.thread_id)
    assert await reader.items() == [USER, ANSWER]
    assert reader.live is None
    writer = await Conversation.resume(store, convo.thread_id)
    await writer.append([{"role": "user", "content": "more"}])  # no Conflict: nobody writes
    await writer.close()
    await reader.close()


async def test_a_write_after_another_writer_rereads_the_thread_first(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    await convo.append([USER, ANSWER])
    await convo.close()
    first = await Conversation.resume(store, convo.thread_id)  # reads, holds no writer
    second = await Conversation.resume(store, convo.thread_id)
    await second.append([{"role": "user", "content": "from the second"}])
    await second.close()
    await first.append([{"role": "assistant", "content": "from the first"}])
    expected = [
        USER,
        ANSWER,
        {"role": "user", "content": "from the second"},
        {"role": "assistant", "content": "from the first"},
    ]
    assert await first.items() == expected
    await first.close()
    again = await Conversation.resume(store, convo.thread_id)
    assert await again.items() == expected
    await again.close()
    with pytest.raises(ThreadNotFound, match="closed"):
        await first.append([USER])


async def test_usage_alone_is_a_closed_turn(store: ThreadStore) -> None:
    convo = await Conversation.start(store)
    await convo.append([], usage=TokenUsage(total_tokens=3, input_tokens=3))
    await convo.close()
    turns = await turns_of(store, convo.thread_id)
    assert [t.status for t in turns] == ["completed"]
