"""The nbconvert plugin's tests run real conversions in real servers on 127.0.0.1.

Servers load the core's built-in plugins, ``contents`` and this one (``jcs_enabled_plugins``);
any other plugin installed in the environment is disabled, so that its failure cannot fail
these tests.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import v4

pytest_plugins = ["jupyter_core_server.pytest_plugin"]

#: A 1x1 PNG, small enough to read in a test failure.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()


@pytest.fixture
def jcs_enabled_plugins() -> set[str]:
    """The built-in plugins, ``contents`` and ``nbconvert``."""
    return {"contents", "nbconvert"}


def sample_notebook() -> dict[str, Any]:
    """Markdown, code with a text output, a PNG image output and an error output."""
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "file_extension": ".py", "mimetype": "text/x-python"}
    nb.cells = [
        v4.new_markdown_cell("# A title\n\nSome *markdown* text."),
        v4.new_code_cell(
            "print('hello from the notebook')", outputs=[v4.new_output("stream", name="stdout", text="hello\n")]
        ),
        v4.new_code_cell(
            "show_the_image()",
            outputs=[v4.new_output("display_data", data={"image/png": PNG_B64, "text/plain": "<Figure>"})],
        ),
        v4.new_code_cell(
            "1 / 0",
            outputs=[
                v4.new_output(
                    "error",
                    ename="ZeroDivisionError",
                    evalue="division by zero",
                    traceback=["ZeroDivisionError: division by zero"],
                )
            ],
        ),
    ]
    nbformat.validate(nb)
    return json.loads(nbformat.writes(nb))


#: A cell a browser would run if it rendered the script export as a document.
HOSTILE_SOURCE = "<script>document.title = 'ran in ' + document.domain</script><svg onload=\"alert(1)\"/>"


def script_notebook(mimetype: str, file_extension: str = ".txt", source: str = HOSTILE_SOURCE) -> dict[str, Any]:
    """A notebook in a language nbconvert has no exporter for, declaring ``mimetype``.

    The ``script`` exporter then takes its output type and file extension from the
    notebook's ``language_info`` and writes the cell sources as they are.
    """
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "hostile", "display_name": "Hostile", "language": "hostile"}
    nb.metadata["language_info"] = {"name": "hostile", "file_extension": file_extension, "mimetype": mimetype}
    nb.cells = [v4.new_code_cell(source)]
    nbformat.validate(nb)
    return json.loads(nbformat.writes(nb))


@pytest.fixture
def root(jcs_config: Any, tmp_path: Path) -> Path:
    """The contents root, with ``sample.ipynb`` in it."""
    jcs_config.NotebookNotary.data_dir = str(tmp_path / "notary")  # the signing key stays in the test's folder
    path = Path(jcs_config.CoreServerApp.root_dir)
    (path / "sample.ipynb").write_text(json.dumps(sample_notebook()))
    return path
