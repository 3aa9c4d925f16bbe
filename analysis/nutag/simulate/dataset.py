"""Data sets: weighted MC samples plus unweighted pseudo-data, a sample YAML and a manifest.

A data set definition (``simulation/datasets/default.yaml``) names the simulation config, the
MC samples (stream, events, seed) and the pseudo-data (seed, N_K fiducial K+ decays, control
downscaling D, events per rare stream). :func:`produce_dataset` writes into the output dir::

    <name>.root      one file per sample (RNTuple or TTree ``nutag``, TNamed ``nutag_metadata``)
    samples.yaml     the sample file the analysis reads (files relative to it)
    manifest.json    written last: per-sample hash, file, size, entries

A sample is reused when the manifest lists it with the same hash (definition, simulation
config, C++ sources, schema) and the file on disk still has the recorded size; anything else is
regenerated. Because every file is put in place atomically and the manifest is written last, an
interrupted production is simply completed by the next call.

Pseudo-data = an unweighted mixture at true rates for N_K fiducial K+ decays, never brute force:

* control part: n ~ Poisson(N_K / D) minimum-bias decays (drawn from the data seed), keeping the
  events that fire ``trigger_control`` — the downscaled control line sees 1 decay in D;
* rare part: for each weighted stream s (signal, overlay, misreco), M_s entries generated with
  the data seed (which must differ from every MC seed), entry i written k_i ~ Poisson(N_K w_i/M_s)
  times (see nutag.simulate.chunk_graph), keeping preselected events. These events stand for
  decays at their full rate, so their ``trigger_control`` bit goes through a 1-in-D draw:
  otherwise the control sample would get them D times too often.

Events firing both lines are represented twice at negligible level (the control part's natural
trigger_nu rate is ~1e-9 per decay, and it is sampled at 1/D).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..config.analysis import did_you_mean, load_yaml
from ..core.errors import ConfigError
from ..core.locations import work_root
from .config import REPO_ROOT, SimConfigFile, as_number, cpp_dir, load_sim_config
from .metadata import WEIGHT_CONVENTION
from .produce import SampleResult, produce_samples
from .spec import DEFAULT_CHUNK_SIZE, STREAMS, Part, SampleSpec
from .storage import DEFAULT_OUTPUT_FORMAT, OUTPUT_FORMATS, schema_path

log = logging.getLogger("nutag.simulate")

DEFAULT_DATASET = REPO_ROOT / "simulation" / "datasets" / "default.yaml"
MANIFEST = "manifest.json"
SAMPLES_YAML = "samples.yaml"
RARE_STREAMS = ("signal", "overlay", "misreco")
_CONTROL_SALT = 0x636F6E74726F6C  # "control": the Poisson draw of the control-part size


@dataclass(frozen=True)
class McDef:
    name: str
    stream: str
    events: int
    seed: int
    preselect: bool | str = True   # True: preselection, False: none, "nu": neutrino branch only


@dataclass(frozen=True)
class DataDef:
    name: str
    seed: int
    n_kaon_decays: float
    control_downscaling: float
    events: dict[str, int]
    skim: str | None = None
    max_events: int = 5_000_000


@dataclass(frozen=True)
class Dataset:
    """A validated data set definition."""

    path: str
    sim_config: str | None
    output: str
    chunk_size: int
    mc: tuple[McDef, ...]
    data: DataDef | None
    doc: str = ""
    format: str = DEFAULT_OUTPUT_FORMAT

    @property
    def sample_names(self) -> list[str]:
        return [m.name for m in self.mc] + ([self.data.name] if self.data else [])


# --------------------------------------------------------------------------- loading
_TOP = {"sim_config": "simulation config YAML, relative to this file (default: C++ defaults)",
        "output": "output directory, relative to the repository (NUTAG_DATA overrides)",
        "chunk_size": "entries per chunk (the unit of parallel production)",
        "format": "output format of every sample: " + " or ".join(OUTPUT_FORMATS)
                  + f" (default {DEFAULT_OUTPUT_FORMAT})",
        "mc": "name -> {stream, events, seed[, preselect]}",
        "data": "{name, seed, n_kaon_decays, control_downscaling, events: {stream: M}}",
        "doc": "free text"}
_MC = {"stream": "one of " + ", ".join(STREAMS), "events": "entries to generate",
       "seed": "generator seed (0 <= seed < 2^64)", "preselect": "true: keep preselected events; nu: only its neutrino-trigger branch; false: all",
       "doc": "free text"}
_DATA = {"name": "sample name", "seed": "pseudo-data seed (differs from every MC seed)",
         "n_kaon_decays": "N_K, fiducial K+ decays the pseudo-data represents",
         "control_downscaling": "D, downscaling of the control trigger",
         "events": "M_s per rare stream: " + ", ".join(RARE_STREAMS),
         "skim": "C++ boolean over schema columns a neutrino-trigger event must pass",
         "max_events": "refuse to write more pseudo-data events than this per stream",
         "doc": "free text"}


def _mapping(file: str, node: Any, key: str, line: int, allowed: dict[str, str]) -> Any:
    if not isinstance(node, dict):
        raise ConfigError(file, getattr(node, "line", line), key, "expected a mapping",
                          "write '" + key.split(".")[-1] + ": {" + ", ".join(allowed) + "}'")
    for k in node:
        if k not in allowed:
            raise ConfigError(file, node.line_of(k), f"{key}.{k}" if key else str(k),
                              "unknown key", did_you_mean(str(k), allowed))
    return node


def _number(file: str, node: Any, key: str, sub: str, *, integer: bool, minimum: float,
            required: bool = True, default: Any = None) -> Any:
    if sub not in node:
        if required:
            raise ConfigError(file, node.line, f"{key}.{sub}", "missing required key",
                              f"add '{sub}:'")
        return default
    v = as_number(node[sub])
    ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    if ok and integer:
        ok = float(v).is_integer()
    if not ok or v < minimum or (integer and v >= 2**64):
        kind = "an integer" if integer else "a number"
        raise ConfigError(file, node.line_of(sub), f"{key}.{sub}",
                          f"expected {kind} >= {minimum:g}, got {v!r}",
                          "write e.g. 200000 or 2e5")
    return int(v) if integer else float(v)


def load_dataset(path: str | os.PathLike | None = None) -> Dataset:
    """Load and validate a data set definition; errors name file, line and key."""
    file = os.fspath(path or DEFAULT_DATASET)
    top = _mapping(file, load_yaml(file), "", 1, _TOP)
    sim = top.get("sim_config")
    if sim is not None:
        if not isinstance(sim, str):
            raise ConfigError(file, top.line_of("sim_config"), "sim_config",
                              "expected a path", "write 'sim_config: ../default.yaml'")
        sim = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(file)), sim))
    chunk = _number(file, top, "", "chunk_size", integer=True, minimum=1, required=False,
                    default=DEFAULT_CHUNK_SIZE)
    mc: list[McDef] = []
    raw_mc = top.get("mc") or {}
    if not isinstance(raw_mc, dict):
        raise ConfigError(file, top.line_of("mc"), "mc", "expected a mapping name -> sample",
                          "write 'mc: {kmu2: {stream: kmu2, events: 200000, seed: 1}}'")
    seeds: dict[int, str] = {}
    for name, node in raw_mc.items():
        key = f"mc.{name}"
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ConfigError(file, raw_mc.line_of(name), key, f"invalid sample name {name!r}",
                              "use letters, digits and '_' (not first)")
        node = _mapping(file, node, key, raw_mc.line_of(name), _MC)
        stream = node.get("stream")
        if stream not in STREAMS:
            raise ConfigError(file, node.line_of("stream"), f"{key}.stream",
                              f"unknown stream {stream!r}", did_you_mean(str(stream), STREAMS))
        seed = _number(file, node, key, "seed", integer=True, minimum=0)
        presel = node.get("preselect", True)
        if not isinstance(presel, bool) and presel != "nu":
            raise ConfigError(file, node.line_of("preselect"), f"{key}.preselect",
                              "expected true, false or nu", "write 'preselect: true'")
        mc.append(McDef(str(name), stream, _number(file, node, key, "events", integer=True,
                                                   minimum=0), seed, presel))
        seeds.setdefault(seed, str(name))
    data = None
    if top.get("data") is not None:
        node = _mapping(file, top["data"], "data", top.line_of("data"), _DATA)
        seed = _number(file, node, "data", "seed", integer=True, minimum=0)
        if seed in seeds:
            raise ConfigError(file, node.line_of("seed"), "data.seed",
                              f"the pseudo-data seed equals the seed of MC sample "
                              f"'{seeds[seed]}', so data would repeat simulated events",
                              "choose a seed used by no MC sample")
        ev = _mapping(file, node.get("events", {}), "data.events", node.line_of("events"),
                      {s: "" for s in RARE_STREAMS})
        events = {s: _number(file, ev, "data.events", s, integer=True, minimum=0,
                             required=False, default=0) for s in RARE_STREAMS}
        skim = node.get("skim")
        if skim is not None and (not isinstance(skim, str) or not skim.strip()):
            raise ConfigError(file, node.line_of("skim"), "data.skim",
                              "expected a C++ boolean expression", "write 'skim: \"straw_n == 1\"'")
        name = node.get("name", "data")
        if name in {m.name for m in mc}:
            raise ConfigError(file, node.line_of("name"), "data.name",
                              f"'{name}' is also an MC sample", "give the data another name")
        data = DataDef(str(name), seed,
                       _number(file, node, "data", "n_kaon_decays", integer=False, minimum=0),
                       _number(file, node, "data", "control_downscaling", integer=False,
                               minimum=1), events, skim,
                       _number(file, node, "data", "max_events", integer=True, minimum=0,
                               required=False, default=5_000_000))
    output = top.get("output", "data/default")
    fmt = top.get("format", DEFAULT_OUTPUT_FORMAT)
    if fmt not in OUTPUT_FORMATS:
        raise ConfigError(file, top.line_of("format"), "format",
                          f"unknown output format {fmt!r}",
                          did_you_mean(str(fmt), OUTPUT_FORMATS) + " (rntuple reads ~1.5x "
                          "faster; ttree for tools that cannot read RNTuple)")
    return Dataset(file, sim, str(output), chunk, tuple(mc), data, str(top.get("doc", "")),
                   str(fmt))


# --------------------------------------------------------------------------- specs and hashes
_MC_SELECTION = {True: "preselection", False: "none", "nu": "nu_preselection"}


def control_events(data: DataDef) -> int:
    """n ~ Poisson(N_K / D), drawn from the data seed: the decays the control line samples."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([data.seed, _CONTROL_SALT])))
    return int(rng.poisson(data.n_kaon_decays / data.control_downscaling))


