"""Each invariant has one home (issue 11's design): the repositories hold every query, and nothing but a
unit of work (`sessions.begin()`) commits. Read from the source's syntax trees, so a new module that
queries or commits on its own fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "tether_relay"
QUERY_BUILDERS = {"select", "insert", "update", "delete", "text", "exists", "func", "literal", "bindparam"}


def modules() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("*.py") if "migrations" not in p.parts)


def may_query(path: Path) -> bool:
    # The repositories (`repository.py`, `search_repository.py`); the read path's one raw query; the
    # readiness probe's SELECT 1.
    allowed = {"calls/snapshot.py", "db.py"}
    return path.name.endswith("repository.py") or path.relative_to(SOURCE).as_posix() in allowed


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(SOURCE).as_posix())
def test_queries_are_built_only_in_repositories(path: Path) -> None:
    if may_query(path) or path.name == "models.py":  # models declare columns, indexes and defaults
        return
    tree = ast.parse(path.read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
    }
    assert imported.isdisjoint(QUERY_BUILDERS), f"builds queries: {sorted(imported & QUERY_BUILDERS)}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(SOURCE).as_posix())
def test_nothing_commits_but_a_unit_of_work(path: Path) -> None:
    tree = ast.parse(path.read_text())
    commits = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"commit", "rollback"}
    ]
    assert commits == [], f"commits or rolls back by hand at lines {commits}: use `sessions.begin()`"


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.relative_to(SOURCE).as_posix())
def test_only_repositories_use_a_session_directly(path: Path) -> None:
    """Services open units of work and hand the session to repositories; they never query or add rows."""
    if may_query(path):
        return
    tree = ast.parse(path.read_text())
    uses = [
        f"{node.lineno}: session.{node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "session"
        and node.func.attr in {"execute", "scalar", "scalars", "add", "add_all", "delete", "get", "merge"}
    ]
    assert uses == []
