"""The fixtures and the kernel client that ``jupyter_core_server.pytest_plugin`` publishes for plugin authors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from jupyter_core_server.pytest_plugin import (
    KERNEL_FRAMINGS,
    KernelChannels,
    KernelProtocolError,
    ServerClient,
    decode_legacy_binary,
    decode_v1,
    encode_legacy_binary,
    encode_v1,
    make_plugin_manager,
    open_kernel_channels,
)

BUILTINS = {"api", "kernelspecs", "kernels", "sessions"}

OUTPUTS = """
print("to stdout")
import sys; print("to stderr", file=sys.stderr)
from IPython.display import display, HTML
display(HTML("<b>shown</b>"))
6 * 7
"""


@pytest.fixture
def jcs_config(jcs_config, tmp_path: Path):
    """The default config, with a folder ``sub`` in the root."""
    (tmp_path / "root" / "sub").mkdir(parents=True, exist_ok=True)
    return jcs_config


@pytest_asyncio.fixture
async def no_kernels_left(jcs_client: ServerClient) -> AsyncIterator[None]:
    """Set up before ``jcs_kernel``, so torn down after it: the server then has no kernel left."""
    yield
    async with jcs_client.get("api/kernels") as response:
        assert await response.json() == []


@pytest.mark.parametrize("jcs_kernel_client", KERNEL_FRAMINGS, indirect=True)
async def test_execute_gives_outputs_and_reply(no_kernels_left: None, jcs_kernel_client: KernelChannels) -> None:
    result = await jcs_kernel_client.execute(OUTPUTS)
    assert result.status == "ok" and result.error is None
    assert result.reply.msg_type == "execute_reply"
    assert result.stream() == "to stdout\n" and result.stream("stderr") == "to stderr\n"
    assert [bundle["text/html"] for bundle in result.data if "text/html" in bundle] == ["<b>shown</b>"]
    assert result.data[-1] == {"text/plain": "42"}
    assert [m.msg_type for m in result.outputs] == ["stream", "stream", "display_data", "execute_result"]
    assert {m.frame for m in result.messages} == {"binary" if jcs_kernel_client.framing == "v1" else "text"}

    failed = await jcs_kernel_client.execute("1 / 0")
    assert failed.status == "error"
    assert failed.error is not None and failed.error["ename"] == "ZeroDivisionError"
    assert failed.error["evalue"] == "division by zero" and failed.error["traceback"]


@pytest.mark.parametrize("jcs_kernel", [{"name": "python3", "path": "sub/notebook.ipynb"}], indirect=True)
async def test_jcs_kernel_takes_the_request_body(jcs_config, jcs_client: ServerClient, jcs_kernel: str) -> None:
    async with jcs_client.get(f"api/kernels/{jcs_kernel}") as response:
        assert (await response.json())["name"] == "python3"
    async with open_kernel_channels(jcs_client, jcs_kernel, "legacy") as kc:
        cwd = (await kc.execute("import os; print(os.getcwd())")).stream().strip()
    assert Path(cwd) == (Path(jcs_config.CoreServerApp.root_dir) / "sub").resolve()


async def test_several_connections_and_a_wrong_framing(jcs_client: ServerClient, jcs_kernel: str) -> None:
    async with (
        open_kernel_channels(jcs_client, jcs_kernel, "v1") as a,
        open_kernel_channels(jcs_client, jcs_kernel) as b,
    ):
        reply = await a.execute("print('from a')")
        seen_by_b = await b.collect(reply.msg_id, done=lambda r: bool(r.of_type("stream")))
        assert seen_by_b.stream() == "from a\n"
    with pytest.raises(ValueError, match="framing"):
        KernelChannels(a.ws, "legacy-text")  # type: ignore[arg-type]


def test_framings_round_trip() -> None:
    parts = [b'{"msg_type": "x"}', b"{}", b"{}", b"{}", b"\x00buffer"]
    assert decode_v1(encode_v1("shell", parts)) == ("shell", parts)
    message = {"header": {"msg_id": "1"}, "content": {}, "buffers": ["dropped"]}
    decoded, buffers = decode_legacy_binary(encode_legacy_binary(message, [b"\x01", b""]))
    assert decoded == {"header": {"msg_id": "1"}, "content": {}} and buffers == [b"\x01", b""]
    with pytest.raises(KernelProtocolError):
        decode_v1(encode_v1("shell", parts)[:-1])
    with pytest.raises(KernelProtocolError):
        decode_legacy_binary(b"\x00\x00\x00\x05")


def test_make_plugin_manager(jcs_isolated_paths: dict[str, Path]) -> None:
    only_builtins = make_plugin_manager([])
    assert {name for name, record in only_builtins.records.items() if record.enabled} == BUILTINS
    everything = make_plugin_manager()
    installed = set(everything.records) - BUILTINS
    assert all(everything.records[name].enabled for name in installed)
    none_left = make_plugin_manager(disabled=[*installed, "not-installed"])
    assert {name for name, record in none_left.records.items() if record.enabled} == BUILTINS
    assert only_builtins.strict and not make_plugin_manager([], strict=False).strict
    with pytest.raises(ValueError, match="not installed: no-such-plugin \\("):
        make_plugin_manager(["no-such-plugin"])
    with pytest.raises(ValueError, match="not installed: no-such-plugin \\("):
        make_plugin_manager("no-such-plugin")  # one name, not a list of letters


PLUGIN_AUTHOR_TEST = """
import pytest
from jupyter_core_server import hookimpl


class Hello:
    @hookimpl
    def kernel_started(self, kernel):
        Hello.started.append(kernel["id"])

    started = []


@pytest.fixture
def hello(jcs_register_plugin):
    jcs_register_plugin(Hello(), "hello")


@pytest.mark.parametrize("jcs_enabled_plugins", [()], indirect=True)
async def test_kernel_runs(hello, jcs_client, jcs_kernel, jcs_kernel_client):
    result = await jcs_kernel_client.execute("print(6 * 7)")
    assert result.status == "ok" and result.stream() == "42\\n"
    assert Hello.started == [jcs_kernel]
    async with jcs_client.get("api/plugins") as response:
        active = {p["name"] for p in await response.json() if p["state"] == "enabled"}
    assert active == {"api", "kernelspecs", "kernels", "sessions", "hello"}
"""


def test_a_plugin_authors_suite_enables_the_fixtures(tmp_path: Path) -> None:
    """What the testing page tells plugin authors to write, run as its own pytest session."""
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    (project / "tests" / "conftest.py").write_text('pytest_plugins = ["jupyter_core_server.pytest_plugin"]\n')
    (project / "tests" / "test_hello.py").write_text(textwrap.dedent(PLUGIN_AUTHOR_TEST))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "--strict-markers", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
