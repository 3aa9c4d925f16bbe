"""The conda environment and the pip project must install the same things.

environment.yml serves conda users (lxplus, laptops); pyproject.toml serves pip and `make`.
A dependency added to one and forgotten in the other breaks someone's set-up silently.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]

# pip name -> conda-forge name, where they differ. The ROOT wheel is called `root` on both.
PIP_TO_CONDA = {"root": "root"}
# conda-only build tools that pip cannot provide (the Makefile needs them; pip users have them).
CONDA_ONLY = {"python", "cmake", "make", "cxx-compiler", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def pip_dependencies() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        names |= {_name(r) for r in extra}
    return {PIP_TO_CONDA.get(n, n) for n in names}


def conda_dependencies() -> set[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    names = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    for block in (d for d in env["dependencies"] if isinstance(d, dict)):  # - pip: [...]
        names |= {_name(r) for r in block.get("pip", [])}
    return names - CONDA_ONLY


def test_environment_yml_lists_the_same_dependencies_as_pyproject() -> None:
    pip, conda = pip_dependencies(), conda_dependencies()
    assert pip == conda, (
        f"only in pyproject.toml: {sorted(pip - conda)}; only in environment.yml: {sorted(conda - pip)}"
    )


def test_dependency_names_are_parsed() -> None:
    # guards the comparison above against an empty parse that would compare set() == set()
    assert {"numpy", "scipy", "pyyaml", "correctionlib", "root"} <= pip_dependencies()
