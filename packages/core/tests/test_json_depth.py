"""JSON nested too deeply: a 400 for a body, a dropped frame on a websocket, never a 500.

Python's decoder recurses once per array or object; past the interpreter's recursion
limit it raises ``RecursionError``, which no handler expects. Bodies and frames deeper
than :data:`jupyter_core_server.errors.MAX_JSON_DEPTH` are refused before decoding.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web

from jupyter_core_server import errors, hookimpl
from jupyter_core_server.errors import read_json
from jupyter_core_server.pytest_plugin import (
    KERNEL_FRAMINGS,
    KernelChannels,
    encode_legacy_binary,
    encode_v1,
    open_kernel_channels,
    start_kernel,
)


def deep_array(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


DEEP = {"array-1000": deep_array(1000), "object-1000": deep_object(1000), "array-100000": deep_array(100_000)}


class Echo:
    """``POST /extension/api/depth/echo`` answers with the body ``read_json`` decoded."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def echo(request: web.Request) -> web.Response:
            return web.json_response({"got": await read_json(request)})

        return [web.post("/extension/api/depth/echo", echo)]


@pytest.fixture
def echo(jcs_register_plugin) -> None:
    jcs_register_plugin(Echo(), "depth")


async def assert_too_deep(response: aiohttp.ClientResponse) -> None:
    text = await response.text()
    assert response.status == 400, text[:300]
    assert response.content_type == "application/json"
    body = json.loads(text)
    assert body["reason"] == "json_too_deep", body
    assert str(errors.MAX_JSON_DEPTH) in body["message"]


# -- HTTP bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", DEEP.values(), ids=DEEP.keys())
async def test_deep_bodies_are_400_on_core_routes(jcs_client, body: bytes) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with jcs_client.post(
        "api/sessions", json={"path": "a.ipynb", "type": "notebook", "kernel": {"id": kernel_id}}
    ) as response:
        session_id = (await response.json())["id"]
    headers = {"Content-Type": "application/json"}
    for method, path in [("POST", "api/kernels"), ("POST", "api/sessions"), ("PATCH", f"api/sessions/{session_id}")]:
        async with jcs_client.request(method, path, data=body, headers=headers) as response:
            await assert_too_deep(response)
    async with jcs_client.get("api/kernels") as response:
        assert [k["id"] for k in await response.json()] == [kernel_id]


async def test_deep_permissions_query_is_400(jcs_client) -> None:
    async with jcs_client.get("api/me", params={"permissions": deep_array(1000).decode()}) as response:
        await assert_too_deep(response)


@pytest.mark.usefixtures("echo")
async def test_depth_limit_is_exact_and_strings_do_not_count(jcs_client) -> None:
    limit = errors.MAX_JSON_DEPTH
    headers = {"Content-Type": "application/json"}
    for body in (deep_array(limit), deep_object(limit)):
        async with jcs_client.post("extension/api/depth/echo", data=body, headers=headers) as response:
            assert response.status == 200, await response.text()
            assert await response.json() == {"got": json.loads(body)}
    for body in (deep_array(limit + 1), deep_object(limit + 1)):
        async with jcs_client.post("extension/api/depth/echo", data=body, headers=headers) as response:
            await assert_too_deep(response)
    # brackets inside strings (code, escaped quotes) are no nesting, however many
    tricky = {"code": "[" * 5000 + '\\"{' * 3000, 'k"[': ["]" * 10, {"x": "{{{"}]}
    async with jcs_client.post("extension/api/depth/echo", json=tricky) as response:
        assert response.status == 200
        assert await response.json() == {"got": tricky}


def test_loads_json() -> None:
    limit = errors.MAX_JSON_DEPTH
    assert errors.loads_json(deep_array(limit)) == json.loads(deep_array(limit))
    assert errors.loads_json(deep_array(limit).decode()) == json.loads(deep_array(limit))
    for raw in (deep_array(limit + 1), deep_array(limit + 1).decode(), deep_array(10**6)):
        with pytest.raises(errors.BadRequest) as refused:
            errors.loads_json(raw)
        assert refused.value.reason == "json_too_deep"
    # the other encodings json.loads accepts for bytes are scanned as text, not bytes
    tricky = ["\u2222\u2200", deep_array(limit - 2).decode()]
    for encoding in ("utf-8", "utf-16", "utf-16-le", "utf-32"):
        nested = ("[" * (limit + 1) + "]" * (limit + 1)).encode(encoding)
        with pytest.raises(errors.BadRequest):
            errors.loads_json(nested)
        hidden = ('["\u2222\u2200", ' + "[" * (limit + 1) + "]" * (limit + 1) + "]").encode(encoding)
        with pytest.raises(errors.BadRequest):
            errors.loads_json(hidden)
        assert errors.loads_json(json.dumps(tricky).encode(encoding)) == tricky
    for raw in (b"{not json", b"\xff\xfe\xfd", b""):
        with pytest.raises(errors.BadRequest) as refused:
            errors.loads_json(raw)
        assert refused.value.reason == "invalid_json"


