"""Make nutag's C++ helpers callable from Python and from RDataFrame expressions.

Two ways, same sources, same numbers:

* ``library``: load the CMake-built ``libnutag.so`` (compiled at -O2, with a ROOT dictionary and
  rootmap) and declare its headers to cling so jitted expressions can call ``nutag::...``;
* ``jit``: no build step — declare the headers and let cling compile ``cpp/src/**/*.cpp``. This is
  what an interactive PyROOT session on a bare checkout gets.

``auto`` (the default) takes the library when it exists. ``NUTAG_CPP=library|jit`` forces one and
``NUTAG_LIBRARY=/path/libnutag.so`` points at a library elsewhere. Loading is idempotent (guarded
in cling as well as in Python), because distributed RDataFrame calls its worker initialisation
once per task.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from nutag.core.locations import source_root
from nutag.core.rootenv import import_root

log = logging.getLogger("nutag.engine.cpp")

MODES = ("auto", "library", "jit")


def include_dir() -> Path:
    return source_root() / "cpp" / "include"


def headers() -> list[Path]:
    """Every public header, sorted so the declaration order is reproducible."""
    base = include_dir() / "nutag"
    return sorted(p for p in base.rglob("*.hpp"))


def header_only_dir() -> Path:
    """Header-only RDataFrame helpers (e.g. the cutflow action): cling instantiates them in both
    modes, the library is not built from them (they are templates cling instantiates for each
    graph's column types)."""
    return include_dir() / "nutag" / "rdf"


def sources() -> list[Path]:
    base = source_root() / "cpp" / "src"
    return sorted(base.rglob("*.cpp"))


def library_path() -> Path | None:
    """The CMake-built library if present (``NUTAG_LIBRARY`` overrides the build/ location)."""
    env = os.environ.get("NUTAG_LIBRARY")
    if env:
        return Path(env) if Path(env).is_file() else None
    candidate = source_root() / "build" / "libnutag.so"
    return candidate if candidate.is_file() else None


def _newer_sources(lib: Path) -> list[Path]:
    """Sources or headers modified after the library was built.

    A stale library whose headers changed is worse than slow: cling would call functions with
    the new declarations into the old binary. Such a library is never used silently.
    """
    built, header_only = lib.stat().st_mtime, header_only_dir()
    return [p for p in [*headers(), *sources()]
            if p.stat().st_mtime > built and not p.is_relative_to(header_only)]


def _guard_name(path: Path) -> str:
    rel = path.relative_to(source_root()).as_posix()
    return "NUTAG_JIT_" + "".join(c if c.isalnum() else "_" for c in rel).upper()


def _declare(root, code: str, what: str) -> None:
    if not root.gInterpreter.Declare(code):
        raise RuntimeError(f"cling could not compile {what}; see the C++ diagnostics above")


_loaded_mode: str | None = None
_rdf_helpers = False


def declare_rdf_helpers() -> None:
    """Declare the header-only RDataFrame helpers (``nutag/rdf/``) to cling, once.

    Only when a graph books them (``graph.build_graph``, weighted samples): parsing them pulls in
    RDataFrame's interface headers, measurable start-up that a data-only job does not need.
    Independent of ``load_cpp`` (a selection without ``nutag::`` calls needs no other header).
    """
    global _rdf_helpers
    if _rdf_helpers:
        return
    root = import_root()
    root.gInterpreter.AddIncludePath(str(include_dir()))
    for header in sorted(header_only_dir().glob("*.hpp")):
        _declare(root, f'#include "{header}"', str(header))
    _rdf_helpers = True


def loaded_mode() -> str | None:
    """How nutag's C++ was loaded in this process ("library", "jit"), None if not yet.

    The compiled selection (``nutag.engine.compiled``) calls ``nutag::`` functions only when they live
    in libnutag.so: functions cling compiled itself are invisible to a shared library.
    """
    return _loaded_mode


def load_cpp(mode: str | None = None) -> str:
    """Declare nutag's C++ to cling; returns the mode used ("library" or "jit").

    Raises RuntimeError with the reason when the requested mode cannot be honoured.
    """
    global _loaded_mode
    mode = (mode or os.environ.get("NUTAG_CPP", "auto")).lower()
    if mode not in MODES:
        raise ValueError(f"NUTAG_CPP={mode!r} is not one of {MODES}")
    if _loaded_mode is not None:
        if mode not in ("auto", _loaded_mode):
            raise RuntimeError(
                f"nutag C++ already loaded as {_loaded_mode!r}; cannot switch to {mode!r} "
                "in the same process (start a new one)")
        return _loaded_mode
    root = import_root()
    lib = library_path()
    if mode == "library" and lib is None:
        raise RuntimeError(
            "NUTAG_CPP=library but no libnutag.so was found: run `make build` or set NUTAG_LIBRARY")
    stale = _newer_sources(lib) if lib is not None else []
    if lib is not None and stale:
        if mode == "library":
            raise RuntimeError(
                f"{lib} is older than {stale[0]}: rebuild with `make build` (or use NUTAG_CPP=jit)")
        log.warning("%s is older than %s; using the JIT path. Run `make build` to use the "
                    "compiled library.", lib, stale[0])
        lib = None
    use_library = lib is not None and mode in ("auto", "library")
    root.gInterpreter.AddIncludePath(str(include_dir()))
    if use_library:
        if root.gSystem.Load(str(lib)) < 0:
            raise RuntimeError(f"could not load {lib}; rebuild with `make build`")
    header_only = header_only_dir()
    for header in headers():
        if header.name == "LinkDef.h" or header.is_relative_to(header_only):
            continue  # header-only RDataFrame helpers: declare_rdf_helpers, when a graph needs them
        _declare(root, f'#include "{header}"', str(header))
    if not use_library:
        for src in sources():
            guard = _guard_name(src)
            _declare(root, f"#ifndef {guard}\n#define {guard}\n#include \"{src}\"\n#endif\n", str(src))
    _loaded_mode = "library" if use_library else "jit"
    log.debug("nutag C++ loaded (%s)", _loaded_mode)
    return _loaded_mode
