"""Configuration errors are found before any event is read and point at file, line and key."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from nutag.config import binning, analysis as config

from nutag.engine import graph
from nutag.core.errors import ConfigError
from nutag.core.rootenv import import_root

REPO = Path(__file__).resolve().parents[1]

SAMPLES = """\
samples:
  sim: {kind: mc, files: [sim.root], weight: "weight"}
  data: {kind: data, files: [data.root]}
"""
GOOD_SELECTION = """\
columns:
  momentum_gev: "momentum * 1.0"
cuts:
  c_mom: "momentum_gev > 2"
regions:
  signal: {cuts: [c_mom], blind: true}
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    ROOT = import_root()
    d = tmp_path_factory.mktemp("cfg")
    rng = np.random.default_rng(7)
    cols = {"momentum": rng.uniform(0, 5, 100), "weight": np.full(100, 0.5)}
    ROOT.RDF.FromNumpy(cols).Snapshot("nutag", str(d / "sim.root"))
    ROOT.RDF.FromNumpy({"momentum": cols["momentum"]}).Snapshot("nutag", str(d / "data.root"))
    (d / "samples.yaml").write_text(SAMPLES)
    return d


def write(d: Path, name: str, text: str) -> Path:
    path = d / name
    path.write_text(text)
    return path


def analysis(d: Path, selection: str, samples: str = SAMPLES) -> Path:
    write(d, "s.yaml", samples)
    write(d, "sel.yaml", selection)
    return write(d, "ana.yaml", "name: t\nsamples: s.yaml\nselections: [sel.yaml]\n")


def test_good_config_loads(inputs):
    ana = config.load_analysis(analysis(inputs, GOOD_SELECTION))
    assert ana.selection.regions["signal"].cuts == ("c_mom",)
    assert ana.samples["data"].weight == "1.0"


def test_error_string_format():
    err = ConfigError("a.yaml", 3, "cuts.x", "bad thing.", "do this")
    assert str(err) == "a.yaml:3: cuts.x: bad thing. Fix: do this"


def test_yaml_syntax_error_has_file_and_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "cuts:\n  a: \"x > 1\"\n  b: [unclosed\n  c: 1\n")
    with pytest.raises(ConfigError) as exc:
        config.load_selection([path])
    assert exc.value.file == str(path)
    assert exc.value.line in (3, 4, 5)
    assert str(exc.value).startswith(f"{path}:{exc.value.line}: ")


def test_duplicate_key_is_an_error(tmp_path):
    path = write(tmp_path, "dup.yaml", "cuts:\n  a: \"x > 1\"\n  a: \"x > 2\"\n")
    with pytest.raises(ConfigError, match="duplicate key") as exc:
        config.load_selection([path])
    assert exc.value.line == 3


def test_unknown_key_did_you_mean(tmp_path):
    path = write(tmp_path, "sel.yaml", GOOD_SELECTION + "  other: {cutz: [c_mom]}\n")
    with pytest.raises(ConfigError) as exc:
        config.load_selection([path])
    assert exc.value.line == 7 and exc.value.key == "regions.other.cutz"
    assert "did you mean 'cuts'?" in str(exc.value)


def test_unknown_column_did_you_mean_with_line(inputs):
    sel = GOOD_SELECTION.replace('"momentum_gev > 2"', '"momentum_gve > 2"')
    with pytest.raises(ConfigError) as exc:
        config.load_analysis(analysis(inputs, sel))
    err = exc.value
    assert err.file.endswith("sel.yaml") and err.line == 4 and err.key == "cuts.c_mom"
    assert "'momentum_gve'" in err.message and "did you mean 'momentum_gev'?" in err.hint


def test_column_used_before_definition(inputs):
    sel = "columns:\n  a: \"b * 2\"\n  b: \"momentum\"\n"
    with pytest.raises(ConfigError, match="defined below") as exc:
        config.load_analysis(analysis(inputs, sel))
    assert exc.value.line == 2 and exc.value.key == "columns.a"


