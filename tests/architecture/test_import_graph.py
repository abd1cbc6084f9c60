"""The import graph of the package, read from its source: no import cycle.

Every module of gateway/ is read with `ast` (nothing is imported) and every import in it counts: at the top, inside a
function (where a loop hides most easily) or under a condition; absolute or relative. `from X import Y` where Y is a
submodule of X counts as importing X.Y, otherwise as importing X. Only imports of gateway's own modules matter.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import ROOT

#: imports (importer, imported) left out of the cycle check, each with why; meant to shrink, never to grow
CYCLES_FOR_NOW: set[tuple[str, str]] = set()


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that the module `name` (read from `path`) imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x, from ..y import z
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in known else target)
    return {module for module in found if module in known and module != name}


def import_graph(root: Path = ROOT, package: str = "gateway") -> dict[str, set[str]]:
    """Module -> the modules of the package it imports."""
    paths = {module_name(root, path): path for path in sorted((root / package).rglob("*.py"))}
    known = set(paths)
    return {name: imports_of(name, path, known) for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (a depth-first search, in a stable order)."""
    on_path: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        on_path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt in on_path:
                return [*on_path[on_path.index(nxt) :], nxt]
            if nxt not in done:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        on_path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_graph_reads_every_kind_of_import(tmp_path: Path):
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\nfrom pkg.c import thing\n",
            "pkg/b.py": "def later():\n    from . import c\n    import pkg.sub.d\n",
            "pkg/c.py": "from .sub import d\nthing = 1\n",
            "pkg/sub/__init__.py": "from ..c import thing\n",
            "pkg/sub/d.py": "from .. import a\nimport json\n",
        },
    )
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.a"] == {"pkg.b", "pkg.c"}  # `from pkg import b` is the module pkg.b, not the package pkg
    assert graph["pkg.b"] == {"pkg.c", "pkg.sub.d"}  # imports inside a function count
    assert graph["pkg.c"] == {"pkg.sub.d"}  # relative, to a submodule
    assert graph["pkg.sub"] == {"pkg.c"}  # relative from a package's __init__
    assert graph["pkg.sub.d"] == {"pkg.a"}  # two levels up; the standard library is left out
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.c", "pkg.sub.d", "pkg.a"]


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_gateway_has_no_import_cycle():
    graph = import_graph()
    for importer, imported in CYCLES_FOR_NOW:
        graph[importer].discard(imported)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_exceptions_are_still_needed():
    graph = import_graph()
    for importer, imported in CYCLES_FOR_NOW:
        assert imported in graph.get(importer, set()), f"{importer} no longer imports {imported}: drop the exception"
