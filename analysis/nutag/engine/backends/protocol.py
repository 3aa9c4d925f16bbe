"""One interface for the three places an event loop runs: :class:`Backend`, and the one
function that turns a backend's name and options into one (:func:`make_backend`).

Why a protocol: the graph of a sample is the same whatever runs it (``nutag.engine.booking``); a
backend only decides where the root dataframe comes from and who triggers the loop. With one
``run(analysis, ...) -> RunResults`` method per backend, the pipeline, the Python API and the
tests call every backend the same way, and the choice of backend is made once, by
:func:`make_backend`, from the name the user gave (``nutag run --backend``).

* :class:`LocalBackend`  — ``RDataFrame`` over the sample's files + ``RunGraphs`` in this process;
* :class:`DaskBackend`   — ROOT's distributed RDataFrame on a Dask cluster;
* :class:`CondorBackend` — HTCondor chunk jobs that rebuild the graph from the YAML, then a merge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..booking import GraphBuilder, build_graphs
from ...core.options import RouteOptions

#: the backends' names, as ``nutag run --backend`` takes them
BACKENDS = ("local", "dask", "condor")


class Backend(Protocol):
    """Books every graph of an analysis and runs them in one event loop per sample."""

    name: str

    def run(self, analysis: Any, *, blinded: bool, builder: str | GraphBuilder | None = None,
            samples: Iterable[str] | None = None,
            route: RouteOptions | None = None) -> Any:
        """The analysis' results (``nutag.engine.run.RunResults``)."""
        ...


@dataclass
class LocalBackend:
    """This process, ``threads`` threads (ROOT's implicit multithreading).

    ``make_df``: the root dataframe of a sample (None: the chain of its files; a partial run
    passes one reading the first entries). ``interactive``: show ROOT's progress bar on a
    terminal and let Ctrl-C end the C++ loop at once (the CLI's run; nothing is written during
    the loop), instead of Python's usual KeyboardInterrupt after it (an interactive session)."""

    threads: int = 1
    make_df: Callable[[Any], Any] | None = None
    interactive: bool = False
    name: str = "local"

    def run(self, analysis: Any, *, blinded: bool, builder: str | GraphBuilder | None = None,
            samples: Iterable[str] | None = None, route: RouteOptions | None = None) -> Any:
        from ..run import configure_threads, run  # noqa: PLC0415

        configure_threads(self.threads)
        graphs = build_graphs(analysis, blinded=blinded, builder=builder, samples=samples,
                              make_df=self.make_df, route=route)
        if not self.interactive:
            return run(graphs, self.threads)
        from ...core.progress import attach_progress_to_graphs, exit_on_interrupt  # noqa: PLC0415

        attach_progress_to_graphs(graphs)  # ROOT's bar, only when a person watches a terminal
        with exit_on_interrupt():
            return run(graphs, self.threads)


@dataclass
class DaskBackend:
    """A Dask cluster (``options``: those of ``DaskSession.from_options``: ``scheduler``,
    ``workers``, ``partitions``, ``cluster``, ``client``, ``condor``...). ``threads`` only
    sizes the collection of the results in this process."""

    options: Mapping[str, Any] = field(default_factory=dict)
    threads: int = 1
    name: str = "dask"

    def run(self, analysis: Any, *, blinded: bool, builder: str | GraphBuilder | None = None,
            samples: Iterable[str] | None = None, route: RouteOptions | None = None) -> Any:
        from ..run import collect  # noqa: PLC0415
        from .dask_backend import DaskSession  # noqa: PLC0415

        with DaskSession.from_options(analysis=analysis, **self.options) as session:
            graphs = build_graphs(analysis, blinded=blinded, builder=builder, samples=samples,
                                  make_df=session.make_df, route=route)
            session.run(graphs)
            return collect(graphs, threads=self.threads, backend="dask")


@dataclass
class CondorBackend:
    """HTCondor chunk jobs (``options``: those of :func:`nutag.engine.backends.condor.run_condor`:
    ``condor_dir``, ``chunk_size``, ``wait`` and the batch options)."""

    options: Mapping[str, Any] = field(default_factory=dict)
    name: str = "condor"

    def run(self, analysis: Any, *, blinded: bool, builder: str | GraphBuilder | None = None,
            samples: Iterable[str] | None = None, route: RouteOptions | None = None) -> Any:
        from .condor import run_condor  # noqa: PLC0415

        return run_condor(analysis, blinded=blinded, builder=builder, samples=samples,
                          route=route, **self.options)


def make_backend(name: str, *, threads: int = 1, make_df: Callable[[Any], Any] | None = None,
                 interactive: bool = False, **options: Any) -> Backend:
    """The backend called ``name`` with its options: the one place a name becomes a backend.

    ``threads``, ``make_df`` and ``interactive`` are the local loop's (``threads`` also sizes
    Dask's result collection); ``options`` go to Dask or HTCondor."""
    if name == "local":
        return LocalBackend(threads=threads, make_df=make_df, interactive=interactive)
    if make_df is not None:
        raise ValueError(f"backend {name!r} makes its own dataframes (make_df is local only)")
    if name == "dask":
        return DaskBackend(options=dict(options), threads=threads)
    if name == "condor":
        return CondorBackend(options=dict(options))
    raise ValueError(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "CondorBackend", "DaskBackend", "LocalBackend",
           "make_backend"]
