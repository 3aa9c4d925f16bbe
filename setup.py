"""Build step of the nutag wheel: the C++ sources and the embedded analysis travel inside it.

Why: nutag compiles and JIT-declares its C++ (``cpp/include``, ``cpp/src``) at run time, and
`nutag run` without a config runs the embedded default analysis (configs/, selections/,
corrections/) on the default data set it simulates (simulation/, samples/ntuple-schema.yaml),
so an installed nutag needs them all. They stay at the top of the repository (CMake, ctest and
the YAML's relative paths use them there); a non-editable build copies them to
``nutag/_source/``, where ``nutag.core.locations.source_root`` finds them when there is no checkout
around the package. Editable installs read the checkout itself. Everything else is configured
in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: the source directories an installed nutag reads (cpp/tests is for ctest only)
SOURCE_PARTS = ("cpp/include", "cpp/src", "configs", "selections", "corrections", "simulation",
                "samples")


class BuildPyWithSources(build_py):
    """``build_py`` that also copies :data:`SOURCE_PARTS` into ``nutag/_source``."""

    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            # the build tree outlives a build: a module removed from the sources would
            # otherwise still be copied into the wheel from the previous one
            shutil.rmtree(Path(self.build_lib) / "nutag", ignore_errors=True)
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for part in SOURCE_PARTS:
            src = HERE / part
            if not src.is_dir():
                raise FileNotFoundError(f"{src} is missing: the wheel would lack it")
            dst = Path(self.build_lib) / "nutag" / "_source" / part
            shutil.copytree(src, dst, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.o", "*.so", "*.pcm", "*.d",
                                                          "__pycache__", "*.py[cod]"))


# build trees under build/setuptools, apart from the CMake build in build/
setup(cmdclass={"build_py": BuildPyWithSources},
      options={"build": {"build_base": "build/setuptools"}})
