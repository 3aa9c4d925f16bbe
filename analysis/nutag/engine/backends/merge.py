"""Exact merge of chunk outputs into the results of one run.

Why it is exact: a histogram is a set of per-bin sums (contents and sum of squared weights),
a cutflow row is (raw count, sum w, sum w^2); the union of disjoint chunks is the bin-by-bin
sum. ``TH1::Add`` adds contents AND ``fSumw2`` per cell; chunks are added in chunk-id order,
so the same chunks always give the same bits. (Versus a local one-loop run the sums are
associated differently; they agree bit for bit when weights are exact binary fractions, and
to rounding otherwise — the same statement as for a multithreaded local run.)

A merge refuses to produce a result from an incomplete set of chunks: a missing chunk would
silently lower every yield.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ...core.errors import NutagError
from ...core.rootenv import import_root
from .chunk import DONE, FORMAT, HISTOS, RESULTS

log = logging.getLogger("nutag.engine.backends.merge")


class IncompleteMerge(NutagError):
    """Some chunks have no complete output; ``missing`` lists their ids."""

    def __init__(self, missing: list[int], message: str) -> None:
        self.missing = missing
        super().__init__(message)


def read_chunk(chunk_dir: str | os.PathLike) -> tuple[dict[str, Any], Any]:
    """(results.json document, open TFile) of one complete chunk directory."""
    d = Path(chunk_dir)
    if not (d / DONE).is_file():
        raise FileNotFoundError(f"{d} has no {DONE} marker: the chunk did not finish")
    doc = json.loads((d / RESULTS).read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"{d / RESULTS}: format {doc.get('format')!r}, expected {FORMAT!r}")
    ROOT = import_root()
    tfile = ROOT.TFile.Open(str(d / HISTOS))
    if not tfile or tfile.IsZombie():
        raise OSError(f"cannot read {d / HISTOS}")
    return doc, tfile


def _get(tfile: Any, key: str) -> Any:
    h = tfile.Get(key)
    if not h:
        raise KeyError(f"{tfile.GetName()}: no histogram {key!r}")
    h.SetDirectory(0)
    return h


def _add_rows(acc: list[dict[str, Any]], rows: list[dict[str, Any]], where: str) -> None:
    if [r["cut"] for r in acc] != [r["cut"] for r in rows]:
        raise ValueError(f"{where}: cutflow rows differ from the first chunk's")
    for a, r in zip(acc, rows):
        a["raw"] += int(r["raw"])
        a["sumw"] += float(r["sumw"])
        a["sumw2"] += float(r["sumw2"])


def _add_extra(acc: Any, doc: Mapping[str, Any], tfile: Any, where: str) -> Any:
    kind = doc["type"]
    if kind == "hist":
        h = _get(tfile, doc["key"])
        if acc is None:
            return h
        if not acc.Add(h):
            raise ValueError(f"{where}: cannot add histogram {doc['key']!r} (binning differs)")
        return acc
    if kind == "list":
        return list(doc["value"]) if acc is None else acc + list(doc["value"])
    if kind in ("int", "float"):
        return doc["value"] if acc is None else acc + doc["value"]
    if kind == "bool":
        return doc["value"] if acc is None else (acc or doc["value"])
    raise ValueError(f"{where}: unknown extra type {kind!r}")


def merge_chunks(chunk_dirs: Iterable[str | os.PathLike], *, backend: str = "condor",
                 sample_order: Iterable[str] | None = None) -> Any:
    """Sum complete chunk directories (in the given order) into ``nutag.engine.run.RunResults``."""
    from ..run import RegionOutput, RunResults, SampleResult  # noqa: PLC0415

    ROOT = import_root()
    ROOT.TH1.AddDirectory(False)
    acc: dict[str, dict[str, Any]] = {}
    for d in chunk_dirs:
        doc, tfile = read_chunk(d)
        where = str(d)
        s = acc.setdefault(doc["sample"], {"kind": doc["kind"], "blinded": doc["blinded"],
                                           "blinded_regions": doc["blinded_regions"],
                                           "n_runs": 0, "chunks": 0, "regions": {},
                                           "routes": set()})
        if (s["kind"], s["blinded"], s["blinded_regions"]) != (
                doc["kind"], doc["blinded"], doc["blinded_regions"]):
            raise ValueError(f"{where}: kind/blinding differ from the sample's other chunks")
        s["n_runs"] = max(s["n_runs"], int(doc["n_runs"]))
        s["chunks"] += 1
        if doc.get("route"):
            s["routes"].add(str(doc["route"]))
        try:
            for rname, rdoc in doc["regions"].items():
                r = s["regions"].get(rname)
                if r is None:
                    s["regions"][rname] = {
                        "cutflow": [dict(row) for row in rdoc["cutflow"]],
                        "histos": {h: _get(tfile, k) for h, k in rdoc["histos"].items()},
                        "extras": {k: _add_extra(None, e, tfile, where)
                                   for k, e in rdoc["extras"].items()},
                        "variations": dict(rdoc.get("variations") or {})}
                    continue
                var = rdoc.get("variations") or {}
                if set(var) != set(r["variations"]):
                    raise ValueError(f"{where}: {rname}: systematic variations differ")
                for k, v in var.items():  # varied sums of weights add like the nominal
                    r["variations"][k] += float(v)
                _add_rows(r["cutflow"], rdoc["cutflow"], f"{where}: {rname}")
                if set(r["histos"]) != set(rdoc["histos"]):
                    raise ValueError(f"{where}: {rname}: histograms differ from the first chunk's")
                for h, key in rdoc["histos"].items():
                    if not r["histos"][h].Add(_get(tfile, key)):
                        raise ValueError(f"{where}: cannot add {key!r} (binning differs)")
                for k, e in rdoc["extras"].items():
                    r["extras"][k] = _add_extra(r["extras"].get(k), e, tfile, where)
            if set(doc["regions"]) != set(s["regions"]):
                raise ValueError(f"{where}: regions differ from the sample's other chunks")
        finally:
            tfile.Close()
    order = list(sample_order) if sample_order is not None else list(acc)
    samples = {}
    for name in order:
        if name not in acc:
            continue
        s = acc[name]
        regions = {}
        for r, v in s["regions"].items():
            regions[r] = RegionOutput(v["cutflow"], v["histos"], v["extras"])
            if v["variations"]:
                regions[r].variations = v["variations"]
        samples[name] = SampleResult(name, s["kind"], s["n_runs"], regions,
                                     list(s["blinded_regions"]), s["blinded"],
                                     "; ".join(sorted(s["routes"])))
    return RunResults(samples, 1, backend)


def write_merged(results: Any, out_dir: str | os.PathLike) -> Path:
    """Merged histograms (``histograms.root``, directories sample/region) and cutflows."""
    from ..run import write_cutflows  # noqa: PLC0415

    ROOT = import_root()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{HISTOS}.tmp-{os.getpid()}"
    tfile = ROOT.TFile.Open(str(tmp), "RECREATE")
    for name, s in results.samples.items():
        for rname, ro in s.regions.items():
            d = tfile.mkdir(f"{name}/{rname}", "", True)
            for h, v in ro.histos.items():
                d.WriteObject(v, h)
    tfile.Close()
    os.replace(tmp, out / HISTOS)
    write_cutflows(results, out)
    return out
