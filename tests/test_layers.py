"""The layers of detainees/ hold: arrows point down only, and an import inside a function says why.

The contracts are in pyproject.toml ([tool.importlinter]): the adapters (web, api, admin,
templatetags, synthetic, under the management commands) above write, write above read, read
above the domain; the site and the API independent of each other; the domain importing nothing
above it. An import of the app's own code inside a function is how an upward import hides (it
runs, and a cycle at import time never shows), so each one carries a comment saying why, on its
line or the line before.
"""

import ast
import io
import re
import subprocess
import sys
import tokenize
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "detainees"

# Function-local imports waiting for work under way elsewhere, as (file, function, module):
# each goes when its import does (the test below fails on an entry that no longer matches).
PENDING: set[tuple[str, str, str]] = set()


def lint_imports() -> subprocess.CompletedProcess:
    """import-linter's own command, with this interpreter, on pyproject.toml's contracts."""
    code = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_are_kept():
    result = lint_imports()
    report = result.stdout.partition("Contracts\n---------")[2] or result.stdout
    assert result.returncode == 0, report + result.stderr
    assert "Contracts: 3 kept, 0 broken." in report


def test_every_package_of_the_app_sits_in_a_layer():
    """A new package under detainees/ is placed in the layers, not left outside the check."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["type"] == "layers"]
    placed = {name.strip() for layer in layers["layers"] for name in re.split(r"[|:]", layer)}
    packages = {
        f"detainees.{p.parent.name}"
        for p in APP.glob("*/__init__.py")
        if p.parent.name != "migrations"
    }
    assert packages - placed == set()


def module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The absolute names an import statement imports from."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not node.level:
        return [node.module or ""]
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return [".".join(base + ([node.module] if node.module else []))]


def comments(source: str) -> dict[int, str]:
    """The comment on each line that has one."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string
    return found


def gives_a_reason(comment: str | None) -> bool:
    """A comment with words in it besides a bare `noqa: CODE`."""
    if not comment:
        return False
    text = re.sub(r"noqa(:\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*)?", "", comment.lstrip("#"))
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 2


def unexplained_local_imports(source: str, module: str, is_package: bool = False):
    """(line, function, imported module) for each import of the app's own code inside a
    function with no comment saying why on its line or the line before."""
    notes = comments(source)
    lines = source.splitlines()
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
            elif isinstance(child, ast.Import | ast.ImportFrom) and function is not None:
                for target in imported(child, module, is_package):
                    if target != "detainees" and not target.startswith("detainees."):
                        continue
                    before = child.lineno - 1
                    previous = (
                        notes.get(before) if lines[before - 1].lstrip().startswith("#") else None
                    )
                    if not (gives_a_reason(notes.get(child.lineno)) or gives_a_reason(previous)):
                        found.append((child.lineno, function, target))
            else:
                visit(child, function)

    visit(ast.parse(source), None)
    return found


def app_files():
    return [p for p in sorted(APP.rglob("*.py")) if "migrations" not in p.relative_to(APP).parts]


def test_every_local_import_of_the_app_says_why():
    unexplained, pending_seen = [], set()
    for path in app_files():
        relative = path.relative_to(ROOT).as_posix()
        for line, function, target in unexplained_local_imports(
            path.read_text(), module_of(path), path.name == "__init__.py"
        ):
            if (relative, function, target) in PENDING:
                pending_seen.add((relative, function, target))
            else:
                unexplained.append(f"{relative}:{line} in {function}(): import of {target}")
    assert unexplained == [], (
        "Import these at the top of the module, or say on the line (or the one before) why "
        "they cannot be:\n" + "\n".join(unexplained)
    )
    assert PENDING - pending_seen == set(), "Gone or explained now: remove them from PENDING"


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        ("def f():\n    from detainees.read import search\n", [(2, "f", "detainees.read")]),
        ("def f():\n    from . import names\n", [(2, "f", "detainees.domain")]),
        (
            "def f():\n    from detainees.read import search  # noqa: PLC0415\n",
            [(2, "f", "detainees.read")],
        ),
        (
            "def f():\n    # a cycle: search imports this module\n    from detainees.read import search\n",
            [],
        ),
        (
            "def f():\n    from detainees.read import search  # noqa: PLC0415 (a cycle at import)\n",
            [],
        ),
        ("def f():\n    import json\n", []),
        (
            "class A:\n    def f(self):\n        import detainees.web.params\n",
            [(3, "f", "detainees.web.params")],
        ),
        ("from detainees.read import search\n", []),
    ],
)
def test_the_local_import_check_reports_only_unexplained_imports_of_the_app(source, reported):
    assert unexplained_local_imports(source, "detainees.domain.names") == reported


def test_migrations_import_nothing_above_the_domain():
    """A migration runs again on every new database: what it imports must not change with the
    code above the domain (0003 once imported search's key function; it keeps a frozen copy)."""
    above = []
    for path in sorted((APP / "migrations").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in imported(node, "detainees.migrations.x", False):
                    app = target == "detainees" or target.startswith("detainees.")
                    if app and not target.startswith("detainees.domain"):
                        above.append(f"{path.name}:{node.lineno}: {target}")
    assert above == []
