"""The group: help texts, exit codes, one-line errors, --debug, choosing the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from codex_thread_store.cli import main
from codex_thread_store.cli.app import COMMANDS
from codex_thread_store.cli.exit_codes import ExitCode
from codex_thread_store.demo import DemoHome

from .conftest import Cli
from .terminal import run_piped


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_every_command_and_the_exit_codes() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for name in COMMANDS:
        assert f"\n  {name} " in out
    for number in ("0 ok", "1 error", "2 bad usage", "3 not found", "4 conflict", "5 problems"):
        assert number in " ".join(out.split())


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help_with_an_example(name: str) -> None:
    code, out, _ = invoke(name, "--help")
    assert code == 0
    assert f"codex-threads {name}" in out
    assert "Example" in out


def test_unknown_command_is_one_usage_line() -> None:
    code, out, err = invoke("frobnicate")
    assert code == ExitCode.USAGE
    assert out == ""
    assert err == "error: No such command 'frobnicate'. (see 'codex-threads --help')\n"


def test_bad_option_value_names_the_command_help(ro_cli: Cli) -> None:
    result = ro_cli("list", "--sort", "sideways")
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.count("\n") == 1
    assert "'sideways' is not one of" in result.stderr
    assert "codex-threads list --help" in result.stderr


def test_missing_home_is_not_found(no_home_env: Path) -> None:
    code, _out, err = invoke("list")
    assert code == ExitCode.NOT_FOUND
    assert err == (
        f"error: no Codex home at {no_home_env}; pass --home PATH or set CODEX_HOME "
        "(or run `codex-threads demo` to make one)\n"
    )
    assert not no_home_env.exists()  # a typo never creates a home


def test_codex_home_env_is_the_default(
    monkeypatch: pytest.MonkeyPatch, shared_demo: DemoHome
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(shared_demo.home))
    code, out, _ = invoke("list", "--all")
    assert code == 0
    assert len(out.splitlines()) == 5  # six demo threads, one archived


def test_home_and_store_exclude_each_other(shared_demo: DemoHome) -> None:
    code, _, err = invoke("--home", str(shared_demo.home), "--store", "memory:", "list")
    assert code == ExitCode.USAGE
    assert err == "error: pass either --home or --store, not both\n"


def test_store_accepts_local_urls_and_paths(shared_demo: DemoHome) -> None:
    expected = invoke("--home", str(shared_demo.home), "list")[1]
    for url in (f"local:{shared_demo.home}", f"local://{shared_demo.home}", str(shared_demo.home)):
        code, out, _ = invoke("--store", url, "list")
        assert code == 0
        assert out == expected


def test_memory_store_starts_empty() -> None:
    code, out, _err = invoke("--store", "memory:", "list", "--json")
    assert code == 0
    assert out == '{"items":[],"next_cursor":null}\n'


def test_unknown_store_scheme_is_a_usage_error() -> None:
    code, _, err = invoke("--store", "ftp://db/threads", "list")
    assert code == ExitCode.USAGE
    assert "--store scheme 'ftp' is not supported" in err


def test_store_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_THREADS_STORE", "memory:")
    code, out, _ = invoke("list", "--json")
    assert code == 0
    assert out == '{"items":[],"next_cursor":null}\n'


def test_errors_have_no_traceback_unless_debug(ro_cli: Cli) -> None:
    result = ro_cli("show", "no-such-thread")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: no thread matches 'no-such-thread'")

    piped = run_piped(["--home", str(ro_cli.home), "--debug", "show", "no-such-thread"])
    assert piped.returncode == 1  # an uncaught exception: Python's own exit code
    assert b"Traceback (most recent call last)" in piped.stderr
    assert b"CliError: no thread matches 'no-such-thread'" in piped.stderr


def test_debug_from_environment(ro_cli: Cli) -> None:
    piped = run_piped(["--home", str(ro_cli.home), "show", "nope"], CODEX_THREADS_DEBUG="1")
    assert b"Traceback" in piped.stderr


def test_store_errors_map_to_exit_codes(ro_cli: Cli) -> None:
    bad_cursor = ro_cli("list", "--cursor", "not-a-cursor")
    assert bad_cursor.exit_code == ExitCode.USAGE
    assert bad_cursor.stderr.startswith("error: invalid thread-store request: ")
    assert bad_cursor.stderr.count("\n") == 1


def test_console_script_and_module_entry_points(shared_demo: DemoHome) -> None:
    script = run_piped(["--home", str(shared_demo.home), "list"])
    assert script.returncode == 0
    assert script.stderr == b""
    import subprocess
    import sys

    module = subprocess.run(
        [sys.executable, "-m", "codex_thread_store", "--home", str(shared_demo.home), "list"],
        capture_output=True,
        check=False,
    )
    assert module.returncode == 0
    assert module.stdout == script.stdout