def test_mc_only_column_in_data_region(inputs):
    sel = ("columns:\n  w2: {expr: \"weight * 2\", kinds: [mc]}\ncuts:\n  c: \"w2 > 0\"\n"
           "regions:\n  r: {cuts: [c]}\n")
    with pytest.raises(ConfigError, match="defined only for kinds") as exc:
        config.load_analysis(analysis(inputs, sel))
    assert exc.value.key == "cuts.c"
    ok = sel.replace("{cuts: [c]}", "{cuts: [c], samples: [sim]}").replace(
        '"w2 > 0"', '{expr: "w2 > 0", kinds: [mc]}')
    config.load_analysis(analysis(inputs, ok))


def test_cut_that_does_not_compile_reported_with_key(inputs):
    sel = GOOD_SELECTION.replace('"momentum_gev > 2"', '"momentum_gev > > 2"')
    ana = config.load_analysis(analysis(inputs, sel))  # names are fine: only cling can tell
    with pytest.raises(ConfigError) as exc:
        graph.build_graph(ana.samples["sim"], ana.selection, blinded=True)
    err = exc.value
    assert err.key == "cuts.c_mom" and err.line == 4 and err.file.endswith("sel.yaml")
    assert "does not compile" in err.message and "error" in err.message


def test_region_with_unknown_cut(tmp_path):
    path = write(tmp_path, "sel.yaml", GOOD_SELECTION.replace("[c_mom]", "[c_mon]"))
    with pytest.raises(ConfigError, match="unknown cut 'c_mon'") as exc:
        config.load_selection([path])
    assert exc.value.line == 6 and "did you mean 'c_mom'?" in exc.value.hint


def test_relaxed_region_inherits_and_checks(tmp_path):
    sel = GOOD_SELECTION + "  side: {based_on: signal, replace: {c_mom: c_two}}\n"
    sel = sel.replace("cuts:\n  c_mom:", "cuts:\n  c_two: \"momentum > 1\"\n  c_mom:")
    s = config.load_selection([write(tmp_path, "sel.yaml", sel)])
    assert s.regions["side"].cuts == ("c_two",) and s.regions["side"].blind is True
    bad = sel.replace("replace: {c_mom: c_two}", "drop: [c_tow]")
    with pytest.raises(ConfigError, match="not in region 'signal'"):
        config.load_selection([write(tmp_path, "sel.yaml", bad)])
    loop = GOOD_SELECTION.replace("{cuts: [c_mom], blind: true}", "{based_on: signal}")
    with pytest.raises(ConfigError, match="circular"):
        config.load_selection([write(tmp_path, "sel.yaml", loop)])


def test_names_unique_across_selection_files(tmp_path):
    a = write(tmp_path, "a.yaml", GOOD_SELECTION)
    b = write(tmp_path, "b.yaml", "cuts:\n  c_mom: \"momentum > 3\"\n")
    with pytest.raises(ConfigError, match="already defined") as exc:
        config.load_selection([a, b])
    assert exc.value.file == str(b) and exc.value.line == 2


def test_missing_input_file(inputs):
    samples = SAMPLES.replace("data.root", "nope.root")
    with pytest.raises(ConfigError, match="does not exist") as exc:
        config.load_analysis(analysis(inputs, GOOD_SELECTION, samples))
    assert exc.value.key == "samples.data.files[0]" and exc.value.line == 3


def test_empty_glob(inputs):
    samples = SAMPLES.replace("data.root", "run_*.root")
    with pytest.raises(ConfigError, match="no file matches") as exc:
        config.load_analysis(analysis(inputs, GOOD_SELECTION, samples))
    assert exc.value.key == "samples.data.files[0]" and exc.value.line == 3


def test_missing_tree(inputs):
    samples = SAMPLES.replace("[data.root]", "[data.root], tree: nutga")
    with pytest.raises(ConfigError, match="no tree or RNTuple 'nutga'") as exc:
        config.load_analysis(analysis(inputs, GOOD_SELECTION, samples))
    assert exc.value.key == "samples.data.tree" and "did you mean 'nutag'?" in exc.value.hint


def test_expression_names():
    names = config.expression_names(
        'nutag::mm2(a.x, b) > 1e-3 && Sum(v[k]) > 0 && [](double q){ return q * z; }(y) '
        '&& s == "text with words"')
    assert names == [("nutag", "namespace"), ("a", "name"), ("b", "name"), ("Sum", "name"),
                     ("v", "name"), ("k", "name"), ("double", "name"), ("return", "name"),
                     ("z", "name"), ("y", "name"), ("s", "name")]


