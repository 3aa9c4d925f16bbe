"""HTCondor batch backend: chunk the samples, write a job directory, submit, follow, merge.

A *job directory* holds everything to run, follow and resume one analysis on HTCondor::

    JOBDIR/manifest.json        config, blinding, builder, output dir, the chunk plan
    JOBDIR/job.sh               runs one chunk: python -m nutag.engine.backends.chunk --chunk N
    JOBDIR/submit-K.sub         the K-th submission (queue chunk from chunks-K.txt)
    JOBDIR/chunks-K.txt         chunk ids of that submission (all, then only the failed)
    JOBDIR/submissions.json     cluster id and chunk ids of every submission
    JOBDIR/logs/                stdout/stderr per chunk, HTCondor user log per submission
    OUTPUT/chunk_NNNNN/         histograms.root, results.json, DONE (default OUTPUT=JOBDIR/out)
    JOBDIR/merged/              histograms.root, cutflows.json/md after ``merge``

JOBDIR may not be on EOS (CERN batch refuses it). For an OUTPUT on EOS the job writes
``chunk_NNNNN/`` in its scratch directory and HTCondor sends it, with the job's stdout/stderr,
to OUTPUT; the chunk is done once its ``DONE`` is there and its job has left the queue. Submit
text, job-script set-up and batch options come from ``nutag.engine.htcondor``, as for the simulation.

State is never kept in memory: a chunk is *done* iff its ``DONE`` marker exists, *queued*
iff ``condor_q`` lists it, *failed* iff its submission's user log says it terminated with a
non-zero code (after ``max_retries``) or was aborted/held, *missing* otherwise. So ``status``,
``resubmit`` (only not-done, not-queued chunks) and ``merge`` work after a logout, and
re-running the same ``nutag run --backend condor`` resumes instead of starting over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core.atomic import atomic_write
from ...config.expressions import UNSAFE_FLAG
from ..htcondor import (BatchOptions, CondorError, EosTransfer, check_submit,  # noqa: F401
                        eos_path, job_script, parse_extra, refuse_eos_jobdir, resolve_setup,
                        submit_description, validate_submit, write_job_script)
from ..htcondor_log import user_log_events
from ...config.input_files import stored_entries
from ...core.options import RouteOptions
from .chunk import DONE, chunk_dirname

log = logging.getLogger("nutag.engine.backends.condor")

DEFAULT_CHUNK_SIZE = 500_000
JOB_SCRIPT, MANIFEST, SUBMISSIONS = "job.sh", "manifest.json", "submissions.json"
#: condor_q JobStatus codes
JOB_STATUS = {1: "idle", 2: "running", 3: "removed", 4: "completed", 5: "held",
              6: "transferring", 7: "suspended"}
#: ``chunk_dirname`` in submit-description language (the directory an EOS job sends back)
CHUNK_DIR_EXPR = "chunk_$INT(chunk,%05d)"


class Submitted(CondorError):
    """``wait=False``: the chunks were submitted and the run continues in the batch system."""

    def __init__(self, jobdir: Path, message: str) -> None:
        self.jobdir = jobdir
        super().__init__(message)


# --------------------------------------------------------------------------- plan
def _entries(path: str, tree: str) -> int | None:
    """Entries of ``tree`` in ``path`` (:func:`nutag.config.input_files.stored_entries`); None when
    they cannot be counted from the file's metadata: the file is then chunked whole, and a
    file that cannot be read at all fails its chunk with the loop's error naming it."""
    n, _ = stored_entries(path, tree)
    return n


