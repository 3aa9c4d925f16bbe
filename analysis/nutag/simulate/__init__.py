"""The nutag fast simulation driver: sample production, pseudo-data and the default data set.

Importing this package does not import ROOT; the C++ is loaded when the first chunk is produced.
Modules: spec (what to produce), worker (the C++ of a process), chunk_graph (one chunk's
RDataFrame graph), bookkeeping (per-stream totals and limits), metadata, storage (format,
schema, merge, atomic publish), produce (drives them), dataset (data sets and manifests).
"""

from __future__ import annotations

from .chunk_graph import ChunkResult, produce_chunk
from .config import SimConfigFile, load_sim_config
from .dataset import (Dataset, dataset_complete, ensure_default_dataset, load_dataset,
                      produce_dataset)
from .produce import SampleResult, produce_sample, produce_samples
from .spec import STREAMS, Chunk, ChunkJob, Part, SampleSpec, mc_sample, plan_chunks
from .storage import OUTPUT_FORMATS, TREE, count_entries, read_metadata, schema_columns
from .worker import worker_init

__all__ = [
    "Dataset", "dataset_complete", "ensure_default_dataset", "load_dataset", "produce_dataset",
    "STREAMS", "Chunk", "ChunkJob", "ChunkResult", "Part", "SampleResult", "SampleSpec",
    "SimConfigFile", "load_sim_config", "mc_sample", "plan_chunks", "produce_chunk",
    "produce_sample", "produce_samples", "read_metadata", "OUTPUT_FORMATS", "TREE",
    "count_entries", "schema_columns", "worker_init",
]
