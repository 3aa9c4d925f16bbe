"""Make correctionlib sets callable from RDataFrame C++ expressions (YAML columns, Defines, Vary).

Why C++ and not Python callbacks: a correction is evaluated per event (per element of an RVec)
inside the multithreaded event loop; a Python call there would serialise the threads on the GIL.
correctionlib's C++ evaluator is thread-safe (``Correction::evaluate`` is ``const``), so one
``CorrectionSet`` per file, built once, is shared by all threads.

What :func:`declare_corrections` gives cling, for ``corrections/<stem>.json``::

    namespace nutag_corr::<stem> {
      const std::shared_ptr<const correction::CorrectionSet> cset;   // the whole file
      const correction::Correction::Ref <name>_ref;                  // one per correction
      double <name>(<typed inputs>);                                  // e.g. muon_id_sf(double p_mu, const std::string& syst)
    }

The wrapper functions have the JSON's input types as C++ parameter types, so an ``int`` column
passed to a real input converts implicitly (correctionlib itself would reject the type at run
time) and a wrong number of arguments fails when the expression is compiled, not mid-loop.

Idempotence: a distributed worker runs its initialisation once per task, so declaring twice in
one process must be a no-op. Python keeps a registry by stem and cling a ``#ifndef`` guard named
by stem and content digest; the same stem with *different* content is refused (cling cannot
redefine a namespace member, and silently keeping the old numbers would be worse). The JSON text
is embedded in the declaration (``from_string``), so a worker needs the text, not the file:
:func:`corrections_payload` on the client + :func:`declare_payload` on the worker.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.rootenv import capture_stderr, import_root

log = logging.getLogger("nutag.engine.corrections")

NAMESPACE = "nutag_corr"
_CPP_TYPES = {"real": "double", "int": "std::int64_t", "string": "const std::string&"}
_IDENT = re.compile(r"[A-Za-z_]\w*\Z")
_CPP_KEYWORDS = frozenset("""alignas alignof and asm auto bool break case catch char class const
constexpr continue default delete do double else enum explicit export extern false float for
friend goto if inline int long namespace new not operator or private protected public register
return short signed sizeof static struct switch template this throw true try typedef typename
union unsigned using virtual void volatile while xor""".split())


class CorrectionError(ValueError):
    """A correction file, set or call that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class CorrectionInfo:
    """One correction of a declared set: its inputs (name, type) and its C++ function."""

    set: str
    name: str
    inputs: tuple[tuple[str, str], ...]
    output: str
    description: str
    cpp_function: str

    def input_type(self, name: str) -> str:
        return dict(self.inputs)[name]


@dataclass(frozen=True)
class DeclaredSet:
    """A correction set known to cling: stem, where it came from, content digest, corrections."""

    stem: str
    origin: str
    digest: str
    corrections: dict[str, CorrectionInfo]

    @property
    def cpp_handle(self) -> str:
        return f"{NAMESPACE}::{self.stem}::cset"


_DECLARED: dict[str, DeclaredSet] = {}
_BINDING = False


def cpp_identifier(name: str, what: str) -> str:
    """``name`` made a C++ identifier ('-' and '.' become '_'); refuse what cannot be one."""
    ident = re.sub(r"[^\w]", "_", name)
    if not _IDENT.match(ident) or ident in _CPP_KEYWORDS or ident.startswith("__"):
        raise CorrectionError(f"{what} {name!r} cannot name a C++ namespace or function; "
                              "rename it (letters, digits, '_', not starting with a digit)")
    return ident


def register_binding() -> None:
    """Load libcorrectionlib and declare ``correction.h`` to cling, once per process.

    ``correctionlib.register_pyroot_binding`` finds the library and header inside the installed
    package (works with the PyPI ROOT wheel); the check afterwards turns a silent failure into
    an error that names the remedy.
    """
    global _BINDING
    if _BINDING:
        return
    ROOT = import_root()
    import correctionlib  # noqa: PLC0415 (only needed once ROOT is)

    with capture_stderr() as cap:
        correctionlib.register_pyroot_binding()
        ok = ROOT.gInterpreter.Declare("#include <cstdint>\n#include <memory>\n#include <string>\n"
                                       '#include "correction.h"\n')
    if not ok or not hasattr(ROOT, "correction") or not hasattr(ROOT.correction, "CorrectionSet"):
        raise CorrectionError("correctionlib's C++ evaluator is not usable from cling "
                              f"(correctionlib {correctionlib.__version__}): {cap.text.strip()}; "
                              "check `correction config --incdir --libdir` and the ROOT version")
    _BINDING = True


