"""The selection compiled ahead of time (nutag.engine.compiled) means exactly what the jitted one does.

Why in-process: both graphs are built in one process on the same toy inputs (tests/toy_samples),
compiled and jitted, and compared number by number. The real analysis (configs/default.yaml)
is compared on every route in tests/test_equality_matrix.py; here small selections check the
planning, the cache and the error paths. Tests that only need a compiled library share the
module's compile cache; those that count what the compiler did (the cache's own behaviour) use
a private, empty one.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import toy_samples  # noqa: E402

from nutag.engine import compiled, cpp, graph

from nutag.config import analysis as config  # noqa: E402
from nutag.engine.compiled import compiler, library_cache  # noqa: E402
from nutag.core.errors import ConfigError  # noqa: E402
from nutag.core.rootenv import import_root  # noqa: E402
from nutag.engine.systematics import variation_values  # noqa: E402


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy inputs (tests/toy_samples.py)."""
    d = tmp_path_factory.mktemp("compiled_toy")
    toy_samples.write_dataset(d / "toy", n=1500, seed=7)
    return d


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compile cache of the tests that only need a library, not an empty cache: a library
    one of them compiled serves the others (the compiler costs 15-40 s per library)."""
    return tmp_path_factory.mktemp("compiled_cache")


def _bins(hist: Any) -> list[tuple[float, float]]:
    return [(hist.GetBinContent(i), hist.GetBinError(i)) for i in range(hist.GetNcells())]


def _numbers(graphs: list[Any]) -> dict[str, Any]:
    """Every cutflow row (raw, sum w, sum w^2), histogram bin (content, error), varied sum w
    and, for samples with systematic sources, every bin of every varied histogram."""
    ROOT = import_root()
    varied = {f"{g.name}/{name}/{h}": ROOT.RDF.Experimental.VariationsFor(ptr)
              for g in graphs if g.sources for name, reg in g.regions.items()
              for h, ptr in reg.histos.items()}
    ROOT.RDF.RunGraphs([r for g in graphs for r in g.booked])
    out: dict[str, Any] = {}
    for g in graphs:
        assert int(g.df.GetNRuns()) == 1
        for name, reg in g.regions.items():
            out[f"{g.name}/{name}/cutflow"] = [(e.cut, e.values()) for e in reg.cutflow]
            for h, ptr in reg.histos.items():
                out[f"{g.name}/{name}/{h}"] = _bins(ptr.GetValue())
        for name, rmap in g.variations.items():
            out[f"{g.name}/{name}/variations"] = variation_values(rmap, graph.sumw_of)
    for key, rmap in varied.items():
        out[f"{key}/variations"] = variation_values(rmap, _bins)
    return out


def _count_typed_histograms(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the histograms booked by a compiled library from now on."""
    booked: list[str] = []
    book = compiled.CompiledSelection.book_histogram

    def counting(self: Any, node: Any, name: str, model: Any) -> Any:
        booked.append(name)
        return book(self, node, name, model)

    monkeypatch.setattr(compiled.CompiledSelection, "book_histogram", counting)
    return booked


# --------------------------------------------------------------------------- small selections
SMALL = """\
columns:
  p_k:   {{expr: "std::sqrt(gtk_px * gtk_px + gtk_py * gtk_py + gtk_pz * gtk_pz)"}}
  n_pos: {{expr: "(int)Sum(straw_charge > 0)"}}
  {extra}
cuts:
  beam: {{expr: "p_k > 72.0 && p_k < 78.0"}}
  one:  {{expr: "n_pos == 1"}}
  {extra_cut}
regions:
  r: {{cuts: [beam, one{extra_region}]}}
histograms:
  p_k:    {{x: p_k, bins: [30, 72.0, 78.0]}}
  n_pos:  {{x: n_pos, bins: [4, 0, 4], weight: p_k}}
  px_pk:  {{x: gtk_px, bins: [20, -0.2, 0.2], y: p_k, ybins: [6, 72.0, 78.0], weight: n_pos}}
"""


