"""The run's execution switches are made once (nutag.core.options) and every environment variable
of nutag is read in exactly one function.

Why: the route a sample takes (jitted, compiled node per cut, fused, direct read) was decided
from environment variables read deep inside the graph code, and `nutag run --compile` wrote
its flag into os.environ for them to find; an HTCondor job, whose environment is the batch
node's, could then take another route than the run that submitted it. The source is read
with ast, so the checks see every module, imported or not.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from nutag.core.options import SWITCHES, RouteOptions

PACKAGE = Path(__file__).resolve().parents[1] / "analysis" / "nutag"
#: the one function allowed to write nutag's variables: a Dask worker process points its own
#: nutag at the bundle it unpacked (the variables are read in that process only)
WRITERS = {("engine/backends/dask_backend.py", "worker_setup")}


def _is_environ(node: ast.AST) -> bool:
    """``os.environ`` (or a bare ``environ``)."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ")


def _nutag_name(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) \
            and node.value.startswith("NUTAG_"):
        return node.value
    return None


def environment_uses(package: Path = PACKAGE) -> tuple[dict[str, set], dict[str, set]]:
    """{variable: {(file, function)}} of the reads and of the writes of ``NUTAG_*`` variables
    through os.environ / os.getenv, by literal name."""
    reads: dict[str, set] = defaultdict(set)
    writes: dict[str, set] = defaultdict(set)
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def visit(node: ast.AST, function: str) -> None:
            for child in ast.iter_child_nodes(node):
                name = function
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    name = child.name
                where = (rel, name)
                if isinstance(child, ast.Call):
                    f = child.func
                    reading = (isinstance(f, ast.Attribute) and f.attr in ("get", "setdefault")
                               and _is_environ(f.value)) or (
                        isinstance(f, ast.Attribute) and f.attr == "getenv")
                    var = _nutag_name(child.args[0]) if child.args else None
                    if reading and var:
                        reads[var].add(where)
                        if f.attr == "setdefault":
                            writes[var].add(where)
                if isinstance(child, ast.Subscript) and _is_environ(child.value):
                    var = _nutag_name(child.slice)
                    if var:
                        (writes if isinstance(child.ctx, (ast.Store, ast.Del)) else reads)[
                            var].add(where)
                if isinstance(child, ast.Compare) and any(_is_environ(c) for c in
                                                          child.comparators):
                    var = _nutag_name(child.left)
                    if var:
                        reads[var].add(where)
                visit(child, name)

        visit(tree, "<module>")
    return reads, writes


def test_every_nutag_variable_is_read_in_one_function() -> None:
    reads, _ = environment_uses()
    assert {"NUTAG_SOURCE_DIR", "NUTAG_HOME", "NUTAG_DATA"} <= set(reads), \
        "the scan found none of nutag's variables"
    several = {var: sorted(places) for var, places in reads.items() if len(places) > 1}
    assert not several, f"read in more than one function: {several}"


def test_the_route_switches_are_read_only_by_route_options() -> None:
    """NUTAG_COMPILE, NUTAG_FUSE and NUTAG_DIRECT_READ: no module reads them by name (the
    options read them through their table), and nothing writes them."""
    reads, writes = environment_uses()
    variables = {variable for variable, _choices in SWITCHES.values()}
    assert variables == {"NUTAG_COMPILE", "NUTAG_FUSE", "NUTAG_DIRECT_READ"}
    assert not {v: reads[v] for v in variables if v in reads}
    assert not {v: writes[v] for v in variables if v in writes}


def test_nutag_writes_no_environment_variable_but_in_a_dask_worker() -> None:
    _, writes = environment_uses()
    elsewhere = {var: sorted(places - WRITERS) for var, places in writes.items()
                 if places - WRITERS}
    assert not elsewhere, f"written outside a worker's own set-up: {elsewhere}"


def test_the_scan_sees_reads_and_writes(tmp_path: Path) -> None:
    """The checks above can fail: a second reader and a writer are found."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("import os\ndef f():\n    return os.environ.get('NUTAG_X')\n")
    (pkg / "b.py").write_text("import os\ndef g():\n    return 'NUTAG_X' in os.environ\n"
                              "def h(v):\n    os.environ['NUTAG_Y'] = v\n")
    reads, writes = environment_uses(pkg)
    assert reads["NUTAG_X"] == {("a.py", "f"), ("b.py", "g")}
    assert writes["NUTAG_Y"] == {("b.py", "h")}


def test_route_options_given_then_environment_then_auto() -> None:
    env = {"NUTAG_COMPILE": "OFF", "NUTAG_FUSE": "off"}
    assert RouteOptions.from_environment(env) == RouteOptions("off", "off", "auto")
    assert RouteOptions.from_environment(env, compile="on").compile == "on"
    assert RouteOptions.from_environment({}) == RouteOptions()
    assert RouteOptions.from_dict(RouteOptions("on", "off", "off").to_dict()) == \
        RouteOptions("on", "off", "off")
    with pytest.raises(ValueError, match=r"NUTAG_DIRECT_READ='sometimes' is not one of"):
        RouteOptions.from_environment({"NUTAG_DIRECT_READ": "sometimes"})


def test_the_cli_compile_flag_reaches_the_run_without_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`nutag run --no-compile` hands RouteOptions to the pipeline and leaves os.environ
    alone (it used to set NUTAG_COMPILE for the graph code to find)."""
    import os

    from nutag import cli

    from nutag.jobs import pipeline

    seen = {}

    def fake_run_analysis(config, **kw):
        seen.update(kw)
        return Path("results/x")

    monkeypatch.setenv("NUTAG_COMPILE", "on")
    monkeypatch.setattr(pipeline, "run_analysis", fake_run_analysis)
    def nutag_environment() -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k.startswith("NUTAG_")}

    before = nutag_environment()
    assert cli.main(["run", "--no-compile", "--threads", "1"]) == 0
    assert seen["route"] == RouteOptions(compile="off")
    assert nutag_environment() == before
