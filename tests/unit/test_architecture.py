"""The library's layers and the developer side's packages, as docs/architecture.md states
them, checked on their imports (and the developer side's module sizes)."""

import ast
import subprocess
from pathlib import Path

import pytest

from modelops_dev.sandbox import PROJECT_ROOT

LIBRARY = PROJECT_ROOT / "layers" / "core" / "modelops"
AWS_PACKAGES = {"boto3", "botocore"}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def layer_files(layer: str) -> list[Path]:
    files = sorted((LIBRARY / layer).rglob("*.py"))
    assert files, f"no modules in {layer}"
    return files


def reaches(imported: set[str], package: str) -> set[str]:
    return {name for name in imported if name == package or name.startswith(package + ".")}


@pytest.mark.parametrize("path", layer_files("domain"), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_domain_code_is_pure(path):
    imported = imports_of(path)
    for other in ("modelops.stores", "modelops.pipeline", "modelops.online", "modelops.settings"):
        assert not reaches(imported, other), f"{path.relative_to(LIBRARY)} imports {reaches(imported, other)}"
    assert not {name.split(".")[0] for name in imported} & AWS_PACKAGES


def test_only_the_stores_talk_to_aws():
    for path in LIBRARY.rglob("*.py"):
        if "stores" in path.parts:
            continue
        touching = {name for name in imports_of(path) if name.split(".")[0] in AWS_PACKAGES}
        assert not touching, f"{path.relative_to(LIBRARY)} imports {touching}"


@pytest.mark.parametrize("path", layer_files("online"), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_online_never_imports_the_pipeline(path):
    assert not reaches(imports_of(path), "modelops.pipeline")


@pytest.mark.parametrize("path", layer_files("stores"), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_stores_know_nothing_above_them(path):
    imported = imports_of(path)
    assert not reaches(imported, "modelops.pipeline") and not reaches(imported, "modelops.online")


def test_bucket_keys_are_spelled_only_in_the_layout():
    prefixes = ('"runs/', '"models/', '"scores/', '"reports/', '"specs/', '"data/', 'f"runs/', 'f"models/')
    for path in LIBRARY.rglob("*.py"):
        if path.name == "layout.py":
            continue
        text = path.read_text()
        assert not [p for p in prefixes if p in text], f"{path.relative_to(LIBRARY)} spells a bucket key"


def test_nothing_in_the_repository_points_outside_it():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = [
        name
        for name in tracked
        if not name.endswith((".png", ".npz", ".parquet"))
        and any(
            marker in (PROJECT_ROOT / name).read_text(errors="ignore")
            for marker in ("DESIGN.md", "../shared")
        )
        and name != "tests/unit/test_architecture.py"
    ]
    assert offenders == []


def module_of(path: Path) -> str:
    parts = path.relative_to(LIBRARY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_library_module_is_over_450_lines():
    long = {
        str(p.relative_to(LIBRARY)): n
        for p in LIBRARY.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 450
    }
    assert long == {}


def test_the_library_has_no_import_circle():
    """Deferred imports count too: a circle hidden inside a function is still a circle."""
    modules = {module_of(path): path for path in LIBRARY.rglob("*.py")}
    graph = {
        name: {other for other in imports_of(path) if other in modules and other != name}
        for name, path in modules.items()
    }

    def circle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph[node]:
                if nxt == start:
                    return [*trail, start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
        return None

    circles = [circle for name in sorted(graph) if (circle := circle_from(name))]
    assert circles == []


# ---------------------------------------------------------------------- the developer side
DEV = PROJECT_ROOT / "dev" / "modelops_dev"
# Each package may use itself and those before it, never those after it (docs/architecture.md).
DEV_PACKAGES = ("sandbox", "client", "demo", "cli", "tools")
MAX_DEV_MODULE_LINES = 500


def dev_files() -> list[Path]:
    files = sorted(DEV.rglob("*.py"))
    assert files, f"no modules in {DEV}"
    return files


def dev_id(path: Path) -> str:
    return str(path.relative_to(DEV))


def test_the_developer_side_is_its_packages():
    packages = sorted(p.name for p in DEV.iterdir() if (p / "__init__.py").exists())
    modules = sorted(p.name for p in DEV.glob("*.py"))
    assert packages == sorted(DEV_PACKAGES) and modules == ["__init__.py"]


@pytest.mark.parametrize("path", dev_files(), ids=dev_id)
def test_each_developer_side_package_uses_only_those_below_it(path):
    parts = path.relative_to(DEV).parts
    allowed = set(DEV_PACKAGES[: DEV_PACKAGES.index(parts[0]) + 1]) if len(parts) > 1 else set()
    relative = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom) and n.level]
    assert not relative, f"{dev_id(path)}: a relative import (the check reads absolute names)"
    used = {name.split(".")[1] for name in imports_of(path) if name.startswith("modelops_dev.")}
    above = ", ".join(f"modelops_dev.{package}" for package in sorted(used - allowed))
    assert not above, f"{dev_id(path)} imports {above}, above its own package"


@pytest.mark.parametrize("path", dev_files(), ids=dev_id)
def test_no_developer_side_module_is_over_500_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_DEV_MODULE_LINES, f"{dev_id(path)} has {lines} lines"


def test_the_library_and_the_functions_never_import_the_developer_side():
    for path in [*LIBRARY.rglob("*.py"), *(PROJECT_ROOT / "functions").rglob("*.py")]:
        assert not reaches(imports_of(path), "modelops_dev"), path.relative_to(PROJECT_ROOT)
