"""Effective originator precedence (originator.py docstring; protocol section 3):

persisted > inherited from a live parent > CODEX_INTERNAL_ORIGINATOR_OVERRIDE >
service-name table > process default.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from codex_thread_store import OriginatorResolver
from codex_thread_store.originator import (
    DEFAULT_ORIGINATOR,
    DEFAULT_SERVICE_ORIGINATORS,
    ORIGINATOR_OVERRIDE_ENV,
)

# Each rule, in precedence order: how to switch it on, and what it yields.
RULES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    # name: (resolver kwargs, resolve kwargs, expected originator)
    "persisted": ({}, {"persisted": "persisted_orig"}, "persisted_orig"),
    "inherited": ({}, {"inherited": "inherited_orig"}, "inherited_orig"),
    "env": ({"environ": {ORIGINATOR_OVERRIDE_ENV: "Codex Desktop"}}, {}, "Codex Desktop"),
    "service": ({}, {"service_name": "CODEX_WORK_CLOUD"}, "codex_work_cloud"),
    "default": ({"default": "process_default"}, {}, "process_default"),
}
ORDER = list(RULES)


def resolve_with(*names: str) -> str:
    resolver_kwargs: dict[str, Any] = {"environ": {}}
    resolve_kwargs: dict[str, Any] = {}
    for name in names:
        r_kwargs, kwargs, _ = RULES[name]
        resolver_kwargs.update(r_kwargs)
        resolve_kwargs.update(kwargs)
    return OriginatorResolver(**resolver_kwargs).resolve(**resolve_kwargs)


@pytest.mark.parametrize(
    ("winner", "loser"),
    list(itertools.combinations(ORDER, 2)),
    ids=[f"{a}-beats-{b}" for a, b in itertools.combinations(ORDER, 2)],
)
def test_each_rule_beats_every_later_rule(winner: str, loser: str) -> None:
    assert resolve_with(winner, loser) == RULES[winner][2]


@pytest.mark.parametrize("name", ORDER)
def test_each_rule_alone(name: str) -> None:
    assert resolve_with(name) == RULES[name][2]


@pytest.mark.parametrize("name", ORDER)
def test_each_rule_beats_all_later_rules_together(name: str) -> None:
    later = ORDER[ORDER.index(name) :]
    assert resolve_with(*later) == RULES[name][2]


def test_default_is_codex_cli_rs() -> None:
    assert DEFAULT_ORIGINATOR == "codex_cli_rs"
    assert OriginatorResolver(environ={}).resolve() == "codex_cli_rs"


# -- service names ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("service_name", "expected"),
    [
        ("CODEX_WORK_LOCAL", "codex_work_desktop"),
        ("codex_work_local", "codex_work_desktop"),
        ("  Codex_Work_Local\t", "codex_work_desktop"),
        ("CODEX_WORK_CLOUD", "codex_work_cloud"),
        (" codex_work_cloud ", "codex_work_cloud"),
        ("codex_work_desktop", "codex_work_desktop"),
        ("CODEX_WORK_DESKTOP", "codex_work_desktop"),
        ("codex_work_web", "codex_work_web"),
        (" Codex_Work_Web ", "codex_work_web"),
        ("codex_work_mobile", "codex_work_mobile"),
        ("CODEX_WORK_MOBILE\n", "codex_work_mobile"),
    ],
)
def test_service_name_table(service_name: str, expected: str) -> None:
    resolver = OriginatorResolver(environ={})
    assert resolver.for_service(service_name) == expected
    assert resolver.resolve(service_name=service_name) == expected


@pytest.mark.parametrize(
    "service_name",
    ["codex_work_local_extra", "codex work local", "codex_cli_rs", "chatgpt_cca_extra", "", "  "],
)
def test_unknown_service_name_falls_through_to_default(service_name: str) -> None:
    resolver = OriginatorResolver(environ={})
    assert resolver.for_service(service_name) is None
    assert resolver.resolve(service_name=service_name) == "codex_cli_rs"


def test_none_service_name() -> None:
    assert OriginatorResolver(environ={}).for_service(None) is None


def test_default_service_table_contents() -> None:
    assert dict(DEFAULT_SERVICE_ORIGINATORS) == {
        "codex_work_local": "codex_work_desktop",
        "codex_work_cloud": "codex_work_cloud",
        "codex_work_desktop": "codex_work_desktop",
        "codex_work_web": "codex_work_web",
        "codex_work_mobile": "codex_work_mobile",
    }


def test_custom_service_table_is_matched_case_insensitively() -> None:
    resolver = OriginatorResolver(
        environ={}, service_originators={"My_Service": "my_orig"}, default="dflt"
    )
    assert resolver.resolve(service_name=" MY_SERVICE ") == "my_orig"
    assert resolver.resolve(service_name="codex_work_local") == "dflt"


# -- environment override ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad", ["Codex\nDesktop", "line\r", "nul\x00", "del\x7f", "caf\u00e9", "emoji \U0001f600"]
)
def test_invalid_env_header_value_falls_back_to_codex_cli_rs(bad: str) -> None:
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: bad}, default="proc")
    assert resolver.env_override() == "codex_cli_rs"
    assert resolver.resolve() == "codex_cli_rs"


def test_invalid_env_value_still_loses_to_thread_scoped_rules() -> None:
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: "bad\nvalue"})
    assert resolver.resolve(persisted="p") == "p"
    assert resolver.resolve(inherited="i") == "i"


def test_valid_env_value_with_spaces_and_punctuation_is_kept() -> None:
    value = "Codex Desktop/1.2 (beta); x=y"
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: value})
    assert resolver.resolve() == value


def test_absent_env_variable_is_not_an_override() -> None:
    resolver = OriginatorResolver(environ={"OTHER": "x"})
    assert resolver.env_override() is None
    assert resolver.resolve(service_name="codex_work_web") == "codex_work_web"


def test_os_environ_is_read_when_no_mapping_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ORIGINATOR_OVERRIDE_ENV, "from_os_environ")
    assert OriginatorResolver().resolve() == "from_os_environ"
    monkeypatch.delenv(ORIGINATOR_OVERRIDE_ENV)
    assert OriginatorResolver().resolve() == "codex_cli_rs"


def test_env_is_read_at_resolve_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ORIGINATOR_OVERRIDE_ENV, raising=False)
    resolver = OriginatorResolver()
    assert resolver.resolve() == "codex_cli_rs"
    monkeypatch.setenv(ORIGINATOR_OVERRIDE_ENV, "later")
    assert resolver.resolve() == "later"


# -- empty strings count as absent ------------------------------------------------------------
def test_empty_persisted_counts_as_absent() -> None:
    resolver = OriginatorResolver(environ={})
    assert resolver.resolve(persisted="", inherited="inh") == "inh"


def test_empty_inherited_counts_as_absent() -> None:
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: "env_orig"})
    assert resolver.resolve(persisted="", inherited="") == "env_orig"


def test_empty_service_name_counts_as_absent() -> None:
    resolver = OriginatorResolver(environ={}, default="dflt")
    assert resolver.resolve(service_name="") == "dflt"


def test_empty_env_value_counts_as_absent() -> None:
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: ""}, default="dflt")
    assert resolver.resolve(service_name="CODEX_WORK_LOCAL") == "codex_work_desktop"
    assert resolver.resolve() == "dflt"


def test_all_absent_gives_the_configured_default() -> None:
    resolver = OriginatorResolver(environ={}, default="codex_exec")
    assert resolver.resolve(persisted=None, inherited=None, service_name=None) == "codex_exec"
