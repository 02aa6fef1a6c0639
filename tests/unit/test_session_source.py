"""`SessionSource`: the rollout/SQLite form, the app-server v2 form, and the mapping
between them (core-api 7.2, protocol.md 1.2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codex_thread_store import InvalidRequest
from codex_thread_store.protocol import SessionSource, SourceKind

PARENT = "01a1fbf9-bfe6-7df0-af08-970e62e1ed1a"

SPAWN_ROLLOUT: dict[str, Any] = {
    "subagent": {
        "thread_spawn": {
            "parent_thread_id": PARENT,
            "depth": 1,
            "agent_path": None,
            "agent_nickname": "Kepler",
            "agent_role": "worker",
        }
    }
}

# (rollout form, app-server form, kind, display string)
CASES: list[tuple[Any, Any, str, str]] = [
    ("cli", "cli", "cli", "cli"),
    ("vscode", "vscode", "vscode", "vscode"),
    ("exec", "exec", "exec", "exec"),
    ("mcp", "appServer", "appServer", "mcp"),
    ("unknown", "unknown", "unknown", "unknown"),
    ({"custom": "my-app"}, {"custom": "my-app"}, "unknown", "my-app"),
    (
        {"internal": "memory_consolidation"},
        "unknown",
        "unknown",
        "internal_memory_consolidation",
    ),
    ({"subagent": "review"}, {"subAgent": "review"}, "subAgentReview", "subagent_review"),
    ({"subagent": "compact"}, {"subAgent": "compact"}, "subAgentCompact", "subagent_compact"),
    (
        {"subagent": "memory_consolidation"},
        {"subAgent": "memory_consolidation"},
        "subAgentOther",
        "subagent_memory_consolidation",
    ),
    (
        {"subagent": {"other": "guardian"}},
        {"subAgent": {"other": "guardian"}},
        "subAgentOther",
        "guardian",
    ),
    (
        SPAWN_ROLLOUT,
        {"subAgent": SPAWN_ROLLOUT["subagent"]},
        "subAgentThreadSpawn",
        f"subagent_thread_spawn_{PARENT}_d1",
    ),
]
CASE_IDS = [json.dumps(c[0]) for c in CASES]


# -- constructors build the rollout form ------------------------------------------------


def test_constructors_build_rollout_values() -> None:
    assert SessionSource.cli().to_rollout() == "cli"
    assert SessionSource.vscode().to_rollout() == "vscode"
    assert SessionSource.exec().to_rollout() == "exec"
    assert SessionSource.mcp().to_rollout() == "mcp"
    assert SessionSource.unknown().to_rollout() == "unknown"
    assert SessionSource.custom("my-app").to_rollout() == {"custom": "my-app"}
    assert SessionSource.internal("memory_consolidation").to_rollout() == {
        "internal": "memory_consolidation"
    }
    assert SessionSource.subagent("review").to_rollout() == {"subagent": "review"}
    assert SessionSource.subagent("compact").to_rollout() == {"subagent": "compact"}
    assert SessionSource.subagent("memory_consolidation").to_rollout() == {
        "subagent": "memory_consolidation"
    }
    assert SessionSource.subagent_other("guardian").to_rollout() == {
        "subagent": {"other": "guardian"}
    }
    spawn = SessionSource.thread_spawn(
        PARENT, depth=1, agent_nickname="Kepler", agent_role="worker"
    )
    assert spawn.to_rollout() == SPAWN_ROLLOUT
    # Key order of the spawn object is Codex's.
    assert json.dumps(spawn.to_rollout()) == json.dumps(SPAWN_ROLLOUT)


def test_thread_spawn_agent_fields_default_to_null() -> None:
    spawn = SessionSource.thread_spawn(PARENT)
    assert spawn.to_rollout() == {
        "subagent": {
            "thread_spawn": {
                "parent_thread_id": PARENT,
                "depth": 1,
                "agent_path": None,
                "agent_nickname": None,
                "agent_role": None,
            }
        }
    }
    assert spawn.agent_nickname is None
    assert spawn.agent_role is None
    assert spawn.agent_path is None
    assert spawn.parent_thread_id == PARENT


# -- rollout form ---------------------------------------------------------------------


@pytest.mark.parametrize(("rollout", "app", "kind", "display"), CASES, ids=CASE_IDS)
def test_rollout_form_round_trips(rollout: Any, app: Any, kind: str, display: str) -> None:
    source = SessionSource.from_rollout(rollout)
    assert source.to_rollout() == rollout
    assert SessionSource.from_rollout(source.to_rollout()) == source


def test_missing_source_reads_as_vscode() -> None:
    source = SessionSource.from_rollout(None)
    assert source == SessionSource.vscode()
    assert source.to_rollout() == "vscode"


@pytest.mark.parametrize("value", ["brand_new_surface", "CLI", "", "app-server"])
def test_unknown_unit_string_is_kept_but_behaves_as_unknown(value: str) -> None:
    source = SessionSource.from_rollout(value)
    assert source.to_rollout() == value  # written back unchanged
    assert source.to_db_text() == value
    assert source.kind == SourceKind.UNKNOWN == "unknown"
    assert str(source) == "unknown"
    assert source.to_app_server() == "unknown"
    assert source.matches_kind("unknown")
    assert not source.matches_kind("cli")
    assert not source.is_subagent


def test_unknown_object_shapes_are_kept() -> None:
    value = {"subagent": {"future_kind": {"x": 1}}}
    source = SessionSource.from_rollout(value)
    assert source.to_rollout() == value
    assert source.is_subagent
    assert source.matches_kind("subAgent")


@pytest.mark.parametrize("value", [5, 1.5, True, [], ["cli"], {}, {"custom": "a", "internal": "b"}])
def test_from_rollout_rejects_non_source_values(value: Any) -> None:
    with pytest.raises(InvalidRequest):
        SessionSource.from_rollout(value)


def test_thread_spawn_accepts_agent_type_alias() -> None:
    value = {
        "subagent": {
            "thread_spawn": {"parent_thread_id": PARENT, "depth": 2, "agent_type": "explorer"}
        }
    }
    source = SessionSource.from_rollout(value)
    assert source.agent_role == "explorer"
    assert source.agent_nickname is None
    assert source.agent_path is None
    assert source.parent_thread_id == PARENT
    assert source.kind == "subAgentThreadSpawn"
    assert str(source) == f"subagent_thread_spawn_{PARENT}_d2"
    # The value is kept as read, alias included.
    assert source.to_rollout() == value


def test_agent_role_wins_over_agent_type() -> None:
    value = {
        "subagent": {
            "thread_spawn": {
                "parent_thread_id": PARENT,
                "depth": 1,
                "agent_role": "worker",
                "agent_type": "explorer",
            }
        }
    }
    assert SessionSource.from_rollout(value).agent_role == "worker"


@pytest.mark.parametrize(
    "source",
    [
        SessionSource.cli(),
        SessionSource.mcp(),
        SessionSource.custom("x"),
        SessionSource.internal("memory_consolidation"),
        SessionSource.subagent("review"),
        SessionSource.subagent_other("guardian"),
    ],
    ids=repr,
)
def test_spawn_helpers_exist_only_for_thread_spawn(source: SessionSource) -> None:
    assert source.parent_thread_id is None
    assert source.agent_nickname is None
    assert source.agent_role is None
    assert source.agent_path is None


def test_spawn_helpers() -> None:
    spawn = SessionSource.thread_spawn(
        PARENT, depth=3, agent_path="/root/worker", agent_nickname="Kepler", agent_role="worker"
    )
    assert spawn.parent_thread_id == PARENT
    assert spawn.agent_nickname == "Kepler"
    assert spawn.agent_role == "worker"
    assert spawn.agent_path == "/root/worker"
    assert spawn.subagent_kind == "thread_spawn"
    assert spawn.is_subagent
    assert not spawn.is_internal


def test_subagent_and_internal_flags() -> None:
    assert SessionSource.subagent("review").subagent_kind == "review"
    assert SessionSource.subagent_other("guardian").subagent_kind == "guardian"
    assert SessionSource.cli().subagent_kind is None
    assert SessionSource.internal("guardian").is_internal
    assert not SessionSource.internal("guardian").is_subagent
    assert not SessionSource.cli().is_internal


# -- app-server form ------------------------------------------------------------------


@pytest.mark.parametrize(("rollout", "app", "kind", "display"), CASES, ids=CASE_IDS)
def test_to_app_server(rollout: Any, app: Any, kind: str, display: str) -> None:
    assert SessionSource.from_rollout(rollout).to_app_server() == app


@pytest.mark.parametrize(("rollout", "app", "kind", "display"), CASES, ids=CASE_IDS)
def test_from_app_server_inverts_to_app_server(
    rollout: Any, app: Any, kind: str, display: str
) -> None:
    back = SessionSource.from_app_server(app)
    if "internal" in (rollout if isinstance(rollout, dict) else {}):
        # The app-server hides internal threads: they come back as unknown.
        assert back == SessionSource.unknown()
    else:
        assert back == SessionSource.from_rollout(rollout)
        assert back.to_rollout() == rollout


def test_mcp_is_app_server_both_ways() -> None:
    assert SessionSource.mcp().to_app_server() == "appServer"
    assert SessionSource.from_app_server("appServer") == SessionSource.mcp()
    assert SessionSource.from_app_server("appServer").to_rollout() == "mcp"


def test_internal_shows_as_unknown_on_app_server() -> None:
    assert SessionSource.internal("memory_consolidation").to_app_server() == "unknown"
    assert SessionSource.internal("guardian").to_app_server() == "unknown"


def test_subagent_becomes_camel_case_sub_agent() -> None:
    assert SessionSource.subagent("review").to_app_server() == {"subAgent": "review"}
    assert SessionSource.from_app_server({"subAgent": "compact"}) == SessionSource.subagent(
        "compact"
    )


@pytest.mark.parametrize("value", [5, None, {}, {"subagent": "review"}, {"internal": "x"}])
def test_from_app_server_rejects_non_app_server_values(value: Any) -> None:
    with pytest.raises(InvalidRequest):
        SessionSource.from_app_server(value)


# -- SQLite text form -----------------------------------------------------------------


@pytest.mark.parametrize(("rollout", "app", "kind", "display"), CASES, ids=CASE_IDS)
def test_db_text_round_trips(rollout: Any, app: Any, kind: str, display: str) -> None:
    source = SessionSource.from_rollout(rollout)
    text = source.to_db_text()
    if isinstance(rollout, str):
        assert text == rollout  # bare text, not a JSON string
    else:
        assert text == json.dumps(rollout, separators=(",", ":"))
        assert json.loads(text) == rollout
    assert SessionSource.from_db_text(text) == source


def test_db_text_of_thread_spawn_is_compact_json_in_codex_key_order() -> None:
    assert SessionSource.from_rollout(SPAWN_ROLLOUT).to_db_text() == (
        '{"subagent":{"thread_spawn":{"parent_thread_id":"' + PARENT + '","depth":1,'
        '"agent_path":null,"agent_nickname":"Kepler","agent_role":"worker"}}}'
    )


# -- kind, matches_kind and display -----------------------------------------------------


@pytest.mark.parametrize(("rollout", "app", "kind", "display"), CASES, ids=CASE_IDS)
def test_kind(rollout: Any, app: Any, kind: str, display: str) -> None:
    source = SessionSource.from_rollout(rollout)
    assert source.kind == kind
    assert source.kind in SourceKind.ALL
    assert source.matches_kind(kind)


@pytest.mark.parametrize(("rollout", "app", "kind", "display"), CASES, ids=CASE_IDS)
def test_matches_kind_sub_agent_matches_every_subagent(
    rollout: Any, app: Any, kind: str, display: str
) -> None:
    source = SessionSource.from_rollout(rollout)
    is_subagent = isinstance(rollout, dict) and "subagent" in rollout
    assert source.matches_kind(SourceKind.SUB_AGENT) is is_subagent
    # Every source matches exactly one specific kind (subAgent is the only umbrella).
    specific = [k for k in SourceKind.ALL if k != "subAgent" and source.matches_kind(k)]
    assert specific == [kind]


def test_source_kind_names_match_the_app_server() -> None:
    assert {
        "cli",
        "vscode",
        "exec",
        "appServer",
        "subAgent",
        "subAgentReview",
        "subAgentCompact",
        "subAgentThreadSpawn",
        "subAgentOther",
        "unknown",
    } == SourceKind.ALL


@pytest.mark.parametrize(("rollout", "app", "kind", "display"), CASES, ids=CASE_IDS)
def test_display_strings(rollout: Any, app: Any, kind: str, display: str) -> None:
    assert str(SessionSource.from_rollout(rollout)) == display


# -- value semantics ------------------------------------------------------------------


def test_equality_and_hash_are_by_value() -> None:
    a = SessionSource.from_rollout(SPAWN_ROLLOUT)
    reordered = {
        "subagent": {
            "thread_spawn": dict(reversed(list(SPAWN_ROLLOUT["subagent"]["thread_spawn"].items())))
        }
    }
    b = SessionSource.from_rollout(reordered)
    assert a == b
    assert hash(a) == hash(b)
    assert SessionSource.cli() == SessionSource.from_rollout("cli")
    assert hash(SessionSource.cli()) == hash(SessionSource.from_rollout("cli"))
    assert len({SessionSource.cli(), SessionSource.from_rollout("cli"), SessionSource.exec()}) == 2


def test_inequality() -> None:
    assert SessionSource.cli() != SessionSource.vscode()
    assert SessionSource.custom("a") != SessionSource.custom("b")
    assert SessionSource.subagent("review") != SessionSource.subagent("compact")
    assert SessionSource.thread_spawn(PARENT, depth=1) != SessionSource.thread_spawn(
        PARENT, depth=2
    )
    assert SessionSource.cli() != "cli"
