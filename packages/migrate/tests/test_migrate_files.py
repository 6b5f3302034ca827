"""The migration on real files: what it writes, idempotence, dry runs, backups and the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fill
from importlib_metadata import entry_points
from jupyter_core_server.config import load_file, plugin_states, write_plugin_state
from jupyter_core_server.plugins import ENTRY_POINT_GROUP

from jupyter_core_server_migrate import Entry, migrate
from jupyter_core_server_migrate.files import BLOCK_BEGIN, BLOCK_END

INSTALLED = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


def sources_of(entries: list[Entry]) -> list[str]:
    return [e.source for e in entries]


def test_notebook_json_and_python_translate(user_dir: Path, tmp_path: Path) -> None:
    filled = fill("notebook", user_dir, tmp_path)
    report = migrate()
    assert not report.errors

    data = json.loads((user_dir / "jupyter_core_server_config.json").read_text())
    assert data["CoreServerApp"] == {
        "port": filled.port,
        "root_dir": str(filled.root),
        "allow_origin": "https://app.example.org",
    }
    assert data["Authenticator"] == {"token": filled.token}
    assert data["KernelService"] == {"iopub_data_rate_limit": 10000000.0, "kernel_info_timeout": 30}
    assert data["ContentsManager"] == {"delete_to_trash": False}

    config = load_file(user_dir / "jupyter_core_server_config.py")  # the core's own loader runs it
    assert config.CoreServerApp.ip == "127.0.0.1"
    assert config.CoreServerApp.port_retries == 0
    assert config.KernelService.websocket_max_message_size == 209715200
    assert config.CoreServerApp.response_headers == {"X-Frame-Options": "DENY"}
    assert config.KernelService.buffer_offline_messages is False
    assert config.KernelService.iopub_msg_rate_limit == 5000
    assert config.TerminalManager.shell_command == ["/bin/sh"]
    assert config.KernelManager.shutdown_wait_time == 2.0

    dropped = {e.source: e.note for e in report.dropped}
    assert "sha1" in dropped["NotebookApp.password"]
    assert "browser" in dropped["NotebookApp.open_browser"]
    assert "NotebookApp.tornado_settings['headers']" not in dropped
    unknown = {e.source: e.note for e in report.unknown}
    assert "LabApp" in unknown["LabApp.collaborative"]
    assert "did you mean NotebookApp.port?" in unknown["NotebookApp.portt"]


def test_python_loop_is_not_run_and_is_reported(user_dir: Path, tmp_path: Path) -> None:
    filled = fill("notebook", user_dir, tmp_path)
    report = migrate()
    # The loop would have left these marks had the file been executed, by this tool or by the server.
    assert not list(filled.marker_dir.iterdir())
    untranslated = {e.source.split(":")[0]: e for e in report.untranslated}
    assert set(untranslated) == {"import", "value computed at run time", "loop"}
    assert untranslated["loop"].origin.endswith("jupyter_notebook_config.py:18-20")
    assert "NotebookApp.password -> Authenticator.hashed_password" in untranslated["value computed at run time"].note
    text = (user_dir / "jupyter_core_server_config.py").read_text()
    kept = text[text.index("# NOT TRANSLATED") :]
    assert '#     for name in ["first", "second"]:' in kept
    assert all(line.startswith("#") for line in kept.splitlines())  # nothing of it can run
    load_file(user_dir / "jupyter_core_server_config.py")
    assert not list(filled.marker_dir.iterdir())
    assert "Not translated" in report.to_text()


def test_server_json_python_and_conf_d(user_dir: Path, tmp_path: Path) -> None:
    fill("server", user_dir, tmp_path)
    report = migrate()
    assert not report.errors
    data = json.loads((user_dir / "jupyter_core_server_config.json").read_text())
    assert data["KernelService"] == {"limit_rate": False, "cull_idle_timeout": 2, "cull_interval": 1}
    assert data["SessionManager"] == {"database_filepath": ":memory:"}
    config = load_file(user_dir / "jupyter_core_server_config.py")
    assert config.KernelService.websocket_max_message_size == 104857600
    assert config.CoreServerApp.response_headers == {
        "Content-Security-Policy": "frame-ancestors 'self' https://portal.example.org"
    }
    assert config.ContentsManager.untitled_notebook == "Notebook"
    # .extend() on an option the file never set stays incremental, on top of the default.
    lazy = config.ContentsManager.hide_globs
    assert lazy.get_value(["*.pyc"]) == ["*.pyc", "*.tmp"]

    # jpserver_extensions from jupyter_server_config.d/ decides the terminals plugin at this level.
    assert "terminals" in INSTALLED
    assert json.loads((user_dir / "jupyter_core_server_config.d" / "plugin-terminals.json").read_text()) == {
        "CoreServerApp": {"plugins": {"terminals": False}}
    }
    assert plugin_states(["terminals"])["terminals"].enabled is False
    # The same file, byte for byte, as `jupyter-core-server plugin disable terminals --user` writes.
    state_file = user_dir / "jupyter_core_server_config.d" / "plugin-terminals.json"
    written = state_file.read_bytes()
    assert write_plugin_state("terminals", False, "user") == state_file
    assert state_file.read_bytes() == written
    plugins = {e.source: e for e in report.plugins}
    lab = plugins["ServerApp.jpserver_extensions['jupyterlab'] (enabled)"]
    if "frontend" in INSTALLED:
        assert lab.target == "plugin frontend enabled"
    else:
        assert (lab.target, lab.note) == ("not migrated", "install jupyter-core-server-frontend")
    assert "ServerApp.kernel_ws_protocol" in sources_of(report.dropped)


def test_second_run_changes_nothing_and_makes_no_backup(user_dir: Path, tmp_path: Path) -> None:
    fill("server", user_dir, tmp_path)
    fill("notebook", user_dir, tmp_path)
    first = migrate()
    assert first.changed and not first.errors
    written = {p: p.read_bytes() for p in user_dir.rglob("jupyter_core_server_config*") if p.is_file()}
    second = migrate()
    assert not second.changed
    assert {f.action for f in second.files} == {"unchanged"}
    assert {p: p.read_bytes() for p in user_dir.rglob("jupyter_core_server_config*") if p.is_file()} == written
    assert not list(user_dir.rglob("*.bak-*"))


def test_dry_run_prints_diffs_and_writes_nothing(user_dir: Path, tmp_path: Path) -> None:
    filled = fill("notebook", user_dir, tmp_path)
    before = sorted(p.name for p in user_dir.rglob("*"))
    report = migrate(dry_run=True)
    assert sorted(p.name for p in user_dir.rglob("*")) == before
    diffs = {Path(f.path).name: f.diff for f in report.files}
    assert diffs["jupyter_core_server_config.json"].startswith("--- /dev/null\n+++ ")
    assert f'+    "port": {filled.port},' in diffs["jupyter_core_server_config.json"]
    assert "+c.CoreServerApp.ip = '127.0.0.1'" in diffs["jupyter_core_server_config.py"]
    assert filled.token not in json.dumps(report.to_dict())  # secrets are masked
    assert '"token": "********"' in diffs["jupyter_core_server_config.json"]
    assert {f.action for f in report.files} == {"create"}

    migrate()
    (user_dir / "jupyter_notebook_config.json").write_text(json.dumps({"NotebookApp": {"port": 9123}}))
    again = migrate(dry_run=True)
    diff = {Path(f.path).name: f.diff for f in again.files}["jupyter_core_server_config.json"]
    assert f'-    "port": {filled.port},' in diff and '+    "port": 9123,' in diff


def test_existing_targets_are_merged_and_backed_up(user_dir: Path, tmp_path: Path) -> None:
    fill("server", user_dir, tmp_path)
    target_json = user_dir / "jupyter_core_server_config.json"
    original_json = '{"CoreServerApp": {"debug": true, "port": 1}}'
    target_json.write_text(original_json)
    target_py = user_dir / "jupyter_core_server_config.py"
    original_py = "c = get_config()  # noqa: F821\nc.Authenticator.username = 'ada'\n"
    target_py.write_text(original_py)

    report = migrate()
    backups = {Path(f.path).name: f.backup for f in report.files if f.backup}
    assert Path(backups["jupyter_core_server_config.json"]).read_text() == original_json
    assert Path(backups["jupyter_core_server_config.py"]).read_text() == original_py
    merged = json.loads(target_json.read_text())
    assert merged["CoreServerApp"]["debug"] is True  # kept
    assert merged["CoreServerApp"]["port"] != 1  # migrated value wins
    text = target_py.read_text()
    assert text.startswith(original_py) and BLOCK_BEGIN in text and text.rstrip().endswith(BLOCK_END)
    assert load_file(target_py).Authenticator.username == "ada"

    # A changed old file replaces the block, not appends another one.
    old_py = user_dir / "jupyter_server_config.py"
    old_py.write_text(old_py.read_text().replace('untitled_notebook = "Notebook"', 'untitled_notebook = "Book"'))
    migrate()
    text = target_py.read_text()
    assert text.count(BLOCK_BEGIN) == 1 and "'Book'" in text and "'Notebook'" not in text
    assert len(list(user_dir.glob("jupyter_core_server_config.py.bak-*"))) == 2


def test_broken_target_is_reported_and_left_alone(user_dir: Path, tmp_path: Path) -> None:
    fill("server", user_dir, tmp_path)
    target = user_dir / "jupyter_core_server_config.json"
    target.write_text("{not json")
    report = migrate()
    assert any("not valid JSON" in e.note for e in report.errors)
    assert target.read_text() == "{not json"


def test_each_level_is_written_at_its_own_level(jcs_isolated_paths: dict[str, Path], tmp_path: Path) -> None:
    system = jcs_isolated_paths["system"]
    (system / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"port": 7001}}))
    user = jcs_isolated_paths["user"]
    (user / "jupyter_notebook_config.json").write_text(json.dumps({"NotebookApp": {"port": 7002}}))
    migrate()
    assert json.loads((system / "jupyter_core_server_config.json").read_text()) == {"CoreServerApp": {"port": 7001}}
    assert json.loads((user / "jupyter_core_server_config.json").read_text()) == {"CoreServerApp": {"port": 7002}}
    assert not (jcs_isolated_paths["sys-prefix"] / "jupyter_core_server_config.json").exists()
    only_user = migrate(levels=["system"], dry_run=True)
    assert [Path(f.path).parent for f in only_user.files] == [system]


def test_kernel_gateway_python_and_environment(user_dir: Path, tmp_path: Path) -> None:
    filled = fill("kernel_gateway", user_dir, tmp_path)
    env = {
        "KG_MAX_KERNELS": "3",
        "KG_PRESPAWN_COUNT": "2",
        "KG_DEFAULT_KERNEL_NAME": "python3",
        "KG_ENV_WHITELIST": "MY_VAR,",
        "KG_SEED_URI": "https://example.org/seed.ipynb",
        "KG_PORT": "not-a-number",
        "KG_SOMETHING_ELSE": "1",
        "HOME": "/elsewhere",
    }
    report = migrate(env=env)
    config = load_file(user_dir / "jupyter_core_server_config.py")
    assert config.CoreServerApp.port == filled.port
    assert config.Authenticator.token == filled.token
    assert config.CoreServerApp.allow_origin == "*"
    assert config.KernelService.list_kernels is True
    env_file = user_dir / "jupyter_core_server_config.d" / "kernel-gateway-env.json"
    service = json.loads(env_file.read_text())["KernelService"]
    assert service["max_kernels"] == 3
    assert service["pool"] == {"python3": 2}
    assert service["default_kernel_name"] == "python3"
    assert service["allowed_env"] == ["MY_VAR"]
    assert service["list_kernels"] is False  # Kernel Gateway's default, written out
    dropped = {e.source: e.note for e in report.dropped}
    assert "not fetched" in dropped["KernelGatewayApp.seed_uri"]
    assert "whole environment" in dropped["KernelGatewayApp.env_process_whitelist"]
    assert "Kernel Gateway's default personality" in dropped["KernelGatewayApp.api"]
    unknown = {e.source: e.origin for e in report.unknown}
    assert unknown["KG_PORT"] == "environment variable KG_PORT (not a valid int)"
    assert "KG_SOMETHING_ELSE" in unknown and "HOME" not in unknown


def test_command_line_json_report_and_exit_status(jcs_cli_env: dict[str, str], tmp_path: Path) -> None:
    config_dir = Path(jcs_cli_env["JUPYTER_CONFIG_DIR"])
    filled = fill("kernel_gateway", config_dir, tmp_path)
    command = [sys.executable, "-m", "jupyter_core_server", "migrate", "--json", "--kg-env", str(config_dir)]
    env = {**jcs_cli_env, "KG_MAX_KERNELS": "2"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"translated", "dropped", "unknown", "untranslated", "plugins", "errors", "files"} <= set(report)
    assert filled.token not in done.stdout
    assert {Path(f["path"]).name for f in report["files"]} == {
        "jupyter_core_server_config.py",
        "kernel-gateway-env.json",
    }

    text = subprocess.run(
        [*command[:4], "--dry-run", str(config_dir)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert text.returncode == 0 and "Translated (" in text.stdout and "unchanged" in text.stdout

    (config_dir / "jupyter_server_config.json").write_text("[1, 2")
    broken = subprocess.run(
        command[:4] + [str(config_dir)], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert broken.returncode == 1
    assert "not valid JSON" in broken.stdout


@pytest.mark.parametrize(
    "statement", ["c.ServerApp.port += 1", "c.ServerApp.jpserver_extensions.update(x)", "c.ServerApp.ip = ip()"]
)
def test_python_statements_that_need_running_are_kept(user_dir: Path, statement: str) -> None:
    (user_dir / "jupyter_server_config.py").write_text(f"{statement}\nc.ServerApp.port = 7777\n")
    report = migrate()
    assert [e.origin.rsplit(":", 1)[1] for e in report.untranslated] == ["1"]
    text = (user_dir / "jupyter_core_server_config.py").read_text()
    assert f"#     {statement}" in text and "c.CoreServerApp.port = 7777" in text


def test_incremental_python_changes(user_dir: Path) -> None:
    (user_dir / "jupyter_server_config.py").write_text(
        "c.ServerApp.local_hostnames = ['localhost']\n"
        "c.ServerApp.local_hostnames += ['box.local']\n"
        "c.ServerApp.local_hostnames.append('box')\n"
        "c.ContentsManager.hide_globs += ['*.bak']\n"
        "c.ServerApp.terminado_settings['shell_command'] = 'bash --login'\n"
        "c.ServerApp.jpserver_extensions['jupyter_server_terminals'] = False\n"
    )
    report = migrate()
    assert not report.untranslated
    config = load_file(user_dir / "jupyter_core_server_config.py")
    assert config.CoreServerApp.local_hostnames == ["localhost", "box.local", "box"]
    assert config.ContentsManager.hide_globs.get_value([]) == ["*.bak"]
    assert config.TerminalManager.shell_command == ["bash", "--login"]
    assert plugin_states(["terminals"])["terminals"].enabled is False


def test_options_the_installed_version_lacks_are_not_written() -> None:
    from jupyter_core_server_migrate.report import Report
    from jupyter_core_server_migrate.sources import Setting
    from jupyter_core_server_migrate.translate import Translator

    report = Report()
    known = {"CoreServerApp": {"port"}, "KernelService": {"default_kernel_name"}}
    settings = [
        Setting("KernelGatewayApp", "max_kernels", 4, "here:1"),
        Setting("KernelGatewayApp", "port", 9000, "here:2"),
        Setting("TerminalManager", "cull_interval", 30, "here:3"),
    ]
    translation = Translator(known, [], report).translate(settings)
    assert set(translation.values) == {"CoreServerApp.port", "TerminalManager.cull_interval"}
    dropped = {e.source: e.note for e in report.dropped}
    assert dropped["KernelGatewayApp.max_kernels"].startswith("needs a newer jupyter-core-server")
    notes = {e.target: e.note for e in report.translated}
    assert (
        notes["TerminalManager.cull_interval"]
        == "takes effect once jupyter-core-server-terminals is installed and enabled"
    )
