"""The metadata of a produced sample: what was generated, how, by which code, for which weights.

Stored as JSON in the TNamed ``nutag_metadata`` of the sample file
(:func:`nutag.simulate.storage.write_metadata`, read back by
:func:`nutag.simulate.storage.read_metadata`). The analysis reads ``kind`` from it to refuse
pseudo-data relabelled as MC (:mod:`nutag.config.input_files`); the weight convention says how a sum of
weights becomes an expected data count; the rest makes the file reproducible on its own: the
simulation config as written and as compiled, the seeds, the chunk size and the git state.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..core.provenance import git_state
from .bookkeeping import part_record
from .chunk_graph import ChunkResult
from .config import REPO_ROOT, SimConfigFile
from .spec import SampleSpec
from .storage import TREE

WEIGHT_CONVENTION = "per_fiducial_kaon_decay"
WEIGHT_CONVENTION_DOC = (
    "weight is per K+ decay in the fiducial region: the expected data count passing a selection S "
    "is N_K * sum_{i in S} w_i / n_generated")


def git_provenance() -> dict[str, Any]:
    """The commit and dirty flag of the checkout the sample was produced from (None where git
    cannot tell): the same record as every analysis output (nutag.core.provenance)."""
    return git_state(REPO_ROOT)


def sample_metadata(spec: SampleSpec, cfg: SimConfigFile,
                    results: Sequence[Sequence[ChunkResult]], effective: dict[str, Any],
                    chunk_size: int) -> dict[str, Any]:
    """The metadata of ``spec`` from its parts' chunk ``results`` (one list per part) and the
    ``effective`` config values (:func:`nutag.simulate.worker.effective_config`).
    ``n_entries`` is added when the file is written, counted on the file itself."""
    parts = [part_record(spec.kind, part, res) for part, res in zip(spec.parts, results)]
    meta: dict[str, Any] = {
        "format": "nutag-sim/1", "sample": spec.name, "kind": spec.kind, "tree": TREE,
        "output_format": spec.output_format,
        "weight_convention": WEIGHT_CONVENTION, "weight_convention_doc": WEIGHT_CONVENTION_DOC,
        "config_file": cfg.path, "config_values": cfg.values, "config_hash": cfg.hash,
        "sim_config": effective, "nutag_version": __version__, "chunk_size": chunk_size,
        "parts": parts, "n_generated": sum(p.n_events for p in spec.parts),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if len(spec.parts) == 1:
        meta["stream"], meta["seed"] = parts[0]["stream"], parts[0]["seed"]
    else:
        meta["stream"] = "mixture"
        meta["seed"] = spec.parts[0].seed
    meta.update(spec.meta)
    meta.update(git_provenance())
    return meta


__all__ = ["WEIGHT_CONVENTION", "WEIGHT_CONVENTION_DOC", "git_provenance", "sample_metadata"]
