"""Import rules of the project, read from the source with ``ast`` (nothing is imported).

- No import cycle among the project's own modules (``satudata.*``, ``transforms.*``, the plugin
  modules by their bare names, the DAG files). Only imports that run when a module is imported
  count: imports inside functions are how the code breaks cycles on purpose, and imports under
  ``if TYPE_CHECKING:`` never run.
- The core (``satudata``, ``transforms``) imports no plugin module and no ``airflow``, at any
  level: the Airflow glue lives in ``plugins/`` and ``dags/``.
- ``transforms`` does not import ``satudata``.
- Nothing of the product (``satudata``, ``transforms``, ``plugins``, ``dags``) imports ``devstack``.
- ``devstack`` is neither an installed package (pyproject) nor copied into the image (Dockerfile).
"""

from __future__ import annotations

import ast
import fnmatch
import json
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

CORE = ("satudata", "transforms")
PRODUCT = (*CORE, "plugins", "dags")
# Directories Airflow puts on sys.path: their modules are imported by their bare names.
PATH_DIRS = ("plugins", "dags")
# Named here as well as found in plugins/, so that a plugin moving elsewhere keeps its rule.
PLUGIN_MODULES = frozenset({"ckan_hook", "agency_api_hook", "agency_sql_hook", "pipeline_clients", "failure_alerts",
                            "notice_delivery"})


@dataclass(frozen=True)
class Import:
    file: str  # relative to the tree's root
    line: int
    importer: str  # dotted module name of the importing file
    target: str  # dotted module name imported (the deepest project module it names, else as written)
    at_module_level: bool  # False inside a function (a lazy import)
    type_checking: bool  # under ``if TYPE_CHECKING:``

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def level(self) -> str:
        if not self.at_module_level:
            return "function-level"
        return "TYPE_CHECKING" if self.type_checking else "module-level"


def module_name(root: Path, path: Path) -> str:
    """``satudata/extract/sql.py`` -> ``satudata.extract.sql``; ``plugins/ckan_hook.py`` -> ``ckan_hook``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[0] in PATH_DIRS:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_files(root: Path, dirs: tuple[str, ...] = PRODUCT) -> list[Path]:
    return sorted(p for d in dirs if (root / d).is_dir() for p in (root / d).rglob("*.py"))


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports_of(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Every import statement with (node, at module level, under TYPE_CHECKING)."""
    found = []

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append((node, not in_function, type_checking))
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            in_function = True
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, in_function, True)
            for child in node.orelse:
                visit(child, in_function, type_checking)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, in_function, type_checking)

    visit(tree, False, False)
    return found


def collect_imports(root: Path, dirs: tuple[str, ...] = PRODUCT) -> tuple[set[str], list[Import]]:
    """The project modules under ``root`` and every import statement they contain."""
    files = source_files(root, dirs)
    modules = {module_name(root, p) for p in files}
    imports = []
    for path in files:
        importer = module_name(root, path)
        is_package = path.name == "__init__.py"
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for node, at_module_level, type_checking in _imports_of(tree):
            for target in _targets(node, importer, is_package, modules):
                imports.append(Import(rel, node.lineno, importer, target, at_module_level, type_checking))
    return modules, imports


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: resolved against the importing module's package
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        keep = len(package) - (node.level - 1)
        package = package[:keep] if keep > 0 else []
        base = ".".join([*package, *([base] if base else [])])
    # ``from satudata import steps`` imports the module satudata.steps; ``from x import name`` imports x.
    named = [f"{base}.{alias.name}" if base else alias.name for alias in node.names]
    submodules = [n for n in named if n in modules]
    if submodules and len(submodules) == len(named):
        return submodules
    return [base, *submodules] if base else submodules


def _top(name: str) -> str:
    return name.split(".")[0]


def _own(name: str, modules: set[str]) -> str | None:
    """The project module ``name`` refers to (itself or its nearest project parent), or None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def find_cycles(modules: set[str], imports: list[Import]) -> list[str]:
    """One finding per group of modules that import each other at module level."""
    edges: dict[str, dict[str, Import]] = {m: {} for m in modules}
    for imp in imports:
        target = _own(imp.target, modules)
        if imp.at_module_level and not imp.type_checking and target is not None:
            edges[imp.importer].setdefault(target, imp)

    # Tarjan's strongly connected components (iterative: no recursion limit on deep graphs).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(modules):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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
                if len(group) > 1 or node in edges[node]:
                    groups.append(sorted(group))

    findings = []
    for group in sorted(groups):
        members = set(group)
        path = _cycle_through(group[0], members, edges)
        lines = [f"  {a} -> {b} at {edges[a][b].where}" for a, b in zip(path, path[1:], strict=False)]
        findings.append("import cycle among " + ", ".join(group) + ": " + " -> ".join(path) + "\n" + "\n".join(lines))
    return findings


def _cycle_through(start: str, members: set[str], edges: dict[str, dict[str, Import]]) -> list[str]:
    """A shortest import path from ``start`` back to itself inside one cycle group."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(edges[node]):
                if child not in members:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return [start]


