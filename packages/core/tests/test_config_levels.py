"""Configuration levels: plugin enablement precedence, config file order, warnings, token sources."""

from __future__ import annotations

import itertools
import json
import logging
import os
from pathlib import Path

import aiohttp
import pytest
from importlib_metadata import entry_points
from traitlets.config import Config

from jupyter_core_server.app import CoreServerApp
from jupyter_core_server.config import CONFIG_BASENAME, PluginState, config_files, plugin_states, write_plugin_state
from jupyter_core_server.plugins import ENTRY_POINT_GROUP, PluginManager
from jupyter_core_server.pytest_plugin import run_server

LEVELS = ("user", "sys-prefix", "system")  # highest precedence first
VALUES = ("enabled", "disabled", "absent")


def write_json(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def set_plugin(directory: Path, name: str, enabled: bool, file: str = "x.json") -> Path:
    return write_json(directory / f"{CONFIG_BASENAME}.d" / file, {"CoreServerApp": {"plugins": {name: enabled}}})


def expected_state(combination: dict[str, str]) -> PluginState:
    for level in LEVELS:
        if combination[level] != "absent":
            return PluginState(combination[level] == "enabled", level)
    return PluginState(True, "default")


COMBINATIONS = [dict(zip(LEVELS, values)) for values in itertools.product(VALUES, repeat=len(LEVELS))]


@pytest.mark.parametrize("combination", COMBINATIONS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_precedence_matrix(jcs_isolated_paths: dict[str, Path], combination: dict[str, str]) -> None:
    for level, value in combination.items():
        if value != "absent":
            set_plugin(jcs_isolated_paths[level], "demo", value == "enabled")
    set_plugin(jcs_isolated_paths["system"], "other", False, file="other.json")
    states = plugin_states(["demo", "other", "unmentioned"])
    assert states["demo"] == expected_state(combination)
    assert states["other"] == PluginState(False, "system")
    assert states["unmentioned"] == PluginState(True, "default")


def test_matrix_covers_every_combination() -> None:
    assert len(COMBINATIONS) == 27
    assert {expected_state(c).level for c in COMBINATIONS} == {*LEVELS, "default"}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("files", [("a.json", "b.json"), ("b.json", "a.json")])
def test_disabled_beats_enabled_at_one_level(
    jcs_isolated_paths: dict[str, Path], level: str, files: tuple[str, str]
) -> None:
    set_plugin(jcs_isolated_paths[level], "demo", True, file=files[0])
    set_plugin(jcs_isolated_paths[level], "demo", False, file=files[1])
    assert plugin_states(["demo"])["demo"] == PluginState(False, level)


def test_main_config_file_counts_at_its_level(jcs_isolated_paths: dict[str, Path]) -> None:
    set_plugin(jcs_isolated_paths["user"], "demo", True)
    write_json(jcs_isolated_paths["user"] / f"{CONFIG_BASENAME}.json", {"CoreServerApp": {"plugins": {"demo": False}}})
    assert plugin_states(["demo"])["demo"] == PluginState(False, "user")


def test_env_level_sits_between_user_and_sys_prefix(
    jcs_isolated_paths: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_dir = tmp_path / "env-config"
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(env_dir))
    set_plugin(env_dir, "demo", False)
    set_plugin(jcs_isolated_paths["sys-prefix"], "demo", True)
    assert plugin_states(["demo"])["demo"] == PluginState(False, "env")
    set_plugin(jcs_isolated_paths["user"], "demo", True)
    assert plugin_states(["demo"])["demo"] == PluginState(True, "user")


def test_explicit_settings_beat_every_level(jcs_isolated_paths: dict[str, Path]) -> None:
    set_plugin(jcs_isolated_paths["user"], "demo", False)
    assert plugin_states(["demo"], {"demo": True})["demo"] == PluginState(True, "config")


def test_unreadable_file_is_ignored_with_a_warning(
    jcs_isolated_paths: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    set_plugin(jcs_isolated_paths["system"], "demo", False)
    broken = jcs_isolated_paths["user"] / f"{CONFIG_BASENAME}.d" / "broken.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    assert plugin_states(["demo"])["demo"] == PluginState(False, "system")
    assert any(str(broken) in r.getMessage() for r in caplog.records)


def test_disabled_builtin_is_not_loaded(jcs_isolated_paths: dict[str, Path]) -> None:
    set_plugin(jcs_isolated_paths["user"], "sessions", False)
    set_plugin(jcs_isolated_paths["user"], "api", False, file="api.json")  # essential: ignored
    pm = PluginManager(strict=True)
    pm.discover({ep.name: False for ep in entry_points(group=ENTRY_POINT_GROUP)})  # the core alone
    pm.load_enabled()
    assert pm.records["sessions"].state == "disabled" and pm.records["sessions"].level == "user"
    assert not pm.has_plugin("sessions")
    assert pm.records["api"].state == "enabled" and pm.is_active("api")


# -- write_plugin_state -----------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_write_plugin_state_writes_at_its_level(jcs_isolated_paths: dict[str, Path], level: str) -> None:
    path = write_plugin_state("demo", False, level)
    assert path.parent == jcs_isolated_paths[level] / f"{CONFIG_BASENAME}.d"
    assert json.loads(path.read_text()) == {"CoreServerApp": {"plugins": {"demo": False}}}
    assert plugin_states(["demo"])["demo"] == PluginState(False, level)


def test_write_plugin_state_replaces_the_file_atomically(jcs_isolated_paths: dict[str, Path]) -> None:
    path = write_plugin_state("demo", False, "user")
    other = write_plugin_state("other", False, "user")
    old = path.parent.parent / "old-link.json"
    os.link(path, old)  # a reader holding the old file
    again = write_plugin_state("demo", True, "user")
    assert again == path
    # replaced by rename, not rewritten in place: the old inode still holds the complete old content
    assert json.loads(old.read_text()) == {"CoreServerApp": {"plugins": {"demo": False}}}
    assert json.loads(path.read_text()) == {"CoreServerApp": {"plugins": {"demo": True}}}
    assert os.stat(path).st_ino != os.stat(old).st_ino
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, other.name])  # no temp file left
    assert plugin_states(["demo", "other"]) == {"demo": PluginState(True, "user"), "other": PluginState(False, "user")}


def test_write_plugin_state_rejects_an_unknown_level(jcs_isolated_paths: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="Unknown config level"):
        write_plugin_state("demo", False, "galaxy")


# -- config files ----------------------------------------------------------------------------------


def make_app(pm: PluginManager, argv: list[str], config: Config | None = None) -> CoreServerApp:
    app = CoreServerApp(config=config or Config())
    if not pm.get_plugins():
        pm.load_enabled()
    app.initialize(argv, plugin_manager=pm)
    return app


def test_config_file_order(
    jcs_isolated_paths: dict[str, Path], jcs_plugin_manager: PluginManager, tmp_path: Path
) -> None:
    dirs = jcs_isolated_paths

    def timeout_after(*argv: str) -> int:
        return make_app(jcs_plugin_manager, list(argv)).shutdown_timeout

    def setting(value: int) -> dict:
        return {"CoreServerApp": {"shutdown_timeout": value}}

    assert timeout_after() == 10
    write_json(dirs["system"] / f"{CONFIG_BASENAME}.d" / "x.json", setting(1))
    assert timeout_after() == 1
    (dirs["system"] / f"{CONFIG_BASENAME}.py").write_text("c.CoreServerApp.shutdown_timeout = 2\n")
    assert timeout_after() == 2
    write_json(dirs["system"] / f"{CONFIG_BASENAME}.json", setting(3))  # .json after .py in one directory
    assert timeout_after() == 3
    write_json(dirs["sys-prefix"] / f"{CONFIG_BASENAME}.d" / "x.json", setting(4))
    assert timeout_after() == 4
    (dirs["user"] / f"{CONFIG_BASENAME}.py").write_text("c.CoreServerApp.shutdown_timeout = 5\n")
    assert timeout_after() == 5
    explicit = tmp_path / "explicit_config.py"
    explicit.write_text("c.CoreServerApp.shutdown_timeout = 6\n")
    assert timeout_after(f"--config={explicit}") == 6
    assert timeout_after(f"--config={explicit}", "--CoreServerApp.shutdown_timeout=7") == 7
    assert timeout_after("--CoreServerApp.shutdown_timeout=7") == 7
    names = [p.name for p in config_files()]
    assert names == ["x.json", f"{CONFIG_BASENAME}.py", f"{CONFIG_BASENAME}.json", "x.json", f"{CONFIG_BASENAME}.py"]


def test_missing_config_file_is_a_clear_error(
    jcs_isolated_paths: dict[str, Path], jcs_plugin_manager: PluginManager, tmp_path: Path
) -> None:
    with pytest.raises(SystemExit, match="nowhere.py not found"):
        make_app(jcs_plugin_manager, [f"--config={tmp_path / 'nowhere.py'}"])


def test_broken_config_file_names_itself(
    jcs_isolated_paths: dict[str, Path], jcs_plugin_manager: PluginManager
) -> None:
    broken = jcs_isolated_paths["user"] / f"{CONFIG_BASENAME}.json"
    broken.write_text("{oops")
    with pytest.raises(SystemExit, match=f"Error in config file {broken}"):
        make_app(jcs_plugin_manager, [])


@pytest.mark.parametrize(
    ("section", "option", "hint"),
    [
        ("CoreServerApp", "allow_orign", "did you mean CoreServerApp.allow_origin?"),
        ("Authenticator", "tokn", "did you mean Authenticator.token?"),
        ("CoreServerAp", "port", "did you mean CoreServerApp?"),
    ],
)
def test_misspelled_option_names_the_closest_valid_one(
    jcs_isolated_paths: dict[str, Path],
    jcs_plugin_manager: PluginManager,
    caplog: pytest.LogCaptureFixture,
    section: str,
    option: str,
    hint: str,
) -> None:
    write_json(jcs_isolated_paths["user"] / f"{CONFIG_BASENAME}.json", {section: {option: "x"}})
    with caplog.at_level(logging.WARNING):
        make_app(jcs_plugin_manager, [])
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(hint in m for m in messages), messages


def test_plugin_settings_do_not_warn(
    jcs_isolated_paths: dict[str, Path], jcs_plugin_manager: PluginManager, caplog: pytest.LogCaptureFixture
) -> None:
    set_plugin(jcs_isolated_paths["user"], "sessions", True)
    make_app(jcs_plugin_manager, [])
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# -- token sources ------------------------------------------------------------------------------------


def test_jupyter_token_is_honoured(
    jcs_isolated_paths: dict[str, Path], jcs_plugin_manager: PluginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_TOKEN", "from-the-environment")
    app = make_app(jcs_plugin_manager, [])
    assert app.authenticator.token == "from-the-environment"
    assert not app.authenticator.generated_token


def test_jupyter_token_file_is_honoured(
    jcs_isolated_paths: dict[str, Path],
    jcs_plugin_manager: PluginManager,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-a-file\n")
    monkeypatch.setenv("JUPYTER_TOKEN_FILE", str(token_file))
    assert make_app(jcs_plugin_manager, []).authenticator.token == "from-a-file"


def test_configured_token_beats_the_environment(
    jcs_isolated_paths: dict[str, Path], jcs_plugin_manager: PluginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_TOKEN", "from-the-environment")
    assert (
        make_app(jcs_plugin_manager, ["--token=from-the-command-line"]).authenticator.token == "from-the-command-line"
    )


def test_token_is_generated_when_none_is_given(
    jcs_isolated_paths: dict[str, Path], jcs_plugin_manager: PluginManager
) -> None:
    auth = make_app(jcs_plugin_manager, []).authenticator
    assert auth.generated_token and len(auth.token) >= 32


async def test_server_accepts_the_jupyter_token(
    jcs_isolated_paths: dict[str, Path],
    jcs_plugin_manager: PluginManager,
    jcs_config: Config,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JUPYTER_TOKEN", "env-secret")
    del jcs_config.Authenticator["token"]
    async with run_server(jcs_config, jcs_plugin_manager) as server, aiohttp.ClientSession() as session:
        async with session.get(server.url + "api/status", headers={"Authorization": "token env-secret"}) as response:
            assert response.status == 200
        async with session.get(server.url + "api/status", headers={"Authorization": "token other"}) as response:
            assert response.status == 403
