"""The C++ side of one process: ROOT, the generator, the unweighting helper, config objects.

Every process that writes chunks (this one with ``threads == 1``, each spawned pool worker, a
Dask worker, an HTCondor job) calls :func:`worker_init` once: it imports ROOT, makes
``nutag::sim`` callable (the built library, else the sources JIT-compiled), declares the
unweighting helper and checks the generator's event against the ntuple schema, so a mismatch
fails before the first event instead of deep inside a Snapshot. A simulation config becomes a
named ``const nutag::sim::SimConfig`` declared once per process (:func:`cling_config`).
"""

from __future__ import annotations

import sys
from typing import Any

from .config import ConfigField, SimConfigFile, cling_declaration, cpp_dir
from .storage import schema_columns

#: the C++ of the pseudo-data unweighting and control downscaling, called from the chunk graph
#: (:mod:`nutag.simulate.chunk_graph`, "Unweighting")
_UNWEIGHT_CPP = r"""
#ifndef NUTAG_SIM_UNWEIGHT_DECLARED
#define NUTAG_SIM_UNWEIGHT_DECLARED
#include <cmath>
#include <cstdint>
// Expectation-exact unweighting of a weighted stream: entry i is written k_i ~ Poisson(mean_i)
// times. The random stream of k_i is derived from (seed, stream, entry) with a salt, so it is
// independent of the generator's own random numbers and of threads, chunks and workers.
namespace nutag_sim_unweight {
inline std::uint64_t splitmix64(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
// Poisson by multiplication of uniforms; a large mean is split into pieces <= 30 whose sum is
// again Poisson (exact, no normal approximation).
inline unsigned poisson(std::uint64_t seed, int stream, std::uint64_t entry, double mean) {
  if (!(mean > 0.0)) return 0u;
  std::uint64_t s = seed ^ 0x756E776569676874ULL;  // "unweight"
  std::uint64_t k = splitmix64(s) ^ (static_cast<std::uint64_t>(stream) * 0xD1B54A32D192ED03ULL);
  k = splitmix64(k) ^ (entry * 0x8CB92BA72F3D8DD7ULL);
  std::uint64_t st = splitmix64(k);
  unsigned n = 0;
  while (mean > 0.0) {
    const double m = mean > 30.0 ? 30.0 : mean;
    mean -= m;
    const double limit = std::exp(-m);
    double p = 1.0;
    while (true) {
      p *= static_cast<double>(splitmix64(st) >> 11) * 0x1.0p-53;
      if (p <= limit) break;
      ++n;
    }
  }
  return n;
}
// true with probability 1/d (the control-line downscaling), independent of poisson() above
inline bool one_in(std::uint64_t seed, int stream, std::uint64_t entry, double d) {
  std::uint64_t s = seed ^ 0x646F776E7363616CULL;  // "downscal"
  std::uint64_t k = splitmix64(s) ^ (static_cast<std::uint64_t>(stream) * 0xD1B54A32D192ED03ULL);
  k = splitmix64(k) ^ (entry * 0x8CB92BA72F3D8DD7ULL);
  std::uint64_t st = splitmix64(k);
  return static_cast<double>(splitmix64(st) >> 11) * 0x1.0p-53 * d < 1.0;
}
}  // namespace nutag_sim_unweight
#endif
"""

#: this process's ROOT module and the SimConfig objects it has declared
_worker: dict[str, Any] = {}

_GENERATOR_SYMBOL = "_ZN5nutag3sim14generate_eventERKNS0_9SimConfigEiyy"  # Itanium ABI


def _check_library_has_generator() -> None:
    """A libnutag.so built before the simulation existed would fail deep inside cling."""
    import ctypes  # noqa: PLC0415

    from ..engine.cpp import library_path  # noqa: PLC0415

    lib = library_path()
    if lib is None or sys.platform != "linux":
        return
    try:
        found = hasattr(ctypes.CDLL(str(lib)), _GENERATOR_SYMBOL)
    except OSError:
        return
    if not found:
        raise RuntimeError(f"{lib} does not contain nutag::sim::generate_event (built before "
                           "the simulation sources?): rebuild it (cmake --build build) or set "
                           "NUTAG_CPP=jit")


def _load_cpp(root: Any) -> None:
    """Make nutag::sim callable: nutag.engine.cpp.load_cpp(), else JIT the sources ourselves."""
    try:
        from ..engine.cpp import load_cpp  # noqa: PLC0415
    except ImportError:
        load_cpp = None
    if load_cpp is not None:
        if load_cpp() == "library":
            _check_library_has_generator()
    else:  # bare fallback, same sources
        base = cpp_dir()
        root.gInterpreter.AddIncludePath(str(base / "include"))
        if not root.gInterpreter.Declare('#include "nutag/sim/generator.hpp"'):
            raise RuntimeError("cling could not compile nutag/sim/generator.hpp")
        for src in sorted(base.joinpath("src").rglob("*.cpp")):
            if not root.gInterpreter.Declare(f'#include "{src}"'):
                raise RuntimeError(f"cling could not compile {src}")
    if not hasattr(root.nutag, "sim") or not hasattr(root.nutag.sim, "generate_event"):
        root.gInterpreter.Declare('#include "nutag/sim/generator.hpp"')


def _check_event_members(root: Any) -> None:
    cls = root.TClass.GetClass("nutag::sim::Event")
    if not cls:
        return
    members = {str(dm.GetName()) for dm in cls.GetListOfDataMembers()}
    missing = [c for c in schema_columns("mc") if c not in members]
    if missing:
        raise RuntimeError(f"nutag::sim::Event lacks schema columns {missing} "
                           f"(samples/ntuple-schema.yaml); update cpp/include/nutag/sim/event.hpp")


def worker_init() -> Any:
    """Import ROOT and load the C++ once per process; returns the ROOT module."""
    if "root" not in _worker:
        from ..core.rootenv import import_root  # noqa: PLC0415

        root = import_root()
        root.gROOT.SetBatch(True)
        _load_cpp(root)
        if not root.gInterpreter.Declare(_UNWEIGHT_CPP):
            raise RuntimeError("cling could not compile the unweighting helper")
        _check_event_members(root)
        _worker["root"] = root
        _worker["configs"] = {}
    return _worker["root"]


def cling_config(values: dict[str, Any], fields: dict[str, ConfigField]) -> str:
    """Declare (once) the SimConfig with these values; return its qualified C++ name."""
    root = worker_init()
    code, name = cling_declaration(values, fields)
    if name not in _worker["configs"]:
        if not root.gInterpreter.Declare(code):
            raise RuntimeError(f"cling could not compile the simulation config:\n{code}")
        _worker["configs"][name] = code
    return name


def config_object(root: Any, name: str) -> Any:
    """The ``const nutag::sim::SimConfig`` declared as ``name`` (:func:`cling_config`), as a
    Python proxy that compiled functions taking a ``const SimConfig&`` accept."""
    address = root.gInterpreter.ProcessLine(f"&{name};")
    return root.bind_object(address, "nutag::sim::SimConfig")


def effective_config(cfg: SimConfigFile) -> dict[str, Any]:
    """The values the compiled ``SimConfig`` of ``cfg`` really holds (defaults filled in by
    C++), after checking the config file's fields against the C++ struct."""
    from .config import check_against_cling, effective_values  # noqa: PLC0415

    root = worker_init()
    check_against_cling(cfg.fields, root)
    name = cling_config(cfg.values, cfg.fields)
    return effective_values(config_object(root, name), cfg.fields)


__all__ = ["cling_config", "config_object", "effective_config", "worker_init"]
