"""The input files of a sample: checked before the loop, handed to RDataFrame, probed after a
failure.

Why one module: every way of running (local, ``--max-events``, Dask, HTCondor chunks, the event
display) must treat the same file the same way. Three ROOT behaviours make that matter:

* ROOT 6.40 crashes on an RNTuple with no entry (SIGSEGV in ``RNTupleDS`` building the sample
  info locally, Fatal in ``GetClustersAndEntries`` on a Dask worker), and ``nutag simulate``
  writes one when no event passes its preselection: :func:`sample_dataframe` leaves such files
  out on every route.
* A file damaged inside (bytes overwritten) opens and passes every check, then stops the loop
  with a message naming no file: :func:`damaged_files` reads the files one by one, only after
  the loop failed, so a good run pays nothing for it.
* The metadata ``nutag simulate`` stores in a file says whether it is (pseudo-)data: a data file
  in a ``kind: mc`` sample would have its signal region read without ``--unblind``, so
  :func:`check_input_file` refuses it before any event is read.

The entries of a file are counted in one place, :func:`dataset_entries` (through
:func:`stored_entries` when the file is not open yet).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigError
from ..core.rootenv import capture_stderr, import_root
from .yamlio import did_you_mean

if TYPE_CHECKING:
    from .model import Sample

log = logging.getLogger("nutag.config.input_files")

#: the TNamed holding the JSON metadata of a file written by ``nutag simulate``
METADATA_KEY = "nutag_metadata"


# --------------------------------------------------------------------------- counting
def dataset_entries(ROOT: Any, obj: Any) -> tuple[int, str] | None:
    """(entries, "ttree" or "rntuple") of a TTree or RNTuple read from a file, from its metadata
    alone (no event is read); None for any other object. A damaged RNTuple anchor raises what
    ROOT raises. The one place nutag counts the entries of an input."""
    if isinstance(obj, ROOT.TTree):
        return int(obj.GetEntries()), "ttree"
    if isinstance(obj, ROOT.RNTuple):
        return int(ROOT.RNTupleReader.Open(obj).GetNEntries()), "rntuple"
    return None


def stored_entries(path: str, name: str) -> tuple[int | None, str | None]:
    """(entries, "ttree" or "rntuple") of the dataset ``name`` in the file ``path``
    (:func:`dataset_entries`); (None, None) if the file or the dataset cannot be read."""
    ROOT = import_root()
    tf = None
    try:
        tf = ROOT.TFile.Open(path)  # the pythonised Open raises OSError where C++ gives nullptr
        obj = tf.Get(name) if tf and not tf.IsZombie() else None
        counted = dataset_entries(ROOT, obj) if obj else None
        return counted if counted is not None else (None, None)
    except Exception:  # noqa: BLE001 - an unknown layout: the event loop reports the file
        return None, None
    finally:
        if tf:
            tf.Close()


# --------------------------------------------------------------------------- checks before the loop
def stored_kind(tfile: Any) -> str | None:
    """The ``kind`` ("data" or "mc") recorded by ``nutag simulate`` in an open file; None for a
    file without nutag metadata (real data converted by a user) or with unreadable metadata."""
    named = tfile.Get(METADATA_KEY)
    if not named:
        return None
    try:
        meta = json.loads(str(named.GetTitle()))
    except ValueError:
        log.warning("%s: its %s is not JSON; its kind is not checked", tfile.GetName(),
                    METADATA_KEY)
        return None
    kind = meta.get("kind") if isinstance(meta, dict) else None
    return kind if kind in ("data", "mc") else None


def _check_kind(sample: Sample, path: str, tfile: Any) -> None:
    """A file ``nutag simulate`` wrote as data is refused in a ``kind: mc`` sample.

    Why: blinding removes the blind box from data samples only, so pseudo-data labelled MC (or
    listed again as a second, MC sample) would have its signal region read without
    ``--unblind``.
    """
    if sample.kind != "mc" or stored_kind(tfile) != "data":
        return
    loc = sample.where("kind")
    raise ConfigError(loc.file, loc.line, f"samples.{sample.name}.kind",
                      f"{path!r} is data (its {METADATA_KEY}, written by nutag simulate, says "
                      f"kind: data) but sample '{sample.name}' is kind: mc: its blind signal "
                      "region would be read without --unblind",
                      "list the file only in a kind: data sample, and point this sample's "
                      "'files:' at MC files")


def check_input_file(sample: Sample, path: str) -> int | None:
    """Open one input file (metadata only): it must be a complete ROOT file holding the tree,
    and not data in an MC sample (:func:`_check_kind`).

    Returns the number of entries (None if unknown). A file ROOT had to *recover* (truncated,
    or not closed by its writer) is refused: it opens, but silently lacks its last events.
    """
    ROOT = import_root()
    loc = sample.where("files")
    key = f"samples.{sample.name}.files"
    with capture_stderr() as cap:
        try:
            tfile = ROOT.TFile.Open(path)
        except OSError:  # the pythonised TFile.Open raises where C++ returns nullptr
            tfile = None
    said = "; ".join(line.strip() for line in cap.text.splitlines() if line.strip())[:300]
    if not tfile or tfile.IsZombie():
        raise ConfigError(loc.file, loc.line, key, f"cannot open {path!r} as a ROOT file"
                          + (f" (ROOT: {said})" if said else ""),
                          "check that the file is a ROOT file and complete; re-copy or "
                          "re-produce it (nutag simulate)")
    try:
        if tfile.TestBit(ROOT.TFile.kRecovered):
            raise ConfigError(loc.file, loc.line, key, f"{path!r} is truncated or was not "
                              "closed by its writer: ROOT had to recover it"
                              + (f" (ROOT: {said})" if said else ""),
                              "re-copy or re-produce the file: a recovered file lacks events "
                              "without saying so")
        obj = tfile.Get(sample.tree)
        tloc = sample.where("tree")
        if not obj:
            names = [k.GetName() for k in tfile.GetListOfKeys()]
            raise ConfigError(tloc.file, tloc.line, f"samples.{sample.name}.tree",
                              f"no tree or RNTuple '{sample.tree}' in {path!r} (it holds: "
                              f"{', '.join(names) or 'nothing'})", did_you_mean(sample.tree, names))
        if isinstance(obj, ROOT.TH1) or (hasattr(obj, "InheritsFrom")
                                         and not obj.InheritsFrom("TTree")):
            raise ConfigError(tloc.file, tloc.line, f"samples.{sample.name}.tree",
                              f"'{sample.tree}' in {path!r} is a {obj.ClassName()}, not a "
                              "TTree or RNTuple", "name the tree or RNTuple of the events")
        _check_kind(sample, path, tfile)
        try:
            counted = dataset_entries(ROOT, obj)
        except Exception:  # noqa: BLE001 - an unknown layout: let the event loop judge
            counted = None
        return counted[0] if counted is not None else None
    finally:
        tfile.Close()


def read_input_columns(sample: Sample) -> list[str]:
    """Check the sample's files (metadata only) and return the first file's column names.

    Every local file is opened (a truncated file in the middle of a list would otherwise
    fail the event loop after an hour); remote files (``root://``) only the first. A sample
    without any entry is an error for data, and for MC without ``meta.n_generated``.
    """
    ROOT = import_root()
    loc = sample.where("files")
    key = f"samples.{sample.name}.files"
    if not sample.files:
        raise ConfigError(loc.file, loc.line, key, "no input files", "list at least one file")
    unique = list(dict.fromkeys(sample.files))
    local = [f for f in unique if "://" not in f]
    remote = [f for f in unique if "://" in f]
    counts = {f: check_input_file(sample, f) for f in local + remote[:1]}
    if not remote and all(n is not None for n in counts.values()):
        total = sum(counts[f] for f in sample.files)
        if total == 0:
            if sample.kind == "mc" and sample.meta.get("n_generated"):
                log.warning("sample %s: no entry in its %d file(s) (none of the %s generated "
                            "events passed the preselection)", sample.name, len(unique),
                            sample.meta["n_generated"])
            else:
                raise ConfigError(loc.file, loc.line, key, f"sample '{sample.name}' has no "
                                  f"entry: its {len(unique)} file(s) hold 0 events",
                                  "point 'files:' at the produced files (nutag simulate), or "
                                  "remove the sample and every options: entry naming it")
    return [str(c) for c in ROOT.RDataFrame(sample.tree, sample.files[0]).GetColumnNames()]


# --------------------------------------------------------------------------- the root dataframe
def sample_dataframe(sample: Sample, files: Sequence[str] | None = None,
                     entry_range: tuple[int, int] | None = None, **distributed: Any) -> Any:
    """The root dataframe of a sample: its ``files`` (default: all) chained in order, TTree or
    RNTuple alike, optionally only the global ``entry_range`` [begin, end) of that chain.

    Every route makes its dataframe here: the local run, ``--max-events`` (range from 0), an
    HTCondor chunk (its files and range) and Dask (``distributed``: the ``executor`` and
    ``npartitions`` keywords of ROOT's distributed RDataFrame). Empty RNTuples are left out of
    the chain (they hold no entry, so a global range means the same entries), and a sample whose
    files are all empty RNTuples becomes an empty LOCAL dataframe with the same columns
    (:func:`empty_like_rntuple`), whatever the route: distributed RDataFrame refuses a dataset
    of zero entries, and there is nothing to distribute. A range reaching the end of the chain
    is dropped (ROOT warns about a range past the end). An empty TTree is read as it is.
    """
    ROOT = import_root()
    files = list(sample.files if files is None else files)
    counts = {f: stored_entries(f, sample.tree) for f in dict.fromkeys(files)}
    kept = [f for f in files if counts[f] != (0, "rntuple")]
    if files and not kept:
        log.warning("sample %s: every file is an empty RNTuple; booked on an empty dataframe "
                    "with its columns", sample.name)
        return empty_like_rntuple(ROOT, files[0], sample.tree)
    known = [counts[f][0] for f in kept]
    if (entry_range is not None and None not in known
            and entry_range[0] <= 0 and entry_range[1] >= sum(known)):
        entry_range = None  # all of it
    if entry_range is None:
        return ROOT.RDataFrame(sample.tree, kept, **distributed)
    if distributed:
        raise ValueError("an entry range is for a local dataframe (HTCondor chunks, "
                         "--max-events); a distributed one splits the sample itself")
    spec = ROOT.RDF.Experimental.RDatasetSpec()
    spec.AddSample((sample.name, sample.tree, kept))
    spec.WithGlobalRange((int(entry_range[0]), int(entry_range[1])))
    return ROOT.RDataFrame(spec)


def empty_like_rntuple(ROOT: Any, path: str, name: str) -> Any:
    """A dataframe of no entry with the columns (names and types) of the RNTuple in ``path``."""
    desc = ROOT.RNTupleReader.Open(name, path).GetDescriptor()
    df = ROOT.RDF.AsRNode(ROOT.RDataFrame(0))
    for top in desc.GetTopLevelFields():
        df = ROOT.RDF.AsRNode(df.Define(str(top.GetFieldName()), f"{top.GetTypeName()}{{}}"))
    return df


# --------------------------------------------------------------------------- after a failure
_PROBE = r"""
#include <TFile.h>
#include <TTree.h>
#include <ROOT/RNTupleReader.hxx>
#include <exception>
#include <memory>
#include <string>
namespace nutag_probe {
// "" when every entry of every branch or field of the dataset reads back, else what failed
inline std::string read_all(const std::string& path, const std::string& name) {
  try {
    std::unique_ptr<TFile> file{TFile::Open(path.c_str())};
    if (!file || file->IsZombie()) return "it cannot be opened";
    if (auto* tree = file->Get<TTree>(name.c_str())) {
      for (Long64_t i = 0, n = tree->GetEntries(); i < n; ++i)
        if (tree->GetEntry(i, 1) < 0) return "entry " + std::to_string(i) + " cannot be read";
      return "";
    }
    auto reader = ROOT::RNTupleReader::Open(name, path);
    for (auto i : *reader) reader->LoadEntry(i);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}
}
"""
_BRANCH = re.compile(r"branch:([^,\s]+)")


def damaged_files(files: Sequence[str], name: str) -> list[tuple[str, str]]:
    """(file, what failed) for each of ``files`` whose dataset ``name`` does not read back
    entirely: every entry of every branch (TTree) or field (RNTuple), in C++.

    Costs a full read of the files: call it only after the event loop failed, to name the
    damaged file instead of every file of the sample.
    """
    ROOT = import_root()
    if not hasattr(ROOT, "nutag_probe"):
        ROOT.gInterpreter.Declare(_PROBE)
    bad = []
    for path in dict.fromkeys(files):
        with capture_stderr() as cap:
            said = str(ROOT.nutag_probe.read_all(path, name))
        if said:
            reason = said.split("\nAt:", 1)[0].split(" (unchecked RResult")[0].strip()
            branch = _BRANCH.search(cap.text)
            bad.append((path, reason + (f", in branch {branch.group(1)}" if branch else "")))
    return bad
