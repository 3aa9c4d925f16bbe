"""The nutag fast simulation driver: sample production, pseudo-data and the default data set.

Importing this package does not import ROOT; the C++ is loaded when the first chunk is produced.
"""

from __future__ import annotations

from .config import SimConfigFile, load_sim_config
from .dataset import (Dataset, dataset_complete, ensure_default_dataset, load_dataset,
                      produce_dataset)
from .produce import (STREAMS, Chunk, ChunkJob, Part, SampleResult, SampleSpec, mc_sample,
                      plan_chunks, produce_chunk, produce_sample, produce_samples, read_metadata)

__all__ = [
    "Dataset", "dataset_complete", "ensure_default_dataset", "load_dataset", "produce_dataset",
    "STREAMS", "Chunk", "ChunkJob", "Part", "SampleResult", "SampleSpec", "SimConfigFile",
    "load_sim_config", "mc_sample", "plan_chunks", "produce_chunk", "produce_sample",
    "produce_samples", "read_metadata",
]
