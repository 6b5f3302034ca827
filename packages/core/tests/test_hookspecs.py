"""The hookspec docstrings are the contract: each is complete, and each hook has a test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from jupyter_core_server import hookspecs
from jupyter_core_server.plugins import PluginManager

REPO = Path(__file__).resolve().parents[3]


def hook_names() -> list[str]:
    return sorted(name for name in dir(PluginManager().hook) if not name.startswith("_"))


HOOKS = hook_names()


def test_hooks_are_found() -> None:
    assert {"register_routes", "app_context", "identify", "authorize", "kernel_started", "session_changed"} <= set(
        HOOKS
    )


@pytest.mark.parametrize("name", HOOKS)
def test_hookspec_docstring_is_complete(name: str) -> None:
    spec = getattr(hookspecs, name)
    doc = inspect.getdoc(spec)
    assert doc, f"hookspec {name} has no docstring"
    summary = doc.splitlines()[0]
    assert summary.endswith("."), f"{name}: the first line should be a one-sentence summary"
    for arg in inspect.signature(spec).parameters:
        assert f":param {arg}:" in doc, f"hookspec {name} does not document its argument {arg!r}"
    assert re.search(r"^\.\. versionadded:: \d+\.\d+", doc, re.MULTILINE), f"hookspec {name} lacks '.. versionadded::'"
    returns = inspect.signature(spec).return_annotation
    if returns not in ("None", None):
        assert ":returns:" in doc, f"hookspec {name} does not say what to return"


def suite_files() -> list[Path]:
    """Every test module of every package and of the root ``tests/``."""
    return sorted([*REPO.glob("packages/*/tests/**/test_*.py"), *REPO.glob("tests/**/test_*.py")])


def hooks_with_tests() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    pattern = re.compile(r"^\s*(?:async\s+)?def\s+test_hook_(\w+)\s*\(", re.MULTILINE)
    for path in suite_files():
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(path)
    return found


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name: str) -> None:
    tests = hooks_with_tests()
    assert name in tests, f"no function named test_hook_{name} in {REPO.name}'s test suites"


def test_checker_finds_tests_by_name() -> None:
    tests = hooks_with_tests()
    assert Path(__file__).with_name("test_plugins.py") in tests["register_routes"]
    assert "nonexistent_hook" not in tests
