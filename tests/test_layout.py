"""The shape of the code (docs/architecture.md): who may import whom, and what the web process loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from celery import current_app

from annotations.services.jobs import Task

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("annotations", "api", "workbench")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }


def imports_of(path: Path, known: set[str]) -> tuple[set[str], list[str]]:
    """The project modules `path` imports at module level, and the ones it imports inside functions."""
    tree = ast.parse(path.read_text())
    top: set[str] = set()
    nested: list[str] = []

    def targets(node: ast.Import | ast.ImportFrom) -> set[str]:
        if isinstance(node, ast.Import):
            names = {alias.name for alias in node.names}
        else:
            base = node.module or ""
            names = {base} | {f"{base}.{alias.name}" for alias in node.names}
        found = set()
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
        return found

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # for the type checker only
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found = targets(child)
                if in_function:
                    nested.extend(sorted(found))
                else:
                    top.update(found)
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return top, nested


def import_graph() -> dict[str, set[str]]:
    modules = source_modules()
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        top, _ = imports_of(path, known)
        # A package's __init__ is imported with each of its modules: not an arrow worth following.
        graph[name] = {target for target in top if target != name and not name.startswith(target + ".")}
    return graph


def test_the_domain_never_imports_the_api():
    offending = {
        (module, target)
        for module, targets in import_graph().items()
        if module.startswith("annotations")
        for target in targets
        if target == "api" or target.startswith("api.")
    }
    assert offending == set()


def test_the_modules_import_each_other_without_a_cycle():
    graph = import_graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def walk(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target] if target in path else [module, target])
            elif target not in state:
                walk(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert cycles == []


def test_project_modules_are_imported_inside_functions_only_to_keep_spacy_out_of_the_web_process():
    modules = source_modules()
    nested = {name: imports_of(path, set(modules))[1] for name, path in modules.items()}
    allowed = {"annotations.nlp", "annotations.learning"}  # load spaCy / scikit-learn: only where NLP runs
    lazy = {(name, target) for name, targets in nested.items() for target in targets}
    assert {
        (name, target) for name, target in lazy if target.split(".")[:2] not in [a.split(".") for a in allowed]
    } == set()


def test_the_web_process_starts_without_spacy():
    code = (
        "import os, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'workbench.settings')\n"
        "django.setup()\n"
        "import workbench.urls\n"
        "assert 'spacy' not in sys.modules, 'spacy was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_every_task_the_services_send_by_name_is_registered():
    current_app.loader.import_default_modules()
    assert set(Task.ALL) <= set(current_app.tasks)


def test_no_module_imports_another_modules_private_name():
    private = []
    for name, path in source_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                private += [f"{name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert private == []


def test_no_module_is_over_400_lines_but_the_three_that_are_one_piece():
    whole = {"annotations.models", "annotations.stories", "annotations.agreement"}
    long = {
        name: lines
        for name, path in source_modules().items()
        if name not in whole and (lines := len(path.read_text().splitlines())) > 400
    }
    assert long == {}
