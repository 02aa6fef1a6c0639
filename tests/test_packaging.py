"""Installable beside any app: the library asks for compatible ranges, and the exact
versions the tests run with (constraints.txt) lie inside them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    listed = project["dependencies"]
    for extra in ("postgres", "agents", "mcp", "bench", "dev"):
        listed = listed + extras[extra]
    return [Requirement(text) for text in listed]


def pinned() -> dict[str, str]:
    out = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            out[canonicalize_name(name)] = version
    return out


def test_runtime_dependencies_are_ranges_not_pins() -> None:
    for requirement in requirements():
        assert all(spec.operator != "==" for spec in requirement.specifier), requirement


def test_the_tested_versions_lie_inside_the_ranges() -> None:
    exact = pinned()
    for requirement in requirements():
        version = exact[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version), (requirement, version)


def test_the_platforms_are_stated() -> None:
    classifiers = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["classifiers"]
    assert "Operating System :: POSIX" in classifiers  # fcntl locks: no Windows
