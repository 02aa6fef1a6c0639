"""`ThreadSource`: an open scalar label (protocol.md 1.1, core-api 7.1).

Reading accepts any string unchanged; only labels given when *creating* a thread
are validated (`ThreadSource.validate_new`).
"""

from __future__ import annotations

import json

import msgspec
import pytest

from codex_thread_store import CreateThreadParams, InvalidRequest
from codex_thread_store.codec import decode_json, encode_json
from codex_thread_store.protocol import RolloutItem, SessionMeta, ThreadSource, decode_line
from codex_thread_store.protocol.sources import MAX_FEATURE_LABEL_LENGTH

CORE_VALUES = ["user", "subagent", "memory_consolidation", "guardian_review"]
FEATURE_LABELS = ["automation", "thread_title", "hepta-ui-chat", "User", " user", ""]

META_ID = "01a1fbf9-bfe6-7df0-af08-970e62e1ed1a"
META_TS = "2026-11-21T02:40:11.246Z"


# -- core values and feature labels -------------------------------------------------


@pytest.mark.parametrize("value", CORE_VALUES)
def test_core_values_are_core(value: str) -> None:
    source = ThreadSource(value)
    assert source.is_core is True
    assert source.is_feature is False
    assert source.label == value
    assert source == value
    assert hash(source) == hash(value)


def test_core_value_constants() -> None:
    assert ThreadSource.USER == "user"
    assert ThreadSource.SUBAGENT == "subagent"
    assert ThreadSource.MEMORY_CONSOLIDATION == "memory_consolidation"
    assert ThreadSource.GUARDIAN_REVIEW == "guardian_review"
    for constant in (
        ThreadSource.USER,
        ThreadSource.SUBAGENT,
        ThreadSource.MEMORY_CONSOLIDATION,
        ThreadSource.GUARDIAN_REVIEW,
    ):
        assert isinstance(constant, ThreadSource)
        assert constant.is_core
    assert set(ThreadSource.CORE_VALUES) == set(CORE_VALUES)


@pytest.mark.parametrize("value", FEATURE_LABELS)
def test_feature_labels_are_features(value: str) -> None:
    # Matching is exact and case-sensitive: "User" and " user" are feature labels.
    source = ThreadSource(value)
    assert source.is_feature is True
    assert source.is_core is False
    assert source.label == value
    assert type(source.label) is str
    assert str(source) == value


def test_thread_source_is_a_plain_string_value() -> None:
    source = ThreadSource("automation")
    assert isinstance(source, str)
    assert source == "automation"
    assert {source: 1}["automation"] == 1
    assert source != ThreadSource("Automation")


# -- reading never fails ------------------------------------------------------------


def _meta_payload(**extra: object) -> dict[str, object]:
    return {"id": META_ID, "timestamp": META_TS, "source": "exec", **extra}


@pytest.mark.parametrize(
    "value",
    ["", " x ", "x" * 10_000, "\tlabel\n", "User", "ünïcödé label", *CORE_VALUES],
)
def test_session_meta_reads_any_thread_source_unchanged(value: str) -> None:
    meta = SessionMeta.from_payload(_meta_payload(thread_source=value))
    assert meta.thread_source == value
    assert isinstance(meta.thread_source, ThreadSource)
    # ... and writes it back exactly as read.
    assert meta.to_payload()["thread_source"] == value


@pytest.mark.parametrize("payload", [_meta_payload(), _meta_payload(thread_source=None)])
def test_session_meta_without_thread_source_reads_none(payload: dict[str, object]) -> None:
    meta = SessionMeta.from_payload(payload)
    assert meta.thread_source is None
    assert "thread_source" not in meta.to_payload()


def test_rollout_line_with_odd_thread_source_reads_and_round_trips() -> None:
    raw = json.dumps(
        {
            "timestamp": META_TS,
            "type": "session_meta",
            "payload": _meta_payload(thread_source="  spaced label  "),
        },
        separators=(",", ":"),
    ).encode()
    line = decode_line(raw)
    meta = line.item.as_session_meta()
    assert meta is not None
    assert meta.thread_source == "  spaced label  "
    assert RolloutItem.session_meta(meta).payload["thread_source"] == "  spaced label  "