def _small(d: Path, extra: str = "", extra_cut: str = "", extra_region: str = "") -> Path:
    path = d / "small.yaml"
    path.write_text(SMALL.format(extra=extra, extra_cut=extra_cut, extra_region=extra_region))
    return path


def _mc_sample(toy: Path) -> config.Sample:
    samples = config.load_samples(toy / "toy" / "samples.yaml")
    return next(s for s in samples.values() if s.kind == "mc")


def _small_numbers(toy: Path, sel: Path, mode: str, monkeypatch: pytest.MonkeyPatch,
                   declare: Any = cpp.load_cpp, weight: str | None = None) -> dict[str, Any]:
    monkeypatch.setenv("NUTAG_COMPILE", mode)
    sample = _mc_sample(toy)
    if weight is not None:
        sample = dataclasses.replace(sample, weight=weight)
    g = graph.build_graph(sample, config.load_selection([sel]), blinded=False, declare=declare)
    return _numbers([g])


TYPES = {"gtk_px": "double", "gtk_py": "double", "gtk_pz": "double",
         "straw_charge": "ROOT::VecOps::RVec<int>", "weight": "double"}


def _plan(sel: Path, weight: str = "weight", weight_line: int = 1) -> compiled.Plan:
    """The plan build_graph makes for an MC sample of weight ``weight`` (toy input types),
    defined at line ``weight_line`` of its samples.yaml."""
    selection = config.load_selection([sel])
    loc = config.Loc("samples.yaml", weight_line)
    hists = list(selection.histograms.values())
    return compiled.plan(
        list(selection.columns.values()), list(selection.cuts.values()), TYPES.get,
        nutag_linked=True,
        weights=[compiled.Column("_w", f"static_cast<double>({weight})", loc),
                 compiled.Column("_w2", "_w * _w", loc)],
        hist_weights=[compiled.Column(f"_w_x_{h.weight}", f"_w * ({h.weight})", loc)
                      for h in hists if h.weight],
        histograms=[(h.name, (h.x, *((h.y,) if h.y else ()),
                              f"_w_x_{h.weight}" if h.weight else "_w")) for h in hists],
        fixed_types={"_w": "double", "_w2": "double"})


