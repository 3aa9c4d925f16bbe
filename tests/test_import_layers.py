"""The package's imports form no circle (counting those inside functions and TYPE_CHECKING),
and no module is over 500 lines.

Why every import counts: an import moved into a function to dodge a circular import at load
time still ties the two modules together — neither can be read, tested or replaced without the
other, and the data flow (config -> engine -> results -> outputs -> studies -> CLI) runs back
up. The graph is read from the source (ast), so nothing of nutag is imported to check it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "analysis" / "nutag"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """``nutag.engine.backends.chunk`` for analysis/nutag/engine/backends/chunk.py; a package's __init__.py
    is the package."""
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))}


def _imported(node: ast.AST, here: str, is_package: bool, known: Mapping[str, Path]
              ) -> Iterator[str]:
    """The package modules one import statement loads (``from .pkg import sub`` -> the
    submodule when ``sub`` is one, else the package)."""
    root = here.split(".")[0]
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names if a.name in known)
        return
    if not isinstance(node, ast.ImportFrom):
        return
    if node.level:
        base = here.split(".") if is_package else here.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    if target.split(".")[0] != root:
        return
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        if sub in known:
            yield sub
        elif target in known:
            yield target


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere in its source."""
    known = modules(package)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[name] = {t for node in ast.walk(tree)
                       for t in _imported(node, name, is_package, known)} - {name}
    return graph


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_package_has_no_import_circle() -> None:
    graph = import_graph()
    assert len(graph) > 40, "the package was not found"
    found = circles(graph)
    detail = "\n".join(
        f"  {' <-> '.join(c)}:\n" + "".join(f"    {a} imports {b}\n" for a in c
                                            for b in sorted(graph[a] & set(c)))
        for c in found)
    assert not found, f"import circles in analysis/nutag:\n{detail}"


def test_the_circle_finder_finds_a_circle_through_a_function_level_import(tmp_path: Path
                                                                           ) -> None:
    """The check itself can fail: a circle closed only by an import inside a function, and
    one through a package's __init__.py, are both found; a chain is not a circle."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n    return a\nx = 1\n")
    (pkg / "c.py").write_text("from .a import x\n")
    (pkg / "sub" / "__init__.py").write_text("from .d import y\n")
    (pkg / "sub" / "d.py").write_text("y = 1\ndef g():\n    from ..sub import y\n    return y\n")
    graph = import_graph(pkg)
    assert graph["pkg.c"] == {"pkg.a"}
    assert sorted(circles(graph)) == [["pkg.a", "pkg.b"], ["pkg.sub", "pkg.sub.d"]]


#: a module longer than this mixes jobs: split it by responsibility
MAX_MODULE_LINES = 500


def test_no_module_is_over_the_size_limit() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines())
             for name, path in modules().items()}
    assert len(sizes) > 40
    over = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not over, f"modules over {MAX_MODULE_LINES} lines (split them by job): {over}"


#: the layers of the package, lowest first: a module may import its own layer and the layers
#: below it, never one above (docs/architecture.md). ``nutag`` itself (its __init__, the CLI
#: modules and __main__) is the top.
LAYERS = ("nutag.core", "nutag.data", "nutag.config", "nutag.results", "nutag.engine",
          "nutag.outputs", "nutag.simulate", "nutag.jobs", "nutag.studies", "nutag")


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of the folder holding ``module``."""
    for i, layer in enumerate(LAYERS[:-1]):
        if module == layer or module.startswith(layer + "."):
            return i
    return len(LAYERS) - 1


def upward_imports(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import of a module from a layer above its own, as "a (layer) imports b (layer)"."""
    return [f"{a} ({LAYERS[layer_of(a)]}) imports {b} ({LAYERS[layer_of(b)]})"
            for a in sorted(graph) for b in sorted(graph[a])
            if layer_of(b) > layer_of(a) and b != "nutag"]


def test_every_module_lives_in_a_layer_folder() -> None:
    """Only the CLI sits at the package top; every other module is in its layer's folder."""
    top = sorted(m for m in modules() if layer_of(m) == len(LAYERS) - 1)
    assert top == ["nutag", "nutag.__main__", "nutag.cli", "nutag.validate_cli"], top


def test_imports_point_down_the_layers() -> None:
    found = upward_imports(import_graph())
    assert not found, "imports running back up the layers:\n  " + "\n  ".join(found)


def test_the_layer_check_finds_an_upward_import() -> None:
    """The check itself can fail: config importing the engine is reported, the reverse not."""
    graph = {"nutag.config.model": {"nutag.engine.graph"},
             "nutag.engine.graph": {"nutag.config.model", "nutag.core.errors"}}
    assert upward_imports(graph) == [
        "nutag.config.model (nutag.config) imports nutag.engine.graph (nutag.engine)"]
