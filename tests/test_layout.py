"""The package reads as the data flow: each layer imports only the layers before it."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

import accessibility

PACKAGE = Path(accessibility.__file__).parent
#: layer order; a module may import its own layer and those before it
LAYERS = ["core", "inputs", "network", "engine", "indicators", "validation", "planning",
          "outputs", "pipeline", "national", "app", "cli"]
COMPAT = {"diagnostic", "travel_times"}  # former module paths, aliases only


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "accessibility" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return out


def _package_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "__init__.py" or (rel.stem in COMPAT and len(rel.parts) == 1):
            continue
        yield path, (rel.parts[0] if len(rel.parts) > 1 else rel.stem)


def test_every_module_belongs_to_a_layer():
    layers = {layer for _, layer in _package_modules()}
    assert layers <= set(LAYERS), layers - set(LAYERS)


@pytest.mark.parametrize("path,layer", list(_package_modules()), ids=lambda v: str(v))
def test_no_module_imports_a_later_layer(path, layer):
    rank = LAYERS.index(layer)
    for module in _imports(path):
        other = _layer(module)
        if other is None or other in COMPAT:
            continue
        assert other in LAYERS, f"{path}: imports {module}, which belongs to no layer"
        assert LAYERS.index(other) <= rank, f"{path} ({layer}) imports {module} ({other})"


def test_relative_imports_are_not_used():
    # absolute imports show the layer of every dependency at a glance
    for path, _ in _package_modules():
        tree = ast.parse(path.read_text())
        assert not any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree)), path


def test_every_subpackage_says_what_it_owns_and_may_import():
    for sub in LAYERS:
        init = PACKAGE / sub / "__init__.py"
        if not init.exists():
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "Owns" in doc and ("May import" in doc or sub == "cli"), init


def test_public_names_load_lazily_from_the_package():
    from accessibility.engine.travel_times import od_matrix
    from accessibility.indicators.diagnostic import run_diagnostic

    assert accessibility.od_matrix is od_matrix
    assert accessibility.run_diagnostic is run_diagnostic
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        accessibility.nope  # noqa: B018


@pytest.mark.parametrize("old,new,name", [
    ("accessibility.diagnostic", "accessibility.indicators.diagnostic", "run_diagnostic"),
    ("accessibility.travel_times", "accessibility.engine.travel_times", "od_matrix"),
])
def test_former_module_paths_still_work_with_a_warning(old, new, name):
    sys.modules.pop(old, None)
    with pytest.warns(FutureWarning, match=f"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert getattr(module, name) is getattr(importlib.import_module(new), name)


#: the size limits of the code (issue 10): split along the real steps beyond them
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 700


def test_no_function_over_80_lines_and_no_module_over_700():
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text()
        if source.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{path.relative_to(PACKAGE)}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    too_long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: {n}")
    assert not too_long, "\n".join(too_long)


def test_one_toml_reader():
    # every parameter file goes through accessibility.core.params (schema-checked)
    readers = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "tomllib" in _imports(path)
    ]
    assert readers == ["core/params.py"], readers
