"""HTCondor submission for CERN batch (lxplus), shared by ``nutag run`` and ``nutag simulate``.

Both ``--backend condor`` paths write a job directory, a bash job script and one submit
description per submission. This module writes those pieces, so an lxplus rule is enforced
once for both: the batch options (:class:`BatchOptions`, :func:`add_batch_arguments`), the job
script (:func:`job_script`), the submit text (:func:`submit_description`), its validation
(:func:`validate_submit`); :mod:`nutag.engine.htcondor_log` reads the user log. It imports nothing
from ``nutag.engine.backends`` or ``nutag.simulate``: they import it.

Rules of a submit description on CERN batch (:func:`check_rules`; the fake ``condor_submit``
of the tests checks the same rules line by line, independently):

1. A line is blank, a ``#`` comment, ``key = value`` or the final ``queue`` statement; a key is
   ``name``, ``+Name`` or ``MY.Name`` (letters, digits, ``_``) and appears once (keys are
   case-insensitive, ``+X`` is ``MY.X``, ``RequestMemory`` is ``request_memory``).
2. Nothing of the submission on EOS: ``executable``, ``log``, ``output``, ``error``,
   ``initialdir`` and ``transfer_input_files`` are not under ``/eos`` (the schedds refuse EOS
   FUSE for submit files and logs; use AFS or a local disk).
3. Outputs reach EOS only through the xrootd transfer plugin:
   ``output_destination = root://<instance>.cern.ch//eos/...`` (the instance of the path, see
   :func:`xrootd_url`); ``MY.XRDCP_CREATE_DIR = True`` lets it create directories.
4. ``+JobFlavour`` is a quoted flavour of :data:`FLAVOURS`; ``+AccountingGroup`` is a quoted
   ``group_u_<GROUP>[.<subgroup>...]``.
5. ``request_cpus`` is a whole number >= 1, ``max_retries`` a whole number >= 0;
   ``request_memory`` (MB) and ``request_disk`` (KiB) a number >= 1 with an optional unit
   (``K``, ``M``, ``G``, ``T``, optionally followed by ``B``). These rules are for literal
   values; an expression (dask-jobqueue writes ``floor(MY.DaskWorkerMemory / 1048576)``) is left
   to HTCondor.
6. ``universe`` is ``vanilla`` (or ``docker``/``container``); ``should_transfer_files`` is
   ``YES``, ``NO`` or ``IF_NEEDED``; ``when_to_transfer_output`` ``ON_EXIT`` or
   ``ON_EXIT_OR_EVICT``.

EOS outputs (CERN batch docs, "File Transfer to xrootd URL"). When the output directory is on
EOS the job writes into its scratch directory (the working directory HTCondor gives it) and
HTCondor sends ``transfer_output_files`` to ``output_destination`` with the xrootd plugin; the
job's stdout/stderr are part of that output sandbox. A listed output that is missing when the
job ends puts the job on hold, so the jobs create theirs first, also when they fail. Other
outputs are written by the job directly on the shared file system (AFS).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..core.argtypes import non_negative_int, positive_int
from ..core.errors import NutagError
from ..core.locations import PACKAGE_DIR

log = logging.getLogger("nutag.engine.htcondor")

#: CERN batch flavours (``+JobFlavour``) and their wall-time limits
FLAVOURS = {"espresso": "20 min", "microcentury": "1 h", "longlunch": "2 h", "workday": "8 h",
            "tomorrow": "1 day", "testmatch": "3 days", "nextweek": "1 week"}
#: where EOS is mounted on lxplus and the batch nodes (a module constant so tests can move it)
EOS_MOUNT = "/eos"
#: EOS instance serving a top-level directory of /eos (xrootd host ``<instance>.cern.ch``)
EOS_INSTANCES = {"user": "eosuser", "project": "eosproject", "experiment": "eospublic",
                 "atlas": "eosatlas", "cms": "eoscms", "lhcb": "eoslhcb", "alice": "eosalice"}
#: the user-log file and per-job stdout/stderr, relative to the job directory
LOG_DIR = "logs"

_KEY = re.compile(r"^(\+|MY\.)?[A-Za-z_][A-Za-z0-9_]*$", re.IGNORECASE)
_GROUP = re.compile(r"^group_u_[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?\s*([KMGT]B?)?$", re.IGNORECASE)
#: submit keys nutag writes itself -> the option that sets them (None: not settable)
OWN_KEYS: dict[str, str | None] = {
    "universe": None, "executable": None, "arguments": None, "initialdir": None,
    "output": None, "error": None, "log": None, "request_cpus": None,
    "request_memory": "--condor-memory", "request_disk": "--condor-disk",
    "max_retries": "--max-retries", "my.jobflavour": "--flavour",
    "my.accountinggroup": "--accounting-group", "should_transfer_files": None,
    "when_to_transfer_output": None, "transfer_output_files": None,
    "output_destination": None, "my.xrdcp_create_dir": None, "environment": None,
    "queue": None}
_ALIASES = {"requestcpus": "request_cpus", "requestmemory": "request_memory",
            "requestdisk": "request_disk", "maxretries": "max_retries"}


class CondorError(NutagError):
    """A batch problem the user can act on (the message says how)."""


def canonical_key(key: str) -> str:
    """The form two spellings of one submit key share: lower case, ``+X`` -> ``my.x``."""
    k = key.strip().lower()
    k = "my." + k[1:] if k.startswith("+") else k
    return _ALIASES.get(k, k)


# --------------------------------------------------------------------------- options
@dataclass(frozen=True)
class BatchOptions:
    """What every nutag HTCondor job asks of CERN batch, whichever command submits it.

    ``setup`` is the absolute path of a shell script sourced at the start of every job ("" for
    none; :func:`resolve_setup` picks the active LCG view by default). ``extra`` holds
    validated ``(key, value)`` submit lines of ``--condor-extra``.
    """

    flavour: str = "espresso"
    memory_mb: int = 2000
    disk_mb: int = 2000
    max_retries: int = 2
    accounting_group: str = ""
    setup: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.flavour not in FLAVOURS:
            raise CondorError(f"--flavour {self.flavour!r} is not a CERN batch flavour; use one "
                              f"of {', '.join(FLAVOURS)}")
        if self.accounting_group and not _GROUP.match(self.accounting_group):
            raise CondorError(f"--accounting-group {self.accounting_group!r}: CERN accounting "
                              "groups read group_u_<GROUP>[.<subgroup>] (e.g. group_u_ATLAS.u_zp)")
        for name in ("memory_mb", "disk_mb"):
            if int(getattr(self, name)) < 1:
                raise CondorError(f"{name} must be >= 1, got {getattr(self, name)}")
        if int(self.max_retries) < 0:
            raise CondorError(f"--max-retries must be >= 0, got {self.max_retries}")
        object.__setattr__(self, "extra", tuple(parse_extra(f"{k}={v}" for k, v in self.extra)))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Any:
        """Rebuild from :meth:`to_dict` (a manifest); keys of other versions are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in doc.items() if k in names}
        kw["extra"] = tuple(tuple(x) for x in kw.get("extra", ()))
        return cls(**kw)

    def to_dict(self) -> dict[str, Any]:
        doc = dataclasses.asdict(self)
        doc["extra"] = [list(x) for x in self.extra]
        return doc


