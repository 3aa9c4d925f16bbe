"""Command-line registration of the validation tools: closure, project, display, validate, toys.

The lead wires these into ``nutag.cli``'s sub-parsers::

    from nutag.validate_cli import (add_closure_parser, add_display_parser,
                                    add_project_parser, add_toys_parser, add_validate_parser)

Each ``_cmd_*`` calls a computing function and prints its result (computing and printing are
kept apart). ``python -m nutag.validate_cli COMMAND ...`` runs them stand-alone.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from nutag.core.argtypes import positive_float, positive_int, thread_count

Sub = argparse._SubParsersAction
RAW = argparse.RawDescriptionHelpFormatter


# --------------------------------------------------------------------------- closure
def add_closure_parser(sub: Sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "closure", help="closure test of the side-band background method on large MC",
        description="Simulate two independent halves of every background MC (SCALE x the "
                    "default data set's MC each) and a signal MC, run the selection on them in "
                    "one event loop, and compare the background predicted from the side-bands "
                    "(side-band x extrapolation factor of the other half) with the true MC "
                    "background in the signal region. Also writes the tagged-neutrino energy "
                    "resolution and the published candidate's percentiles.",
        epilog="examples:\n"
               "  nutag closure                                   100x statistics, results/closure\n"
               "  nutag closure --scale 0.05 --output /tmp/closure quick look (minutes)\n"
               "  nutag closure configs/default.yaml --events 10000 --scale 1 --threads 2\n\n"
               "outputs: closure.json/.md/.png/.pdf, resolution.json/.png/.pdf,\n"
               "         candidate.json/.md/.png/.pdf, samples/ (the MC, reused if current)",
        formatter_class=RAW)
    p.add_argument("config", nargs="?", type=Path, default=None,
                   help="analysis YAML (default: configs/default.yaml)")
    p.add_argument("--scale", type=positive_float, default=100.0,
                   help="statistics multiplier: each half has SCALE x the base events (default 100)")
    p.add_argument("--events", type=positive_int, default=None,
                   help="base events per background sample (default: the default data set's)")
    p.add_argument("--signal-events", type=positive_int, default=None,
                   help="signal MC events (default: --events, else the default data set's)")
    p.add_argument("--seed", type=int, default=None, help="base seed of the closure MC")
    p.add_argument("--n-kaon-decays", type=positive_float, default=None,
                   help="N_K the expected counts refer to (default: the published 5e12)")
    p.add_argument("--threads", type=thread_count, default=None,
                   help="threads/processes, 1 to 1024 (default: all)")
    p.add_argument("--output", type=Path, default=Path("results/closure"),
                   help="output directory (default: results/closure)")
    p.add_argument("--samples-dir", type=Path, default=None,
                   help="where the closure MC is written/reused (default: OUTPUT/samples)")
    p.set_defaults(func=_cmd_closure)
    return p


def _cmd_closure(args: argparse.Namespace) -> int:
    from nutag.studies.closure import DEFAULT_SEED, closure_markdown, run_closure

    res = run_closure(args.config, scale=args.scale, events=args.events,
                      signal_events=args.signal_events,
                      seed=DEFAULT_SEED if args.seed is None else args.seed,
                      threads=args.threads, output=args.output, samples_dir=args.samples_dir,
                      n_kaon_decays=args.n_kaon_decays)
    print(closure_markdown(res))
    r = res.get("resolution") or {}
    if r.get("sigma_over_e_tag") is not None:
        print(f"E_nu resolution (sigma68/E): tagging {100 * r['sigma_over_e_tag']:.2f} %, "
              f"calorimetric {100 * (r.get('sigma_over_e_calo') or float('nan')):.1f} %")
    print(args.output)
    return 0


# --------------------------------------------------------------------------- project
def add_project_parser(sub: Sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "project", help="expected signal, background and P(>=1 signal) for 1x, 3x, 10x the data",
        description="Scale a results directory's expected signal and background to 1x, 3x (the "
                    "data NA62 already has) and 10x the 2022 sample; give P(>= 1 signal event) "
                    "= 1 - exp(-s), P(>= 1 event | b), P(>= 1 event | s+b) and the expected "
                    "(Asimov) significance, beside the same projection of the published numbers.",
        epilog="examples:\n  nutag project results/default\n"
               "  nutag project results/default --output results/default/validation\n"
               "  nutag project --published-only",
        formatter_class=RAW)
    p.add_argument("results_dir", nargs="?", type=Path, default=None,
                   help="results directory of `nutag run` (holds summary.json)")
    p.add_argument("--output", type=Path, default=None,
                   help="where projection.json/.md go (default: RESULTS_DIR)")
    p.add_argument("--own-n-k", action="store_true",
                   help="1x = the run's own N_K (default: rescale the run to the 2022 sample's "
                        "5e12 K+ decays)")
    p.add_argument("--published-only", action="store_true",
                   help="project only the published numbers (no results directory needed)")
    p.add_argument("--background", choices=("auto", "simulation", "data"), default="auto",
                   help="nutag's b: the MC-truth background in the signal region (simulation) "
                        "or the data-driven side-band estimate (data); auto: simulation if the "
                        "run has it")
    p.set_defaults(func=_cmd_project)
    return p


def _cmd_project(args: argparse.Namespace) -> int:
    from nutag.studies import project
    from nutag.core.errors import NutagError
    from nutag.outputs.report import published

    projections = []
    if not args.published_only:
        if args.results_dir is None:
            raise NutagError("give a results directory, or --published-only")
        projections.append(project.projection_from_summary(
            project.read_summary(args.results_dir),
            reference_n_k=None if args.own_n_k else published()["n_kaon_decays"],
            background=args.background))
    projections.append(project.projection_from_published(published()))
    out = args.output or args.results_dir
    if out is not None:
        project.write_projection(out, projections)
    print(project.projection_markdown(projections))
    if out is not None:
        print(out)
    return 0


# --------------------------------------------------------------------------- toys
def add_toys_parser(sub: Sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "toys", help="pseudo-experiments: coverage of the background estimate, P(n | b), outcomes",
        description="Draw an ensemble of pseudo-data sets from a results directory's booked MC "
                    "(no event loop): Poisson side-band and signal-box counts around the "
                    "MC-truth expectations, extrapolation factors from their MC statistics. "
                    "Each toy is analysed as nutag analyses data. Reports the distribution and "
                    "coverage of the background estimate, P(n | b), the fraction of toys with "
                    "a signal-box event, and where the published outcome (one event in each "
                    "side-band, one candidate) and this run's side-band counts sit.",
        epilog="examples:\n  nutag toys results/default\n"
               "  nutag toys results/default --n 5000 --seed 7 --output /tmp/toys\n"
               "  nutag toys results/default --integrated 1000   (about 45 s)\n\n"
               "outputs: toys.json, toys.md, toys_background.png, toys_p_b.png, toys_counts.png",
        formatter_class=RAW)
    p.add_argument("results_dir", nargs="?", type=Path, default=Path("results/default"),
                   help="results directory of `nutag run` (default: results/default)")
    p.add_argument("--n", type=positive_int, default=None,
                   help="number of pseudo-experiments (default 1000)")
    p.add_argument("--seed", type=int, default=None, help="seed of numpy's generator "
                   "(default: a fixed number, so the ensemble is reproducible)")
    p.add_argument("--integrated", type=int, default=None,
                   help="toys whose integrated probabilities are computed, about 0.05 s each "
                        "(default 200, the first ones)")
    p.add_argument("--output", type=Path, default=None,
                   help="output directory (default: RESULTS_DIR/toys)")
    p.add_argument("--no-plots", action="store_true", help="JSON and Markdown only (no ROOT)")
    p.set_defaults(func=_cmd_toys)
    return p


def _cmd_toys(args: argparse.Namespace) -> int:
    from nutag.studies import toys
    from nutag.studies.toys_report import toys_markdown, write_toys

    doc = toys.toys_document(
        args.results_dir, n_toys=args.n or toys.DEFAULT_TOYS,
        seed=toys.DEFAULT_SEED if args.seed is None else args.seed,
        n_integrated=toys.DEFAULT_INTEGRATED if args.integrated is None
        else max(args.integrated, 0))
    out = args.output or args.results_dir / "toys"
    write_toys(out, doc, plots=not args.no_plots)
    print(toys_markdown(doc))
    print(out)
    return 0


# --------------------------------------------------------------------------- display
def add_display_parser(sub: Sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "display", help="event display (side views, LKr and MUV3 front views) as PNG + PDF",
        description="Draw one or more events: every unblinded candidate of a results directory, "
                    "or events a user names by sample and entry, or the first events of a sample "
                    "passing a region. Columns (vertex, neutrino line, associations) are the "
                    "analysis' own, from the selection YAML.",
        epilog="examples:\n  nutag display results/unblinded          every candidate of the run\n"
               "  nutag display --sample signal --entry 123 [--config configs/default.yaml]\n"
               "  nutag display --sample signal --region signal --count 5 --output displays/",
        formatter_class=RAW)
    p.add_argument("results_dir", nargs="?", type=Path, default=None,
                   help="an UNBLINDED results directory: draw its candidates")
    p.add_argument("--config", type=Path, default=None,
                   help="analysis YAML (default: the run's config, else configs/default.yaml)")
    p.add_argument("--sample", default=None, help="sample name (e.g. signal, overlay, data)")
    p.add_argument("--entry", type=int, nargs="+", default=None, help="entry number(s), 0-based")
    p.add_argument("--region", default=None, help="draw the first --count events passing it")
    p.add_argument("--count", type=positive_int, default=3, help="events with --region (default 3)")
    p.add_argument("--output", type=Path, default=None,
                   help="directory of the pictures (default: RESULTS_DIR/displays or displays/)")
    p.set_defaults(func=_cmd_display)
    return p


def _display(args: argparse.Namespace) -> list[Path]:
    """Resolve what to draw and draw it; returns the files written."""
    from nutag.config.blinding import blind_box_of
    from nutag.config.analysis import load_analysis
    from nutag.engine.cpp import load_cpp
    from nutag.outputs.display import draw_event, load_event, select_entries
    from nutag.core.errors import NutagError
    from nutag.jobs.pipeline import DEFAULT_CONFIG
    from nutag.outputs.report import boxes_from_selection

    config, candidates = args.config, []
    if args.results_dir is not None:
        summary = json.loads((args.results_dir / "summary.json").read_text(encoding="utf-8"))
        if summary.get("blinded", True):
            raise NutagError(f"{args.results_dir} is a blinded run: it has no candidates to "
                             "display (rerun with --unblind)")
        candidates = summary.get("candidates") or []
        config = config or Path(summary.get("provenance", {}).get("config") or DEFAULT_CONFIG)
    load_cpp()
    analysis = load_analysis(config or DEFAULT_CONFIG, check_result_options=False)
    boxes = boxes_from_selection(analysis.selection) or {}
    # data beyond an unblinded run's candidates are read blind: the box removed at the source
    box = blind_box_of(analysis.selection, analysis.options, analysis.file)
    out = args.output or (args.results_dir / "displays" if args.results_dir else Path("displays"))
    written: list[Path] = []

    def sample(name: str):  # noqa: ANN202
        if name not in analysis.samples:
            raise NutagError(f"unknown sample {name!r}; samples: {sorted(analysis.samples)}")
        return analysis.samples[name]

    if args.results_dir is not None:
        cand_sample = (analysis.options.get("candidate") or {}).get("sample", "data")
        for c in candidates:
            ev = load_event(sample(cand_sample), analysis.selection, event_id=int(c["event_id"]))
            written += draw_event(ev, out, box_dlkr=boxes.get("box_dlkr_sr"))
    if args.sample is not None:
        s = sample(args.sample)
        if s.kind == "data" and box is None:
            raise NutagError(f"{analysis.file} declares no blind box (options.blind_box), so "
                             f"data events of sample {s.name!r} cannot be displayed blind; "
                             "declare it, or display the candidates of an unblinded run")
        entries = list(args.entry or [])
        if args.region:
            entries += select_entries(s, analysis.selection, args.region, args.count, box)
        if not entries:
            raise NutagError("give --entry N or --region NAME with --sample")
        for e in entries:
            written += draw_event(load_event(s, analysis.selection, entry=e, blind_box=box), out,
                                  box_dlkr=boxes.get("box_dlkr_sr"))
    elif args.results_dir is None:
        raise NutagError("give a results directory or --sample NAME --entry N")
    return written


def _cmd_display(args: argparse.Namespace) -> int:
    written = _display(args)
    for p in written:
        print(p)
    return 0


# --------------------------------------------------------------------------- validate
def add_validate_parser(sub: Sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "validate", help="published-versus-nutag comparison (writes docs/validation.md)",
        description="Compare a run with the publication: the result table, the closure test "
                    "and energy resolution (from a `nutag closure` directory), the published "
                    "candidate on the simulated distributions, the projection to 3x and 10x the "
                    "data, and the simulation's calibration choices.",
        epilog="examples:\n  nutag validate results/default --closure results/closure "
               "--write docs/validation.md\n  nutag validate results/default      "
               "print the page, figures in results/default/validation/",
        formatter_class=RAW)
    p.add_argument("results_dir", type=Path, help="results directory of `nutag run`")
    p.add_argument("--closure", type=Path, default=None,
                   help="results directory of `nutag closure` (closure and resolution)")
    p.add_argument("--write", type=Path, default=None, help="write the page here (Markdown)")
    p.add_argument("--figures", type=Path, default=None,
                   help="figure directory (default: RESULTS_DIR/validation)")
    p.set_defaults(func=_cmd_validate)
    return p


def _cmd_validate(args: argparse.Namespace) -> int:
    from nutag.studies.validation import validation_document, validation_markdown, write_validation

    doc = validation_document(args.results_dir, args.closure, args.figures)
    if args.write is not None:
        print(write_validation(args.write, doc))
    else:
        print(validation_markdown(doc))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m nutag.validate_cli COMMAND ...`` (the commands above)."""
    parser = argparse.ArgumentParser(prog="nutag")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (add_closure_parser, add_project_parser, add_display_parser, add_validate_parser,
                add_toys_parser):
        add(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from nutag.core.errors import NutagError

    try:
        return int(args.func(args) or 0)
    except NutagError as exc:
        print(f"nutag: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
