"""Rollout lines: forward-compatible decode/encode, malformed lines, the first
`session_meta` rule, and `SessionMeta` payloads (core-api 7.3, 7.4; protocol.md 2).

Reads data from ../shared/codex-corpus (a real Codex home written by Codex CLI 0.169.0,
beside the checkout). Every line of every rollout file under it is checked; if the
folder is missing these tests fail rather than skip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
import zstandard

from codex_thread_store import InvalidRequest
from codex_thread_store.protocol import (
    GitInfo,
    MalformedLine,
    RolloutItem,
    RolloutLine,
    SessionMeta,
    SessionSource,
    ThreadSource,
    decode_line,
    encode_line,
    first_session_meta,
    history_mode_of,
)

CORPUS = Path(__file__).parents[2].parent / "shared" / "codex-corpus"
MISSING = CORPUS / "<no rollout files found>"

META_FIELDS = frozenset(SessionMeta.__struct_fields__)


def _rollout_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for p in CORPUS.rglob("rollout-*.jsonl*")
        if p.is_file() and p.name.endswith((".jsonl", ".jsonl.zst"))
    )


ROLLOUT_FILES = _rollout_files() or [MISSING]


def _read(path: Path) -> bytes:
    assert path.is_file(), f"corpus missing: expected rollout files under {CORPUS}"
    data = path.read_bytes()
    if path.name.endswith(".zst"):
        data = zstandard.ZstdDecompressor().stream_reader(data).read()
    return data


def _lines(path: Path) -> list[bytes]:
    data = _read(path)
    assert data.endswith(b"\n"), f"{path.name}: last line is not newline-terminated"
    lines = data[:-1].split(b"\n")
    assert all(lines), f"{path.name}: has an empty line"
    return lines


def _file_id(path: Path) -> str:
    # rollout-YYYY-MM-DDTHH-MM-SS-<uuid>.jsonl
    stem = path.name.split(".jsonl")[0]
    return stem[len("rollout-YYYY-MM-DDTHH-MM-SS-") :]


MISSING_PAYLOAD: dict[str, Any] = {"<corpus missing>": str(CORPUS)}


def _session_meta_payloads() -> list[Any]:
    """Every session_meta payload of the corpus; a marker that fails the tests if none."""
    out = []
    for path in ROLLOUT_FILES:
        if not path.is_file():
            continue
        for raw in _lines(path):
            value = json.loads(raw)
            if value["type"] == "session_meta":
                out.append(value["payload"])
    return out or [MISSING_PAYLOAD]


SESSION_META_PAYLOADS = _session_meta_payloads()


def _require(payload: Any) -> None:
    assert payload is not MISSING_PAYLOAD, f"no session_meta lines found under {CORPUS}"


# -- the corpus ------------------------------------------------------------------------


def test_corpus_is_present() -> None:
    """Reads data from ../shared/codex-corpus."""
    assert CORPUS.is_dir(), f"expected the Codex corpus at {CORPUS}"
    files = _rollout_files()
    assert len(files) >= 12, files
    assert any("archived_sessions" in p.parts for p in files)
    assert any("sessions" in p.parts for p in files)


@pytest.mark.parametrize("path", ROLLOUT_FILES, ids=lambda p: p.name)
def test_every_corpus_line_re_encodes_to_the_same_bytes(path: Path) -> None:
    """Reads data from ../shared/codex-corpus."""
    for raw in _lines(path):
        line = decode_line(raw)
        assert encode_line(line) == raw
        # With its newline (and a CRLF) too: the line is stored without it.
        assert encode_line(decode_line(raw + b"\n")) == raw
        assert encode_line(decode_line(raw + b"\r\n")) == raw
        # And from text.
        assert encode_line(decode_line(raw.decode())) == raw


@pytest.mark.parametrize("path", ROLLOUT_FILES, ids=lambda p: p.name)
def test_every_corpus_line_rebuilt_from_decoded_json_has_the_same_value(path: Path) -> None:
    """Reads data from ../shared/codex-corpus."""
    for raw in _lines(path):
        line = decode_line(raw)
        rebuilt = RolloutLine(line.timestamp, line.item, line.ordinal)
        assert rebuilt.raw is None
        original = json.loads(raw)
        assert json.loads(encode_line(rebuilt)) == original
        assert rebuilt.to_json() == original
        # The decoded pieces are what the JSON holds.
        assert line.timestamp == original["timestamp"]
        assert line.ordinal == original.get("ordinal")
        assert line.item.type == original["type"]
        assert line.item.payload == original["payload"]
        assert RolloutItem.from_json(line.item.to_json()) == line.item


@pytest.mark.parametrize("path", ROLLOUT_FILES, ids=lambda p: p.name)
def test_corpus_first_session_meta_is_the_files_own_thread(path: Path) -> None:
    """Reads data from ../shared/codex-corpus."""
    items = [decode_line(raw).item for raw in _lines(path)]
    assert items[0].type == "session_meta"
    meta = first_session_meta(items)
    assert meta is not None
    assert meta.id == _file_id(path)
    assert history_mode_of(items) == meta.history_mode
    assert history_mode_of(items) == items[0].payload["history_mode"]


def test_corpus_has_session_meta_lines() -> None:
    """Reads data from ../shared/codex-corpus."""
    payloads = SESSION_META_PAYLOADS
    assert MISSING_PAYLOAD not in payloads, f"no session_meta lines found under {CORPUS}"
    assert len(payloads) >= 12
    # The forked thread's line carries the newer keys too.
    assert any("forked_from_id" in p for p in payloads)
    assert any("git" in p for p in payloads)


@pytest.mark.parametrize(
    "payload", SESSION_META_PAYLOADS, ids=lambda p: str(p.get("id", "missing"))[:13]
)
def test_session_meta_from_payload_reads_every_corpus_session_meta(payload: Any) -> None:
    """Reads data from ../shared/codex-corpus."""
    _require(payload)
    meta = SessionMeta.from_payload(payload)
    assert meta.id == payload["id"]
    assert meta.effective_session_id == payload.get("session_id", payload["id"])
    for key, value in payload.items():
        if key not in META_FIELDS:
            continue
        if key == "source":
            assert meta.source.to_rollout() == value
            assert meta.source == SessionSource.from_rollout(value)
        else:
            assert getattr(meta, key) == value, key
    if "thread_source" in payload:
        assert isinstance(meta.thread_source, ThreadSource)
    git = SessionMeta.git_from_payload(payload)
    if "git" in payload:
        assert git == GitInfo(**payload["git"])
    else:
        assert git is None


@pytest.mark.parametrize(
    "payload", SESSION_META_PAYLOADS, ids=lambda p: str(p.get("id", "missing"))[:13]
)
def test_session_meta_to_payload_reproduces_every_known_corpus_key(payload: Any) -> None:
    """Reads data from ../shared/codex-corpus."""
    _require(payload)
    meta = SessionMeta.from_payload(payload)
    out = meta.to_payload(SessionMeta.git_from_payload(payload))
    known = {k: v for k, v in payload.items() if k in META_FIELDS or k == "git"}
    assert out == known


@pytest.mark.parametrize(
    "payload", SESSION_META_PAYLOADS, ids=lambda p: str(p.get("id", "missing"))[:13]
)
def test_session_meta_to_payload_key_order_matches_codex_0_169(payload: Any) -> None:
    """Reads data from ../shared/codex-corpus."""
    _require(payload)
    # Codex writes the known keys in a fixed order; ours must be the same order (the
    # unknown keys such as `account_scoped` aside).
    meta = SessionMeta.from_payload(payload)
    out = meta.to_payload(SessionMeta.git_from_payload(payload))
    known_order = [k for k in payload if k in META_FIELDS or k == "git"]
    assert list(out) == known_order


# -- synthetic forward-compatible lines --------------------------------------------------

SYNTHETIC = {
    "unknown line type": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"realtime_item",'
    b'"payload":{"kind":"audio","chunks":[1,2,3],"nested":{"a":null}}}',
    "unknown line type with ordinal": b'{"timestamp":"2026-01-01T00:00:00.000Z","ordinal":7,'
    b'"type":"security_risk_score","payload":{"score":0.25}}',
    "unknown event_msg kind": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg",'
    b'"payload":{"type":"brand_new_event","data":{"x":[true,false]}}}',
    "unknown response_item kind": b'{"timestamp":"2026-01-01T00:00:00.000Z",'
    b'"type":"response_item","payload":{"type":"hologram_call","id":"h1","args":"{}"}}',
    "unknown envelope key": b'{"timestamp":"2026-01-01T00:00:00.000Z","ordinal":3,'
    b'"type":"event_msg","payload":{"type":"user_message","message":"hi"},'
    b'"metadata":{"turn_id":"t1"},"zz_future":[1,{"b":2}]}',
    "unknown key before payload": b'{"timestamp":"2026-01-01T00:00:00.000Z",'
    b'"type":"response_item","trace":{"span":"s"},"payload":{"type":"message",'
    b'"role":"user","content":[]}}',
    "unknown payload key": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg",'
    b'"payload":{"type":"agent_message","message":"ok","future_flag":true,"phase":null}}',
    "unknown nested key": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"response_item",'
    b'"payload":{"type":"message","role":"assistant","content":[{"type":"output_text",'
    b'"text":"x","annotations":[{"future":{"deep":[1.5,-2,1e300]}}]}]}}',
    "unknown session_meta key": b'{"timestamp":"2026-01-01T00:00:00.000Z",'
    b'"type":"session_meta","payload":{"id":"a","timestamp":"t","subscriptions":["x"],'
    b'"source":{"internal":"guardian"},"base_instructions":null}}',
    "no payload": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"future_marker"}',
    "null payload": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"future_marker",'
    b'"payload":null}',
    "scalar payload": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"future_marker",'
    b'"payload":"just a string"}',
    "unicode and escapes": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg",'
    b'"payload":{"type":"user_message","message":"h\\u00e9llo \\ud83d\\ude00 \xc3\xa9 '
    b'\\"q\\" \\n"}}',
    "spaced json": b'{ "timestamp" : "2026-01-01T00:00:00.000Z" , "type" : "x" ,'
    b' "payload" : { "a" : 1 } }',
}


@pytest.mark.parametrize("raw", SYNTHETIC.values(), ids=SYNTHETIC.keys())
def test_synthetic_line_re_encodes_to_the_same_bytes(raw: bytes) -> None:
    assert encode_line(decode_line(raw)) == raw
    assert encode_line(decode_line(raw + b"\n")) == raw


@pytest.mark.parametrize("raw", SYNTHETIC.values(), ids=SYNTHETIC.keys())
def test_synthetic_line_rebuilt_has_the_same_json_value(raw: bytes) -> None:
    line = decode_line(raw)
    rebuilt = RolloutLine(line.timestamp, line.item, line.ordinal)
    assert json.loads(encode_line(rebuilt)) == json.loads(raw)
    # And rebuilding a second time is stable byte for byte.
    again = decode_line(encode_line(rebuilt))
    assert encode_line(RolloutLine(again.timestamp, again.item, again.ordinal)) == encode_line(
        rebuilt
    )


def test_unknown_envelope_keys_are_kept_as_extra_in_order() -> None:
    line = decode_line(SYNTHETIC["unknown envelope key"])
    assert line.item.extra == {"metadata": {"turn_id": "t1"}, "zz_future": [1, {"b": 2}]}
    assert list(line.item.extra) == ["metadata", "zz_future"]
    assert line.ordinal == 3
    assert line.item.payload_type == "user_message"


def test_line_without_payload_keeps_no_payload() -> None:
    line = decode_line(SYNTHETIC["no payload"])
    assert line.item.type == "future_marker"
    assert line.item.payload_type is None
    assert "payload" not in line.item.to_json()
    rebuilt = RolloutLine(line.timestamp, line.item, line.ordinal)
    assert json.loads(encode_line(rebuilt)) == {
        "timestamp": "2026-01-01T00:00:00.000Z",
        "type": "future_marker",
    }


def test_null_payload_stays_null() -> None:
    line = decode_line(SYNTHETIC["null payload"])
    assert line.item.payload is None
    rebuilt = RolloutLine(line.timestamp, line.item, line.ordinal)
    assert json.loads(encode_line(rebuilt))["payload"] is None


def test_built_line_encodes_in_envelope_order() -> None:
    item = RolloutItem.event_msg({"type": "user_message", "message": "hi"})
    assert encode_line(RolloutLine("2026-01-01T00:00:00.000Z", item)) == (
        b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"event_msg",'
        b'"payload":{"type":"user_message","message":"hi"}}'
    )
    assert encode_line(RolloutLine("2026-01-01T00:00:00.000Z", item, 4)) == (
        b'{"timestamp":"2026-01-01T00:00:00.000Z","ordinal":4,"type":"event_msg",'
        b'"payload":{"type":"user_message","message":"hi"}}'
    )


# -- malformed lines -------------------------------------------------------------------

MALFORMED = {
    "empty": b"",
    "not json": b"this is not json",
    "truncated json": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":"x","payload":{',
    "trailing garbage": b'{"timestamp":"t","type":"x"} extra',
    "array": b'[{"timestamp":"t","type":"x"}]',
    "string": b'"timestamp"',
    "number": b"42",
    "null": b"null",
    "missing timestamp": b'{"type":"event_msg","payload":{}}',
    "null timestamp": b'{"timestamp":null,"type":"event_msg","payload":{}}',
    "numeric timestamp": b'{"timestamp":1700000000,"type":"event_msg","payload":{}}',
    "missing type": b'{"timestamp":"2026-01-01T00:00:00.000Z","payload":{}}',
    "null type": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":null,"payload":{}}',
    "object type": b'{"timestamp":"2026-01-01T00:00:00.000Z","type":{"a":1},"payload":{}}',
    "string ordinal": b'{"timestamp":"t","ordinal":"3","type":"x","payload":{}}',
    "float ordinal": b'{"timestamp":"t","ordinal":3.5,"type":"x","payload":{}}',
    "bool ordinal": b'{"timestamp":"t","ordinal":true,"type":"x","payload":{}}',
    "list ordinal": b'{"timestamp":"t","ordinal":[3],"type":"x","payload":{}}',
    "invalid utf-8 in value": b'{"timestamp":"t","type":"x","payload":{"m":"\xff\xfe"}}',
    "invalid utf-8 in key": b'{"timestamp":"t","type":"x","\xc3":1}',
    "lone continuation byte": b'{"timestamp":"\x80","type":"x"}',
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_line_raises_malformed_line(raw: bytes) -> None:
    with pytest.raises(MalformedLine):
        decode_line(raw)


def test_malformed_line_is_a_value_error() -> None:
    assert issubclass(MalformedLine, ValueError)


def test_rollout_item_from_json_rejects_non_items() -> None:
    for value in (None, [], "x", {"payload": {}}, {"type": 5}):
        with pytest.raises(MalformedLine):
            RolloutItem.from_json(value)


# -- the first session_meta is canonical -----------------------------------------------


def _meta_item(thread_id: str, history_mode: str) -> RolloutItem:
    meta = SessionMeta(
        id=thread_id,
        timestamp="2026-01-01T00:00:00.000Z",
        history_mode=history_mode,  # type: ignore[arg-type]
    )
    return RolloutItem.session_meta(meta)


def test_canonical_history_mode_uses_first_session_meta() -> None:
    items = [_meta_item("a", "legacy"), _meta_item("b", "paginated")]
    assert history_mode_of(items) == "legacy"
    first = first_session_meta(items)
    assert first is not None
    assert first.id == "a"


def test_history_mode_follows_the_first_session_meta_whatever_it_is() -> None:
    user = RolloutItem.event_msg({"type": "user_message", "message": "hi"})
    items = [user, _meta_item("b", "paginated"), user, _meta_item("a", "legacy")]
    assert history_mode_of(items) == "paginated"
    first = first_session_meta(items)
    assert first is not None
    assert first.id == "b"


def test_history_mode_without_session_meta_uses_the_default() -> None:
    user = RolloutItem.event_msg({"type": "user_message", "message": "hi"})
    assert first_session_meta([]) is None
    assert first_session_meta([user]) is None
    assert history_mode_of([]) == "legacy"
    assert history_mode_of([user]) == "legacy"
    assert history_mode_of([user], default="paginated") == "paginated"


def test_history_mode_of_accepts_an_iterator() -> None:
    items = iter([_meta_item("a", "paginated"), _meta_item("b", "legacy")])
    assert history_mode_of(items) == "paginated"


# -- SessionMeta.to_payload: key order and omission rules (core-api 7.3) ----------------

ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
PARENT = "0190a1b2-0000-7000-8000-000000000000"


def test_minimal_payload_keys_and_nulls() -> None:
    meta = SessionMeta(id=ID, timestamp="2026-01-01T00:00:00.000Z")
    payload = meta.to_payload()
    assert list(payload) == [
        "session_id",
        "id",
        "timestamp",
        "cwd",
        "originator",
        "cli_version",
        "source",
        "model_provider",
        "base_instructions",
        "history_mode",
    ]
    assert payload == {
        "session_id": ID,  # copied from id
        "id": ID,
        "timestamp": "2026-01-01T00:00:00.000Z",
        "cwd": "",
        "originator": "",
        "cli_version": "",
        "source": "vscode",
        "model_provider": None,  # always written, possibly null
        "base_instructions": None,  # always written, possibly null
        "history_mode": "legacy",
    }


def test_full_payload_key_order() -> None:
    meta = SessionMeta(
        session_id=PARENT,
        id=ID,
        forked_from_id=PARENT,
        parent_thread_id=PARENT,
        timestamp="2026-01-01T00:00:00.000Z",
        cwd="/repo",
        originator="codex_cli_rs",
        cli_version="0.169.0",
        source=SessionSource.thread_spawn(PARENT, agent_nickname="Kepler", agent_role="worker"),
        thread_source=ThreadSource.SUBAGENT,
        agent_nickname="Kepler",
        agent_role="worker",
        agent_path="/root/kepler",
        model_provider="openai",
        base_instructions={"text": "be brief"},
        dynamic_tools=[{"name": "t"}],
        selected_capability_roots=["/cap"],
        memory_mode="disabled",
        history_mode="paginated",
        multi_agent_version="v2",
        context_window={"window_id": "w"},
    )
    payload = meta.to_payload(GitInfo(commit_hash="abc", branch="main", repository_url="u"))
    assert list(payload) == [
        "session_id",
        "id",
        "forked_from_id",
        "parent_thread_id",
        "timestamp",
        "cwd",
        "originator",
        "cli_version",
        "source",
        "thread_source",
        "agent_nickname",
        "agent_role",
        "agent_path",
        "model_provider",
        "base_instructions",
        "dynamic_tools",
        "selected_capability_roots",
        "memory_mode",
        "history_mode",
        "multi_agent_version",
        "context_window",
        "git",
    ]
    assert payload["session_id"] == PARENT
    assert payload["thread_source"] == "subagent"
    assert payload["memory_mode"] == "disabled"
    assert payload["git"] == {"commit_hash": "abc", "branch": "main", "repository_url": "u"}
    assert list(payload["git"]) == ["commit_hash", "branch", "repository_url"]
    # And it reads back to the same SessionMeta.
    assert SessionMeta.from_payload(payload) == meta


def test_empty_selected_capability_roots_are_omitted() -> None:
    meta = SessionMeta(id=ID, timestamp="t", selected_capability_roots=[])
    assert "selected_capability_roots" not in meta.to_payload()


def test_git_sibling_omits_missing_fields_and_is_omitted_without_git() -> None:
    meta = SessionMeta(id=ID, timestamp="t")
    assert "git" not in meta.to_payload()
    assert "git" not in meta.to_payload(None)
    payload = meta.to_payload(GitInfo(branch="main"))
    assert payload["git"] == {"branch": "main"}
    assert list(payload)[-1] == "git"


def test_core_api_example_first_line_is_reproduced_byte_for_byte() -> None:
    expected = (
        b'{"timestamp":"2025-01-03T12:00:00.000Z","type":"session_meta","payload":'
        b'{"session_id":"0190\xe2\x80\xa6","id":"0190\xe2\x80\xa6",'
        b'"timestamp":"2025-01-03T12:00:00.000Z","cwd":"/repo","originator":"codex_cli_rs",'
        b'"cli_version":"0.0.0","source":"cli","thread_source":"user","model_provider":"openai",'
        b'"base_instructions":null,"history_mode":"legacy",'
        b'"git":{"commit_hash":"abc","branch":"main"}}}'
    )
    meta = SessionMeta(
        session_id="0190…",
        id="0190…",
        timestamp="2025-01-03T12:00:00.000Z",
        cwd="/repo",
        originator="codex_cli_rs",
        cli_version="0.0.0",
        source=SessionSource.cli(),
        thread_source=ThreadSource.USER,
        model_provider="openai",
    )
    item = RolloutItem.session_meta(meta, GitInfo(commit_hash="abc", branch="main"))
    assert encode_line(RolloutLine("2025-01-03T12:00:00.000Z", item)) == expected
    # And reading the example gives the same SessionMeta and git back.
    read = decode_line(expected).item
    assert read.as_session_meta() == meta
    assert SessionMeta.git_from_payload(read.payload) == GitInfo(commit_hash="abc", branch="main")


def test_protocol_subagent_example_payload_is_reproduced() -> None:
    root, child = "<root id>", "<child id>"
    expected = (
        '{"session_id":"<root id>","id":"<child id>","parent_thread_id":"<root id>",'
        '"timestamp":"…","cwd":"…","originator":"Codex Desktop","cli_version":"0.169.0",'
        '"source":{"subagent":{"thread_spawn":{"parent_thread_id":"<root id>","depth":1,'
        '"agent_path":null,"agent_nickname":"Kepler","agent_role":"worker"}}},'
        '"thread_source":"subagent","agent_nickname":"Kepler","agent_role":"worker",'
        '"model_provider":"openai","base_instructions":null,"history_mode":"paginated"}'
    )
    meta = SessionMeta(
        session_id=root,
        id=child,
        parent_thread_id=root,
        timestamp="…",
        cwd="…",
        originator="Codex Desktop",
        cli_version="0.169.0",
        source=SessionSource.thread_spawn(root, agent_nickname="Kepler", agent_role="worker"),
        thread_source=ThreadSource.SUBAGENT,
        agent_nickname="Kepler",
        agent_role="worker",
        model_provider="openai",
        history_mode="paginated",
    )
    assert msgspec.json.encode(meta.to_payload()).decode() == expected
    assert SessionMeta.from_payload(json.loads(expected)) == meta


# -- SessionMeta.from_payload ------------------------------------------------------------


def test_from_payload_copies_missing_session_id_from_id() -> None:
    meta = SessionMeta.from_payload({"id": ID, "timestamp": "t"})
    assert meta.effective_session_id == ID
    assert meta.to_payload()["session_id"] == ID


def test_from_payload_defaults() -> None:
    meta = SessionMeta.from_payload({"id": ID, "timestamp": "t"})
    assert meta.source == SessionSource.vscode()
    assert meta.history_mode == "legacy"
    assert meta.thread_source is None
    assert meta.model_provider is None
    assert meta.base_instructions is None


def test_from_payload_reads_agent_type_as_agent_role() -> None:
    meta = SessionMeta.from_payload({"id": ID, "timestamp": "t", "agent_type": "explorer"})
    assert meta.agent_role == "explorer"
    assert meta.to_payload()["agent_role"] == "explorer"
    both = SessionMeta.from_payload(
        {"id": ID, "timestamp": "t", "agent_role": "worker", "agent_type": "explorer"}
    )
    assert both.agent_role == "worker"


def test_from_payload_treats_null_as_missing() -> None:
    meta = SessionMeta.from_payload(
        {"id": ID, "timestamp": "t", "source": None, "history_mode": None, "cwd": None}
    )
    assert meta.source == SessionSource.vscode()
    assert meta.history_mode == "legacy"
    assert meta.cwd == ""


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        "session_meta",
        {"timestamp": "t"},
        {"id": ID},
        {"id": ["x"], "timestamp": "t"},
        {"id": ID, "timestamp": "t", "history_mode": "sideways"},
        {"id": ID, "timestamp": "t", "source": 5},
    ],
)
def test_from_payload_rejects_unreadable_payloads(payload: Any) -> None:
    with pytest.raises(InvalidRequest):
        SessionMeta.from_payload(payload)


def test_as_session_meta_only_for_readable_session_meta_items() -> None:
    assert RolloutItem.event_msg({"type": "user_message"}).as_session_meta() is None
    assert RolloutItem("session_meta", {"no": "id"}).as_session_meta() is None
    meta = _meta_item("a", "legacy").as_session_meta()
    assert meta is not None
    assert meta.id == "a"
