"""``nutag simulate``: produce a data set (default: the one ``nutag run`` analyses).

CONFIG is either a data set definition (has ``mc:``/``data:``, like
simulation/datasets/default.yaml) or a simulation config (SimConfig fields, like
simulation/default.yaml), which then replaces the default data set's ``sim_config``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path

from ..core.argtypes import non_negative_int, positive_int, thread_count
from ..config.analysis import load_yaml
from ..engine.htcondor import add_batch_arguments, batch_options
from .dataset import DEFAULT_DATASET, Dataset, default_output_dir, load_dataset, produce_dataset
from .storage import OUTPUT_FORMATS

log = logging.getLogger("nutag.simulate")

EPILOG = """examples:
  nutag simulate                        default data set into data/default/ (reused if current)
  nutag simulate --threads 2 --force    regenerate it on 2 cores
  nutag simulate my-sim.yaml --output data/mine --events 50000 --seed 7
  nutag simulate --samples kmu2 signal  only these samples of the data set
  nutag simulate --n-kaon-decays 1e11   pseudo-data for fewer K+ decays
  nutag simulate --format ttree --output data/ttree   TTree files instead of RNTuple
  nutag simulate --backend dask --workers 8          chunks on a Dask LocalCluster
  nutag simulate --backend dask --scheduler tcp://host:8786
  nutag simulate --backend condor --flavour longlunch  one HTCondor job per chunk
  nutag simulate --backend condor --output /eos/user/j/jdoe/nutag/data \\
      --condor-dir /afs/cern.ch/work/j/jdoe/nutag-jobs/sim
                                        EOS output (sent by HTCondor), job directory on AFS

The output directory gets one <sample>.root per sample (RNTuple "nutag" unless the data set's
`format:` or --format says ttree; ZSTD level 5), samples.yaml (the sample file for
`nutag run`) and manifest.json (written last; what makes a directory complete).
Same seeds -> the same events for any --threads and any --backend."""


def add_simulate_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``simulate`` on the nutag CLI (sets ``func=cmd_simulate``)."""
    p = subparsers.add_parser(
        "simulate", help="produce simulated samples and pseudo-data",
        description="Run the nutag fast simulation: weighted MC samples per stream and an "
                    "unweighted pseudo-data sample at true rates, as defined by a data set YAML.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", type=Path, default=None,
                   help="data set YAML or simulation config YAML "
                        f"(default: {DEFAULT_DATASET.relative_to(DEFAULT_DATASET.parents[2])})")
    p.add_argument("--events", type=non_negative_int, default=None,
                   help="entries generated per MC sample and per rare pseudo-data stream")
    p.add_argument("--seed", type=non_negative_int, default=None,
                   help="base seed: MC sample i gets SEED+1+i, the pseudo-data SEED")
    p.add_argument("--output", type=Path, default=None,
                   help="output directory (default: $NUTAG_DATA or the data set's output)")
    p.add_argument("--threads", type=thread_count, default=None,
                   help="worker processes, 1 to 1024 (default: all cores); does not change "
                        "the output")
    p.add_argument("--samples", nargs="+", default=None, metavar="NAME",
                   help="produce only these samples of the data set")
    p.add_argument("--n-kaon-decays", type=float, default=None,
                   help="N_K of the pseudo-data (default from the data set)")
    p.add_argument("--chunk-size", type=positive_int, default=None,
                   help="entries per chunk (default from the data set)")
    p.add_argument("--format", choices=tuple(OUTPUT_FORMATS), default=None,
                   help="output format of the samples (default: the data set's 'format:', "
                        "else rntuple, which reads ~1.5x faster than ttree); changing it "
                        "regenerates the samples")
    p.add_argument("--force", action="store_true", help="regenerate even if up to date")
    g = p.add_argument_group("distributed production (same output as --backend local)")
    g.add_argument("--backend", choices=("local", "dask", "condor"), default="local",
                   help="where the chunks run: local processes (--threads), a Dask cluster, "
                        "or HTCondor jobs; merged in order here (default: local)")
    g.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="dask: scheduler address (default: a LocalCluster)")
    g.add_argument("--workers", type=positive_int, default=2,
                   help="dask: LocalCluster worker processes (default: 2)")
    add_batch_arguments(g, condor_dir_help="job directory (default: hidden, inside the output "
                                           "directory, or here when that is on EOS)")
    p.set_defaults(func=cmd_simulate)
    return p


def _is_dataset(path: Path) -> bool:
    data = load_yaml(path)
    return isinstance(data, dict) and bool({"mc", "data"} & set(data))


def resolve_dataset(args: argparse.Namespace) -> Dataset:
    """The data set to produce, with the command-line overrides applied."""
    if args.config is not None and _is_dataset(args.config):
        ds = load_dataset(args.config)
    else:
        ds = load_dataset(DEFAULT_DATASET)
        if args.config is not None:
            ds = dataclasses.replace(ds, sim_config=os.path.abspath(args.config))
    mc, data = list(ds.mc), ds.data
    if args.events is not None:
        mc = [dataclasses.replace(m, events=args.events) for m in mc]
        if data:
            data = dataclasses.replace(data, events={s: args.events for s in data.events})
    if args.seed is not None:
        mc = [dataclasses.replace(m, seed=args.seed + 1 + i) for i, m in enumerate(mc)]
        if data:
            data = dataclasses.replace(data, seed=args.seed)
    if args.n_kaon_decays is not None and data:
        data = dataclasses.replace(data, n_kaon_decays=args.n_kaon_decays)
    ds = dataclasses.replace(ds, mc=tuple(mc), data=data)
    if args.chunk_size is not None:
        ds = dataclasses.replace(ds, chunk_size=args.chunk_size)
    if getattr(args, "format", None) is not None:
        ds = dataclasses.replace(ds, format=args.format)
    return ds


def cmd_simulate(args: argparse.Namespace) -> int:
    """Produce the data set; prints the path of the written samples.yaml last."""
    ds = resolve_dataset(args)
    out = args.output or default_output_dir(ds)
    from .distributed import backend_executor  # noqa: PLC0415

    backend = getattr(args, "backend", "local") or "local"
    batch = batch_options(args) if backend == "condor" else None
    with backend_executor(backend, scheduler=getattr(args, "scheduler", None),
                          workers=getattr(args, "workers", 2),
                          condor_dir=getattr(args, "condor_dir", None),
                          out_dir=out, batch=batch) as executor:
        result = produce_dataset(ds, out, threads=args.threads, only=args.samples,
                                 force=args.force, executor=executor)
    if result.reused:
        log.info("reused (up to date): %s", ", ".join(result.reused))
    print(result.samples_yaml)
    return 0


def main_simulate(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m nutag.simulate.cli [args]``."""
    parser = argparse.ArgumentParser(prog="nutag")
    sub = parser.add_subparsers(dest="command")
    add_simulate_parser(sub)
    args = parser.parse_args(["simulate", *(argv or [])])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from ..core.errors import NutagError  # noqa: PLC0415

    try:
        return cmd_simulate(args)
    except NutagError as exc:
        print(f"nutag: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_simulate(sys.argv[1:]))