def sample_specs(ds: Dataset) -> list[SampleSpec]:
    specs = [SampleSpec(m.name, "mc", (Part(STREAMS[m.stream], m.seed, m.events,
                                            _MC_SELECTION[m.preselect]),),
                        {"weight_convention": WEIGHT_CONVENTION}, ds.format)
             for m in ds.mc]
    if ds.data:
        d = ds.data
        parts = [Part(STREAMS["minbias"], d.seed, control_events(d), "trigger_control")]
        for s in RARE_STREAMS:
            m = d.events[s]
            if m > 0:
                parts.append(Part(STREAMS[s], d.seed, m, "preselection", d.n_kaon_decays / m,
                                  d.control_downscaling, d.skim, d.max_events))
        specs.append(SampleSpec(d.name, "data", tuple(parts),
                                {"n_kaon_decays": d.n_kaon_decays,
                                 "control_downscaling": d.control_downscaling,
                                 "skim": d.skim,
                                 "weight_convention": WEIGHT_CONVENTION}, ds.format))
    return specs


#: C++ of the analysis only (RDataFrame actions, the compiled selection's kernel): the
#: simulation never includes it, so a change there must not regenerate every data set
ANALYSIS_ONLY_CPP = ("include/nutag/rdf/",)


def _source_digest() -> str:
    """Hash of the C++ sources the simulation is built from and the ntuple schema: a changed
    generator regenerates data (the analysis-only headers are left out)."""
    h = hashlib.sha256()
    base = cpp_dir()
    for p in sorted(list(base.joinpath("include").rglob("*")) + list(base.joinpath("src")
                                                                     .rglob("*"))):
        if p.relative_to(base).as_posix().startswith(ANALYSIS_ONLY_CPP):
            continue
        if p.is_file() and p.suffix in (".hpp", ".cpp", ".h"):
            h.update(p.relative_to(base).as_posix().encode())
            h.update(p.read_bytes())
    with open(schema_path(), "rb") as fh:
        h.update(fh.read())
    return h.hexdigest()


