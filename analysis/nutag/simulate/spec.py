"""What to produce: the generator streams, the parts of a sample, samples and their chunk plan.

Plain picklable values, no ROOT: a :class:`ChunkJob` travels to spawned worker processes,
Dask workers and HTCondor jobs, and a :class:`SampleSpec` is hashed (``dataclasses.asdict``)
into the data set's sample hash (:func:`nutag.simulate.dataset.sample_hash`), so field names
and defaults here are part of that hash.

Chunks and their (stream, seed, first entry) are the unit of every production backend:
:func:`nutag.simulate.chunk_graph.produce_chunk` is a pure function of its :class:`ChunkJob`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import ConfigField
from .storage import DEFAULT_OUTPUT_FORMAT, check_output_format

DEFAULT_CHUNK_SIZE = 200_000
#: C++ enum nutag::sim::Stream
STREAMS: dict[str, int] = {"kmu2": 0, "signal": 1, "overlay": 2, "misreco": 3, "minbias": 4}
STREAM_NAMES = {v: k for k, v in STREAMS.items()}
#: what a part of a sample keeps: C++ filter on the generated event ``ev_`` (None: keep all)
SELECTIONS: dict[str, str | None] = {
    # {cfg} is replaced by the sample's nutag::sim::SimConfig (preselection parameters)
    "preselection": "nutag::sim::passes_preselection(ev_, {cfg})",
    # the neutrino branch only (rare-stream MC: their control-line events are never used, and
    # in the pseudo-data they are downscaled by D ~ 1e7, i.e. absent)
    "nu_preselection": "nutag::sim::passes_nu_preselection(ev_, {cfg})",
    "trigger_control": "ev_.trigger_control",
    "trigger_nu": "ev_.trigger_nu",
    "none": None,
}


@dataclass(frozen=True)
class Chunk:
    """A contiguous range of generator entries [first, first + n)."""

    first: int
    n: int


def plan_chunks(n_events: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> list[Chunk]:
    """Split [0, n_events) into chunks of ``chunk_size`` (the last one shorter).

    The plan depends only on (n_events, chunk_size), never on the number of workers: that is
    what makes the output independent of the parallelism.
    """
    if n_events < 0 or chunk_size <= 0:
        raise ValueError(f"need n_events >= 0 and chunk_size > 0, got {n_events}, {chunk_size}")
    return [Chunk(first, min(chunk_size, n_events - first))
            for first in range(0, n_events, chunk_size)]


@dataclass(frozen=True)
class Part:
    """One generator stream contributing to a sample.

    ``unweight_scale`` (pseudo-data only) = N_K / n_events: entry i is written
    Poisson(unweight_scale * w_i) times instead of once.

    ``control_downscaling`` (pseudo-data rare parts) = D: the stream represents decays at their
    full rate, but the control line records only 1 in D of them, so ``trigger_control`` is
    written as ``ev.trigger_control && (a 1-in-D draw from (seed, stream, entry))`` and the
    preselection uses that bit. Without it a rare stream's control-line events would enter the
    control sample D times too often.

    ``skim`` (pseudo-data rare parts): C++ boolean expression over the schema columns that a
    neutrino-trigger event must also pass (control-line events are kept regardless). True rates
    at N_K = 5e12 mean ~1e9 neutrino-trigger events; the analysis only ever looks at Kmu2-like
    ones, so the pseudo-data keeps only what the analysis regions can see.
    ``max_written``: refuse (ValueError) to write more than this many events for the part.
    """

    stream: int
    seed: int
    n_events: int
    selection: str = "preselection"
    unweight_scale: float | None = None
    control_downscaling: float | None = None
    skim: str | None = None
    max_written: int | None = None

    def __post_init__(self) -> None:
        if self.stream not in STREAM_NAMES:
            raise ValueError(f"unknown stream {self.stream}; known: {STREAMS}")
        if not 0 <= self.seed < 2**64:
            raise ValueError(f"seed {self.seed} outside [0, 2^64)")
        if self.selection not in SELECTIONS:
            raise ValueError(f"unknown selection {self.selection!r}; known: {list(SELECTIONS)}")


@dataclass(frozen=True)
class SampleSpec:
    """A sample to write: its kind (mc keeps truth and weight columns) and its parts, in order.

    ``output_format`` ("rntuple" or "ttree") is part of the spec, hence of the data set's
    sample hash: switching formats regenerates the file instead of reusing the other format.
    """

    name: str
    kind: str
    parts: tuple[Part, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    output_format: str = DEFAULT_OUTPUT_FORMAT

    def __post_init__(self) -> None:
        if self.kind not in ("mc", "data"):
            raise ValueError(f"kind must be 'mc' or 'data', got {self.kind!r}")
        check_output_format(self.output_format)


@dataclass(frozen=True)
class ChunkJob:
    """Everything a worker needs to write one chunk (picklable; no ROOT objects)."""

    part: Part
    chunk: Chunk
    kind: str
    cfg_values: dict[str, Any]
    cfg_fields: dict[str, ConfigField]
    output_format: str = DEFAULT_OUTPUT_FORMAT


def mc_sample(name: str, stream: str | int, n_events: int, seed: int, *,
              preselect: bool = True, output_format: str = DEFAULT_OUTPUT_FORMAT) -> SampleSpec:
    """A weighted MC sample of one stream."""
    sid = STREAMS[stream] if isinstance(stream, str) else int(stream)
    return SampleSpec(name, "mc", (Part(sid, seed, n_events,
                                        "preselection" if preselect else "none"),),
                      output_format=output_format)


__all__ = ["DEFAULT_CHUNK_SIZE", "SELECTIONS", "STREAMS", "STREAM_NAMES", "Chunk", "ChunkJob",
           "Part", "SampleSpec", "mc_sample", "plan_chunks"]
