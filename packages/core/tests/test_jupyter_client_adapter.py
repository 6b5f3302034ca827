"""The jupyter_client adapter: the versions it supports, and that it alone uses jupyter_client's internals."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import jupyter_client
import pytest

from jupyter_core_server.kernels import jclient

# The package's source tree next to these tests (the installed copy may live elsewhere).
PACKAGE = Path(__file__).resolve().parents[1]
SRC = PACKAGE / "src"
ADAPTER = SRC / "jupyter_core_server" / "kernels" / "jclient.py"
PYPROJECT = PACKAGE / "pyproject.toml"


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def test_the_installed_jupyter_client_is_supported() -> None:
    lowest, below = jclient.SUPPORTED
    installed = version_tuple(jupyter_client.__version__)
    assert lowest <= installed < below, f"jupyter_client {jupyter_client.__version__} is outside {jclient.SUPPORTED}"


def test_pyproject_declares_the_supported_range() -> None:
    lowest, below = jclient.SUPPORTED
    declared = re.findall(r'"jupyter_client([^"]*)"', PYPROJECT.read_text(encoding="utf-8"))
    as_text = ".".join(map(str, lowest)), ".".join(map(str, below))
    assert declared == [f">={as_text[0]},<{as_text[1]}"], declared


@pytest.mark.parametrize(
    ("qualified", "attribute"),
    [
        (qualified, attribute)
        for qualified, attributes in jclient.PRIVATE_ATTRIBUTES.items()
        for attribute in attributes
    ],
)
def test_each_private_attribute_exists_on_the_real_class(qualified: str, attribute: str) -> None:
    module, _, name = qualified.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    instance = cls()  # some are set in __init__, some are traits: look on an instance
    assert hasattr(instance, attribute), (
        f"{qualified} has no {attribute} in jupyter_client {jupyter_client.__version__}"
    )


INTERNALS = re.compile(r"\.(" + "|".join(a for attrs in jclient.PRIVATE_ATTRIBUTES.values() for a in attrs) + r")\b")


def test_only_the_adapter_touches_jupyter_client_internals() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.rglob("*.py"))
        if path != ADAPTER
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INTERNALS.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("module", ["pool.py", "persistence.py"])
def test_pool_and_persistence_use_no_private_name_of_another_object(module: str) -> None:
    """They reach the kernel service through its public launch/adopt API only."""
    source = (SRC / "jupyter_core_server" / "kernels" / module).read_text(encoding="utf-8")
    foreign = [m.group(0) for m in re.finditer(r"\b(\w+)\._\w+", source) if m.group(1) != "self"]
    assert foreign == []
