"""Quick checks on part of the inputs: ``nutag run --max-files N`` / ``--max-events N``.

Why a partial run is marked rather than rescaled: ``meta.n_generated`` counts the events
generated for a WHOLE MC sample (a file holds only those that passed the simulation's
preselection, so the fraction of entries kept is not the fraction of generated events), and
N_K is measured on the data that was read. Rescaling would produce numbers that look
normalised and are not; instead the run is recorded as partial in the provenance and warned
about, and unblinding on it needs an explicit ``--force-partial-unblind``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..config.analysis import Analysis, Sample
from ..core.errors import NutagError


@dataclasses.dataclass(frozen=True)
class Partial:
    """A quick check on part of each sample (``nutag run --max-files/--max-events``).

    Nothing is rescaled: ``meta.n_generated`` counts the events generated for the WHOLE sample
    and N_K comes from the data read, so the expected yields of a partial run are not those of
    the analysis. It is recorded in the provenance and warned about; unblinding on it is
    refused unless forced (a look at part of the signal region is still a look).
    """

    max_files: int | None = None
    max_events: int | None = None

    def __bool__(self) -> bool:
        return self.max_files is not None or self.max_events is not None

    def record(self) -> dict[str, Any]:
        """The provenance entry (``"partial"``); empty for a full run."""
        if not self:
            return {}
        return {"max_files": self.max_files, "max_events": self.max_events, "normalised": False}

    def describe(self) -> str:
        """``--max-files 1 --max-events 1000``, as the user typed it."""
        parts = [f"--max-files {self.max_files}" if self.max_files is not None else "",
                 f"--max-events {self.max_events}" if self.max_events is not None else ""]
        return " ".join(p for p in parts if p)


def check_partial(partial: Partial, *, unblind: bool, force_unblind: bool, backend: str) -> None:
    """Refuse what a partial run cannot do honestly, before anything is read."""
    if not partial:
        return
    if unblind and not force_unblind:
        raise NutagError(f"--unblind with {partial.describe()} opens the signal region on part of "
                         "the data, with yields that are not normalised; unblind on the full "
                         "data, or add --force-partial-unblind if that is really wanted")
    if partial.max_events is not None and backend != "local":
        raise NutagError(f"--max-events works with --backend local only (got --backend {backend}); "
                         "use --max-files to shorten a distributed run")


def truncate_samples(analysis: Analysis, max_files: int | None) -> None:
    """Keep the first ``max_files`` files of every sample (in the order samples.yaml lists
    them), in place, so the graphs, the provenance inputs and every backend see the same
    shorter list."""
    if max_files is None:
        return
    for name, sample in list(analysis.samples.items()):
        if len(sample.files) > max_files:
            analysis.samples[name] = dataclasses.replace(sample, files=sample.files[:max_files])


def first_entries(max_events: int) -> Callable[[Sample], Any]:
    """A dataframe factory reading the first ``max_events`` entries of each sample's chain.

    ``RDatasetSpec.WithGlobalRange`` rather than ``Range``: ``Range`` is refused with implicit
    multithreading, a global range of the dataset is not, so the check runs on every thread.
    Made by :func:`nutag.config.input_files.sample_dataframe`, as on every route (empty RNTuples left
    out, all of a sample shorter than ``max_events``).
    """
    from ..config.input_files import sample_dataframe  # noqa: PLC0415 (ROOT only when a graph is built)

    def make_df(sample: Sample) -> Any:
        return sample_dataframe(sample, entry_range=(0, int(max_events)))

    return make_df
