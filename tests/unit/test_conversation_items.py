"""Plain items to stored payloads and back (`conversations/items.py`, `chat.py`), and the
model context rebuilt as Codex rebuilds it (`conversations/replay.py`)."""

from __future__ import annotations

from typing import Any

import pytest

from codex_thread_store import InvalidRequest, RolloutItem
from codex_thread_store.conversations.chat import chat_messages, stored_items_from_chat
from codex_thread_store.conversations.items import (
    ORIGINAL_KEY,
    is_real_user_message,
    model_item,
    stored_item,
)
from codex_thread_store.conversations.replay import Replay

CONTEXT = "<environment_context>\n<cwd>/x</cwd>\n</environment_context>"


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def assistant(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    }


# -- stored_item ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "short, part",
    [
        ({"role": "user", "content": "hi"}, "input_text"),
        ({"role": "system", "content": "be brief"}, "input_text"),
        ({"role": "developer", "content": "be brief"}, "input_text"),
        ({"role": "assistant", "content": "hello"}, "output_text"),
        ({"type": "message", "role": "user", "content": "hi"}, "input_text"),
    ],
)
def test_the_short_form_is_stored_as_a_message(short: dict[str, Any], part: str) -> None:
    stored = stored_item(0, short)
    assert stored["type"] == "message" and stored["role"] == short["role"]
    assert stored["content"] == [{"type": part, "text": short["content"]}]
    assert stored[ORIGINAL_KEY] == {"input": short}
    assert model_item(stored) == short


def test_an_item_already_in_codex_form_is_stored_as_it_is() -> None:
    item = {**assistant("ok"), "id": "msg_1", "status": "completed"}
    assert stored_item(0, item) == item
    call = {"type": "function_call", "name": "f", "arguments": "{}", "call_id": "c"}
    assert stored_item(0, call) == call
    listed = {"type": "function_call_output", "call_id": "c", "output": [user("x")["content"][0]]}
    assert stored_item(0, listed) == listed


@pytest.mark.parametrize(
    "part, stored",
    [
        ({"type": "refusal", "refusal": "no"}, {"type": "output_text", "text": "no"}),
        (
            {"type": "input_file", "filename": "a.pdf"},
            {"type": "input_text", "text": "[file: a.pdf]"},
        ),
        ({"type": "input_audio"}, {"type": "input_text", "text": "[audio]"}),
        ({"type": "input_image", "file_id": "f1"}, {"type": "input_text", "text": "[image: f1]"}),
        (
            {"type": "input_image", "image_url": "data:x"},
            {"type": "input_image", "image_url": "data:x"},
        ),
    ],
)
def test_parts_codex_has_no_kind_for_are_stored_as_text(
    part: dict[str, Any], stored: dict[str, Any]
) -> None:
    item = {"type": "message", "role": "assistant", "content": [part]}
    payload = stored_item(0, item)
    assert payload["content"] == [stored]
    assert model_item(payload) == item  # the caller's spelling comes back


@pytest.mark.parametrize(
    "item, words",
    [
        ({"type": "computer_call"}, "not a kind Codex keeps"),
        ({"type": "item_reference", "id": "x"}, "not a kind Codex keeps"),
        ({"type": 3}, "not a kind Codex keeps"),
        ({"type": "function_call", "name": "f", "call_id": "c"}, "'arguments'"),
        ({"type": "function_call_output", "call_id": "c", "output": 3}, "'output'"),
        ({"type": "reasoning", "summary": "x"}, "'summary'"),
        ({"type": "reasoning", "summary": [{"text": "x"}]}, "summary_text"),
        ({"type": "local_shell_call", "status": "completed"}, "'action'"),
        ({"type": "image_generation_call", "status": "completed"}, "'result'"),
        ({"type": "compaction"}, "'encrypted_content'"),
        ({"type": "agent_message", "author": "a", "recipient": "b"}, "'content'"),
        (
            {"type": "function_call_output", "call_id": "c", "output": [{"type": "input_video"}]},
            "tool output part",
        ),
        ({"role": "tool", "content": "x"}, "role 'tool'"),
        ({"role": "user", "content": None}, "'content'"),
        ({"role": "user", "content": [{"type": "input_text"}]}, "'text'"),
        ({"role": "user", "content": [{"type": "input_video"}]}, "input_video"),
        ({"role": "user", "content": [7]}, "content part"),
        ({"role": "user", "content": "x", ORIGINAL_KEY: {}}, "reserved"),
        (["a", "list"], "expected an object"),
    ],
)
def test_what_codex_cannot_read_is_refused_by_name(item: Any, words: str) -> None:
    with pytest.raises(InvalidRequest, match="item 4") as caught:
        stored_item(4, item)
    assert words in str(caught.value)


