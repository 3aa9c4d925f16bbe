"""The compiler and its flags: what makes a compiled selection library valid, as a cache key.

Why the key holds more than the source: a library compiled by another compiler, with other
flags, against another ROOT or other nutag headers would load and then disagree with the
process at run time; each of those is part of :meth:`Toolchain.key`, so changing any of them
compiles a new library instead of reusing a stale one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import NutagError
from ..rootenv import import_root

#: nutag's own compiler flags around ROOT's (:func:`root_cflags`, :func:`compile_flags`):
#: optimisation before them, position-independent code for a shared library after them
OPT_FLAGS = ("-O2",)
LIB_FLAGS = ("-fPIC", "-shared")
#: bumped when the generated code changes shape (part of the cache key)
GENERATOR_VERSION = "11"
#: a compiler output line reporting an error (not a warning or a note)
ERROR_LINE = re.compile(r"\berror\b")
#: a ``#line N "file"`` directive: it only moves the compiler's diagnostics
_LINE_DIRECTIVE = re.compile(r'^#line \d+ "[^"\n]*"$', re.MULTILINE)


class CompileError(NutagError):
    """The selection could not be compiled; ``first_error`` is the compiler's first error line
    (for an expression: ``selection.yaml:LINE:COL: error: ...``)."""

    def __init__(self, message: str, first_error: str = "") -> None:
        self.first_error = first_error
        super().__init__(message)


@dataclass(frozen=True)
class Toolchain:
    """The compiler and everything else that makes a cached library valid or stale."""

    cxx: str
    version: str
    flags: tuple[str, ...]
    includes: tuple[str, ...]
    root_version: str
    headers_digest: str

    def key(self, source: str) -> str:
        h = hashlib.sha256()
        for part in (GENERATOR_VERSION, self.cxx, self.version, *self.flags, *self.includes,
                     self.root_version, self.headers_digest, source):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def library_key(self, source: str) -> str:
        """The key of the library ``source`` compiles to: :meth:`key` without the ``#line``
        directives. They only point diagnostics at the YAML file:line of each expression, so
        sources that differ there alone (every MC sample's weight is defined at its own line of
        samples.yaml; a comment added to a selection YAML moves the lines below it) compile to
        the same library and share one cache entry instead of one compiler run each."""
        return self.key(_LINE_DIRECTIVE.sub("", source))


def _without_includes(tokens: Sequence[str]) -> tuple[str, ...]:
    """``root-config --cflags`` minus its include paths: nutag passes the include directories
    it checked itself (the wheel's root-config names a nonexistent ``mock_site_packages``)."""
    out: list[str] = []
    skip = False
    for tok in tokens:
        if skip:
            skip = False
        elif tok in ("-I", "-isystem"):
            skip = True
        elif not tok.startswith(("-I", "-isystem")):
            out.append(tok)
    return tuple(out)


def _root_config(ROOT: Any) -> str | None:
    """The ``root-config`` of the ROOT nutag imported, None if there is none.

    Its own bin directory first (LCG view, conda, a source build, the PyPI wheel's
    ``ROOT/bin``); a ``root-config`` found on PATH only if it reports the same version, since
    another installation's flags could name another C++ standard.
    """
    here = [Path(str(ROOT.gROOT.GetBinDir())) / "root-config",
            Path(str(ROOT.__file__)).resolve().parent / "bin" / "root-config"]
    for cand in here:
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    on_path = shutil.which("root-config")
    if on_path is None:
        return None
    r = subprocess.run([on_path, "--version"], capture_output=True, text=True, check=False)
    return on_path if r.stdout.strip() == str(ROOT.gROOT.GetVersion()) else None


def _cling_std(ROOT: Any) -> str:
    """``-std=c++NN`` of the standard cling (hence ROOT) was built for, from ``__cplusplus``."""
    value = int(ROOT.gInterpreter.ProcessLine("__cplusplus;"))
    year = {201703: 17, 202002: 20, 202302: 23}.get(value)
    if year is None:  # a draft value (e.g. 202100 for c++2b): the nearest standard below it
        year = 23 if value > 202002 else 20 if value > 201703 else 17
    return f"-std=c++{year}"


@cache
def root_cflags() -> tuple[str, ...]:
    """ROOT's own compile flags without include paths: the C++ standard and ABI flags.

    Why they must be ROOT's: code compiled with another ``-std`` than ROOT's headers were
    built for sees other declarations (``std::string_view`` overloads, ``if constexpr``
    paths in RDataFrame) and can disagree with ``libROOTDataFrame`` at link or run time. An
    LCG view built with C++20 needs ``-std=c++20``; the PyPI wheel ``-std=c++17``.

    From ``root-config --cflags`` of the imported ROOT; without it, the flags of ROOT's own
    ACLiC command (``gSystem.GetMakeSharedLib``) with cling's ``__cplusplus`` as the standard.
    The ``-std`` flag comes first so the cache key does not depend on the order root-config
    prints them in.
    """
    ROOT = import_root()
    tool = _root_config(ROOT)
    tokens: tuple[str, ...] = ()
    if tool is not None:
        r = subprocess.run([tool, "--cflags"], capture_output=True, text=True, check=False)
        tokens = _without_includes(r.stdout.split()) if r.returncode == 0 else ()
    if not any(t.startswith("-std=") for t in tokens):
        aclic = str(ROOT.gSystem.GetMakeSharedLib()).split()
        abi = [t for t in aclic if t in ("-pthread", "-m64", "-m32", "-fsized-deallocation")
               or t.startswith(("-std=", "-stdlib="))]
        tokens = (*abi, *tokens)
        if not any(t.startswith("-std=") for t in tokens):
            tokens = (_cling_std(ROOT), *tokens)
    std = [t for t in tokens if t.startswith("-std=")][-1:]
    rest = [t for t in dict.fromkeys(tokens) if not t.startswith("-std=")]
    return (*std, *rest)


def compile_flags() -> tuple[str, ...]:
    """Everything the compiler gets besides ``-I`` (part of the cache key, :class:`Toolchain`)."""
    return (*OPT_FLAGS, *root_cflags(), *LIB_FLAGS)


def _root_include() -> Path:
    """ROOT's include directory (the wheel's ``ROOT/include``, or ``root-config --incdir``)."""
    ROOT = import_root()
    inc = Path(str(ROOT.gROOT.GetIncludeDir()))
    if (inc / "ROOT" / "RDataFrame.hxx").is_file():
        return inc
    base = Path(ROOT.__file__).resolve().parent / "include"  # the PyPI wheel
    if (base / "ROOT" / "RDataFrame.hxx").is_file():
        return base
    raise CompileError(f"ROOT headers not found (looked in {inc} and {base})")


@cache
def toolchain() -> Toolchain:
    """Find the compiler (``$CXX``, default g++) and fingerprint the build inputs, once."""
    from ..cpp import headers, include_dir  # noqa: PLC0415

    name = os.environ.get("CXX", "g++")
    cxx = shutil.which(name)
    if cxx is None:
        raise CompileError(f"C++ compiler {name!r} not found (set CXX)")
    r = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False)
    return Toolchain(cxx, r.stdout.splitlines()[0] if r.stdout else "", compile_flags(),
                     (str(_root_include()), str(include_dir())),
                     str(import_root().gROOT.GetVersion()),
                     headers_digest(headers(), include_dir()))


def headers_digest(headers: Iterable[Path], base: Path) -> str:
    """SHA-256 of every nutag header: its path below ``base`` and its content.

    Why every header and not only those a source includes: a generated source includes nutag's
    headers (``cpp/include/nutag/**``: the ones cling sees, the ``rdf/`` helpers and, for a fused
    kernel, ``rdf/kernel/``) and they include one another; hashing them all makes an edit to
    any of them compile new libraries, with no include scanning that could miss one. The path
    is hashed too, so moving a header is a change as well."""
    digest = hashlib.sha256()
    for h in headers:
        digest.update(h.relative_to(base).as_posix().encode())
        digest.update(b"\0")
        digest.update(h.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def first_error(text: str) -> str:
    """The first compiler line saying 'error' (it names the YAML file:line for an expression)."""
    for line in text.splitlines():
        if ERROR_LINE.search(line):
            return line.strip()
    return text.strip().splitlines()[-1] if text.strip() else ""