def parse_extra(items: Iterable[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` strings of ``--condor-extra`` as submit lines, refusing what nutag writes.

    Why refuse: nutag's bookkeeping (which job ran which chunk, where its log and outputs are)
    relies on the lines it writes, and a second line with the same key would silently win in
    HTCondor. The keys with an option of their own name it in the message.
    """
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for item in items:
        key, sep, value = str(item).partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise CondorError(f"--condor-extra {item!r}: expected KEY=VALUE, e.g. "
                              "--condor-extra '+MaxRuntime=3600'")
        if not _KEY.match(key) or "\n" in value:
            raise CondorError(f"--condor-extra {item!r}: KEY must be a submit-description name "
                              "(letters, digits, _; optionally +Name or MY.Name) and VALUE one "
                              "line")
        ck = canonical_key(key)
        if ck in OWN_KEYS:
            flag = OWN_KEYS.get(ck)
            hint = f"use {flag}" if flag else "nutag needs its own value to follow the jobs"
            raise CondorError(f"--condor-extra {item!r}: nutag writes {key} itself; {hint}")
        if ck in seen:
            raise CondorError(f"--condor-extra: {key} given twice")
        seen.add(ck)
        out.append((key, value))
    return out


def _extra_type(text: str) -> str:
    try:
        parse_extra([text])
    except CondorError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_batch_arguments(group: Any, *, condor_dir_help: str) -> None:
    """Add the HTCondor options shared by ``nutag run`` and ``nutag simulate`` to ``group``."""
    group.add_argument("--condor-dir", type=Path, default=None, metavar="DIR",
                       help=f"condor: {condor_dir_help}; not on /eos (use AFS or a local disk)")
    group.add_argument("--condor-setup", default=None, metavar="SCRIPT",
                       help="condor: shell script each job sources first (default: the LCG view "
                            "of this shell, if one is active; 'none' for nothing)")
    group.add_argument("--flavour", choices=tuple(FLAVOURS), default="espresso",
                       help="HTCondor +JobFlavour, i.e. the wall-time limit (default: espresso, "
                            "20 min)")
    group.add_argument("--condor-memory", type=positive_int, default=2000, metavar="MB",
                       help="request_memory per job [MB] (default: 2000)")
    group.add_argument("--condor-disk", type=positive_int, default=2000, metavar="MB",
                       help="condor: request_disk per job [MB] (default: 2000)")
    group.add_argument("--accounting-group", default="", metavar="GROUP",
                       help="condor: +AccountingGroup, e.g. group_u_ATLAS.u_zp (default: your "
                            "default group)")
    group.add_argument("--max-retries", type=non_negative_int, default=2, metavar="N",
                       help="condor: times HTCondor reruns a job that exits non-zero (default: 2)")
    group.add_argument("--condor-extra", type=_extra_type, action="append", default=[],
                       metavar="KEY=VALUE",
                       help="condor: one more submit line, e.g. '+MaxRuntime=3600' (repeatable; "
                            "keys nutag writes are refused)")


def batch_options(args: argparse.Namespace) -> BatchOptions:
    """The :class:`BatchOptions` of parsed :func:`add_batch_arguments` options."""
    return BatchOptions(flavour=args.flavour, memory_mb=args.condor_memory,
                        disk_mb=args.condor_disk, max_retries=args.max_retries,
                        accounting_group=args.accounting_group,
                        setup=resolve_setup(args.condor_setup),
                        extra=tuple(parse_extra(args.condor_extra)))


# --------------------------------------------------------------------------- environment
def active_lcg_view(environ: Mapping[str, str] | None = None) -> str:
    """``setup.sh`` of the LCG view active in this shell, or "" when there is none.

    An LCG view's ``setup.sh`` exports ``LCG_VERSION`` and puts the view directory
    (``/cvmfs/sft.cern.ch/lcg/views/<release>/<platform>``) first on ``CMAKE_PREFIX_PATH``, and
    its ``bin``/``lib`` on ``PATH``/``LD_LIBRARY_PATH``; that directory holds ``setup.sh``.
    ``LCG_VIEW`` (a view directory or its setup.sh) names one explicitly.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("LCG_VIEW", "")
    if explicit:
        p = Path(explicit)
        p = p if p.is_file() else p / "setup.sh"
        return str(p) if p.is_file() else ""
    if not env.get("LCG_VERSION"):
        return ""
    for var, tails in (("CMAKE_PREFIX_PATH", ()), ("PATH", ("bin", "scripts")),
                       ("LD_LIBRARY_PATH", ("lib", "lib64"))):
        for entry in filter(None, env.get(var, "").split(os.pathsep)):
            view = Path(entry)
            if tails:  # PATH and LD_LIBRARY_PATH hold the view's subdirectories
                if view.name not in tails:
                    continue
                view = view.parent
            if "/lcg/views/" in f"{view}/" and (view / "setup.sh").is_file():
                return str(view / "setup.sh")
    return ""


def resolve_setup(value: str | None) -> str:
    """The setup script jobs source: ``None`` -> the active LCG view ("" if none); "none" or ""
    -> nothing; else the absolute path of an existing file."""
    if value is None:
        found = active_lcg_view()
        if found:
            log.info("condor jobs will source %s (the LCG view of this shell)", found)
        return found
    if value.strip().lower() in ("", "none"):
        return ""
    if value.split()[0] in ("source", "."):
        raise CondorError(f"--condor-setup {value!r}: give the script itself, e.g. --condor-setup "
                          f"{value.split(maxsplit=1)[-1]} (each job sources it)")
    p = Path(value).expanduser().absolute()
    if not p.is_file():
        raise CondorError(f"--condor-setup {value}: no such file; give a shell script the batch "
                          "nodes can read (/cvmfs or AFS), e.g. an LCG view's setup.sh")
    return str(p)


# --------------------------------------------------------------------------- EOS
def eos_path(path: str | os.PathLike) -> PurePosixPath | None:
    """``/eos/...`` (as an EOS path) when ``path`` is on EOS, else None; symlinks resolved."""
    for cand in (os.path.abspath(os.fspath(path)), os.path.realpath(os.fspath(path))):
        rel = os.path.relpath(cand, EOS_MOUNT)
        if rel != ".." and not rel.startswith("../"):
            return PurePosixPath("/eos") / rel if rel != "." else PurePosixPath("/eos")
    return None


def refuse_eos_jobdir(path: str | os.PathLike, option: str = "--condor-dir") -> None:
    """Stop before anything is written when a job directory is on EOS (CERN schedds refuse it)."""
    if eos_path(path) is not None:
        raise CondorError(
            f"{option} {path} is on EOS, which CERN batch refuses for submit files and logs "
            f"(EOS FUSE); put the job directory on AFS or a local disk, e.g. {option} "
            "/afs/cern.ch/work/<u>/<user>/nutag-jobs/<name>; the outputs may stay on EOS")


def xrootd_url(path: str | os.PathLike) -> str:
    """``root://<instance>.cern.ch//eos/...`` of an EOS path, for ``output_destination``.

    The instance comes from the first directory below /eos: user and home-<letter> ->
    eosuser, project and project-<letter> -> eosproject, experiment -> eospublic, atlas, cms,
    lhcb, alice -> eos<name>; another one uses ``$EOS_MGM_URL`` or is refused.
    """
    p = eos_path(path)
    if p is None:
        raise CondorError(f"{path} is not on EOS ({EOS_MOUNT}/...)")
    return f"{eos_server(p)}/{p}/"


def eos_server(p: PurePosixPath) -> str:
    """``root://<instance>.cern.ch`` serving the EOS path ``p`` (``/eos/...``)."""
    top = p.parts[2] if len(p.parts) > 2 else ""
    name = re.sub(r"-[a-z0-9]$", "", top)
    name = "user" if name == "home" else name
    if name in EOS_INSTANCES:
        return f"root://{EOS_INSTANCES[name]}.cern.ch"
    if os.environ.get("EOS_MGM_URL", "").startswith("root://"):
        return os.environ["EOS_MGM_URL"].rstrip("/")
    raise CondorError(f"{p}: no known EOS instance serves /eos/{top}; set "
                      "EOS_MGM_URL=root://<instance>.cern.ch or write under /eos/user")


# --------------------------------------------------------------------------- job script
def job_script(*, title: str, setup: str, body: str) -> str:
    """A bash job script: strict mode, the scratch directory as working directory, ``setup``
    sourced, nutag importable, then ``body`` (which ends by exec-ing the Python entry point).

    The setup script is sourced with ``set -eu`` off: LCG views read unset variables and end on
    commands whose status means nothing.
    """
    from . import cpp  # noqa: PLC0415

    analysis_dir = PACKAGE_DIR.parent
    src = ""
    if setup:
        q = shlex.quote(setup)
        src = (f"[[ -r {q} ]] || {{ echo \"nutag: cannot read the setup script {setup}\" >&2; "
               f"exit 2; }}\nset +eu +o pipefail\nsource {q}\nset -euo pipefail\n")
    return f"""#!/bin/bash
# Generated by nutag: {title}
set -euo pipefail
cd "${{_CONDOR_SCRATCH_DIR:-$PWD}}"
{src}export PYTHONPATH={shlex.quote(str(analysis_dir))}${{PYTHONPATH:+:$PYTHONPATH}}
export NUTAG_SOURCE_DIR=${{NUTAG_SOURCE_DIR:-{shlex.quote(str(cpp.source_root()))}}}
{body}"""


def write_job_script(path: Path, text: str) -> Path:
    """Write an executable job script atomically (a running job never reads half a file)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    tmp.chmod(0o755)
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- submit text
@dataclass(frozen=True)
class EosTransfer:
    """Outputs sent to EOS by HTCondor: ``files`` (submit expression, relative to the scratch
    directory) to the EOS directory ``directory``."""

    files: str
    directory: str


def submit_description(*, jobdir: Path, k: int, title: str, opts: BatchOptions,
                       arguments: str = "$(chunk)", environment: Mapping[str, str] | None = None,
                       eos: EosTransfer | None = None, variables: str = "chunk") -> str:
    """The k-th submit description of ``jobdir``: one job per line of ``chunks-k.txt``, whose
    columns are ``variables`` (the first is the chunk id)."""
    d = Path(jobdir)
    refuse_eos_jobdir(d)
    logs = "" if eos else f"{d}/{LOG_DIR}/"  # with an EOS output they travel with the outputs
    lines = [("universe", "vanilla"), ("executable", str(d / "job.sh")),
             ("arguments", arguments), ("initialdir", str(d)),
             ("output", f"{logs}chunk_$(chunk).$(ClusterId).$(ProcId).out"),
             ("error", f"{logs}chunk_$(chunk).$(ClusterId).$(ProcId).err"),
             ("log", f"{d}/{LOG_DIR}/submit-{k}.log"), ("request_cpus", "1"),
             ("request_memory", str(opts.memory_mb)), ("request_disk", f"{opts.disk_mb}MB"),
             ("max_retries", str(opts.max_retries)), ("+JobFlavour", f'"{opts.flavour}"')]
    if opts.accounting_group:
        lines.append(("+AccountingGroup", f'"{opts.accounting_group}"'))
    lines += [("should_transfer_files", "YES"), ("when_to_transfer_output", "ON_EXIT")]
    if eos is not None:
        lines += [("transfer_output_files", eos.files),
                  ("output_destination", xrootd_url(eos.directory)),
                  ("MY.XRDCP_CREATE_DIR", "True")]
    if environment:
        lines.append(("environment",
                      '"' + " ".join(f"{a}={b}" for a, b in environment.items()) + '"'))
    lines += list(opts.extra)
    body = "".join(f"{key} = {value}\n" for key, value in lines)
    return (f"# Generated by nutag: {title}, submission {k} of {d}\n{body}"
            f"queue {variables} from {d}/chunks-{k}.txt\n")


def check_rules(text: str) -> None:
    """Raise CondorError naming the line of the first CERN batch rule (module docstring) the
    submit description ``text`` breaks."""
    seen: dict[str, int] = {}
    body = [(n, ln.strip()) for n, ln in enumerate(text.splitlines(), 1)]
    body = [(n, ln) for n, ln in body if ln and not ln.startswith("#")]
    for i, (n, line) in enumerate(body):
        def bad(why: str, n: int = n, line: str = line) -> CondorError:
            return CondorError(f"submit description line {n} ({line!r}): {why}")

        if re.match(r"^queue\b", line, re.IGNORECASE):
            if i != len(body) - 1:
                raise bad("the queue statement must be the last line")
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _KEY.match(key):
            raise bad("not 'key = value' with key a submit-description name")
        ck = canonical_key(key)
        if ck in seen:
            raise bad(f"{key} already set on line {seen[ck]}")
        seen[ck] = n
        _check_value(ck, value, bad)
    if not body or not re.match(r"^queue\b", body[-1][1], re.IGNORECASE):
        raise CondorError("submit description has no final queue statement")
    if "executable" not in seen:
        raise CondorError("submit description has no executable")


def _check_value(ck: str, value: str, bad: Any) -> None:
    unquoted = value.strip('"')
    if ck in ("executable", "log", "output", "error", "initialdir", "transfer_input_files"):
        for part in value.split(","):
            if part.strip().startswith("/") and eos_path(part.strip()) is not None:
                raise bad("on EOS: CERN batch refuses EOS FUSE here; use AFS")
    elif ck == "output_destination":
        m = re.match(r"^(root://[a-z0-9-]+\.cern\.ch)/(/eos/.+)$", value)
        if not m or m.group(1) != eos_server(PurePosixPath(m.group(2))):
            raise bad("output_destination must read root://<instance>.cern.ch//eos/... with "
                      "the instance serving that path")
    elif ck == "my.jobflavour" and (unquoted not in FLAVOURS or not value.startswith('"')):
        raise bad(f"+JobFlavour must be one of {', '.join(FLAVOURS)}, quoted")
    elif ck == "my.accountinggroup" and not (value.startswith('"') and _GROUP.match(unquoted)):
        raise bad('+AccountingGroup must read "group_u_<GROUP>[.<subgroup>]"')
    elif ck in ("request_cpus", "max_retries") and re.match(r"^-?[0-9.]+$", value) and not (
            value.isdigit() and int(value) >= (1 if ck == "request_cpus" else 0)):
        raise bad(f"{ck} must be a whole number >= {1 if ck == 'request_cpus' else 0}")
    elif ck in ("request_memory", "request_disk") and value[:1].isdigit() and not (
            _QUANTITY.match(value) and float(re.sub(r"[^0-9.]", "", value)) >= 1):
        raise bad(f"{ck} must be a number >= 1 with an optional unit (K, M, G, T)")
    elif ck == "universe" and value.lower() not in ("vanilla", "docker", "container"):
        raise bad("CERN batch runs vanilla (or docker/container) universe jobs")
    elif ck == "should_transfer_files" and value.upper() not in ("YES", "NO", "IF_NEEDED"):
        raise bad("should_transfer_files is YES, NO or IF_NEEDED")
    elif ck == "when_to_transfer_output" and value.upper() not in ("ON_EXIT", "ON_EXIT_OR_EVICT"):
        raise bad("when_to_transfer_output is ON_EXIT or ON_EXIT_OR_EVICT")


def check_submit(text: str) -> Any:
    """Parse a submit description with the htcondor2 bindings; returns the ``Submit``."""
    import htcondor2  # noqa: PLC0415

    try:
        sub = htcondor2.Submit(text)
    except Exception as exc:  # noqa: BLE001 - the bindings raise several types
        raise CondorError(f"htcondor2 rejects the submit description: {exc}") from None
    if not sub.get("executable"):
        raise CondorError("submit description has no executable")
    return sub


def validate_submit(text: str, *, workdir: Path) -> str:
    """Check a submit description before ``condor_submit`` sees it; returns who accepted it.

    The CERN rules always (:func:`check_rules`); then the htcondor2 bindings when installed,
    else ``condor_submit -dry-run`` when the tool exists (both parse it as HTCondor will).
    """
    check_rules(text)
    try:
        import htcondor2  # noqa: F401, PLC0415
    except ImportError:
        exe = shutil.which("condor_submit")
        if exe is None:
            return "rules"
        with tempfile.TemporaryDirectory(dir=workdir, prefix=".dry-run-") as tmp:
            (Path(tmp) / "check.sub").write_text(text)
            cp = subprocess.run([exe, "-dry-run", str(Path(tmp) / "ads"),
                                 str(Path(tmp) / "check.sub")],
                                capture_output=True, text=True, cwd=workdir, timeout=120)
        if cp.returncode != 0:
            raise CondorError(f"condor_submit -dry-run rejects the submit description:\n"
                              f"{cp.stdout}{cp.stderr}")
        return "condor_submit -dry-run"
    check_submit(text)
    return "htcondor2"
