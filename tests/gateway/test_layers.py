"""The gateway's rooms import only downward (.importlinter), nothing dodges that rule
with an import inside a function, the web room writes no SQL of its own and parses no
body or frame past its shape, and bot/nlu's detectors share only the lexicon."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "handoff"
WEB = PACKAGE / "web"
SQL_BUILDERS = {"select", "insert", "update", "delete"}


def _type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _late_imports(tree: ast.Module) -> list[int]:
    """Lines of gateway imports below module level, outside `if TYPE_CHECKING:`."""
    found: list[int] = []

    def visit(node: ast.AST, nested: bool) -> None:
        if _type_checking_block(node):
            return
        if nested and isinstance(node, ast.ImportFrom) and (
            node.level > 0 or (node.module or "").split(".")[0] == "handoff"
        ):
            found.append(node.lineno)
        if nested and isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] == "handoff" for alias in node.names
        ):
            found.append(node.lineno)
        inner = nested or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return found


def test_no_gateway_module_imports_another_inside_a_function() -> None:
    late = {
        str(path.relative_to(ROOT)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := _late_imports(ast.parse(path.read_text())))
    }
    assert late == {}


def test_the_check_finds_an_import_inside_a_function() -> None:
    source = "def f():\n    from handoff.live import events\n"
    assert _late_imports(ast.parse(source)) == [2]


def test_the_layers_contract_is_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Rooms import only downward KEPT" in result.stdout
    assert "The detectors share only the lexicon KEPT" in result.stdout


def _sql_builders(tree: ast.Module) -> list[str]:
    """The SQL statement builders a module takes from sqlalchemy, by import or attribute."""
    found: list[str] = []
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            found += [alias.name for alias in node.names if alias.name in SQL_BUILDERS]
        if isinstance(node, ast.Import):
            modules |= {
                alias.asname or alias.name
                for alias in node.names
                if alias.name.split(".")[0] == "sqlalchemy"
            }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in SQL_BUILDERS
            and ast.unparse(node.value) in modules
        ):
            found.append(node.attr)
    return found


def test_no_web_module_builds_sql() -> None:
    """Views parse, call actions and queries (handoff.storage.queries), and answer."""
    builders = {
        str(path.relative_to(ROOT)): names
        for path in sorted(WEB.rglob("*.py"))
        if (names := _sql_builders(ast.parse(path.read_text())))
    }
    assert builders == {}


def test_the_check_finds_sql_builders() -> None:
    source = (
        "from sqlalchemy import select, func\n"
        "from sqlalchemy.sql.expression import delete\n"
        "import sqlalchemy as sa\n"
        "sa.update(x)\n"
        "sa.func.count()\n"
    )
    assert _sql_builders(ast.parse(source)) == ["select", "delete", "update"]


def _own_parsing(tree: ast.Module) -> list[str]:
    """Calls by which a module would read a body or a frame past its shape."""
    parsers = {"json.loads", "request.read", "request.json", "request.post", "request.text"}
    return [
        ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in parsers
    ]


def test_no_view_parses_a_body_or_frame_past_its_shape() -> None:
    """Bodies and socket frames are decoded by their shapes (handoff.web.validation)."""
    parsing = {
        str(path.relative_to(ROOT)): calls
        for path in sorted((WEB / "views").rglob("*.py"))
        if (calls := _own_parsing(ast.parse(path.read_text())))
    }
    assert parsing == {}


def test_the_check_finds_own_parsing() -> None:
    source = "data = json.loads(frame.data)\nraw = await request.read()\nrequest.app.read()\n"
    assert _own_parsing(ast.parse(source)) == ["json.loads", "request.read"]