def test_a_file_in_a_tool_output_is_stored_as_text_codex_can_read() -> None:
    item = {
        "type": "function_call_output",
        "call_id": "c",
        "output": [
            {"type": "input_text", "text": "see"},
            {"type": "input_file", "filename": "log.txt", "file_data": "..."},
        ],
    }
    stored = stored_item(0, item)
    assert stored["output"] == [
        {"type": "input_text", "text": "see"},
        {"type": "input_text", "text": "[file: log.txt]"},
    ]
    assert model_item(stored) == item


def test_model_item_leaves_out_codex_bookkeeping() -> None:
    written_by_codex = {**user("hi"), "internal_chat_message_metadata_passthrough": {"t": 1}}
    assert model_item(written_by_codex) == user("hi")


@pytest.mark.parametrize(
    "payload, real",
    [
        (user("hello"), True),
        (user("<environment_context>\n<cwd>/x</cwd>\n</environment_context>"), False),
        (user("<ENVIRONMENT_CONTEXT>x</Environment_Context>"), False),
        (user("# AGENTS.md instructions for /x\n<INSTRUCTIONS>y</INSTRUCTIONS>"), False),
        (user("  <turn_aborted>gone</turn_aborted>\n"), False),
        # An opening marker without its closing one is the user's own words.
        (user("<environment_context> what is this tag?"), True),
        # Any one text part that is a context fragment makes the message context.
        (
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "hi"},
                    {"type": "input_text", "text": "<skill>s</skill>"},
                ],
            },
            False,
        ),
        ({"type": "message", "role": "user", "content": "<skill>s</skill>"}, False),
        (assistant("hello"), False),
        ({"type": "function_call_output", "call_id": "c", "output": "x"}, False),
    ],
)
def test_real_user_messages(payload: dict[str, Any], real: bool) -> None:
    assert is_real_user_message(payload) is real


# -- chat -------------------------------------------------------------------------------------


def test_a_chat_assistant_message_with_tool_calls_becomes_its_responses_items() -> None:
    message = {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "g", "arguments": "[]"}},
        ],
    }
    stored = stored_items_from_chat([message])
    assert [(p["type"], p.get("call_id")) for p in stored] == [
        ("message", None),
        ("function_call", "a"),
        ("function_call", "b"),
    ]
    assert stored[0][ORIGINAL_KEY] == {"chat": message}
    assert [p[ORIGINAL_KEY] for p in stored[1:]] == [{"chat": None}, {"chat": None}]
    assert chat_messages(stored) == [message]


def test_chat_user_parts_and_refusals() -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,x"}},
            ],
        },
        {"role": "assistant", "content": None, "refusal": "I cannot."},
        {"role": "assistant", "content": None},
    ]
    stored = stored_items_from_chat(messages)
    assert stored[0]["content"] == [
        {"type": "input_text", "text": "look"},
        {"type": "input_image", "image_url": "data:image/png;base64,x"},
    ]
    assert stored[1]["content"] == [{"type": "output_text", "text": "I cannot."}]
    assert stored[2]["content"] == [{"type": "output_text", "text": ""}]
    assert chat_messages(stored) == messages


@pytest.mark.parametrize(
    "message, words",
    [
        ({"role": "tool", "content": "x"}, "tool_call_id"),
        ({"role": "function", "name": "f", "content": "x"}, "role 'function'"),
        ({"role": "assistant", "content": None, "tool_calls": "x"}, "must be a list"),
        ({"role": "assistant", "tool_calls": [{"function": {}}]}, "'id'"),
        ("text", "expected an object"),
    ],
)
def test_chat_messages_that_cannot_be_kept_are_refused(message: Any, words: str) -> None:
    with pytest.raises(InvalidRequest, match="message 0") as caught:
        stored_items_from_chat([message])
    assert words in str(caught.value)


def test_responses_items_read_as_chat_group_calls_under_their_assistant() -> None:
    payloads = [
        user("hi"),
        {"type": "reasoning", "summary": []},
        {"type": "function_call", "name": "f", "arguments": "{}", "call_id": "a"},
        {"type": "custom_tool_call", "name": "g", "input": "x", "call_id": "b"},
        {"type": "function_call_output", "call_id": "a", "output": "1"},
        {
            "type": "custom_tool_call_output",
            "call_id": "b",
            "output": [{"type": "input_text", "text": "2"}],
        },
        {"type": "function_call", "name": "f", "arguments": "{}", "call_id": "c"},
    ]
    chat = chat_messages(payloads)
    assert [m["role"] for m in chat] == ["user", "assistant", "tool", "tool", "assistant"]
    assert [c["id"] for c in chat[1]["tool_calls"]] == ["a", "b"]
    assert chat[1]["tool_calls"][1]["function"]["arguments"] == "x"
    assert chat[3]["content"] == "2"
    assert [c["id"] for c in chat[4]["tool_calls"]] == ["c"]