def plan_chunks(analysis: Any, chunk_size: int = DEFAULT_CHUNK_SIZE,
                samples: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Split every sample into chunks of ``chunk_size`` entries, in sample/file order.

    The entries of a sample are its files chained in order; chunk j is the global range
    [j*size, (j+1)*size) of that chain, and lists only the files it overlaps, with the range
    shifted to start at the first of them. So chunks partition the sample exactly, a big file is
    split and small files are grouped, and the plan depends only on the inputs and the size.
    A sample whose entries cannot be counted cheaply is chunked one whole file per chunk.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    chunks: list[dict[str, Any]] = []
    for name in (list(samples) if samples is not None else list(analysis.samples)):
        s = analysis.samples[name]
        sizes = [_entries(f, s.tree) for f in s.files]
        if any(n is None for n in sizes):
            for f in s.files:
                chunks.append({"id": len(chunks), "sample": name, "files": [f],
                               "range": None, "entries": None})
            continue
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        total = sum(sizes)
        for a in range(0, max(total, 1), chunk_size):
            b = min(a + chunk_size, total)
            idx = [i for i, (st, n) in enumerate(zip(starts, sizes)) if st < b and st + n > a]
            if not idx:  # an empty sample still gets one (empty) chunk: its cutflow rows exist
                idx = [0] if s.files else []
            off = starts[idx[0]] if idx else 0
            chunks.append({"id": len(chunks), "sample": name,
                           "files": [s.files[i] for i in idx],
                           "range": [a - off, b - off], "entries": b - a})
    return chunks


def config_digest(analysis: Any) -> str:
    """Hash of every file the analysis reads (YAML, correction sets, systematics) and of its
    input file list (resume safety: a changed file must not reuse old chunks)."""
    h = hashlib.sha256()
    syst = sorted({s.loc.file for s in getattr(analysis, "systematics", None) or []
                   if getattr(getattr(s, "loc", None), "file", None)} - {analysis.file})
    for f in [analysis.file, analysis.samples_file, *analysis.selection.files,
              *(getattr(analysis, "corrections", None) or []), *syst]:
        h.update(Path(f).read_bytes())
    for s in analysis.samples.values():
        h.update(json.dumps([s.name, s.tree, s.files]).encode())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- job directory
@dataclass(frozen=True)
class JobOptions(BatchOptions):
    """The batch options plus what the analysis job itself needs."""

    python: str = ""         # interpreter of the jobs (default: this one)
    output: str = ""         # chunk outputs; default JOBDIR/out; /eos/... sent by HTCondor
    allow_unsafe_expressions: bool = False


def _job_script(jobdir: Path, opts: JobOptions, *, eos: bool = False) -> str:
    """``eos``: the chunk directory is made first, in the scratch directory, because HTCondor
    holds a job whose ``transfer_output_files`` is missing (also after a failed chunk)."""
    py = opts.python or sys.executable
    unsafe = f" {UNSAFE_FLAG}" if opts.allow_unsafe_expressions else ""
    mkdir = 'printf -v OUT "chunk_%05d" "$CHUNK"\nmkdir -p "$OUT"\n' if eos else ""
    body = f"""CHUNK="$1"
{mkdir}# failure injection for tests and drills: NUTAG_FAIL_CHUNKS=3,7 makes those chunks fail
if [[ ",${{NUTAG_FAIL_CHUNKS:-}}," == *",${{CHUNK}},"* ]]; then
  echo "nutag: chunk ${{CHUNK}} fails on purpose (NUTAG_FAIL_CHUNKS=${{NUTAG_FAIL_CHUNKS}})" >&2
  exit 3
fi
echo "nutag: chunk ${{CHUNK}} on $(hostname) at $(date -u +%FT%TZ)"
exec {shlex.quote(py)} -m nutag.engine.backends.chunk --manifest {shlex.quote(str(jobdir / MANIFEST))} \\
  --chunk "${{CHUNK}}"{unsafe}
"""
    return job_script(title=f"runs ONE chunk of {jobdir}. Usage: job.sh CHUNK_ID",
                      setup=opts.setup, body=body)


class JobDir:
    """One analysis on HTCondor, on disk (see the module docstring for the layout)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).resolve()

    # ---- files
    @property
    def manifest(self) -> dict[str, Any]:
        f = self.path / MANIFEST
        if not f.is_file():
            raise CondorError(f"{self.path} is not a nutag job directory (no {MANIFEST})")
        return json.loads(f.read_text())

    @property
    def output(self) -> Path:
        """Where the chunk directories end up (for an EOS output: where HTCondor sends them;
        the manifest's ``output`` is then ".", the job's scratch directory)."""
        man = self.manifest
        return Path(man.get("transfer_to") or man["output"])

    @property
    def eos_output(self) -> bool:
        return bool(self.manifest.get("transfer_to"))

    def options(self) -> JobOptions:
        return JobOptions.from_dict(self.manifest["options"])

    def submissions(self) -> list[dict[str, Any]]:
        f = self.path / SUBMISSIONS
        return json.loads(f.read_text()) if f.is_file() else []

    def chunk_ids(self) -> list[int]:
        return [c["id"] for c in self.manifest["chunks"]]

    @classmethod
    def create(cls, path: str | os.PathLike, analysis: Any, *, blinded: bool, builder: str,
               chunk_size: int, opts: JobOptions, samples: Iterable[str] | None = None,
               route: RouteOptions | None = None) -> JobDir:
        """Write a new job directory, or reopen an existing one for the same analysis."""
        refuse_eos_jobdir(path)
        jd = cls(path)
        digest = config_digest(analysis)
        key = {"digest": digest, "blinded": blinded, "builder": builder, "chunk_size": chunk_size,
               "samples": list(samples) if samples is not None else list(analysis.samples)}
        if (jd.path / MANIFEST).is_file():
            old = jd.manifest
            if {k: old.get(k) for k in key} != key:
                raise CondorError(
                    f"{jd.path} holds a different run (config, blinding, builder, chunk size or "
                    "samples changed); use another --condor-dir or delete this one")
            log.info("resuming %s", jd.path)
            jd.update_options(opts)
            return jd
        (jd.path / "logs").mkdir(parents=True, exist_ok=True)
        output = Path(opts.output).resolve() if opts.output else jd.path / "out"
        output.mkdir(parents=True, exist_ok=True)
        # on EOS the chunk writes into the job's scratch directory; HTCondor sends it to EOS
        where = {"output": ".", "transfer_to": str(output)} if eos_path(output) \
            else {"output": str(output)}
        chunks = plan_chunks(analysis, chunk_size, key["samples"])
        doc = {**key, "format": "nutag-jobdir-1", "config": str(Path(analysis.file).resolve()),
               "analysis": analysis.name, **where, "options": opts.to_dict(),
               "route": (route or RouteOptions.from_environment()).to_dict(),
               "sample_order": key["samples"], "chunks": chunks}
        atomic_write(jd.path / MANIFEST, json.dumps(doc, indent=1) + "\n")
        write_job_script(jd.path / JOB_SCRIPT,
                         _job_script(jd.path, opts, eos="transfer_to" in where))
        log.info("%s: %d chunks of %s", jd.path, len(chunks), ", ".join(key["samples"]))
        return jd

    def update_options(self, opts: JobOptions) -> None:
        """Take the batch options of a resumed run for every chunk submitted from now on.

        Why not keep the first run's: a resubmission is often made *because* of them (more
        memory, a longer flavour after chunks were held or timed out), and silently
        submitting with the old ones would fail the same way. What decides the result itself
        cannot change under done chunks: another output directory (the done chunks are in the
        old one) or another permission for unsafe expressions is refused.
        """
        old = self.options()
        if opts.output and Path(opts.output).resolve() != self.output.resolve():
            raise CondorError(
                f"{self.path} writes its chunks to {self.output}; --condor-output "
                f"{opts.output} differs. Fix: rerun without --condor-output "
                "(or with the same), or use another --condor-dir")
        if opts.allow_unsafe_expressions != old.allow_unsafe_expressions:
            raise CondorError(
                f"{self.path} was started {'with' if old.allow_unsafe_expressions else 'without'}"
                " --allow-unsafe-expressions; its chunks must all run with the same permission. "
                "Fix: rerun as the first run was, or use another --condor-dir")
        new = dataclasses.replace(opts, output=old.output)
        if new == old:
            return
        changed = ", ".join(f"{k} {getattr(old, k)!r} -> {getattr(new, k)!r}"
                            for k in (f.name for f in dataclasses.fields(JobOptions))
                            if getattr(old, k) != getattr(new, k))
        log.warning("%s: batch options changed since the last submission (%s); chunks submitted "
                    "from now on use them", self.path, changed)
        doc = {**self.manifest, "options": new.to_dict()}
        atomic_write(self.path / MANIFEST, json.dumps(doc, indent=1) + "\n")
        write_job_script(self.path / JOB_SCRIPT,
                         _job_script(self.path, new, eos=self.eos_output))

    # ---- state
    def done(self) -> set[int]:
        out = self.output
        return {i for i in self.chunk_ids() if (out / chunk_dirname(i) / DONE).is_file()}

    def queued(self) -> dict[int, str]:
        """Chunks condor_q still lists, with their state (idle, running, held, ...)."""
        subs = self.submissions()
        if not subs:
            return {}
        clusters = [str(s["cluster"]) for s in subs]
        try:
            cp = subprocess.run(["condor_q", *clusters, "-af", "ClusterId", "ProcId",
                                 "JobStatus"], capture_output=True, text=True, timeout=120)
        except FileNotFoundError as exc:
            raise CondorError("condor_q not found: run this on an HTCondor submit node "
                              "(lxplus) or put the HTCondor tools on PATH") from exc
        if cp.returncode != 0:
            raise CondorError(f"condor_q failed: {cp.stderr.strip()}")
        procs = {(s["cluster"], p): c for s in subs for p, c in enumerate(s["chunks"])}
        out: dict[int, str] = {}
        for line in cp.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and all(x.isdigit() for x in parts):
                chunk = procs.get((int(parts[0]), int(parts[1])))
                if chunk is not None:
                    out[chunk] = JOB_STATUS.get(int(parts[2]), parts[2])
        return out

    def failures(self) -> dict[int, str]:
        """Chunks whose latest submission terminated badly, from the HTCondor user logs."""
        out: dict[int, str] = {}
        for s in self.submissions():
            logf = self.path / "logs" / f"submit-{s['k']}.log"
            events = user_log_events(logf) if logf.is_file() else {}
            for proc, chunk in enumerate(s["chunks"]):
                ev = events.get((s["cluster"], proc))
                if ev is None:
                    out.pop(chunk, None)  # resubmitted, no verdict yet
                elif ev != "ok":
                    out[chunk] = ev
                else:
                    out.pop(chunk, None)
        return out

    def status(self) -> dict[str, Any]:
        ids, done = self.chunk_ids(), self.done()
        queued = self.queued()
        failed = self.failures()
        eos = self.eos_output
        state: dict[int, str] = {}
        for i in ids:
            # an EOS chunk is complete once its job left the queue (HTCondor sends the files)
            if i in done and not (eos and i in queued):
                state[i] = "done"
            elif i in queued:
                state[i] = queued[i]
            elif i in failed:
                state[i] = "failed"
            else:
                state[i] = "missing"
        counts: dict[str, int] = {}
        for v in state.values():
            counts[v] = counts.get(v, 0) + 1
        return {"jobdir": str(self.path), "chunks": len(ids), "counts": counts, "state": state,
                "failed": {i: failed[i] for i in ids if state[i] == "failed"},
                "to_resubmit": [i for i in ids if state[i] in ("failed", "missing", "held")]}

    # ---- actions
    def submit(self, chunk_ids: list[int] | None = None) -> dict[str, Any] | None:
        """Submit ``chunk_ids`` (default: every chunk not done and not queued)."""
        if chunk_ids is None:
            st = self.status()
            chunk_ids = st["to_resubmit"]
            held = [i for i in chunk_ids if st["state"][i] == "held"]
            if held:
                self._remove_held(held)
        if not chunk_ids:
            log.info("%s: nothing to submit", self.path)
            return None
        subs = self.submissions()
        k = len(subs)
        env = {"NUTAG_FAIL_CHUNKS": os.environ["NUTAG_FAIL_CHUNKS"]} \
            if os.environ.get("NUTAG_FAIL_CHUNKS") else None
        atomic_write(self.path / f"chunks-{k}.txt", "".join(f"{i}\n" for i in chunk_ids))
        eos = EosTransfer(CHUNK_DIR_EXPR, str(self.output)) if self.eos_output else None
        text = submit_description(jobdir=self.path, k=k, title="nutag run", opts=self.options(),
                                  environment=env, eos=eos)
        validate_submit(text, workdir=self.path)
        subfile = self.path / f"submit-{k}.sub"
        atomic_write(subfile, text)
        try:
            cp = subprocess.run(["condor_submit", str(subfile)], capture_output=True, text=True,
                                cwd=self.path)
        except FileNotFoundError as exc:
            raise CondorError("condor_submit not found: run on an HTCondor submit node "
                              "(lxplus)") from exc
        m = re.search(r"submitted to cluster (\d+)", cp.stdout)
        if cp.returncode != 0 or not m:
            raise CondorError(f"condor_submit {subfile} failed:\n{cp.stdout}{cp.stderr}")
        entry = {"k": k, "cluster": int(m.group(1)), "chunks": list(chunk_ids),
                 "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
        atomic_write(self.path / SUBMISSIONS, json.dumps(subs + [entry], indent=1) + "\n")
        log.info("%s: submitted %d chunks as cluster %s", self.path, len(chunk_ids),
                 entry["cluster"])
        return entry

    def _remove_held(self, chunks: list[int]) -> None:
        ids = []
        for s in self.submissions():
            ids += [f"{s['cluster']}.{p}" for p, c in enumerate(s["chunks"]) if c in chunks]
        if ids:
            subprocess.run(["condor_rm", *ids], capture_output=True, text=True)

    def wait(self, poll: float = 30.0, timeout: float | None = None) -> dict[str, Any]:
        """Poll until no chunk is queued; returns the final status."""
        t0 = time.time()
        while True:
            st = self.status()
            active = {k: v for k, v in st["counts"].items()
                      if k not in ("done", "failed", "missing", "held")}
            if not active:
                return st
            if timeout is not None and time.time() - t0 > timeout:
                raise CondorError(f"{self.path}: still {active} after {timeout:.0f} s; follow "
                                  f"with `nutag condor status {self.path}`")
            time.sleep(poll)

    def merge(self, out_dir: str | os.PathLike | None = None) -> Any:
        """Exact merge of all chunks (refuses if one is not done); writes JOBDIR/merged."""
        from .merge import IncompleteMerge, merge_chunks, write_merged  # noqa: PLC0415

        st = self.status()
        missing = [i for i, v in st["state"].items() if v != "done"]
        if missing:
            raise IncompleteMerge(missing, incomplete_message(self, st))
        man = self.manifest
        res = merge_chunks([self.output / chunk_dirname(i) for i in self.chunk_ids()],
                           sample_order=man["sample_order"])
        write_merged(res, out_dir or self.path / "merged")
        return res


def incomplete_message(jd: JobDir, st: dict[str, Any]) -> str:
    lines = [f"{jd.path}: {st['counts'].get('done', 0)}/{st['chunks']} chunks done "
             f"({', '.join(f'{k} {v}' for k, v in sorted(st['counts'].items()))})"]
    logs = jd.output if jd.eos_output else jd.path / "logs"  # EOS: sent with the outputs
    for i, why in st["failed"].items():
        lines.append(f"  chunk {i} failed: {why}; see {logs}/chunk_{i}.*.err")
    if st["to_resubmit"]:
        lines.append(f"resubmit only those with: nutag condor resubmit {jd.path}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- one call
def run_condor(analysis: Any, *, blinded: bool, builder: Any = None,
               samples: Iterable[str] | None = None, condor_dir: str | os.PathLike | None = None,
               chunk_size: int = DEFAULT_CHUNK_SIZE, wait: bool = True, poll: float = 30.0,
               timeout: float | None = None, flavour: str = "espresso", memory_mb: int = 2000,
               disk_mb: int = 2000, max_retries: int = 2, accounting_group: str = "",
               extra: Iterable[str] = (), output: str = "", python: str = "",
               setup: str | None = None, allow_unsafe_expressions: bool = False,
               route: RouteOptions | None = None, **_: Any) -> Any:
    """Create/resume the job directory, submit what is not done, wait, merge -> RunResults.

    The batch options are those of :class:`nutag.engine.htcondor.BatchOptions` (``extra``:
    ``KEY=VALUE`` submit lines; ``setup`` None: the LCG view of this shell, if any).
    ``allow_unsafe_expressions`` is handed to every chunk job, as the run was started with it;
    so is ``route`` (the run's execution switches, in the manifest).
    Raises ``IncompleteMerge`` (with the resubmit command in its message) when chunks failed,
    or ``Submitted`` (a ``CondorError``) when ``wait`` is false (the run continues in the batch
    system; run the same command again to wait, merge and get the results).
    """
    from ..booking import builder_name  # noqa: PLC0415

    jobdir = condor_dir or Path("condor") / analysis.name
    opts = JobOptions(flavour=flavour, memory_mb=memory_mb, disk_mb=disk_mb,
                      max_retries=max_retries, accounting_group=accounting_group,
                      setup=resolve_setup(setup), extra=tuple(parse_extra(extra)),
                      python=python, output=str(output or ""),
                      allow_unsafe_expressions=allow_unsafe_expressions)
    jd = JobDir.create(jobdir, analysis, blinded=blinded, builder=builder_name(builder),
                       chunk_size=chunk_size, opts=opts, samples=samples, route=route)
    jd.submit()
    if not wait:
        st = jd.status()
        if st["counts"].get("done", 0) == st["chunks"]:  # a resumed run with nothing left
            return jd.merge()
        raise Submitted(jd.path, f"submitted to HTCondor; follow with `nutag condor status "
                        f"{jd.path}`, then run the same command again without --no-wait to "
                        "merge the chunks and write the results (done chunks are not rerun)")
    jd.wait(poll=poll, timeout=timeout)
    return jd.merge()
