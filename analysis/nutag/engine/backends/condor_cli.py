"""``nutag condor status|resubmit|merge JOBDIR``: follow, resubmit and merge an HTCondor run.

Why apart from the job directory (:mod:`nutag.engine.backends.condor`): this is argument parsing and
printing for a person at a terminal; the job directory's logic is called the same way by
``nutag run --backend condor`` and by these commands. Also runs as
``python -m nutag.engine.backends.condor_cli`` where ``nutag`` is not on PATH.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ...core.errors import NutagError
from .condor import JobDir, incomplete_message


def add_condor_parser(sub: argparse._SubParsersAction) -> None:
    """``nutag condor status|resubmit|merge JOBDIR`` (wired by nutag.cli)."""
    p = sub.add_parser("condor", help="follow, resubmit and merge an HTCondor run",
                       description="Inspect a job directory written by `nutag run --backend "
                                   "condor`, resubmit only its failed or missing chunks, and "
                                   "merge the chunks exactly once all are done.",
                       epilog="examples:\n"
                              "  nutag condor status condor/default        what is done, running, failed\n"
                              "  nutag condor resubmit condor/default      only the failed or missing chunks\n"
                              "  nutag condor merge condor/default --output results/default",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=("status", "resubmit", "merge"))
    p.add_argument("jobdir", type=Path)
    p.add_argument("--json", action="store_true", help="status as JSON")
    p.add_argument("--output", type=Path, default=None, help="merge: output directory "
                   "(default JOBDIR/merged)")
    p.set_defaults(func=cmd_condor)


def cmd_condor(args: argparse.Namespace) -> int:
    jd = JobDir(args.jobdir)
    if args.action == "status":
        st = jd.status()
        if args.json:
            print(json.dumps(st, indent=1))
        else:
            print(incomplete_message(jd, st) if st["to_resubmit"] or st["failed"]
                  else f"{jd.path}: {st['counts']}")
        return 0 if not st["to_resubmit"] else 1
    if args.action == "resubmit":
        entry = jd.submit()
        print(f"resubmitted chunks {entry['chunks']} as cluster {entry['cluster']}" if entry
              else "nothing to resubmit")
        return 0
    from .merge import IncompleteMerge  # noqa: PLC0415

    try:
        jd.merge(args.output)
    except IncompleteMerge as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(args.output or jd.path / "merged")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nutag.engine.backends.condor_cli")
    add_condor_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["condor", *(argv if argv is not None else sys.argv[1:])])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except NutagError as exc:
        print(f"nutag: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