def test_yaml_reference_is_up_to_date():
    committed = (REPO / "docs" / "yaml-reference.md").read_text(encoding="utf-8")
    assert committed == config.yaml_reference(), (
        "docs/yaml-reference.md is stale: regenerate with "
        "python -c 'import nutag.config.analysis as c; c.write_yaml_reference(\"docs/yaml-reference.md\")'")


def test_declare_hook_runs_before_jit(inputs):
    ROOT = import_root()
    calls = []

    def declare() -> None:
        if not calls:
            ROOT.gInterpreter.Declare(
                "namespace nutag { inline double cfg_test_twice(double x) { return 2 * x; } }")
        calls.append(1)

    sel = GOOD_SELECTION.replace('"momentum * 1.0"', '"nutag::cfg_test_twice(momentum)"')
    ana = config.load_analysis(analysis(inputs, sel))
    g = graph.build_graph(ana.samples["sim"], ana.selection, blinded=True, declare=declare)
    assert calls == [1] and "signal" in g.regions
    assert g.df.GetNRuns() == 0  # nothing ran while building


def test_same_file_twice_through_a_glob_is_an_error(inputs):
    samples = SAMPLES.replace("files: [data.root]", "files: [data.root, '*a.root']")
    with pytest.raises(ConfigError, match=r"samples.data.files\[1\]: '.*data.root' is already "
                                          r"listed as samples.data.files\[0\] \(line 3\)"):
        config.load_analysis(analysis(inputs, GOOD_SELECTION, samples))


@pytest.mark.parametrize("bins, expected", [
    ([3, 0, 1], (3, 0.0, 1.0, None)),
    ([2.0, 3.0, 5.0], (2, 2.0, 5.0, (2.0, 3.0, 5.0))),  # increasing floats: edges
    (["1e3", 0, 1], (1000, 0.0, 1.0, None)),  # YAML 1.1 reads 1e3 as a string
    ({"edges": [-5, 0, 5]}, (2, -5.0, 5.0, (-5.0, 0.0, 5.0))),
])
def test_binning_forms(bins, expected):
    b = binning.parse_binning("f.yaml", bins, "histograms.h.bins", 1)
    assert (b.n, b.lo, b.hi, b.edges) == expected


@pytest.mark.parametrize("bins, message", [
    ([0, 0, 1], "whole number from 1 to 1,000,000, got 0"),
    ([1_000_001, 0, 1], "got 1e+06"),
    ([1000, 1e15, 1e15 + 1], "narrower than the floating-point resolution"),
    ({"edges": [0, 1, 1]}, "not strictly increasing"),
    ({"edges": [0, float("inf")]}, "not all finite"),
])
def test_binning_refused(bins, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        binning.parse_binning("f.yaml", bins, "histograms.h.bins", 1)


def test_yaml_merge_keys_follow_yaml_precedence(tmp_path):
    path = write(tmp_path, "m.yaml", "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\n"
                 "c: &c\n  <<: [*a, *b]\n  y: 3\nd:\n  <<: *c\n")
    data = config.load_yaml(path)
    assert data["c"] == {"x": 1, "y": 3, "z": 2}  # written keys win, then the first merged
    assert data["d"] == data["c"] and data["c"].line_of("y") == 5


def test_yaml_recursive_alias_is_an_error(tmp_path):
    path = write(tmp_path, "r.yaml", "a: &a [1, *a]\n")
    with pytest.raises(ConfigError, match="r.yaml:1: \\(yaml aliases\\): an alias refers to"):
        config.load_yaml(path)


def test_yaml_small_aliases_are_fine(tmp_path):
    lines = ["d: &d {bins: [10, 0, 1], regions: all}"] + [f"h{i}: *d" for i in range(2000)]
    assert len(config.load_yaml(write(tmp_path, "ok.yaml", "\n".join(lines)))) == 2001


def test_unsafe_names_are_identifiers_not_strings_or_columns_alike():
    from nutag.config.expressions import unsafe_names

    assert unsafe_names('std::system("ls") + gSystem->Exec("x")') == ["system", "gSystem", "Exec"]
    assert unsafe_names('nutag::label("system") == 1 && systematic > 0 && v.size() > 2') == []


def test_binning_limits_are_documented():
    ref = config.yaml_reference()
    assert f"{config.MAX_BINS:,}" in ref and f"{config.MAX_CELLS:,}" in ref