# -- replay ---------------------------------------------------------------------------------


def event(kind: str, **fields: Any) -> RolloutItem:
    return RolloutItem.event_msg({"type": kind, **fields})


def said(*payloads: dict[str, Any]) -> list[RolloutItem]:
    return [RolloutItem.response_item(p) for p in payloads]


def test_compaction_with_a_replacement_replaces_the_context() -> None:
    replay = Replay.of(
        [
            *said(user("a"), assistant("1")),
            RolloutItem.compacted({"message": "", "replacement_history": [user("kept")]}),
            *said(assistant("2")),
        ]
    )
    assert replay.context == [user("kept"), assistant("2")]
    assert replay.checkpoint == 1


def test_an_old_compaction_keeps_the_users_messages_and_the_summary() -> None:
    replay = Replay.of(
        [
            *said(user(CONTEXT), user("a"), assistant("1"), user("b")),
            RolloutItem.compacted({"message": "summary"}),
        ]
    )
    assert replay.context == [user("a"), user("b"), user("summary")]


def test_a_rollback_cuts_at_the_nth_real_user_message_from_the_end() -> None:
    aborted = user("<turn_aborted>x</turn_aborted>")
    items = said(assistant("0"), user("a"), assistant("1"), aborted, user("b"))
    # The context update just above the cut goes with the rolled-back turn, as in Codex.
    assert Replay.of([*items, event("thread_rolled_back", num_turns=1)]).context == said_payloads(
        assistant("0"), user("a"), assistant("1")
    )
    assert Replay.of([*items, event("thread_rolled_back", num_turns=2)]).context == [assistant("0")]
    # More turns than there are: every user turn goes, what came before stays.
    assert Replay.of([*items, event("thread_rolled_back", num_turns=9)]).context == [assistant("0")]
    # Nonsense counts change nothing.
    for odd in (0, -1, "2", None):
        assert len(Replay.of([*items, event("thread_rolled_back", num_turns=odd)]).context) == 5


def said_payloads(*payloads: dict[str, Any]) -> list[dict[str, Any]]:
    return list(payloads)


def test_turn_state_and_token_totals() -> None:
    replay = Replay.of(
        [
            event("task_started", turn_id="t1", started_at=100),
            *said(user("a")),
            event("token_count", info={"total_token_usage": {"total_tokens": 7, "x": "y"}}),
        ]
    )
    assert replay.open_turn is not None and replay.open_turn.turn_id == "t1"
    assert replay.open_turn.started_at_s == 100
    assert replay.token_total == {"total_tokens": 7}
    assert replay.last_turn_user_start() == 0
    replay.feed(event("task_complete", turn_id="t1"))
    assert replay.open_turn is None and replay.last_turn is not None
    replay.feed(event("thread_rolled_back", num_turns=1))
    assert replay.context == [] and replay.last_turn is None


def test_a_rollback_removes_just_the_last_turn_only_when_it_opened_with_the_user() -> None:
    opened_by_user = Replay.of(
        [
            *said(assistant("0")),
            event("task_started", turn_id="t1"),
            *said(user("a"), assistant("1")),
        ]
    )
    assert opened_by_user.last_turn_user_start() == 1
    context_first = Replay.of(
        [event("task_started", turn_id="t1"), *said(user(CONTEXT), user("a"), assistant("1"))]
    )
    assert context_first.last_turn_user_start() is None
    after_an_update = Replay.of(
        [
            *said({"type": "message", "role": "developer", "content": "be brief"}),
            event("task_started", turn_id="t1"),
            *said(user("a")),
        ]
    )
    assert after_an_update.last_turn_user_start() is None  # Codex would cut above it
    answer_first = Replay.of(
        [event("task_started", turn_id="t1"), *said(assistant("0"), user("a"))]
    )
    assert answer_first.last_turn_user_start() is None
    no_user = Replay.of(
        [*said(user("a")), event("task_started", turn_id="t2"), *said(assistant("1"))]
    )
    assert no_user.last_turn_user_start() is None
    assert Replay.of(said(user("a"))).last_turn_user_start() is None  # no turn at all
