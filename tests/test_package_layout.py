"""The package's shape: imports go one way (no circles, nothing below the CLI imports it), the root holds the
foundations only, and the tools share helpers instead of importing each other. Read from the source (ast),
so the test costs no import."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "translation"
# what every part of the package stands on; "run a trained model" lives in inference/, metrics in metrics/
ROOT_FOUNDATIONS = {"__init__", "__main__", "cli", "checkpoint", "config", "labels", "names", "precision",
                    "runtime", "visualize"}


def module_name(path: Path, base: Path) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """The known modules `path` imports anywhere in it (function-level imports are arrows too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & known


def import_graph(files: list[Path], base: Path) -> dict[str, set[str]]:
    names = {module_name(f, base): f for f in files}
    graph = {}
    for name, path in names.items():
        # a module's own packages are imported before it whatever it says: not an arrow of its design
        ancestors = {name.rsplit(".", k)[0] for k in range(1, name.count(".") + 1)}
        graph[name] = imported_modules(path, set(names)) - {name} - ancestors
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def package_graph() -> dict[str, set[str]]:
    return import_graph(sorted(PACKAGE.rglob("*.py")), REPO)


def test_circle_finder_sees_a_circle_through_three_modules():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_package_imports_in_one_direction():
    assert circles(package_graph()) == []


def test_only_the_command_line_imports_the_commands():
    graph = package_graph()
    upward = {name: sorted(m for m in imports if m.startswith("translation.commands"))
              for name, imports in graph.items()
              if name != "translation.cli" and not name.startswith("translation.commands")}
    assert {name: found for name, found in upward.items() if found} == {}


def test_the_package_root_holds_the_foundations_only():
    loose = {p.stem for p in PACKAGE.glob("*.py")}
    assert loose - ROOT_FOUNDATIONS == set(), "new modules belong in a sub-package (inference/, metrics/, ...)"


def test_the_tools_share_helpers_instead_of_importing_each_other():
    tools = sorted((REPO / "tools").glob("*.py"))
    assert tools
    assert circles(import_graph(tools, REPO / "tools")) == []
