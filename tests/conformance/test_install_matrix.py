"""What is installed is what is served: the install matrix's own check.

``nox -s install-matrix`` installs the core alone, then the core with each plugin package
(and the plugins it declares), and runs this folder each time with
``JCS_EXPECT_DISTRIBUTIONS`` naming the plugin distributions that must be installed, so
that "core alone" is really alone. Here a real ``jupyter-core-server`` process (entry
points as installed, not strict) is asked which plugins it runs, which routes it
documents, whether plugin paths of absent plugins are JSON 404s, and whether a kernel
and a session work.
"""

from __future__ import annotations

import json
import os
import urllib.request

from importlib_metadata import entry_points
from jupyter_core_server.plugins import ENTRY_POINT_GROUP
from jupyter_core_server.pytest_plugin import CliServer

# Standard paths of the plugins this repository ships, by entry-point name.
PLUGIN_PATHS = {
    "contents": ["/api/contents/{path}", "/files/{path}"],
    "terminals": ["/api/terminals", "/terminals/websocket/{name}"],
    "nbconvert": ["/api/nbconvert", "/nbconvert/{format}"],
}
CORE_PATHS = [
    "/api",
    "/api/status",
    "/api/kernels",
    "/api/kernels/{kernel_id}/channels",
    "/api/kernelspecs",
    "/api/sessions",
    "/api/spec.yaml",
]


def installed_plugins() -> dict[str, str]:
    """Entry-point name -> distribution name, for every installed plugin outside the core."""
    found = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        distribution = point.dist.name if point.dist is not None else ""
        if distribution.replace("_", "-") != "jupyter-core-server":
            found[point.name] = distribution.replace("_", "-")
    return found


def test_installed_plugins_are_the_expected_ones() -> None:
    expected = os.environ.get("JCS_EXPECT_DISTRIBUTIONS")
    if expected is None:
        return  # outside the matrix session: whatever is installed is fine, the other tests check it
    wanted = {name.strip() for name in expected.split(",") if name.strip()}
    assert set(installed_plugins().values()) == wanted


def test_served_plugins_and_routes_match_the_install(jcs_cli_server: CliServer) -> None:
    server = jcs_cli_server()
    status, body = server.get("api/plugins", server.token)
    assert status == 200
    records = {record["name"]: record for record in json.loads(body)}
    installed = installed_plugins()
    for name in installed:
        assert name in records, (name, sorted(records))
    for name in ("api", "kernels", "kernelspecs", "sessions"):
        assert name in records

    status, body = server.get("api/spec.json", server.token)
    assert status == 200
    documented = set(json.loads(body)["paths"])
    assert set(CORE_PATHS) <= documented
    for plugin, paths in PLUGIN_PATHS.items():
        if plugin in installed:
            assert set(paths) <= documented, (plugin, sorted(documented))
        else:
            assert not set(paths) & documented, (plugin, sorted(documented))
            concrete = paths[0].replace("{path}", "x.txt").replace("{format}", "html").lstrip("/")
            status, body = server.get(concrete, server.token)
            assert status == 404 and json.loads(body)["message"], (concrete, status, body)
            assert server.get(concrete)[0] == 403  # absent or not, nothing answers without the token


def test_kernel_and_session_work_in_every_install(jcs_cli_server: CliServer) -> None:
    server = jcs_cli_server()
    headers = {"Authorization": f"token {server.token}", "Content-Type": "application/json"}
    body = json.dumps(
        {"path": "work/notebook.ipynb", "type": "notebook", "name": "", "kernel": {"name": "python3"}}
    ).encode()
    request = urllib.request.Request(server.url + "api/sessions", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 201
        session = json.loads(response.read())
    assert session["path"] == "work/notebook.ipynb" and session["kernel"]["name"] == "python3"
    request = urllib.request.Request(server.url + f"api/sessions/{session['id']}", headers=headers, method="DELETE")
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 204
    status, body = server.get("api/kernels", server.token)
    assert status == 200 and session["kernel"]["id"] not in [k["id"] for k in json.loads(body)]
