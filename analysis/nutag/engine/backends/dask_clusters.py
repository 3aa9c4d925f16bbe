"""The Dask clusters nutag starts: local worker processes, HTCondor jobs, CERN batch.

Why apart from the session: which cluster runs the workers is one choice of the run
(``--dask-cluster``), made before anything of nutag is sent to them; the session
(:mod:`nutag.engine.backends.dask_backend`) is the same on every cluster. Distributed RDataFrame
needs process workers with one thread each (cling is not safe to drive from several Python
threads of one worker).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Sequence
from typing import Any

from ...core.errors import NutagError

#: measured: one distributed-RDF worker process with nutag loaded peaks at ~0.6 GB
DEFAULT_WORKER_MEMORY = "2GB"


def local_cluster(workers: int = 2, **kwargs: Any) -> Any:
    """A LocalCluster of ``workers`` single-threaded *processes* (what distributed RDF needs)."""
    from distributed import LocalCluster  # noqa: PLC0415

    kwargs.setdefault("dashboard_address", None)
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, **kwargs)


def condor_cluster(workers: int = 10, *, flavour: str = "espresso",
                   memory: str = DEFAULT_WORKER_MEMORY, disk: str = "2GB",
                   python: str | None = None, prologue: Sequence[str] = (),
                   log_directory: str | None = None, host: str | None = None,
                   port: int = 0, extra_directives: dict[str, Any] | None = None,
                   **kwargs: Any) -> Any:
    """A ``dask_jobqueue.HTCondorCluster`` of ``workers`` one-core jobs (lxplus-ready).

    ``flavour`` is lxplus' ``+JobFlavour`` (espresso 20 min, microcentury 1 h, longlunch 2 h,
    workday 8 h, tomorrow 1 d...). The scheduler listens on ``host`` (default: this machine's
    name, reachable from the batch nodes) and ``port`` (0: any free port). ``prologue`` lines run
    before the worker starts (e.g. ``source /cvmfs/sft.cern.ch/lcg/views/.../setup.sh``,
    ``export PYTHONPATH=...``); the worker nodes need g++ because cling does.
    """
    from dask_jobqueue import HTCondorCluster  # noqa: PLC0415

    directives = {"+JobFlavour": f'"{flavour}"'}
    directives.update(extra_directives or {})
    cluster = HTCondorCluster(
        cores=1, processes=1, memory=memory, disk=disk,
        python=python or _python(), job_script_prologue=list(prologue),
        job_extra_directives=directives, log_directory=log_directory,
        scheduler_options={"host": host or socket.gethostname(), "port": port,
                           "dashboard_address": ":0"},
        **kwargs)
    cluster.scale(jobs=workers)
    return cluster


#: the scheduler port of ROOT's lxbatch tutorial and dask-lxplus' README: the CERN batch
#: nodes reach the lxplus login nodes on 8786 (a random port is blocked)
LXPLUS_SCHEDULER_PORT = 8786


def lxplus_cluster(workers: int = 10, *, flavour: str = "espresso",
                   memory: str = DEFAULT_WORKER_MEMORY, disk: str = "2GB",
                   prologue: Sequence[str] = (), log_directory: str | None = None,
                   port: int = LXPLUS_SCHEDULER_PORT,
                   extra_directives: dict[str, Any] | None = None, scale: bool = True,
                   **kwargs: Any) -> Any:
    """A ``dask_lxplus.CernCluster`` of ``workers`` one-core jobs: CERN batch as ROOT's
    distributed-RDataFrame lxbatch tutorial sets it up.

    Why CernCluster and not a plain HTCondorCluster on lxplus: it submits in the way the CERN
    schedds accept (spooled, no shared-filesystem assumption, the job's disk and container
    settings), and with ``lcg=True`` runs the workers with the LCG view's Python that the
    client uses — source the view before ``nutag`` (``--condor-setup`` adds the line to the
    job too). The scheduler listens on this login node's name and on ``port`` (8786, the port
    batch nodes may reach); no nanny process (one worker process per job, as distributed
    RDataFrame needs); workers give up after 60 s without a scheduler.
    """
    try:
        from dask_lxplus import CernCluster  # noqa: PLC0415
    except ImportError as exc:
        raise NutagError(
            "--dask-cluster lxplus needs the dask-lxplus package (CERN's HTCondor set-up for "
            f"Dask), which this Python cannot import ({exc}). Fix: `pip install dask-lxplus` in "
            "the environment that runs nutag (it is in nutag's `dist` extra), or use "
            "--dask-cluster condor") from None
    directives = {"MY.JobFlavour": f'"{flavour}"'}
    directives.update(extra_directives or {})
    cluster = CernCluster(
        cores=1, processes=1, memory=memory, disk=disk, death_timeout="60", lcg=True,
        nanny=False, container_runtime="none", job_script_prologue=list(prologue),
        log_directory=log_directory, job_extra_directives=directives,
        scheduler_options={"host": socket.gethostname(), "port": port,
                           "dashboard_address": ":0"},
        **kwargs)
    if scale:
        cluster.scale(jobs=workers)
    return cluster


def _python() -> str:
    return sys.executable


#: the batch clusters by ``--dask-cluster`` name: the HTCondor options of the run go to either
BATCH_CLUSTERS: dict[str, Any] = {"condor": condor_cluster, "lxplus": lxplus_cluster}
#: every ``--dask-cluster`` choice
CLUSTERS = ("local", *BATCH_CLUSTERS)
