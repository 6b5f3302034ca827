"""Schema fuzzing with schemathesis: the server's own spec, and jupyter_server's for what we share.

Both runs start a real ``jupyter-core-server`` (every installed plugin) and run the
schemathesis command line against it with the token, a fixed seed and a bounded number
of examples per operation (``JCS_FUZZ_EXAMPLES``, default 10), so a run takes a minute
or two. ``POST /api/shutdown`` is left out: it would end the run.

- Our own ``/api/spec.yaml``: no 5xx, every status code, content type, header and body
  as documented.
- jupyter_server's published REST spec (shipped inside its wheel), cut down to the
  operations both servers have: no 5xx, and every response body that spec describes
  has the shape it describes. Status-code conformance is not asked of that spec: it
  documents almost no error codes, so jupyter_server itself would fail it.

Needs schemathesis (and jupyter_server for the second run); ``nox -s fuzz`` installs
them. Without them the tests skip, unless ``JCS_REQUIRE_FUZZ=1`` makes that a failure.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jupyter_core_server.pytest_plugin import CliServer, ServerProcess

ST = Path(sys.executable).with_name("st")
EXAMPLES = int(os.environ.get("JCS_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("JCS_FUZZ_SEED", "1")
METHODS = ("get", "put", "post", "patch", "delete")
OWN_CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]
SHARED_CHECKS = ["not_a_server_error", "response_schema_conformance"]
JUPYTER_SERVER_NULLS = {
    "Contents": ("content", "format", "mimetype", "size", "hash", "hash_algorithm"),
    "Identity": ("avatar_url", "color"),
}


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("JCS_REQUIRE_FUZZ"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def schemathesis_cli() -> Path:
    require(ST.exists(), "schemathesis is not installed in this environment (nox -s fuzz installs it)")
    return ST


@pytest.fixture
def server(jcs_cli_server: CliServer) -> ServerProcess:
    return jcs_cli_server()


def served_spec(server: ServerProcess) -> dict[str, Any]:
    status, body = server.get("api/spec.yaml", server.token)
    assert status == 200
    spec: dict[str, Any] = yaml.safe_load(body)
    return spec


def fuzz(st: Path, spec: dict[str, Any], server: ServerProcess, checks: list[str], tmp_path: Path, *extra: str) -> None:
    """Run schemathesis on ``spec`` against ``server``; fail with its report when it finds anything."""
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    config_file = tmp_path / "schemathesis.toml"
    # 501 is Jupyter's documented answer for a kernel name that is not installed; every
    # other 5xx is a failure, and status_code_conformance still catches an undocumented 501.
    config_file.write_text('[checks.not_a_server_error]\nexpected-statuses = ["2xx", "3xx", "4xx", "501"]\n')
    command = [
        str(st), "--config-file", str(config_file), "run", str(spec_file),
        "--url", server.url.rstrip("/"),
        "--header", f"Authorization: token {server.token}",
        "--checks", ",".join(checks),
        "--max-examples", str(EXAMPLES),
        "--seed", SEED,
        "--workers", "1",
        "--request-timeout", "60",
        "--exclude-path", "/api/shutdown",
        "--generation-database", "none",
        "--no-color",
        *extra,
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path, env=env, check=False)
    report = result.stdout[-20000:] + result.stderr[-3000:]
    assert result.returncode == 0, report + "\n--- server log ---\n" + server.stderr[-5000:]
    assert "Tested:" in result.stdout, report
    # The token stays out of the server's log even under a fuzzer's requests (the
    # start-up banner prints it once, by design, for the user to copy).
    banner = server.stdout
    server.stop()
    assert server.token not in server.stderr
    assert server.stdout.count(server.token) == banner.count(server.token)


@pytest.mark.timeout(1200)
def test_own_spec(schemathesis_cli: Path, server: ServerProcess, tmp_path: Path) -> None:
    spec = served_spec(server)
    # schemathesis decodes a YAML body before validating it, so the string schema of
    # the YAML document itself can never match; its JSON twin is validated instead.
    spec["paths"]["/api/spec.yaml"]["get"]["responses"]["200"]["content"]["application/yaml"].pop("schema", None)
    fuzz(schemathesis_cli, spec, server, OWN_CHECKS, tmp_path)


def normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def shared_operations(theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """jupyter_server's spec with only the operations our server also documents."""
    our_operations = {
        (normalise(path), method) for path, item in ours["paths"].items() for method in item if method in METHODS
    }
    spec = copy.deepcopy(theirs)
    spec["paths"] = {}
    for path, item in theirs["paths"].items():
        operations = {m: op for m, op in item.items() if m in METHODS and (normalise(path), m) in our_operations}
        if operations and path != "/api/spec.yaml":  # a document, not a JSON model
            spec["paths"][path] = {**{k: v for k, v in item.items() if k not in METHODS}, **operations}
    # jupyter_server itself answers null for these fields (its contents manager and
    # identity provider set them to None, as the descriptions say); the types in its
    # spec do not allow null, so they are marked nullable here.
    for definition, names in JUPYTER_SERVER_NULLS.items():
        for name in names:
            spec["definitions"][definition]["properties"][name]["x-nullable"] = True
    return spec


@pytest.fixture
def jupyter_server_spec() -> dict[str, Any]:
    try:
        from importlib.resources import files

        text = files("jupyter_server.services.api").joinpath("api.yaml").read_text()
    except (ImportError, FileNotFoundError):
        require(False, "jupyter_server is not installed: its api.yaml is read from the installed package")
    spec: dict[str, Any] = yaml.safe_load(text)
    return spec


@pytest.mark.timeout(1200)
def test_jupyter_server_spec_for_shared_operations(
    schemathesis_cli: Path, server: ServerProcess, jupyter_server_spec: dict[str, Any], tmp_path: Path
) -> None:
    spec = shared_operations(jupyter_server_spec, served_spec(server))
    shared = {(path, method) for path, item in spec["paths"].items() for method in item if method in METHODS}
    # The core's operations are always shared; the plugins' when they are installed.
    assert {
        ("/api/kernels", "post"),
        ("/api/sessions", "get"),
        ("/api/kernelspecs", "get"),
        ("/api/status", "get"),
    } <= shared
    fuzz(schemathesis_cli, spec, server, SHARED_CHECKS, tmp_path)


def test_duplicate_kernel_id_status_is_documented(server: ServerProcess) -> None:
    responses = served_spec(server)["paths"]["/api/kernels"]["post"]["responses"]
    assert "409" in responses


def test_patch_session_unknown_kernel_status_is_documented(server: ServerProcess) -> None:
    responses = served_spec(server)["paths"]["/api/sessions/{session_id}"]["patch"]["responses"]
    assert "501" in responses


def test_events_websocket_plain_get_status_is_documented(server: ServerProcess) -> None:
    paths = served_spec(server)["paths"]
    if "/api/events/subscribe" not in paths:
        pytest.skip("the frontend plugin is not installed")
    assert "400" in paths["/api/events/subscribe"]["get"]["responses"]