def sample_hash(spec: SampleSpec, cfg: SimConfigFile, source_digest: str) -> str:
    blob = json.dumps({"spec": asdict(spec), "cfg": cfg.values, "cfg_hash": cfg.hash,
                       "src": source_digest}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


# --------------------------------------------------------------------------- outputs
def default_output_dir(ds: Dataset | None = None) -> Path:
    env = os.environ.get("NUTAG_DATA")
    if env:
        return Path(env)
    rel = ds.output if ds else "data/default"
    return Path(rel) if os.path.isabs(rel) else work_root() / rel


def _sample_entry(spec: SampleSpec, meta: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = {"stream": meta.get("stream"), "n_generated": meta.get("n_generated"),
                         "seed": meta.get("seed"), "weight_convention": WEIGHT_CONVENTION}
    entry: dict[str, Any] = {"kind": spec.kind, "files": [f"{spec.name}.root"], "tree": "nutag"}
    if spec.kind == "mc":
        entry["weight"] = "weight"
        entry["doc"] = (f"weighted MC, stream {meta.get('stream')}: expected count = "
                        f"N_K * sum(weight) / n_generated")
    else:
        m["n_kaon_decays"] = spec.meta["n_kaon_decays"]
        m["control_downscaling"] = spec.meta["control_downscaling"]
        if spec.meta.get("skim"):
            m["skim"] = spec.meta["skim"]
        m["parts"] = {p["stream"]: p["n_generated"] for p in meta.get("parts", [])}
        entry["doc"] = ("pseudo-data: unweighted mixture at true rates for n_kaon_decays "
                        "fiducial K+ decays (control trigger downscaled by control_downscaling)")
    entry["meta"] = m
    return entry


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(out_dir: str | os.PathLike) -> dict[str, Any]:
    try:
        with open(Path(out_dir) / MANIFEST, encoding="utf-8") as fh:
            man = json.load(fh)
        return man if isinstance(man, dict) and isinstance(man.get("samples"), dict) else {}
    except (OSError, ValueError):
        return {}


def _complete(out: Path, entry: dict[str, Any] | None, digest: str) -> bool:
    if not entry or entry.get("hash") != digest:
        return False
    f = out / entry.get("file", "")
    return f.is_file() and f.stat().st_size == entry.get("size")


@dataclass
class DatasetResult:
    out_dir: Path
    samples_yaml: Path
    produced: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)


def produce_dataset(ds: Dataset, out_dir: str | os.PathLike | None = None, *,
                    threads: int | None = None, only: list[str] | None = None,
                    force: bool = False, cfg: SimConfigFile | None = None,
                    progress: bool | None = None, executor: Any = None) -> DatasetResult:
    """Produce (or reuse) the samples of ``ds``; write samples.yaml, then manifest.json."""
    out = Path(out_dir) if out_dir else default_output_dir(ds)
    out.mkdir(parents=True, exist_ok=True)
    cfg = cfg or load_sim_config(ds.sim_config)
    specs = sample_specs(ds)
    if only:
        unknown = [n for n in only if n not in ds.sample_names]
        if unknown:
            raise ConfigError(ds.path, 0, "samples", f"unknown sample(s) {unknown}",
                              did_you_mean(unknown[0], ds.sample_names))
        specs = [s for s in specs if s.name in only]
    src = _source_digest()
    manifest = read_manifest(out)
    entries: dict[str, Any] = dict(manifest.get("samples", {})) if not force else {}
    hashes = {s.name: sample_hash(s, cfg, src) for s in specs}
    todo = [s for s in specs if not _complete(out, entries.get(s.name), hashes[s.name])]
    result = DatasetResult(out, out / SAMPLES_YAML,
                           [s.name for s in todo], [s.name for s in specs if s not in todo])
    for name in result.reused:
        log.info("%s: up to date in %s, reused", name, out)
    by_name = {s.name: s for s in specs}

    def done(res: SampleResult) -> None:
        spec = by_name[res.name]
        entries[res.name] = {"hash": hashes[res.name], "file": f"{res.name}.root",
                             "size": os.path.getsize(res.path), "n_entries": res.n_entries,
                             "sample": _sample_entry(spec, res.metadata)}

    if todo:
        # a sample about to be replaced is no longer complete, whatever happens next
        for s in todo:
            entries.pop(s.name, None)
        produce_samples(todo, cfg, out, threads=threads or os.cpu_count() or 1,
                        chunk_size=ds.chunk_size, progress=progress, on_sample_done=done,
                        executor=executor)
    ordered = [n for n in ds.sample_names if n in entries]
    samples_yaml = {"samples": {n: entries[n]["sample"] for n in ordered}}
    header = (f"# Written by `nutag simulate` from {ds.path}; do not edit (regenerated).\n"
              f"# Weight convention: expected data count = N_K * sum(weight) / n_generated.\n")
    _atomic_write(out / SAMPLES_YAML, header + yaml.safe_dump(samples_yaml, sort_keys=False))
    _atomic_write(out / MANIFEST, json.dumps(
        {"dataset": ds.path, "sim_config": cfg.path, "config_hash": cfg.hash,
         "source_digest": src, "samples": {n: entries[n] for n in ordered}}, indent=2))
    return result


def dataset_complete(ds: Dataset, out_dir: str | os.PathLike,
                     cfg: SimConfigFile | None = None) -> bool:
    """True when every sample of ``ds`` is in the manifest with matching hash and file size."""
    out = Path(out_dir)
    cfg = cfg or load_sim_config(ds.sim_config)
    src = _source_digest()
    entries = read_manifest(out).get("samples", {})
    return (out / SAMPLES_YAML).is_file() and all(
        _complete(out, entries.get(s.name), sample_hash(s, cfg, src)) for s in sample_specs(ds))


def ensure_default_dataset(out_dir: str | os.PathLike | None = None,
                           threads: int | None = None) -> Path:
    """The default data set's samples.yaml, producing whatever is missing or outdated.

    Output: ``out_dir``, else $NUTAG_DATA, else data/default/ in the repository.
    """
    ds = load_dataset(DEFAULT_DATASET)
    return produce_dataset(ds, out_dir, threads=threads).samples_yaml