def _parse(stem: str, text: str, origin: str) -> dict[str, CorrectionInfo]:
    """Validate with correctionlib's schema and read each correction's inputs."""
    import correctionlib.schemav2 as schema  # noqa: PLC0415

    try:
        cset = schema.CorrectionSet.model_validate_json(text)
    except Exception as exc:  # pydantic.ValidationError or JSON syntax
        raise CorrectionError(f"{origin}: not a valid correctionlib schema v2 file: {exc}") from None
    out: dict[str, CorrectionInfo] = {}
    for corr in cset.corrections:
        fn = cpp_identifier(corr.name, f"correction in {origin}:")
        if fn in {c.cpp_function.rsplit("::", 1)[1] for c in out.values()} or fn == "cset":
            raise CorrectionError(f"{origin}: correction {corr.name!r} clashes with another "
                                  "name in the set once made a C++ identifier; rename one")
        inputs = tuple((v.name, v.type) for v in corr.inputs)
        out[corr.name] = CorrectionInfo(stem, corr.name, inputs, corr.output.type,
                                        corr.description or "", f"{NAMESPACE}::{stem}::{fn}")
    return out


def _declaration(stem: str, text: str, digest: str, corrs: Mapping[str, CorrectionInfo]) -> str:
    """The C++ text for one set (see the module docstring)."""
    delim = "nutag_json"
    if f"){delim}\"" in text:
        raise CorrectionError(f"set {stem!r}: the JSON contains the raw-string delimiter")
    guard = f"NUTAG_CORR_{stem}_{digest}"
    lines = [f"#ifndef {guard}", f"#define {guard}", f"namespace {NAMESPACE} {{ namespace {stem} {{",
             "inline const std::shared_ptr<const correction::CorrectionSet> cset{",
             f'  correction::CorrectionSet::from_string(R"{delim}({text}){delim}").release()}};']
    for info in corrs.values():
        fn = info.cpp_function.rsplit("::", 1)[1]
        params, args = [], []
        for i, (name, typ) in enumerate(info.inputs):
            pname = f"a{i}_" + re.sub(r"[^\w]", "_", name)
            params.append(f"{_CPP_TYPES[typ]} {pname}")
            args.append(pname)
        lines += [f"inline const correction::Correction::Ref {fn}_ref = cset->at({json.dumps(info.name)});",
                  f"inline double {fn}({', '.join(params)}) {{ return {fn}_ref->evaluate({{{', '.join(args)}}}); }}"]
    lines += ["} }", "#endif", ""]
    return "\n".join(lines)


