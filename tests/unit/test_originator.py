"""Effective originator precedence, as every released Codex CLI from 0.163.0 to 0.171.0
resolves it (`effective_originator_value`; originator.py docstring):

service-name table > persisted > inherited from a live parent >
CODEX_INTERNAL_ORIGINATOR_OVERRIDE > process default.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from codex_thread_store import OriginatorResolver
from codex_thread_store.originator import (
    DEFAULT_ORIGINATOR,
    ORIGINATOR_OVERRIDE_ENV,
    SERVICE_ORIGINATORS,
)

# Each rule, in precedence order: how to switch it on, and what it yields.
RULES: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    # name: (resolver kwargs, resolve kwargs, expected originator)
    "service": ({}, {"service_name": "CODEX_WORK_WEB"}, "codex_work_web"),
    "persisted": ({}, {"persisted": "persisted_orig"}, "persisted_orig"),
    "inherited": ({}, {"inherited": "inherited_orig"}, "inherited_orig"),
    "env": ({"environ": {ORIGINATOR_OVERRIDE_ENV: "Codex Desktop"}}, {}, "Codex Desktop"),
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


def test_codex_pinned_case_thread_scoped_sources_before_env() -> None:
    """Codex's own test: with the env originator set, each service name wins over persisted
    and inherited; an unknown name falls to persisted, then inherited."""
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: "Codex Desktop"})
    for name in SERVICE_ORIGINATORS:
        assert resolver.resolve(service_name=name, persisted="p", inherited="i") == name
    assert resolver.resolve(service_name="chatgpt_cca_extra", persisted="p", inherited="i") == "p"
    assert resolver.resolve(persisted="p", inherited="i") == "p"
    assert resolver.resolve(inherited="i") == "i"
    assert resolver.resolve() == "Codex Desktop"


def test_default_is_codex_cli_rs() -> None:
    assert DEFAULT_ORIGINATOR == "codex_cli_rs"
    assert OriginatorResolver(environ={}).resolve() == "codex_cli_rs"


# -- service names ----------------------------------------------------------------------------
def test_the_service_table_is_exactly_the_released_one() -> None:
    assert SERVICE_ORIGINATORS == (
        "codex_work_desktop",
        "codex_work_web",
        "codex_work_mobile",
        "codex_work_cca",
        "chatgpt_cca",
    )


@pytest.mark.parametrize(
    ("service_name", "expected"),
    [
        ("codex_work_desktop", "codex_work_desktop"),
        ("CODEX_WORK_DESKTOP", "codex_work_desktop"),
        ("codex_work_web", "codex_work_web"),
        (" Codex_Work_Web ", "codex_work_web"),
        ("codex_work_mobile", "codex_work_mobile"),
        ("CODEX_WORK_MOBILE\n", "codex_work_mobile"),
        ("codex_work_cca", "codex_work_cca"),
        ("\tChatGPT_CCA", "chatgpt_cca"),
    ],
)
def test_service_name_table(service_name: str, expected: str) -> None:
    resolver = OriginatorResolver(environ={})
    assert resolver.for_service(service_name) == expected
    assert resolver.resolve(service_name=service_name) == expected


@pytest.mark.parametrize(
    "service_name",
    [
        # Guessed aliases from an early pull-request text: no release has them.
        "CODEX_WORK_LOCAL",
        "codex_work_cloud",
        "codex_work_web_extra",
        "codex work web",
        "codex_cli_rs",
        "chatgpt_cca_extra",
        "codex_wor\u212a_web",  # KELVIN SIGN lowers to "k" in Unicode, not in ASCII folding
        "",
        "  ",
    ],
)
def test_other_service_names_fall_through(service_name: str) -> None:
    resolver = OriginatorResolver(environ={})
    assert resolver.for_service(service_name) is None
    assert resolver.resolve(service_name=service_name) == "codex_cli_rs"


def test_none_service_name() -> None:
    assert OriginatorResolver(environ={}).for_service(None) is None


# -- environment override ---------------------------------------------------------------------
def test_the_variable_is_codex_s_name() -> None:
    assert ORIGINATOR_OVERRIDE_ENV == "CODEX_INTERNAL_ORIGINATOR_OVERRIDE"


@pytest.mark.parametrize(
    "bad", ["Codex\nDesktop", "line\r", "nul\x00", "del\x7f", "caf\u00e9", "emoji \U0001f600"]
)
def test_invalid_env_header_value_falls_back_to_the_process_default(bad: str) -> None:
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: bad}, default="proc")
    assert resolver.env_override() == "proc"
    assert resolver.resolve() == "proc"


def test_invalid_env_value_still_loses_to_thread_scoped_rules() -> None:
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: "bad\nvalue"})
    assert resolver.resolve(persisted="p") == "p"
    assert resolver.resolve(inherited="i") == "i"


def test_valid_env_value_with_spaces_and_punctuation_is_kept() -> None:
    value = "Codex Desktop/1.2 (beta); x=y"
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: value})
    assert resolver.resolve() == value


def test_absent_env_variable_is_not_an_override() -> None:
    resolver = OriginatorResolver(environ={"OTHER": "x"}, default="dflt")
    assert resolver.env_override() is None
    assert resolver.resolve() == "dflt"


def test_an_empty_env_variable_counts_and_gives_the_process_originator() -> None:
    resolver = OriginatorResolver(environ={ORIGINATOR_OVERRIDE_ENV: ""}, default="dflt")
    assert resolver.env_override() == "dflt"
    assert resolver.resolve(service_name="codex_work_cca") == "codex_work_cca"
    assert resolver.resolve() == "dflt"


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


def test_all_absent_gives_the_configured_default() -> None:
    resolver = OriginatorResolver(environ={}, default="codex_exec")
    assert resolver.resolve(persisted=None, inherited=None, service_name=None) == "codex_exec"
