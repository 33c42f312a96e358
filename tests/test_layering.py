"""The layering of DESIGN.md, read from the source with ast: no import cycle anywhere in geotagger/,
core below services below the front ends (cli, gui), and the front ends apart from each other."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "geotagger"

# Layer of each top-level part of the package; a module may import only its own layer or lower ones.
FRONT_ENDS = {"cli", "gui"}
SERVICES = {"services"}
# Imports that cross the layering on purpose, each with its reason.
ALLOWED = {
    ("geotagger.cli.commands.gui", "geotagger.gui.app"): "the `gui` command launches the window lazily",
    ("geotagger.cli.commands.gui", "geotagger.gui.window"): "the `gui` command checks Qt is there first",
    ("geotagger.__main__", "geotagger.cli.main"): "`python -m geotagger` is the command line",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """module -> the geotagger modules it imports (anywhere in the file: lazy imports count too)."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, path.name == "__init__.py", node)
                found = [f"{base}.{alias.name}" for alias in node.names] + [base]
            else:
                continue
            for target in found:
                while target and target not in paths:  # `from pkg import name`: name is no module
                    target = target.rpartition(".")[0]
                if target.startswith("geotagger") and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), i.e. the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top in FRONT_ENDS:
        return 2
    if top in SERVICES:
        return 1
    return 0


def _parents(module: str) -> set[str]:
    """A package's __init__ runs when a submodule is imported: importing it is not an edge we judge."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_graph_sees_the_package() -> None:
    graph = import_graph()
    assert "geotagger.gui.window" in graph and "geotagger.services.decisions" in graph
    assert "geotagger.catalog.library" in graph["geotagger.services.decisions"]


def test_no_import_cycle() -> None:
    graph = import_graph()
    # A package importing its own submodules (re-exports) is how packages work, not a cycle to judge.
    edges = {m: {t for t in ts if m not in _parents(t)} for m, ts in graph.items()}
    assert _cycles(edges) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_import_only_downwards() -> None:
    graph = import_graph()
    wrong = []
    for module, targets in graph.items():
        for target in targets:
            if (module, target) in ALLOWED or target in _parents(module):
                continue
            low, high = _layer(module), _layer(target)
            front_ends_mix = low == high == 2 and module.split(".")[1] != target.split(".")[1]
            if high > low or front_ends_mix:
                wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


def test_allow_list_is_current() -> None:
    graph = import_graph()
    stale = [pair for pair in ALLOWED if pair[1] not in graph.get(pair[0], set())]
    assert stale == []


def test_gui_controllers_do_not_import_the_window() -> None:
    """The controllers get what they need in their constructors; only the launcher knows the window."""
    graph = import_graph()
    users = sorted(m for m, targets in graph.items() if "geotagger.gui.window" in targets)
    assert users == ["geotagger.cli.commands.gui", "geotagger.gui.app"]


# Modules that touch os.environ other than geotagger/paths.py, each with its reason.
ENV_ALLOWED = {
    "geotagger.gui.app": "sets QTWEBENGINE_DISABLE_SANDBOX for Chromium when run as root (a write, not a read)",
}


def test_environment_is_read_in_one_place() -> None:
    """Every environment variable is read through geotagger.paths.env (one list of what geotagger reads)."""
    readers = []
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            touches = (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            )
            if touches and name != "geotagger.paths" and name not in ENV_ALLOWED:
                readers.append(f"{name}:{node.lineno}")
    assert readers == []


def test_gui_imports_services_directly() -> None:
    """No service looked up by name at run time (a broken service must fail the tests, not disable a
    button): the GUI neither uses importlib nor catches ImportError around its imports."""
    offenders = []
    for path in (PACKAGE / "gui").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.startswith("importlib") for n in names):
                    offenders.append(f"{path.name}:{node.lineno} importlib")
            caught = node.type if isinstance(node, ast.ExceptHandler) else None
            if isinstance(caught, ast.Name) and caught.id in ("ImportError", "ModuleNotFoundError"):
                offenders.append(f"{path.name}:{node.lineno} except {caught.id}")
    assert offenders == []
