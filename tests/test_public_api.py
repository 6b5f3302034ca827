"""The public plugin API: plugins import only the core's top-level package, and it is all documented.

The top-level ``jupyter_core_server`` package (and ``jupyter_core_server.pytest_plugin``
for tests) is what follows semantic versioning; every other core module may change in
any release. A plugin that needs another plugin imports only that plugin's top-level
package, whose ``__all__`` says what it offers.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import jupyter_core_server
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = "jupyter_core_server"
PUBLIC_CORE_MODULES = frozenset({CORE, f"{CORE}.pytest_plugin"})
API_PAGE = ROOT / "docs" / "plugins" / "api.md"


def plugin_sources() -> dict[str, list[Path]]:
    """The source files of every plugin package in this repository, by top-level package name."""
    found: dict[str, list[Path]] = {}
    for src in sorted((ROOT / "packages").glob("*/src")):
        for package in sorted(p for p in src.iterdir() if (p / "__init__.py").is_file()):
            if package.name != CORE:
                found[package.name] = sorted(package.rglob("*.py"))
    return found


PLUGINS = plugin_sources()


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """Every absolute import in ``path`` (also inside functions and ``TYPE_CHECKING``): line, module, names."""
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def exported(package: str) -> set[str]:
    return set(importlib.import_module(package).__all__)


def violations(package: str, path: Path) -> list[str]:
    """What ``path``, a file of plugin ``package``, imports from the core or other plugins beyond their public API."""
    found = []
    where = path.relative_to(ROOT)
    for line, module, names in imports(path):
        top = module.split(".")[0]
        if top == package or (top != CORE and top not in PLUGINS):
            continue  # its own modules, or a third-party one
        if top == CORE:
            if module not in PUBLIC_CORE_MODULES:
                found.append(f"{where}:{line} imports the core's private module {module}")
                continue
        elif module != top:
            found.append(f"{where}:{line} imports {module}, a submodule of another plugin")
            continue
        for name in sorted(set(names) - exported(module) - {"*"}):
            found.append(f"{where}:{line} imports {name} from {module}, which does not export it")
    return found


def test_the_repository_has_plugin_sources_to_check() -> None:
    assert {"jupyter_core_server_contents", "jupyter_core_server_frontend", "jupyter_core_server_hub"} <= set(PLUGINS)
    assert all(PLUGINS.values())


@pytest.mark.parametrize("package", sorted(PLUGINS))
def test_plugins_import_only_public_names(package: str) -> None:
    found = [problem for path in PLUGINS[package] for problem in violations(package, path)]
    assert not found, "\n".join(found)


def test_the_check_catches_each_kind_of_private_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from jupyter_core_server import hookimpl, keys\n"
        "from jupyter_core_server.pytest_plugin import run_server\n"
        "import aiohttp\n"
        "from .config import Frontend\n"
        "from jupyter_core_server_frontend.config import Frontend\n"  # its own package
        "from jupyter_core_server.keys import SERVER\n"
        "import jupyter_core_server.app\n"
        "from jupyter_core_server import app\n"
        "if TYPE_CHECKING:\n"
        "    from jupyter_core_server.app import CoreServerApp\n"
        "def later():\n"
        "    from jupyter_core_server_contents.keys import CONTENTS\n"
        "    from jupyter_core_server_contents import CONTENTS, manager\n"
    )
    found = violations("jupyter_core_server_frontend", source)
    assert [problem.split(" ", 1)[0] for problem in found] == [
        "mod.py:7",
        "mod.py:8",
        "mod.py:9",
        "mod.py:11",
        "mod.py:13",
        "mod.py:14",
    ]
    assert "private module jupyter_core_server.keys" in found[0]
    assert "imports app from jupyter_core_server" in found[2]
    assert "submodule of another plugin" in found[4]
    assert "imports manager from jupyter_core_server_contents" in found[5]


@pytest.mark.parametrize("name", sorted(jupyter_core_server.__all__))
def test_every_public_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {CORE} import {name}", namespace)  # noqa: S102 - the statement a plugin writes
    assert namespace[name] is getattr(jupyter_core_server, name)
    assert name in dir(jupyter_core_server)


def documented_names(page: Path = API_PAGE) -> set[str]:
    """The names the Plugin API page documents: ``.. auto*::`` and ``.. py:*::`` directives
    for ``jupyter_core_server.X``."""
    pattern = re.compile(rf"^\.\. (?:auto|py:)\w+:: {CORE}\.(\w+)\s*$", re.MULTILINE)
    return set(pattern.findall(page.read_text(encoding="utf-8")))


def test_every_public_name_is_documented_on_the_api_page() -> None:
    names = set(jupyter_core_server.__all__) - {"__version__"}
    assert not names - documented_names(), f"not on {API_PAGE.relative_to(ROOT)}: {sorted(names - documented_names())}"
    assert not documented_names() - names, "the page documents names the package does not export"
    assert "__version__" in API_PAGE.read_text(encoding="utf-8")


def test_importing_the_package_leaves_the_heavy_modules_for_later() -> None:
    # The import every plugin does at start-up: aiohttp and pluggy, not the whole server.
    probe = (
        "import sys, jupyter_core_server\n"
        "heavy = ['traitlets', 'jupyter_core', 'jupyter_client', 'yaml', "
        "'jupyter_core_server.app', 'jupyter_core_server.auth']\n"
        "print(' '.join(name for name in heavy if name in sys.modules))\n"
        "jupyter_core_server.CoreServerApp, jupyter_core_server.Identity, jupyter_core_server.SessionModel\n"
        "print('jupyter_core_server.app' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0 and out.stdout.splitlines() == ["", "True"], out.stdout + out.stderr


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'CoreServerAp'"):
        jupyter_core_server.CoreServerAp  # noqa: B018
    with pytest.raises(ImportError):
        exec(f"from {CORE} import hookimpls")  # noqa: S102
