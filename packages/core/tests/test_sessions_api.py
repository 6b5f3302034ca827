"""``/api/sessions``: jupyter_server's status-code matrix, and SQLite persistence."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from jupyter_core_server.pytest_plugin import start_kernel

NOTEBOOK = {"path": "work/analysis.ipynb", "type": "notebook", "name": "analysis.ipynb", "kernel": {"name": "python3"}}


async def create(client, body: dict) -> tuple[int, dict]:
    async with client.post("api/sessions", json=body) as response:
        return response.status, await response.json()


async def kernel_ids(client) -> set[str]:
    async with client.get("api/kernels") as response:
        return {k["id"] for k in await response.json()}


async def test_create_returns_201_location_and_kernel_model(jcs_client) -> None:
    async with jcs_client.post("api/sessions", json=NOTEBOOK) as response:
        assert response.status == 201
        model = await response.json()
        assert response.headers["Location"] == f"/api/sessions/{model['id']}"
    assert model["path"] == "work/analysis.ipynb" and model["name"] == "analysis.ipynb" and model["type"] == "notebook"
    assert model["notebook"] == {"path": "work/analysis.ipynb", "name": "analysis.ipynb"}
    kernel = model["kernel"]
    assert {"id", "name", "last_activity", "execution_state", "connections"} <= set(kernel)
    assert kernel["name"] == "python3"
    assert await kernel_ids(jcs_client) == {kernel["id"]}

    # the same path again: the existing session, no new kernel
    status, again = await create(jcs_client, NOTEBOOK)
    assert status == 201 and again["id"] == model["id"] and again["kernel"]["id"] == kernel["id"]
    assert await kernel_ids(jcs_client) == {kernel["id"]}

    async with jcs_client.get("api/sessions") as response:
        assert [s["id"] for s in await response.json()] == [model["id"]]
    async with jcs_client.get(f"api/sessions/{model['id']}") as response:
        assert response.status == 200
        assert (await response.json())["kernel"]["id"] == kernel["id"]


async def test_create_attaching_an_existing_kernel(jcs_client) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    status, model = await create(
        jcs_client, {"path": "console-1", "type": "console", "name": "", "kernel": {"id": kernel_id}}
    )
    assert status == 201 and model["kernel"]["id"] == kernel_id
    assert "notebook" not in model
    assert await kernel_ids(jcs_client) == {kernel_id}


async def test_unknown_kernel_name_is_501_with_short_message(jcs_client) -> None:
    status, body = await create(jcs_client, {**NOTEBOOK, "kernel": {"name": "no-such-kernel"}})
    assert status == 501
    assert "no-such-kernel" in body["message"] and "not available" in body["message"]
    assert body["short_message"] == "no-such-kernel not found"
    async with jcs_client.get("api/sessions") as response:
        assert await response.json() == []


@pytest.mark.parametrize(
    "body, reason",
    [
        ('{"type": "notebook", "kernel": {"name": "python3"}}', "missing_path"),
        ('{"path": 3, "kernel": {"name": "python3"}}', "missing_path"),
        ("{not json", "invalid_json"),
        ("", "missing_body"),
        ("[]", "invalid_body"),
        ('{"path": "a", "kernel": "python3"}', "invalid_kernel"),
    ],
)
async def test_bad_create_requests_are_400(jcs_client, body: str, reason: str) -> None:
    async with jcs_client.post("api/sessions", data=body, headers={"Content-Type": "application/json"}) as response:
        assert response.status == 400
        assert (await response.json())["reason"] == reason
    assert await kernel_ids(jcs_client) == set()


@pytest.mark.parametrize("field", ["path", "name", "type"])
async def test_nul_in_a_field_is_400(jcs_client, field: str) -> None:
    status, body = await create(jcs_client, {**NOTEBOOK, field: "a\x00b.ipynb"})
    assert status == 400, body
    assert body["reason"] == ("invalid_path" if field == "path" else "invalid_body")
    assert await kernel_ids(jcs_client) == set()

    _, model = await create(jcs_client, NOTEBOOK)
    for changes in ({field: "x\x00.ipynb"}, {field: "\x00", "kernel": {"name": "python3"}}):
        async with jcs_client.patch(f"api/sessions/{model['id']}", json=changes) as response:
            assert response.status == 400, await response.text()
    async with jcs_client.get(f"api/sessions/{model['id']}") as response:
        current = await response.json()
    assert (current["path"], current["name"], current["type"]) == (NOTEBOOK["path"], NOTEBOOK["name"], NOTEBOOK["type"])
    assert await kernel_ids(jcs_client) == {model["kernel"]["id"]}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_unknown_session_is_404(jcs_client, method: str) -> None:
    kwargs = {"json": {"name": "x"}} if method == "PATCH" else {}
    async with jcs_client.request(method, f"api/sessions/{uuid.uuid4()}", **kwargs) as response:
        assert response.status == 404
        assert (await response.json())["reason"] == "no_such_session"


async def test_patch_path_name_type_and_kernel(jcs_client) -> None:
    _, model = await create(jcs_client, NOTEBOOK)
    session_url = f"api/sessions/{model['id']}"
    old_kernel = model["kernel"]["id"]

    async with jcs_client.patch(
        session_url, json={"path": "work/renamed.ipynb", "name": "renamed.ipynb", "type": "notebook"}
    ) as response:
        assert response.status == 200
        patched = await response.json()
    assert (patched["path"], patched["name"]) == ("work/renamed.ipynb", "renamed.ipynb")
    assert patched["kernel"]["id"] == old_kernel
    async with jcs_client.patch(session_url, json={"type": "file"}) as response:
        assert (await response.json())["type"] == "file"

    # swapping by name starts a new kernel and shuts the old one down
    async with jcs_client.patch(session_url, json={"kernel": {"name": "python3"}}) as response:
        assert response.status == 200
        new_kernel = (await response.json())["kernel"]["id"]
    assert new_kernel != old_kernel
    assert await kernel_ids(jcs_client) == {new_kernel}

    # swapping to an existing kernel by id
    other = await start_kernel(jcs_client, name="python3")
    async with jcs_client.patch(session_url, json={"kernel": {"id": other}}) as response:
        assert response.status == 200
        assert (await response.json())["kernel"]["id"] == other
    assert await kernel_ids(jcs_client) == {other}

    # an unknown kernel id is a bad request and changes nothing
    async with jcs_client.patch(session_url, json={"kernel": {"id": str(uuid.uuid4())}}) as response:
        assert response.status == 400
    async with jcs_client.patch(session_url, json={"kernel": {"name": "no-such-kernel"}}) as response:
        assert response.status == 501
    async with jcs_client.patch(session_url, json={"path": 3}) as response:
        assert response.status == 400
    async with jcs_client.patch(
        session_url, data="{not json", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
    async with jcs_client.get(session_url) as response:
        current = await response.json()
    assert current["kernel"]["id"] == other and current["path"] == "work/renamed.ipynb"


async def test_delete_shuts_the_kernel_down(jcs_client) -> None:
    _, model = await create(jcs_client, NOTEBOOK)
    async with jcs_client.delete(f"api/sessions/{model['id']}") as response:
        assert response.status == 204
    assert await kernel_ids(jcs_client) == set()
    async with jcs_client.get(f"api/sessions/{model['id']}") as response:
        assert response.status == 404


async def test_delete_after_the_kernel_was_deleted_is_410(jcs_client) -> None:
    _, model = await create(jcs_client, NOTEBOOK)
    async with jcs_client.delete(f"api/kernels/{model['kernel']['id']}") as response:
        assert response.status == 204
    async with jcs_client.delete(f"api/sessions/{model['id']}") as response:
        assert response.status == 410
        assert "message" in await response.json()
    async with jcs_client.get("api/sessions") as response:
        assert await response.json() == []


@pytest.fixture
def database(jcs_config, tmp_path: Path) -> Path:
    """A session database file; request it before ``jcs_client`` so the server uses it."""
    path = tmp_path / "sessions.db"
    jcs_config.SessionManager.database_filepath = str(path)
    return path


def rows(database: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(database) as db:
        return list(db.execute("SELECT session_id, path, name, type, kernel_id FROM session"))


async def test_sessions_persist_to_a_sqlite_file(database: Path, jcs_client) -> None:
    _, model = await create(jcs_client, NOTEBOOK)
    assert rows(database) == [(model["id"], "work/analysis.ipynb", "analysis.ipynb", "notebook", model["kernel"]["id"])]
    async with jcs_client.patch(f"api/sessions/{model['id']}", json={"path": "moved.ipynb"}) as response:
        assert response.status == 200
    assert rows(database)[0][1] == "moved.ipynb"
    async with jcs_client.delete(f"api/sessions/{model['id']}") as response:
        assert response.status == 204
    assert rows(database) == []