# -- the kernel websocket --------------------------------------------------------------------


async def kernel_info(kc: KernelChannels) -> None:
    reply = await kc.request("kernel_info_request")
    assert reply.reply.content["status"] == "ok"


def hostile_frames(kc: KernelChannels, depth: int) -> list[str | bytes]:
    """Kernel messages with one part nested ``depth`` deep, in the connection's framing."""
    msg = kc.build("shell", "kernel_info_request", {})
    pack = kc.session.pack
    parts = [pack(msg[k]) for k in ("header", "parent_header", "metadata", "content")]
    deep = deep_object(depth)
    if kc.framing == "v1":
        return [encode_v1("shell", [*parts[:i], deep, *parts[i + 1 :]]) for i in range(4)]
    envelopes = [
        b'{"header":' + deep + b',"channel":"shell"}',
        b'{"header":' + parts[0] + b',"parent_header":{},"metadata":{},"content":' + deep + b',"channel":"shell"}',
        deep_array(depth),
    ]
    # as JSON text frames, and as legacy binary frames (with a buffer)
    return [envelope.decode() for envelope in envelopes] + [encode_legacy_binary(e, [b"buffer"]) for e in envelopes]


@pytest.mark.parametrize("framing", KERNEL_FRAMINGS)
@pytest.mark.parametrize("depth", [1000, 100_000])
async def test_deep_kernel_frames_are_dropped_and_the_connection_lives_on(jcs_client, framing: str, depth: int) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    async with open_kernel_channels(jcs_client, kernel_id, framing) as kc:
        await kernel_info(kc)
        for frame in hostile_frames(kc, depth):
            if isinstance(frame, str):
                await kc.ws.send_str(frame)
            else:
                await kc.ws.send_bytes(frame)
            await kernel_info(kc)  # the same connection still works after each one
        assert not kc.closed
    async with jcs_client.get(f"api/kernels/{kernel_id}") as response:
        assert response.status == 200


@pytest.mark.parametrize("framing", KERNEL_FRAMINGS)
async def test_kernel_frames_at_the_limit_still_go_through(jcs_client, framing: str) -> None:
    kernel_id = await start_kernel(jcs_client, name="python3")
    # the legacy envelope, content, then the array: exactly the limit (one less in v1, which has no envelope)
    nested = json.loads(deep_array(errors.MAX_JSON_DEPTH - 2))
    code = "print(len('" + "[{" * 2000 + "'))"  # many brackets, all inside a string
    async with open_kernel_channels(jcs_client, kernel_id, framing) as kc:
        reply = await kc.execute(code, nested=nested)
        assert reply.reply.content["status"] == "ok"
        assert reply.stream() == "4000\n"


# -- an error after a websocket was prepared ---------------------------------------------------


class Failing:
    """A websocket that fails with an unexpected exception when it receives ``boom``."""

    @hookimpl
    def register_routes(self) -> Sequence[web.RouteDef]:
        async def failing(request: web.Request) -> web.WebSocketResponse:
            ws = web.WebSocketResponse()
            await ws.prepare(request)
            async for message in ws:
                if message.data == "boom":
                    raise RuntimeError("secret internal detail")
                await ws.send_str(message.data)
            return ws

        return [web.get("/extension/api/failing/ws", failing)]


@pytest.fixture
def failing(jcs_register_plugin) -> None:
    jcs_register_plugin(Failing(), "failing")


@pytest.mark.usefixtures("failing")
async def test_an_error_in_a_prepared_websocket_closes_it_with_1011(jcs_client) -> None:
    async with jcs_client.ws_connect("extension/api/failing/ws") as ws:
        await ws.send_str("ping")
        assert (await ws.receive(timeout=10)).data == "ping"
        await ws.send_str("boom")
        frame = await ws.receive(timeout=10)
        # a close frame, not the bytes of an HTTP 500 response read as a websocket frame
        assert frame.type == WSMsgType.CLOSE, frame
        assert ws.close_code == WSCloseCode.INTERNAL_ERROR
    async with jcs_client.get("api/status") as response:
        assert response.status == 200


async def test_errors_after_100_continue_are_still_json(jcs_client) -> None:
    # "100 Continue" is written before the handler runs: it is no started response.
    async with jcs_client.post(
        "api/kernels", data=deep_array(1000), headers={"Content-Type": "application/json"}, expect100=True
    ) as response:
        await assert_too_deep(response)
