"""The house as DESIGN.md draws it, read from the source: no import circles, and the
arrows between packages point one way (a lower package never imports a higher one,
even inside a function). Imports under `if TYPE_CHECKING:` are for the type checker
only and are not counted."""
from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

# DESIGN.md, "Allowed imports, lowest first"; packages on one line may import each other.
LAYERS = [["core"], ["accounts", "audit", "notifications"], ["catalogue"], ["enrolment", "schedule"], ["teaching"],
          ["certificates"], ["feedback"], ["impact", "privacy"], ["jobs", "admin", "participant"]]
LEVEL = {package: i for i, layer in enumerate(LAYERS) for package in layer}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in APP.rglob("*.py"):
        name = ".".join(("app", *path.relative_to(APP).with_suffix("").parts))
        modules[name.removesuffix(".__init__")] = path
    return modules


def _runtime_nodes(tree: ast.Module):
    """Every node, leaving out the bodies of `if TYPE_CHECKING:`."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", getattr(child.test, "attr", "")) == "TYPE_CHECKING":
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for node in _runtime_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "app":
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names if alias.name.split(".")[0] == "app"}
        # a package's __init__ collecting its own modules is how a package is made, not a circle
        edges[name] = {t for t in targets if t in modules and t != name and not t.startswith(name + ".")}
    return edges


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_through_others():
    assert _circles(_imports(_modules())) == []


def test_the_arrows_between_packages_point_down():
    edges = _imports(_modules())
    upward = []
    for source, targets in edges.items():
        for target in targets:
            a, b = source.split(".")[1], target.split(".")[1]
            if a in LEVEL and b in LEVEL and LEVEL[b] > LEVEL[a]:
                upward.append(f"{source} → {target}")
    assert sorted(upward) == []


def test_every_domain_package_has_a_place_in_the_layers():
    packages = {p.name for p in APP.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages - set(LEVEL) == set()  # a new package is placed in DESIGN.md and here


def test_the_checks_see_a_circle_and_an_upward_arrow():
    """The checks above can fail: a made-up circle and an arrow from core up to teaching."""
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.x import y\nfrom app.z import w\n")
    seen = [n.module for n in _runtime_nodes(tree) if isinstance(n, ast.ImportFrom)]
    assert "app.z" in seen and "app.x" not in seen
