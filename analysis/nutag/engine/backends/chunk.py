"""One batch chunk: the same graph as a local run, on a slice of one sample, written atomically.

Run by the HTCondor job script, or by hand to reproduce a chunk::

    python -m nutag.engine.backends.chunk --manifest JOBDIR/manifest.json --chunk 3
    python -m nutag.engine.backends.chunk --config configs/x.yaml --sample mc_a \\
        --files a.root b.root --range 1000 2000 --out DIR [--unblind] [--builder mod:func]

Why a chunk is (files, global entry range): the range is over the chain of the listed files
(``RDatasetSpec.WithGlobalRange``), so any chunk size partitions a sample exactly, and the merge
(``nutag.engine.backends.merge``) sums chunks in chunk order. The chunk runs single-threaded: one
sequential loop, like every other chunk, whatever the batch node offers.

Outputs in ``OUT``: ``histograms.root`` (every histogram, keyed by its unique name),
``results.json`` (cutflows, histogram keys, extras) and, written last, ``DONE`` (what was read).
Each file is written under a temporary name and renamed, so a chunk directory holding ``DONE``
is complete and a killed job never leaves a file that looks finished.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...core.atomic import atomic_write
from ...core.options import RouteOptions
from ...core.rootenv import import_root

log = logging.getLogger("nutag.engine.backends.chunk")

HISTOS, RESULTS, DONE = "histograms.root", "results.json", "DONE"
FORMAT = "nutag-chunk-1"


def chunk_dataframe(files: list[str], entry_range: tuple[int, int] | None
                    ) -> Callable[[Any], Any]:
    """A dataframe factory for ``build_graph``: the listed files, optionally a global range
    (:func:`nutag.config.input_files.sample_dataframe`, as on every route: empty RNTuples left out)."""
    from ...config.input_files import sample_dataframe  # noqa: PLC0415

    def make_df(sample: Any) -> Any:
        return sample_dataframe(sample, list(files), entry_range)

    return make_df


def _extra_doc(value: Any) -> dict[str, Any]:
    ROOT = import_root()
    if isinstance(value, ROOT.TH1):
        return {"type": "hist", "key": value.GetName()}
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, (int, float)):
        return {"type": "int" if isinstance(value, int) else "float", "value": value}
    if isinstance(value, list):
        return {"type": "list", "value": [v if isinstance(v, (int, float, str, bool)) else float(v)
                                          for v in value]}
    raise TypeError(f"cannot store extra result of type {type(value).__name__} in a chunk")


def write_outputs(result: Any, out: Path, info: dict[str, Any]) -> Path:
    """Write one sample's computed results (``run.SampleResult``) into ``out``; DONE last."""
    ROOT = import_root()
    out.mkdir(parents=True, exist_ok=True)
    tmp_root = out / f".{HISTOS}.tmp-{os.getpid()}"
    tfile = ROOT.TFile.Open(str(tmp_root), "RECREATE")
    if not tfile or tfile.IsZombie():
        raise OSError(f"cannot write {tmp_root}")
    regions: dict[str, Any] = {}
    used: set[str] = set()

    def store(h: Any, key: str) -> str:
        if key in used:
            raise ValueError(f"two histograms named {key!r} in one chunk")
        used.add(key)
        tfile.WriteObject(h, key)
        return key

    for rname, ro in result.regions.items():
        histos = {h: store(v, v.GetName()) for h, v in ro.histos.items()}
        extras = {}
        for k, v in ro.extras.items():
            doc = _extra_doc(v)
            if doc["type"] == "hist":
                doc["key"] = store(v, f"{result.name}__{rname}__extra__{k}")
            extras[k] = doc
        regions[rname] = {"cutflow": ro.cutflow, "histos": histos, "extras": extras,
                          "variations": dict(getattr(ro, "variations", None) or {})}
    tfile.Close()
    os.replace(tmp_root, out / HISTOS)
    doc = {"format": FORMAT, "sample": result.name, "kind": result.kind,
           "n_runs": result.n_runs, "blinded": result.blinded, "route": result.route,
           "blinded_regions": list(result.blinded_regions), "regions": regions, **info}
    atomic_write(out / RESULTS, json.dumps(doc, indent=1) + "\n")
    return atomic_write(out / DONE, json.dumps(info, indent=1) + "\n")


