"""A copy of the files a package build reads, so that a test's build never writes into the
checkout (setuptools keeps its build tree beside setup.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: the source directories setup.py copies into the package (SOURCE_PARTS there)
PACKAGED = ("configs", "selections", "corrections", "simulation", "samples")


def project_copy(dest: Path) -> Path:
    src = dest / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    shutil.copytree(REPO / "analysis", src / "analysis", ignore=ignore)
    for part in ("include", "src", "tests"):
        shutil.copytree(REPO / "cpp" / part, src / "cpp" / part, ignore=ignore)
    for part in PACKAGED:
        shutil.copytree(REPO / part, src / part, ignore=ignore)
    return src
