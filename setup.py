"""Build step of the nutag wheel: the C++ sources travel inside the package.

Why: nutag compiles and JIT-declares its C++ (``cpp/include``, ``cpp/src``) at run time, so an
installed nutag needs them. They stay at the top of the repository (CMake and the ctest tests
use them there); a non-editable build copies them to ``nutag/_source/cpp/``, where
``nutag.cpp.source_root`` finds them when there is no checkout around the package. Editable
installs read the checkout's own ``cpp/``. Everything else is configured in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: the parts of cpp/ an installed nutag uses (cpp/tests is for ctest only)
CPP_PARTS = ("include", "src")


class BuildPyWithCpp(build_py):
    """``build_py`` that also copies cpp/include and cpp/src into ``nutag/_source/cpp``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for part in CPP_PARTS:
            src = HERE / "cpp" / part
            if not src.is_dir():
                raise FileNotFoundError(f"{src} is missing: the wheel would lack nutag's C++")
            dst = Path(self.build_lib) / "nutag" / "_source" / "cpp" / part
            shutil.copytree(src, dst, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.o", "*.so", "*.pcm", "*.d"))


# build trees under build/setuptools, apart from the CMake build in build/
setup(cmdclass={"build_py": BuildPyWithCpp},
      options={"build": {"build_base": "build/setuptools"}})
