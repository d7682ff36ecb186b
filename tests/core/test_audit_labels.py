"""Every action the code records has a label in the reader's language: the admin home
and the audit log showed `programme.updated` raw (found by a tester)."""
from __future__ import annotations

import ast
from pathlib import Path

from app.audit.labels import ACTIONS

APP = Path(__file__).resolve().parents[2] / "app"


def _recorded_actions() -> set[str]:
    """The first argument of every `record(...)` call: a string, or either string of `a if c else b`."""
    found: set[str] = set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "record"
                    and node.args):
                continue
            first = node.args[0]
            options = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
            found |= {o.value for o in options if isinstance(o, ast.Constant) and isinstance(o.value, str)}
    return found


def test_every_recorded_action_has_a_label():
    actions = _recorded_actions()
    assert {"course.updated", "programme.updated", "venue.updated", "course.published"} <= actions  # the scan sees them
    assert sorted(actions - set(ACTIONS)) == []