def find_layer_violations(root: Path, imports: list[Import]) -> list[str]:
    """Imports that cross the layers the wrong way (rules b to e of the module docstring)."""
    plugins = set(PLUGIN_MODULES)
    if (root / "plugins").is_dir():
        plugins |= {p.stem if p.suffix == ".py" else p.name
                    for p in (root / "plugins").iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    plugins.discard("__init__")
    findings = []
    for imp in imports:
        layer, target = _top(imp.file.split("/")[0]), _top(imp.target)
        said = f"{imp.where}: {imp.importer} imports {imp.target} ({imp.level})"
        if layer in CORE and (target in plugins or target == "plugins"):
            findings.append(f"{said}: the core must not import the Airflow plugin modules")
        if layer in CORE and target == "airflow":
            findings.append(f"{said}: the core must not import airflow, not even lazily")
        if layer == "transforms" and target == "satudata":
            findings.append(f"{said}: transforms must not import satudata")
        if layer in PRODUCT and target == "devstack":
            findings.append(f"{said}: the product must not import devstack (development and test stand-ins)")
    return findings


def find_packaging_violations(root: Path) -> list[str]:
    """``devstack`` listed as an installed package, or copied into the image."""
    findings = []
    pyproject = root / "pyproject.toml"
    packages = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    for name in packages:
        if _top(name) == "devstack":
            findings.append(f"pyproject.toml: [tool.setuptools] packages lists {name!r}")
    dockerfile = root / "Dockerfile"
    for line_no, instruction in _dockerfile_instructions(dockerfile.read_text(encoding="utf-8")):
        words = instruction.split(None, 1)
        if len(words) < 2 or words[0].upper() not in ("COPY", "ADD"):
            continue
        rest = words[1].strip()
        args = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        flags = [a for a in args if a.startswith("--")]
        paths = [a for a in args if not a.startswith("--")]
        if any(f.startswith("--from=") for f in flags):
            continue  # from another build stage or image, not from this repository
        for source in paths[:-1]:
            first = source.strip("/").removeprefix("./").split("/")[0] or "."
            if first == "devstack" or first == "." or fnmatch.fnmatch("devstack", first):
                findings.append(f"Dockerfile:{line_no}: {words[0].upper()} {source} puts devstack into the image")
    return findings


def _dockerfile_instructions(text: str) -> list[tuple[int, str]]:
    """(first line number, instruction) with continuation lines joined and comments dropped."""
    instructions, current, start = [], "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if not current:
            start = number
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        instructions.append((start, current + stripped))
        current = ""
    if current:
        instructions.append((start, current))
    return instructions


def check_tree(root: Path) -> list[str]:
    modules, imports = collect_imports(root)
    return [*find_cycles(modules, imports), *find_layer_violations(root, imports), *find_packaging_violations(root)]


# --- the project -------------------------------------------------------------------------------


def test_the_project_keeps_its_import_rules():
    findings = check_tree(REPO)
    assert not findings, "\n".join(findings)


def test_the_scan_sees_the_whole_project():
    """Guards the rules above against passing because nothing was read."""
    modules, imports = collect_imports(REPO)
    for expected in ("satudata", "satudata.steps", "satudata.extract.sql", "satudata.publish.ckan",
                     "transforms.tables", "ckan_hook", "pipeline_clients", "satudata_catalog"):
        assert expected in modules
    assert len(modules) == len(source_files(REPO))
    importers = {i.importer for i in imports if _own(i.target, modules) and i.at_module_level}
    assert {"satudata.steps", "pipeline_clients", "satudata_catalog"} <= importers
    assert any(not i.at_module_level for i in imports)  # the lazy imports are read too


# --- the checker itself, on small made-up trees ------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_module_level_cycle_is_reported_with_its_modules_and_lines(tmp_path):
    root = _tree(tmp_path, {
        "satudata/__init__.py": "",
        "satudata/a.py": "import os\nfrom satudata import b\n",
        "satudata/b.py": "from . import c\n",
        "satudata/c.py": "\n\nimport satudata.a as first\n",
        # Lazy and type-checking imports close no cycle.
        "satudata/lazy.py": "from satudata import eager\n",
        "satudata/eager.py": "def f():\n    from satudata import lazy\n",
        "satudata/typed.py": "from typing import TYPE_CHECKING\nfrom satudata import hinted\n",
        "satudata/hinted.py": "import typing\nif typing.TYPE_CHECKING:\n    from satudata.typed import X\n",
        "plugins/hook_a.py": "import hook_b\n",
        "plugins/hook_b.py": "from hook_a import A\n",
    })
    modules, imports = collect_imports(root)
    findings = find_cycles(modules, imports)
    assert len(findings) == 2, findings
    assert findings[0].startswith("import cycle among hook_a, hook_b: hook_a -> hook_b -> hook_a")
    assert findings[1].startswith(
        "import cycle among satudata.a, satudata.b, satudata.c: satudata.a -> satudata.b -> satudata.c -> satudata.a")
    assert "satudata.a -> satudata.b at satudata/a.py:2" in findings[1]
    assert "satudata.b -> satudata.c at satudata/b.py:1" in findings[1]  # a relative import
    assert "satudata.c -> satudata.a at satudata/c.py:3" in findings[1]
    assert "plugins/hook_b.py:1" in findings[0]


def test_a_module_importing_itself_is_a_cycle(tmp_path):
    root = _tree(tmp_path, {"transforms/__init__.py": "", "transforms/t.py": "from transforms.t import x\n"})
    assert find_cycles(*collect_imports(root)) != []


def test_crossing_the_layers_is_reported_at_any_level(tmp_path):
    root = _tree(tmp_path, {
        "satudata/__init__.py": "",
        "satudata/uses_hook.py": "def f():\n    from ckan_hook import CkanHook\n",
        "satudata/uses_plugin_dir.py": "import plugins.other\n",
        "satudata/uses_airflow.py": "def f():\n    import airflow.models\n",
        "satudata/typed_airflow.py": "from typing import TYPE_CHECKING\n"
                                     "if TYPE_CHECKING:\n    from airflow import DAG\n",
        "satudata/uses_devstack.py": "def f():\n    from devstack.samples import agencies\n",
        "transforms/__init__.py": "",
        "transforms/uses_satudata.py": "def f():\n    from satudata.catalog import get_entry\n",
        "transforms/uses_new_plugin.py": "import my_new_plugin\n",
        "plugins/my_new_plugin.py": "",
        "plugins/uses_devstack.py": "from devstack import ckanstack\n",
        "dags/dag.py": "import satudata\nfrom airflow import DAG\nimport ckan_hook\ndef f():\n    import devstack\n",
        # Allowed: the glue imports the core and airflow; the core imports its own modules.
        "plugins/fine.py": "import airflow\nfrom satudata import uses_hook\n",
        "satudata/fine.py": "from satudata import uses_hook\nimport pandas\n",
    })
    _, imports = collect_imports(root)
    findings = find_layer_violations(root, imports)
    expected = [
        "satudata/typed_airflow.py:3: satudata.typed_airflow imports airflow (TYPE_CHECKING)",
        "satudata/uses_airflow.py:2: satudata.uses_airflow imports airflow.models (function-level)",
        "satudata/uses_devstack.py:2: satudata.uses_devstack imports devstack.samples (function-level)",
        "satudata/uses_hook.py:2: satudata.uses_hook imports ckan_hook (function-level)",
        "satudata/uses_plugin_dir.py:1: satudata.uses_plugin_dir imports plugins.other (module-level)",
        "transforms/uses_new_plugin.py:1: transforms.uses_new_plugin imports my_new_plugin (module-level)",
        "transforms/uses_satudata.py:2: transforms.uses_satudata imports satudata.catalog (function-level)",
        "plugins/uses_devstack.py:1: uses_devstack imports devstack (module-level)",
        "dags/dag.py:5: dag imports devstack (function-level)",
    ]
    for start in expected:
        assert sum(f.startswith(start) for f in findings) == 1, (start, findings)
    assert len(findings) == len(expected), findings


def test_devstack_in_the_package_list_or_the_image_is_reported(tmp_path):
    root = _tree(tmp_path, {
        "pyproject.toml": '[tool.setuptools]\npackages = ["satudata", "devstack.samples"]\n',
        "Dockerfile": "FROM python:3.11\n# COPY devstack /x (a comment)\nCOPY --chown=a:b satudata \\\n"
                      "     devstack /opt/x/\nCOPY [\"transforms\", \"/opt/x/transforms\"]\nADD . /opt/x\n"
                      "COPY --from=build /devstack /opt/y\n",
    })
    assert find_packaging_violations(root) == [
        "pyproject.toml: [tool.setuptools] packages lists 'devstack.samples'",
        "Dockerfile:3: COPY devstack puts devstack into the image",
        "Dockerfile:6: ADD . puts devstack into the image",
    ]
    (root / "pyproject.toml").write_text('[tool.setuptools]\npackages = ["satudata"]\n', encoding="utf-8")
    (root / "Dockerfile").write_text("FROM python:3.11\nCOPY satudata /opt/x/satudata\n", encoding="utf-8")
    assert find_packaging_violations(root) == []
