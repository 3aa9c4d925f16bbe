"""Provenance: where a result came from, recorded in every output and printed the same way.

Why one module: the results directory, the cutflow tables, the HTCondor merge and the
simulation manifests all carry the same facts (git commit and dirty flag, versions, blinding,
routes, inputs); written by one function they cannot drift apart.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: the checkout this package runs from (an installed package has none: git then says nothing)
_CHECKOUT = Path(__file__).resolve().parents[3]  # core -> nutag -> analysis -> checkout


def git_state(repo: Path = _CHECKOUT) -> dict[str, Any]:
    """The commit and dirty flag of the source tree the run used (None where git cannot tell:
    an installed package, no git)."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": bool(status) if status is not None else None}


def provenance_markdown(prov: Mapping[str, Any]) -> list[str]:
    """The provenance block every Markdown output ends with (the JSON holds the same dict)."""
    if not prov:
        return []
    versions = ", ".join(f"{k} {v}" for k, v in (prov.get("versions") or {}).items())
    lines = ["", "## Provenance", "",
             f"- analysis `{prov.get('analysis')}` from `{prov.get('config')}`, "
             f"config hash `{prov.get('config_hash')}`",
             f"- git `{prov.get('git_commit')}`{' (dirty: uncommitted changes)' if prov.get('git_dirty') else ''}",
             f"- versions: {versions}",
             f"- blinding: {'BLINDED' if prov.get('blinded') else 'UNBLINDED'}; "
             f"threads {prov.get('threads')}; backend {prov.get('backend')}; "
             f"event loops {prov.get('n_runs')}",
             *(f"- route of sample {name}: {route}"
               for name, route in (prov.get("routes") or {}).items()),
             f"- seeds: {json.dumps(prov.get('seeds', {}), sort_keys=True)}",
             f"- command line: `{' '.join(str(a) for a in prov.get('command_line') or [])}`",
             f"- created (UTC): {prov.get('created_utc')}", "",
             "| input | sample | size [bytes] | entries |", "|---|---|---:|---:|"]
    for i in prov.get("inputs") or []:
        lines.append(f"| `{i.get('file')}` | {i.get('sample')} | {i.get('size')} | "
                     f"{i.get('entries')} |")
    return lines + [""]


def complete_provenance(provenance: Mapping[str, Any], doc: Mapping[str, Any]
                        ) -> dict[str, Any]:
    """Provenance with what the run document knows too: the samples' seeds (their meta), the
    time of writing. Keys already present win (the caller knows best)."""
    seeds = {name: {k: v for k, v in (s.get("meta") or {}).items() if "seed" in str(k)}
             for name, s in (doc.get("samples") or {}).items()}
    extra = {"seeds": {k: v for k, v in seeds.items() if v},
             "created_utc": datetime.datetime.now(datetime.timezone.utc)
             .isoformat(timespec="seconds")}
    return {**extra, **provenance}
