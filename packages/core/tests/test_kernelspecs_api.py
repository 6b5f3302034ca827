"""``/api/kernelspecs`` and ``/kernelspecs/{name}/{resource}``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import aiohttp
import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_spec(kernels_dir: Path, name: str, display_name: str) -> Path:
    spec_dir = kernels_dir / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return spec_dir


@pytest.fixture
def extra_kernels_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``JUPYTER_PATH`` entry holding one extra kernelspec, set before the server starts."""
    data_dir = tmp_path / "jupyter-path"
    write_spec(data_dir / "kernels", "extra", "Extra Python")
    monkeypatch.setenv("JUPYTER_PATH", str(data_dir))
    return data_dir / "kernels"


async def test_list_has_default_and_python3_with_resources(jcs_client) -> None:
    async with jcs_client.get("api/kernelspecs") as response:
        assert response.status == 200
        body = await response.json()
    assert body["default"] == "python3"
    python3 = body["kernelspecs"]["python3"]
    assert python3["name"] == "python3"
    assert python3["spec"]["language"] == "python"
    assert python3["spec"]["argv"][-2:] == ["-f", "{connection_file}"]
    assert python3["resources"]["logo-64x64"] == "/kernelspecs/python3/logo-64x64.png"
    assert python3["resources"] == {
        "logo-32x32": "/kernelspecs/python3/logo-32x32.png",
        "logo-64x64": "/kernelspecs/python3/logo-64x64.png",
        "logo-svg": "/kernelspecs/python3/logo-svg.svg",
    }

    async with jcs_client.get("api/kernelspecs/python3") as response:
        assert response.status == 200
        assert await response.json() == python3


async def test_logo_is_served_with_caching_headers(jcs_client) -> None:
    async with jcs_client.get("api/kernelspecs/python3") as response:
        logo_url = (await response.json())["resources"]["logo-64x64"]
    async with jcs_client.get(logo_url.lstrip("/")) as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert "max-age" in response.headers["Cache-Control"]
        assert (await response.read()).startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    "path",
    [
        "api/kernelspecs/no-such-spec",
        "kernelspecs/no-such-spec/logo-64x64.png",
        "kernelspecs/python3/no-such-file.png",
        "kernelspecs/python3/..%2Fpython3%2Fkernel.json",
        "kernelspecs/python3/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "kernelspecs/python3/.hidden",
        "kernelspecs/..%2Fkernels/python3",
    ],
)
async def test_unknown_specs_and_resource_traversal_are_404(jcs_server, path: str) -> None:
    # A raw URL, so that the client does not normalise the escaped slashes away.
    url = jcs_server.url + path
    headers = {"Authorization": f"token {jcs_server.token}"}
    async with aiohttp.ClientSession(headers=headers) as session, session.get(url, allow_redirects=False) as response:
        assert response.status == 404, await response.text()
        assert response.content_type == "application/json"
        assert b"root:" not in await response.read()


@pytest.mark.usefixtures("extra_kernels_dir")
async def test_spec_from_jupyter_path_is_listed(jcs_client) -> None:
    async with jcs_client.get("api/kernelspecs/extra") as response:
        assert response.status == 200
        assert (await response.json())["spec"]["display_name"] == "Extra Python"


# extra_kernels_dir comes first: JUPYTER_PATH must be set before the server starts.
async def test_installing_a_spec_while_running_shows_on_the_next_request(extra_kernels_dir: Path, jcs_client) -> None:
    async with jcs_client.get("api/kernelspecs") as response:
        assert set((await response.json())["kernelspecs"]) >= {"python3", "extra"}
    async with jcs_client.get("api/kernelspecs/later") as response:
        assert response.status == 404

    spec_dir = write_spec(extra_kernels_dir, "later", "Installed Later")
    (spec_dir / "logo-32x32.png").write_bytes(PNG_SIGNATURE + b"not really")
    (spec_dir / "kernel.js").write_text("// frontend extension\n")
    (spec_dir / "notes.txt").write_text("not a resource")

    async with jcs_client.get("api/kernelspecs") as response:
        specs = (await response.json())["kernelspecs"]
    assert specs["later"]["spec"]["display_name"] == "Installed Later"
    assert specs["later"]["resources"] == {
        "logo-32x32": "/kernelspecs/later/logo-32x32.png",
        "kernel.js": "/kernelspecs/later/kernel.js",
    }
    async with jcs_client.get("kernelspecs/later/logo-32x32.png") as response:
        assert response.status == 200
        assert await response.read() == PNG_SIGNATURE + b"not really"

    # editing a kernel.json in place shows too
    (spec_dir / "kernel.json").write_text(
        json.dumps({**json.loads((spec_dir / "kernel.json").read_text()), "display_name": "Edited"})
    )
    async with jcs_client.get("api/kernelspecs/later") as response:
        assert (await response.json())["spec"]["display_name"] == "Edited"

    # and a kernel starts from the new spec
    async with jcs_client.post("api/kernels", json={"name": "later"}) as response:
        assert response.status == 201
        assert (await response.json())["name"] == "later"
