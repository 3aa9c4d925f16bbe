"""Load a compiled selection library into the process and declare its entry points to cling.

Why only prototypes: cling then parses a few declarations instead of the generated code and
the RDataFrame templates it instantiates; the definitions come from the library.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

from ...core.rootenv import import_root
from .compiler import CompileError

#: the entry points of a fused library (declared to cling besides :data:`PROTOTYPES`)
FUSED_PROTOTYPES = """#include "{result}"
namespace {ns} {{
ROOT::RDF::RNode fused_define(ROOT::RDF::RNode node);
std::shared_ptr<void> probe_direct(const std::string& ntuple,
                                   const std::vector<std::string>& files);
ROOT::RDF::RNode fused_define_direct(ROOT::RDF::RNode node, std::shared_ptr<void> chain);
ROOT::RDF::RNode fused_region(ROOT::RDF::RNode node, int row, const std::string& name);
ROOT::RDF::RResultPtr<nutag::FusedResults> fused_action(
    ROOT::RDF::RNode node, bool weighted, const std::vector<ROOT::RDF::TH1DModel>& h1,
    const std::vector<ROOT::RDF::TH2DModel>& h2);
}}"""

#: the entry points every compiled selection library defines (see :mod:`.codegen`)
PROTOTYPES = """#include "{sums}"
namespace {ns} {{
ROOT::RDF::RNode define_columns(ROOT::RDF::RNode node, int segment);
ROOT::RDF::RNode filter(ROOT::RDF::RNode node, int cut);
ROOT::RDF::RResultPtr<::TH1D> book_h1(ROOT::RDF::RNode node, int h,
                                      const ROOT::RDF::TH1DModel& model);
ROOT::RDF::RResultPtr<::TH2D> book_h2(ROOT::RDF::RNode node, int h,
                                      const ROOT::RDF::TH2DModel& model);
ROOT::RDF::RResultPtr<ULong64_t> book_count(ROOT::RDF::RNode node);
ROOT::RDF::RResultPtr<nutag::CutflowSums> book_cutflow(ROOT::RDF::RNode node,
                                                     const std::string& weight);
}}"""

#: the libraries loaded in this process and their namespaces (a library is loaded once)
_LOADED: dict[Path, Any] = {}


def load(lib: Path, ns: str, *, fused: bool = False) -> Any:
    """Load a compiled selection and return its namespace ``ns`` (a cppyy scope), once per
    process.

    The library leaves ROOT's and libnutag's symbols undefined; they are resolved now, against
    what the process has loaded (RDataFrame, ``nutag.engine.cpp.load_cpp``). Loading with RTLD_NOW
    first turns a missing symbol into an error here rather than a crash in the event loop.
    """
    if lib in _LOADED:
        return _LOADED[lib]
    ROOT = import_root()
    try:
        ctypes.CDLL(str(lib), mode=os.RTLD_NOW | os.RTLD_GLOBAL)
    except OSError as exc:
        raise CompileError(f"cannot load {lib}: {exc}", str(exc)) from exc
    if ROOT.gSystem.Load(str(lib)) < 0:
        raise CompileError(f"ROOT could not load {lib}")
    from ..cpp import header_only_dir  # noqa: PLC0415

    sums = (header_only_dir() / "cutflow_sums.hpp").as_posix()
    prototypes = PROTOTYPES.format(ns=ns, sums=sums)
    if fused:
        result = (header_only_dir() / "fused_results.hpp").as_posix()
        prototypes += ("\n#include <memory>\n#include <vector>\n"
                       + FUSED_PROTOTYPES.format(ns=ns, result=result))
    if not ROOT.gInterpreter.Declare(prototypes):
        raise CompileError(f"cling could not declare the entry points of {lib}")
    _LOADED[lib] = getattr(ROOT, ns)
    return _LOADED[lib]