def declare_payload(payload: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """Declare sets given as ``{stem: (json_text, origin)}``; see :func:`declare_corrections`.

    This is the worker-side entry point of distributed runs (no file access needed).
    """
    ROOT = None
    handles: dict[str, str] = {}
    for stem_raw, (text, origin) in payload.items():
        stem = cpp_identifier(stem_raw, "correction file stem")
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        known = _DECLARED.get(stem)
        if known is not None:
            if known.digest != digest:
                raise CorrectionError(
                    f"correction set {stem!r} is already declared from {known.origin} with other "
                    f"content than {origin}; one process can hold one version of a set (rename "
                    "the file or start a new process)")
            handles.update(_handles(known))
            continue
        corrs = _parse(stem, text, origin)
        if ROOT is None:
            register_binding()
            ROOT = import_root()
        code = _declaration(stem, text, digest, corrs)
        with capture_stderr() as cap:
            ok = ROOT.gInterpreter.Declare(code)
        if not ok:
            raise CorrectionError(f"cling could not declare correction set {stem!r} from "
                                  f"{origin}: {cap.text.strip()[-2000:]}")
        _DECLARED[stem] = DeclaredSet(stem, origin, digest, corrs)
        log.debug("declared %s::%s from %s (%d corrections)", NAMESPACE, stem, origin, len(corrs))
        handles.update(_handles(_DECLARED[stem]))
    return handles


def _handles(ds: DeclaredSet) -> dict[str, str]:
    out = {ds.stem: ds.cpp_handle}
    out.update({f"{ds.stem}.{n}": c.cpp_function for n, c in ds.corrections.items()})
    return out


def corrections_payload(paths: Iterable[str | os.PathLike]) -> dict[str, tuple[str, str]]:
    """Read correction files into ``{stem: (json_text, path)}`` (picklable, for workers)."""
    out: dict[str, tuple[str, str]] = {}
    for p in paths:
        path = Path(p)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CorrectionError(f"cannot read correction file {path}: {exc.strerror}; "
                                  "build it with `python corrections/build_corrections.py`") from None
        stem = cpp_identifier(path.name.split(".")[0], "correction file stem")
        if stem in out:
            raise CorrectionError(f"two correction files share the stem {stem!r}: {out[stem][1]} "
                                  f"and {path}; the stem names the C++ namespace, rename one")
        out[stem] = (text, str(path.resolve()))
    return out


def declare_corrections(paths: Iterable[str | os.PathLike]) -> dict[str, str]:
    """Declare every correction file to cling (once per process) and return the C++ handles.

    Keys: ``"<stem>"`` -> ``"nutag_corr::<stem>::cset"`` (the ``CorrectionSet``) and
    ``"<stem>.<correction>"`` -> ``"nutag_corr::<stem>::<correction>"`` (the typed function).
    Gzipped JSON is not supported (nutag's files are small and meant to be diffed).
    """
    return declare_payload(corrections_payload(paths))


def declared(stem: str | None = None) -> dict[str, DeclaredSet] | DeclaredSet:
    """The declared sets (all, or one by stem)."""
    if stem is None:
        return dict(_DECLARED)
    if stem not in _DECLARED:
        raise CorrectionError(f"correction set {stem!r} is not declared; known: "
                              f"{sorted(_DECLARED) or 'none'} (call declare_corrections first)")
    return _DECLARED[stem]


def lookup(set_name: str, name: str) -> CorrectionInfo:
    """A declared correction by set stem and name, with a helpful error."""
    ds = declared(set_name)
    assert isinstance(ds, DeclaredSet)
    if name not in ds.corrections:
        raise CorrectionError(f"no correction {name!r} in set {set_name!r} ({ds.origin}); "
                              f"it has: {sorted(ds.corrections)}")
    return ds.corrections[name]


def cpp_literal(value: str | int | float) -> str:
    """A Python constant as a C++ literal (strings quoted and escaped)."""
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid C++ for the ASCII we use
    if isinstance(value, bool):
        raise CorrectionError("a correction input cannot be a bool")
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def correction_expr(set_name: str, name: str,
                    args: Mapping[str, str] | Sequence[str]) -> str:
    """A C++ expression evaluating one correction, for YAML columns, Define, Filter or Vary.

    ``args`` are C++ expressions, by input name (any order) or positionally; a string input
    given as a bare word that is not a column (e.g. ``nominal``) should be quoted by the caller
    - use :func:`cpp_literal`. Example::

        correction_expr("detector", "muon_id_sf", {"p_mu": "mu_p", "syst": '"nominal"'})
        -> 'nutag_corr::detector::muon_id_sf(mu_p, "nominal")'
    """
    info = lookup(set_name, name)
    names = [n for n, _ in info.inputs]
    if isinstance(args, Mapping):
        unknown = sorted(set(args) - set(names))
        missing = [n for n in names if n not in args]
        if unknown or missing:
            raise CorrectionError(f"{set_name}.{name} takes inputs {names}; "
                                  f"unknown {unknown}, missing {missing}")
        ordered = [str(args[n]) for n in names]
    else:
        if len(args) != len(names):
            raise CorrectionError(f"{set_name}.{name} takes {len(names)} inputs {names}, "
                                  f"got {len(args)}")
        ordered = [str(a) for a in args]
    return f"{info.cpp_function}({', '.join(ordered)})"
