"""nutag in a PyROOT session or a notebook: the standard graph, plus whatever you book on it.

Why a separate entry point: ``nutag run`` is a batch job that books, runs and reports in one
go. Interactively a physicist wants the *lazy* dataframe of any sample and region, to book a
histogram of their own beside the standard ones and still fill everything in ONE event loop::

    from nutag.jobs.interactive import open_analysis
    ana = open_analysis("configs/default.yaml", threads=2)      # validates, builds, runs nothing
    node = ana.region("signal", sample="signal")                # ROOT.RDF.RNode after the cuts
    h = node.Histo1D(("y", "inelasticity;y;events", 20, 0, 1), "y", "_w")
    ana.run()                                                   # one event loop per sample
    h.Draw()                                                    # filled; standard results too:
    ana.results.samples["signal"].regions["signal"].cutflow

Blinding holds here as in batch: while the analysis is blinded, every node of a data sample
starts after the blind-box veto (:mod:`nutag.config.blinding`), so no region, ``dataframe()`` or
Filter of one's own can reach a data event inside the box, and the blind regions of data are
not booked at all (``region()`` refuses them). ``unblind=True`` is this API's ``--unblind``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.analysis import Analysis
from ..core.errors import NutagError


@dataclass
class InteractiveAnalysis:
    """The booked graphs of every sample of one analysis, not yet run."""

    analysis: Analysis
    graphs: dict[str, Any]
    threads: int
    blinded: bool
    results: Any = None
    _user_booked: list[Any] = field(default_factory=list)

    @property
    def samples(self) -> list[str]:
        return list(self.graphs)

    def dataframe(self, sample: str) -> Any:
        """The sample's node with the weight ``_w`` and every YAML column defined, the one every
        region starts from: for a data sample of a blinded analysis, the blind box is already
        removed (:mod:`nutag.config.blinding`), so nothing booked on it can see the box."""
        return self._graph(sample).source

    def region(self, region: str, *, sample: str) -> Any:
        """The lazy node of ``sample`` after every cut of ``region`` (book on it, then run())."""
        g = self._graph(sample)
        if region in g.regions:
            return g.regions[region].node
        if region in getattr(g, "blinded_regions", ()):
            raise NutagError(f"region {region!r} of data sample {sample!r} is blinded; open the "
                             "analysis with unblind=True to read it")
        raise NutagError(f"sample {sample!r} has no region {region!r}; it has "
                         f"{', '.join(sorted(g.regions))}")

    def book(self, result: Any) -> Any:
        """Register a result you booked yourself (optional: anything booked on a node of these
        graphs is filled by run() anyway; registering makes run() check it was filled)."""
        self._user_booked.append(result)
        return result

    def run(self) -> Any:
        """Fill the standard results and everything booked by the user: ONE loop per sample."""
        if self.results is not None:
            raise NutagError("this analysis has already run; open it again to book new results "
                             "(a second event loop would defeat the point)")
        from ..engine import run as _run  # noqa: PLC0415

        self.results = _run.run(list(self.graphs.values()), self.threads)
        return self.results

    def write_report(self, out_dir: str | Path) -> Path:
        """Write the results directory of this run — summary, cutflows, figures, index.html —
        exactly as ``nutag run`` would; ``nutag report`` can remake it later. Returns it."""
        if self.results is None:
            raise NutagError("run() first: the report is made from the filled results")
        from . import pipeline
        from ..outputs import report  # noqa: PLC0415
        from ..results import physics as _results  # noqa: PLC0415

        res, out = self.results, Path(out_dir)
        doc = pipeline.run_document(self.analysis, res)
        summary = _results.compute(doc, self.analysis.options, blinded=self.blinded)
        prov = pipeline.provenance(self.analysis, blinded=self.blinded, threads=self.threads,
                                   backend="local",
                                   n_runs={n: s.n_runs for n, s in res.samples.items()},
                                   routes={n: s.route for n, s in res.samples.items()})
        histos = {(name, region): o.histos for name, s in res.samples.items()
                  for region, o in s.regions.items()}
        with report.output_lock(out):
            report.write_results(out, doc=doc, summary=summary, provenance=prov,
                                 histograms=histos, options=self.analysis.options,
                                 boxes=report.boxes_from_selection(self.analysis.selection))
        return out

    def _graph(self, sample: str) -> Any:
        try:
            return self.graphs[sample]
        except KeyError:
            raise NutagError(f"no sample {sample!r}; samples are {', '.join(self.graphs)}") from None


def open_analysis(config: str | Path | None = None, *, threads: int = 1,
                  unblind: bool = False) -> InteractiveAnalysis:
    """Load and validate ``config`` (default: the main job's), build every graph, run nothing.

    ``threads`` is process-wide in ROOT and must be chosen before the first dataframe exists.
    """
    from ..engine import run as _run  # noqa: PLC0415
    from .pipeline import build_graphs, load  # noqa: PLC0415

    effective = _run.configure_threads(int(threads))
    analysis = load(Path(config) if config is not None else None, effective)
    blinded = not unblind  # the API's --unblind; options.blinded cannot unblind
    # the very graphs of `nutag run` (corrections, systematic Vary, candidates when unblinded)
    graphs = {g.name: g for g in build_graphs(analysis, blinded=blinded)}
    return InteractiveAnalysis(analysis, graphs, effective, blinded)