# -- validate_new: only for labels given at creation ----------------------------------


@pytest.mark.parametrize("value", CORE_VALUES)
def test_validate_new_accepts_core_values(value: str) -> None:
    result = ThreadSource.validate_new(value)
    assert result == value
    assert isinstance(result, ThreadSource)
    assert result.is_core


@pytest.mark.parametrize(
    "value",
    [
        "automation",
        "a",
        "x" * MAX_FEATURE_LABEL_LENGTH,
        "é" * MAX_FEATURE_LABEL_LENGTH,  # characters, not bytes
        "two words",
        "User",
    ],
)
def test_validate_new_accepts_feature_labels(value: str) -> None:
    result = ThreadSource.validate_new(value)
    assert result == value
    assert isinstance(result, ThreadSource)


def test_feature_label_limit_is_128() -> None:
    assert MAX_FEATURE_LABEL_LENGTH == 128
    assert ThreadSource.validate_new("a" * 128) == "a" * 128
    with pytest.raises(InvalidRequest):
        ThreadSource.validate_new("a" * 129)


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        " automation",
        "automation ",
        " automation ",
        "\tautomation",
        "automation\n",
        " user",
        "a" * (MAX_FEATURE_LABEL_LENGTH + 1),
        "é" * (MAX_FEATURE_LABEL_LENGTH + 1),
        "x" * 10_000,
    ],
)
def test_validate_new_rejects_bad_labels(value: str) -> None:
    with pytest.raises(InvalidRequest):
        ThreadSource.validate_new(value)


@pytest.mark.parametrize("value", [None, 5, b"automation", ["user"]])
def test_validate_new_rejects_non_strings(value: object) -> None:
    with pytest.raises(InvalidRequest):
        ThreadSource.validate_new(value)


@pytest.mark.parametrize(
    "value",
    ["", " automation", "automation ", "a" * (MAX_FEATURE_LABEL_LENGTH + 1)],
)
def test_create_thread_params_rejects_bad_thread_source(value: str) -> None:
    with pytest.raises(InvalidRequest):
        CreateThreadParams(thread_source=value)


@pytest.mark.parametrize("value", [*CORE_VALUES, "automation", "a" * MAX_FEATURE_LABEL_LENGTH])
def test_create_thread_params_accepts_good_thread_source(value: str) -> None:
    assert CreateThreadParams(thread_source=value).thread_source == value


def test_create_thread_params_thread_source_defaults_to_none() -> None:
    assert CreateThreadParams().thread_source is None


# -- wire form: a bare string ---------------------------------------------------------


def test_encode_json_writes_thread_source_as_bare_string() -> None:
    meta = SessionMeta(id=META_ID, timestamp=META_TS, thread_source=ThreadSource("automation"))
    assert json.loads(encode_json(meta))["thread_source"] == "automation"
    assert b'"thread_source":"automation"' in encode_json(meta)

    params = CreateThreadParams(thread_source=ThreadSource("automation"))
    assert json.loads(encode_json(params))["thread_source"] == "automation"


def test_session_meta_payload_writes_thread_source_as_bare_string() -> None:
    meta = SessionMeta(id=META_ID, timestamp=META_TS, thread_source=ThreadSource.USER)
    payload = meta.to_payload()
    assert payload["thread_source"] == "user"
    assert msgspec.json.encode(payload).count(b'"thread_source":"user"') == 1


def test_create_thread_params_thread_source_round_trips_through_json() -> None:
    params = CreateThreadParams(thread_source=ThreadSource("automation"))
    decoded = decode_json(encode_json(params), CreateThreadParams)
    assert decoded.thread_source == "automation"
    assert decoded == params


def test_session_meta_thread_source_round_trips_through_json() -> None:
    # SessionMeta is a public wire type (schema.PUBLIC_WIRE_TYPES): decode_json must read
    # back what encode_json wrote, with the label unchanged.
    meta = SessionMeta(id=META_ID, timestamp=META_TS, thread_source=ThreadSource("automation"))
    decoded = decode_json(encode_json(meta), SessionMeta)
    assert decoded.thread_source == "automation"
    assert decoded == meta
