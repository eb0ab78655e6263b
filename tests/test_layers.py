"""The product's layers import downward only, no modules import one another in a circle, and neither
the product nor the benchmarks import the tests.

Layers, bottom up: go_engine <- policy <- selfplay <- gtp <- tengen_cli. Every import counts, those
inside functions too, since a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["go_engine", "policy", "selfplay", "gtp", "tengen_cli"]


def _modules() -> dict[str, Path]:
    mods = {"tengen_cli": ROOT / "tengen_cli.py"}
    for pkg in LAYERS[:-1]:
        for f in (ROOT / pkg).rglob("*.py"):
            parts = f.relative_to(ROOT).with_suffix("").parts
            mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """The project modules that module ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in mods:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, mods) for name, path in mods.items()}


def test_layers_import_downward_only():
    rank = {pkg: i for i, pkg in enumerate(LAYERS)}
    upward = [f"{a} imports {b}" for a, deps in _graph().items() for b in deps
              if rank[b.split(".")[0]] > rank[a.split(".")[0]]]
    assert upward == []


def test_no_import_cycles():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_product_and_the_benchmarks_do_not_import_the_tests():
    files = [*_modules().values(), *(ROOT / "bench").glob("*.py")]
    found = []
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            found += [f"{f.relative_to(ROOT)} imports {n}" for n in names if n.split(".")[0] == "tests"]
    assert found == []


def test_the_checks_see_lazy_and_relative_imports():
    graph = _graph()
    assert "selfplay.match" in graph["selfplay.loop"]  # imported inside a function
    assert "gtp.state" in graph["gtp.commands.core"]  # from ..state import ...
    assert "go_engine.kernels" in graph["selfplay.search"]  # from go_engine import kernels as K
