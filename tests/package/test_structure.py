"""The package's shape: no import cycle anywhere (module level or inside functions), a small package root."""
import ast
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.unit  # layer (the folder says the subject)

PACKAGE = REPO / "fer_core"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fer_core"):
                assert node.level == 0, f"{name}: relative import"
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("fer_core")}
        # importing a package's own submodule from its __init__, or a parent package, is not a cycle
        graph[name] = {d for d in deps if d in modules and d != name and not name.startswith(d + ".")}
    return graph


def test_no_import_cycles():
    graph = _import_graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(node, stack):
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, cycles


def test_package_root_is_small_and_modules_are_short():
    root_modules = [p.name for p in PACKAGE.glob("*.py")]
    assert len(root_modules) <= 10, root_modules
    long = {str(p.relative_to(REPO)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 350}
    assert not long, long


def test_the_package_version_is_the_one_in_pyproject():
    import tomllib

    import fer_core
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert fer_core.__version__ == declared, "bump fer_core/__init__.py and pyproject.toml together"
