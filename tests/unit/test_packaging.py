"""The conda environment and pyproject.toml install the same packages."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return set(project["dependencies"]) | {req for group in extras.values() for req in group}


def conda_pip_requirements() -> set[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    return {requirement for section in pip_sections for requirement in section}


def test_environment_yml_matches_pyproject() -> None:
    """Every pinned range in pyproject.toml is in environment.yml and nothing else is."""
    assert conda_pip_requirements() == pyproject_requirements()


def test_environment_yml_python_meets_requires_python() -> None:
    """The conda environment's Python satisfies requires-python."""
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(
        d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python=")
    )
    major, minor = (int(p) for p in python.split("=")[1].split(".")[:2])
    assert (major, minor) >= (3, 11)