def test_cache_is_reused_and_keyed_by_the_source(toy: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUTAG_COMPILE_CACHE", str(tmp_path / "cache"))
    sel = _small(tmp_path)
    runs = library_cache.compiler_runs
    first = _small_numbers(toy, sel, "on", monkeypatch)
    assert library_cache.compiler_runs == runs + 1
    assert len(list((tmp_path / "cache").glob("*.so"))) == 1
    second = _small_numbers(toy, sel, "on", monkeypatch)
    assert library_cache.compiler_runs == runs + 1, "the cached library must be reused"
    assert first == second == _small_numbers(toy, sel, "off", monkeypatch)
    assert [rows[-1][1][0] for k, rows in first.items() if k.endswith("/cutflow")][0] > 0

    selection = config.load_selection([sel])
    cols, cuts = list(selection.columns.values()), list(selection.cuts.values())
    types = {"gtk_px": "double", "gtk_py": "double", "gtk_pz": "double",
             "straw_charge": "ROOT::VecOps::RVec<int>"}
    src = compiled.generate(compiled.plan(cols, cuts, types.get, nutag_linked=True))
    cuts[0] = config.Cut(cuts[0].name, "p_k > 71.0 && p_k < 78.0", "", cuts[0].kinds,
                         cuts[0].loc)
    changed = compiled.generate(compiled.plan(cols, cuts, types.get, nutag_linked=True))
    tc = compiled.toolchain()
    assert tc.key(src) != tc.key(changed)
    assert f'#line {selection.cuts["beam"].loc.line} "{sel}"' in src


def test_regression_samples_at_other_lines_share_one_library(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Every MC sample's weight is defined at its own line of samples.yaml, and that line was
    part of the cache key through the source's ``#line`` directive: each sample of a run paid a
    compiler run (~40 s) for the same library. Sources differing only in ``#line`` now share
    one library; any other difference still gets its own."""
    monkeypatch.setenv("NUTAG_COMPILE_CACHE", str(tmp_path / "cache"))
    sel = _small(tmp_path)
    tc = compiled.toolchain()
    sources = [compiled.generate(_plan(sel, weight_line=line)) for line in (33, 45)]
    assert sources[0] != sources[1] and '#line 45 "samples.yaml"' in sources[1]
    keys = {tc.library_key(s) for s in sources}
    assert len(keys) == 1
    other = compiled.generate(_plan(sel, weight="2.0 * weight", weight_line=33))
    assert tc.library_key(other) not in keys

    runs = library_cache.compiler_runs
    ns = f"nutag_gen_{keys.pop()[:16]}"
    libs = {compiled.build(s.replace(compiled.NAMESPACE_PLACEHOLDER, ns), tc) for s in sources}
    assert library_cache.compiler_runs == runs + 1, "the second sample must reuse the library"
    assert len(libs) == 1 and len(list((tmp_path / "cache").glob("*.so"))) == 1


def test_correction_columns_stay_jitted(toy: Path, tmp_path: Path, shared_cache: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A column calling a correctionlib function (declared in cling only) and what reads it are
    booked jitted; the rest is compiled; the numbers equal the all-jitted graph's."""
    from nutag.engine.corrections import declare_corrections  # noqa: PLC0415

    sel = _small(tmp_path, extra='sf: {expr: \'nutag_corr::detector::muon_id_sf(20.0, '
                                 '"nominal")\'}\n  sf2: {expr: "2.0 * sf"}\n  '
                                 'pk2: {expr: "p_k * 2.0"}',
                 extra_cut='sf_ok: {expr: "sf2 > 0.0 && pk2 > 0.0"}', extra_region=", sf_ok")

    def declare() -> None:
        cpp.load_cpp()
        declare_corrections([REPO / "corrections" / "detector.json"])

    selection = config.load_selection([sel])
    types = {"gtk_px": "double", "gtk_py": "double", "gtk_pz": "double",
             "straw_charge": "ROOT::VecOps::RVec<int>"}
    p = compiled.plan(list(selection.columns.values()), list(selection.cuts.values()),
                      types.get, nutag_linked=True)
    assert p.jitted == ["sf", "sf2", "sf_ok"]
    assert p.jitted_why == {"sf": "uses nutag_corr::, declared to cling only",
                            "sf2": "reads sf, which stays jitted",
                            "sf_ok": "reads sf2, which stays jitted"}
    assert [s for s, _ in p.steps] == ["lib", "jit", "jit", "lib"]
    monkeypatch.setenv("NUTAG_COMPILE_CACHE", str(shared_cache))
    aot = _small_numbers(toy, sel, "on", monkeypatch, declare)
    assert aot == _small_numbers(toy, sel, "off", monkeypatch, declare)


def test_broken_expression_falls_back_to_the_usual_error(toy: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """auto: the compiler's error (at the YAML file:line) is a warning, then the JIT path
    raises nutag's ConfigError for the same place; on: the compile error itself."""
    monkeypatch.setenv("NUTAG_COMPILE_CACHE", str(tmp_path / "cache"))
    sel = _small(tmp_path, extra='bad: {expr: "p_k.R()"}')
    line = config.load_selection([sel]).columns["bad"].loc.line
    runs = library_cache.compiler_runs
    for attempt in range(2):  # the second run reuses the remembered failure: no compiler
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="nutag.engine.compiled"), \
                pytest.raises(ConfigError) as err:
            _small_numbers(toy, sel, "auto", monkeypatch)
        assert (err.value.file, err.value.line, err.value.key) == (str(sel), line, "columns.bad")
        assert f"{sel}:{line}:" in caplog.text and "error" in caplog.text
        assert library_cache.compiler_runs == runs + 1, attempt
    assert len(list((tmp_path / "cache").glob("*.failed"))) == 1
    with pytest.raises(compiled.CompileError) as cerr:  # on: compiles again, for the full error
        _small_numbers(toy, sel, "on", monkeypatch)
    assert cerr.value.first_error.startswith(f"{sel}:{line}:")
    assert library_cache.compiler_runs == runs + 2


def test_weights_and_histograms_are_compiled(toy: Path, tmp_path: Path, shared_cache: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The weight, its square, the histogram weights and every histogram (1D, 2D, weighted)
    come from the library, and the numbers equal the jitted graph's bin by bin."""
    sel = _small(tmp_path)
    p = _plan(sel)
    assert p.jitted == []
    assert [s for s, _ in p.weight_steps] == ["lib"] == [s for s, _ in p.hist_weight_steps]
    assert [h.name for h in p.h1] == ["p_k", "n_pos"] and [h.name for h in p.h2] == ["px_pk"]
    assert p.h2[0].types == ("double", "T_p_k", "T__w_x_n_pos")
    booked = _count_typed_histograms(monkeypatch)
    monkeypatch.setenv("NUTAG_COMPILE_CACHE", str(shared_cache))
    # one typed action per histogram is the node-per-cut graph's booking (a fused graph fills
    # them all in one action: tests/test_fused_selection.py)
    monkeypatch.setenv("NUTAG_FUSE", "off")
    aot = _small_numbers(toy, sel, "on", monkeypatch)
    assert sorted(booked) == ["n_pos", "p_k", "px_pk"]
    assert aot == _small_numbers(toy, sel, "off", monkeypatch)
    name = _mc_sample(toy).name
    assert all(any(c > 0 for c, _ in aot[f"{name}/r/{h}"]) for h in ("p_k", "n_pos", "px_pk"))


def test_correction_weight_stays_jitted(toy: Path, tmp_path: Path, shared_cache: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A sample weight calling a correction is jitted; its square, the histogram weights and
    the histograms are compiled all the same (the weight is a double by construction)."""
    from nutag.engine.corrections import declare_corrections  # noqa: PLC0415

    def declare() -> None:
        cpp.load_cpp()
        declare_corrections([REPO / "corrections" / "detector.json"])

    weight = 'weight * nutag_corr::detector::muon_id_sf(20.0, "nominal")'
    sel = _small(tmp_path)
    p = _plan(sel, weight)
    assert p.jitted == ["_w"] and [s for s, _ in p.weight_steps] == ["jit", "lib"]
    assert len(p.h1) + len(p.h2) == 3
    monkeypatch.setenv("NUTAG_COMPILE_CACHE", str(shared_cache))
    aot = _small_numbers(toy, sel, "on", monkeypatch, declare, weight=weight)
    assert aot == _small_numbers(toy, sel, "off", monkeypatch, declare, weight=weight)


def test_compile_mode() -> None:
    assert compiled.compile_mode("ON") == "on"
    with pytest.raises(ValueError, match="NUTAG_COMPILE"):
        compiled.compile_mode("sometimes")


def _nutag_includes(text: str, base: Path) -> set[Path]:
    """The nutag headers ``text`` includes, directly or through one another."""
    found: set[Path] = set()
    todo = [text]
    while todo:
        for rel in re.findall(r'^#include "(nutag/[^"]+)"', todo.pop(), re.MULTILINE):
            header = base / rel
            if header not in found:
                found.add(header)
                todo.append(header.read_text())
    return found


def test_every_header_a_library_includes_is_in_its_cache_key(tmp_path: Path) -> None:
    """A fused library includes the shared kernel code of nutag/rdf/kernel/ (and the nutag
    headers include one another): every one of them is hashed into the cache key, so editing
    any header compiles a new library instead of loading one built from the old code."""
    loc = config.Loc("t.yaml", 1)
    p = compiled.plan([compiled.Column("p2", "x * 2.0", loc)],
                      [compiled.Column("c", "p2 > 1.0", loc)], {"x": "double"}.get,
                      nutag_linked=True,
                      weights=[compiled.Column("_w", "static_cast<double>(x)", loc)])
    assert compiled.fuse(p, compiled.CutTree.of([("r", ["c"])], "(all)"), "_w")
    base = cpp.include_dir()
    included = _nutag_includes(compiled.generate(p), base)
    assert {base / "nutag/rdf/kernel/direct_read.hpp", base / "nutag/rdf/kernel/records.hpp",
            base / "nutag/rdf/fused_action.hpp"} <= included
    assert included <= set(cpp.headers())
    assert compiled.toolchain().headers_digest == compiler.headers_digest(cpp.headers(), base)

    copy = tmp_path / "include"
    shutil.copytree(base / "nutag", copy / "nutag")
    headers = sorted((copy / "nutag").rglob("*.hpp"))
    before = compiler.headers_digest(headers, copy)
    with open(copy / "nutag/rdf/kernel/direct_read.hpp", "a") as fh:
        fh.write("// edited\n")
    assert compiler.headers_digest(headers, copy) != before


def test_regression_truncated_cached_library_is_rebuilt(tmp_path: Path, monkeypatch) -> None:
    """A truncated library in the cache crashed every rerun with a bus error until it was
    deleted by hand; its digest no longer matches, so it is rebuilt."""
    import ctypes

    monkeypatch.setattr(library_cache, "cache_dir", lambda: tmp_path)
    src = '// cache test\nextern "C" int nutag_cache_test_answer() { return 42; }\n'
    lib = compiled.build(src)
    runs = library_cache.compiler_runs
    assert compiled.build(src) == lib and library_cache.compiler_runs == runs  # from the cache
    lib.write_bytes(lib.read_bytes()[:200])  # a disk that filled up, a copy cut short
    assert compiled.build(src) == lib and library_cache.compiler_runs == runs + 1
    assert ctypes.CDLL(str(lib)).nutag_cache_test_answer() == 42


def test_regression_exception_in_a_compiled_cut_names_the_yaml_line(
        toy: Path, tmp_path: Path, shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception thrown by a compiled cut (``straw_charge.at(5)`` on a shorter vector)
    reached Python as a bare ROOT exception; it now names the YAML file, line and cut.

    And the file and line are those of the analysis that ran: one library serves every copy
    of a selection that differs only in where its YAML lines are (the cache key leaves them
    out), and the place the library throws with is that of the copy it was compiled from;
    it named an earlier copy's file (another directory) and line (before a comment moved
    it) until nutag.engine.run.here put the running analysis' own place in."""
    from nutag.core.errors import NutagError
    from nutag.engine.run import run

    monkeypatch.setenv("NUTAG_COMPILE_CACHE", str(shared_cache))
    monkeypatch.setenv("NUTAG_COMPILE", "on")
    for copy, moved in (("first", 0), ("moved", 2)):
        (tmp_path / copy).mkdir()
        sel = _small(tmp_path / copy, extra_cut='far: {expr: "straw_charge.at(5) > -9"}',
                     extra_region=", far")
        sel.write_text("# a comment\n" * moved + sel.read_text())
        with pytest.raises(NutagError) as err:
            g = graph.build_graph(_mc_sample(toy), config.load_selection([sel]), blinded=False,
                                  declare=cpp.load_cpp)
            run([g], 1)
        assert f"a YAML expression failed during the event loop: {sel}:{8 + moved}: " \
               "cuts.far: RVecN::at: size is" in str(err.value)
