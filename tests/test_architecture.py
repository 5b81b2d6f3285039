"""The import arrows run one way: web/api/auth/cli -> services -> models, search and realtime below services.

Each module's imports are read with `ast` (also those inside functions and
`if TYPE_CHECKING:` blocks: a lazy import is still an arrow), so a new module
that points the wrong way fails here before it forms a cycle at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("microblog", "models", "realtime", "search")

# What takes requests and commands: the top, which nothing below may import.
ENTRY_POINTS = ("microblog.api", "microblog.web", "microblog.auth", "microblog.cli")
# Beside them, what only the app as a whole wires up.
APP_WIRING = ("microblog.ops", "microblog.extensions")

# Layer (a module name prefix) -> the prefixes it must never import.
FORBIDDEN = {
    "search": ("microblog.services", *ENTRY_POINTS, *APP_WIRING),
    "realtime": ("microblog.services", *ENTRY_POINTS, *APP_WIRING),
    "microblog.services": (*ENTRY_POINTS, *APP_WIRING),
    "models": ("microblog", "search", "realtime"),
    "microblog.entities": ("microblog.services", *ENTRY_POINTS, "search", "realtime"),
    "microblog.database": ("microblog.services", "microblog.api", "microblog.web", "search", "realtime"),
}


def module_name(path: Path) -> str:
    """Return the dotted name of a source file under ROOT."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> Iterator[tuple[str, Path]]:
    """Yield (dotted name, path) of every module of the application packages."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield module_name(path), path


def imported(name: str, path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line, absolute module name) of every import in a module, relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from microblog import services` imports microblog.services.
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def within(name: str, prefix: str) -> bool:
    """Return whether a dotted name is prefix or inside it."""
    return name == prefix or name.startswith(prefix + ".")


def violations(layer: str) -> list[str]:
    """Return 'file:line imports X' for every forbidden import of one layer."""
    found = []
    for name, path in modules():
        if not within(name, layer):
            continue
        for line, target in imported(name, path):
            if any(within(target, banned) for banned in FORBIDDEN[layer]):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return found


def test_finds_the_modules():
    names = {name for name, _ in modules()}
    assert {"microblog.services.posts", "search", "realtime", "models.post", "microblog.entities"} <= names


def test_resolves_relative_imports():
    path = ROOT / "microblog" / "services" / "posts.py"
    targets = {target for _, target in imported("microblog.services.posts", path)}
    assert "microblog.services.errors.NotFound" in targets


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_below_itself(layer):
    assert violations(layer) == []


def _service_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    names = {name for name, _ in modules() if within(name, "microblog.services")}
    for name, path in modules():
        if name in names:
            graph[name] = {
                target if target in names else target.rpartition(".")[0]
                for _, target in imported(name, path)
                if within(target, "microblog.services")
            } & names - {name, "microblog.services"}
    return graph


def test_services_import_each_other_without_cycles():
    graph = _service_imports()
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = trail[trail.index(name) :] + [name]
            pytest.fail("services import each other in a cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def _module_globals_set(path: Path) -> Iterator[str]:
    """Yield 'line: module.name' for each assignment to an attribute of an imported module."""
    tree = ast.parse(path.read_text(), str(path))
    modules_bound = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in modules_bound
            ):
                yield f"{node.lineno}: {target.value.id}.{target.attr}"


def test_no_module_sets_another_module_s_globals():
    # Wiring goes through init_app(app, ...) arguments (realtime.init_app(app, token_user=...)),
    # never through a global written from above: the lower layer would depend on who set it.
    found = [f"{path.relative_to(ROOT)}:{hit}" for _, path in modules() for hit in _module_globals_set(path)]
    assert found == []


def _reaches(start: str) -> dict[str, list[str]]:
    """Return every application module `start` loads, directly or through others, with the path to it."""
    sources = dict(modules())
    paths: dict[str, list[str]] = {start: [start]}
    queue = [start]
    while queue:
        name = queue.pop()
        for _, target in imported(name, sources[name]):
            # `from x import y` names either module x.y or attribute y of x: take what exists.
            module = target if target in sources else target.rpartition(".")[0]
            if module in sources and module not in paths:
                paths[module] = [*paths[name], module]
                queue.append(module)
    return paths


@pytest.mark.parametrize(
    "start", ["search", "realtime", "microblog.entities", "microblog.text", "microblog.database"]
)
def test_the_lower_layers_reach_no_service_even_through_other_modules(start):
    # A direct check misses search -> microblog.text -> microblog.services.errors.
    reached = _reaches(start)
    above = ("microblog.services", *ENTRY_POINTS)
    found = [" -> ".join(trail) for name, trail in reached.items() if any(within(name, a) for a in above)]
    assert found == []