def run_chunk(config: str | os.PathLike, sample: str, files: list[str],
              entry_range: tuple[int, int] | None, out: str | os.PathLike, *,
              blinded: bool = True, builder: str | None = None, chunk_id: int | None = None,
              expected_entries: int | None = None,
              allow_unsafe_expressions: bool = False,
              route: RouteOptions | None = None) -> Path:
    """Book the sample's graph on the chunk, run it in one loop, write the outputs.

    ``route``: the submitting run's execution switches (from the job manifest), so a chunk
    takes the route the run chose whatever the batch node's environment says.

    ``allow_unsafe_expressions``: the job loads the YAML again, with the permission the
    submitting ``nutag run --allow-unsafe-expressions`` had (never more)."""
    from ...config import analysis as _config  # noqa: PLC0415
    from ..booking import build_graphs  # noqa: PLC0415
    from ..run import collect, run_booked  # noqa: PLC0415

    t0 = time.time()
    ROOT = import_root()
    if ROOT.IsImplicitMTEnabled():
        ROOT.DisableImplicitMT()  # one sequential loop per chunk (and Range-like ranges)
    from ..cpp import load_cpp  # noqa: PLC0415

    load_cpp()  # the helpers must exist before expressions are checked against the inputs
    ana = _config.load_analysis(config, allow_unsafe_expressions=allow_unsafe_expressions)
    if sample not in ana.samples:
        raise KeyError(f"sample {sample!r} is not in {config}; known: {', '.join(ana.samples)}")
    ana.samples[sample].files = list(files)
    graphs = build_graphs(ana, blinded=blinded, builder=builder, samples=[sample],
                          make_df=chunk_dataframe(list(files), entry_range), route=route)
    # the entries read, counted before anything (a blinded data graph's (all) row starts after
    # the blind-box veto): checks that the chunk read its whole range, in the same loop
    read_count = graphs[0].df.Count()
    run_booked(graphs, [read_count])  # a fault names the YAML, a ROOT error the damaged file
    res = collect(graphs, threads=1, backend="condor").samples[sample]
    read = int(read_count.GetValue())
    if expected_entries is not None and read is not None and read != expected_entries:
        raise RuntimeError(f"chunk {chunk_id}: read {read} entries, expected {expected_entries} "
                           "(an input file changed or is truncated)")
    info = {"chunk": chunk_id, "sample": sample, "files": list(files),
            "range": list(entry_range) if entry_range else None, "entries": read,
            "host": socket.gethostname(), "seconds": round(time.time() - t0, 3)}
    return write_outputs(res, Path(out), info)


def run_manifest_chunk(manifest: str | os.PathLike, chunk_id: int, *,
                       allow_unsafe_expressions: bool = False) -> Path:
    """Run chunk ``chunk_id`` of a job directory's manifest (what the job script calls)."""
    doc = json.loads(Path(manifest).read_text())
    chunks = {c["id"]: c for c in doc["chunks"]}
    if chunk_id not in chunks:
        raise KeyError(f"no chunk {chunk_id} in {manifest} (0..{len(chunks) - 1})")
    c = chunks[chunk_id]
    out = Path(doc["output"]) / chunk_dirname(chunk_id)
    return run_chunk(doc["config"], c["sample"], c["files"],
                     tuple(c["range"]) if c["range"] else None, out,
                     blinded=doc["blinded"], builder=doc["builder"], chunk_id=chunk_id,
                     expected_entries=c.get("entries"),
                     allow_unsafe_expressions=allow_unsafe_expressions,
                     route=RouteOptions.from_dict(doc.get("route")))


def chunk_dirname(chunk_id: int) -> str:
    return f"chunk_{chunk_id:05d}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m nutag.engine.backends.chunk",
                                description="Run one chunk of an analysis and write its outputs.")
    p.add_argument("--manifest", help="job directory manifest.json (with --chunk)")
    p.add_argument("--chunk", type=int, help="chunk id in the manifest")
    p.add_argument("--config", help="analysis YAML")
    p.add_argument("--sample")
    p.add_argument("--files", nargs="+")
    p.add_argument("--range", nargs=2, type=int, metavar=("BEGIN", "END"),
                   help="global entry range over the listed files")
    p.add_argument("--out", help="output directory of this chunk")
    p.add_argument("--unblind", action="store_true")
    p.add_argument("--builder", default=None, help="graph builder 'module:function'")
    p.add_argument("--allow-unsafe-expressions", action="store_true",
                   help="as `nutag run --allow-unsafe-expressions` (the submitting run passes it)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.manifest and args.chunk is None:
        p.error("--manifest needs --chunk")
    if not args.manifest and not (args.config and args.sample and args.files and args.out):
        p.error("give --manifest and --chunk, or --config, --sample, --files and --out")
    from ...core.errors import NutagError  # noqa: PLC0415

    try:
        if args.manifest:
            done = run_manifest_chunk(args.manifest, args.chunk,
                                      allow_unsafe_expressions=args.allow_unsafe_expressions)
        else:
            done = run_chunk(args.config, args.sample, args.files,
                             tuple(args.range) if args.range else None, args.out,
                             blinded=not args.unblind, builder=args.builder,
                             allow_unsafe_expressions=args.allow_unsafe_expressions)
    except NutagError as exc:  # the job log shows what to fix, as `nutag run` would
        print(f"nutag: error: {exc}", file=sys.stderr)
        return 1
    print(done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
