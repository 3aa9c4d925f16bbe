"""What kind of RDataFrame a node belongs to, and how many event loops it ran.

Why a module at the bottom of the engine: the graph, the cutflow booking, the local run and
the Dask backend all ask whether a dataframe is ROOT's distributed one (its nodes have other
types and no ``GetNRuns``); answered here, none of them imports another to ask.
"""

from __future__ import annotations

from typing import Any


def is_distributed(node: Any) -> bool:
    """True for a node (dataframe, filter...) of ROOT's distributed RDataFrame."""
    return hasattr(node, "_headnode") or type(node).__module__.startswith("ROOT._distrdf")


def n_runs_of(df: Any) -> int:
    """Event loops run by a dataframe: ``GetNRuns`` locally; distributed: its executions
    (counted by ``dask_backend.count_executions``; else 1 once it has run)."""
    head = getattr(df, "_headnode", None)
    if head is None:
        return int(df.GetNRuns())
    return int(getattr(head, "nutag_executions", 1 if head.exec_id is not None else 0))
