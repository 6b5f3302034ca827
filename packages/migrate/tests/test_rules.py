"""The mapping table: consistent, pointing at options that exist, and the same in the docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from jupyter_core_server.app import CoreServerApp
from jupyter_core_server.plugins import PluginManager

from jupyter_core_server_migrate import table
from jupyter_core_server_migrate.cli import MigrateApp
from jupyter_core_server_migrate.convert import Drop, convert
from jupyter_core_server_migrate.migration import installed
from jupyter_core_server_migrate.rules import (
    CLASS_ALIASES,
    ENV_VARS,
    GATEWAY_DEFAULTS,
    KEPT_CLASSES,
    RULES,
    TARGET_PACKAGES,
)
from jupyter_core_server_migrate.translate import RULE_INDEX

DOCS_PAGE = Path(__file__).parents[3] / "docs" / "user" / "migrating.md"


def test_each_old_setting_has_one_rule() -> None:
    sources = [source for rule in RULES for source in rule.sources]
    assert len(sources) == len(set(sources)), sorted({s for s in sources if sources.count(s) > 1})
    assert all(source.count(".") == 1 for source in sources), [s for s in sources if s.count(".") != 1]
    for rule in RULES:
        assert rule.target or rule.reason, f"{rule.sources} is dropped without a reason"
        assert all(source.partition(".")[0] not in CLASS_ALIASES for source in rule.sources), rule.sources
    assert all(option in RULE_INDEX for option, _ in ENV_VARS.values())


def test_targets_exist_in_the_installed_classes(jcs_isolated_paths: dict[str, Path]) -> None:
    known, _ = installed()
    targets = {rule.target for rule in RULES if rule.target} | {target for target, _, _ in GATEWAY_DEFAULTS}
    targets |= {also for rule in RULES for also in rule.also}
    targets.discard("CoreServerApp.plugins")  # extensions become plugin state files
    checked = 0
    for target in sorted(targets):
        section, _, trait = target.partition(".")
        assert section in TARGET_PACKAGES, target
        if section not in known:
            assert TARGET_PACKAGES[section], f"{section} is the core's and must be installed"
            continue
        assert trait in known[section], f"{target} is not an option of the installed {section}"
        checked += 1
    assert checked >= 50
    assert {"CoreServerApp", "Authenticator", "KernelService", "SessionManager"} <= set(known)


def test_kept_classes_are_jupyter_client_or_application_classes() -> None:
    import jupyter_client.ioloop
    import jupyter_client.kernelspec
    import jupyter_client.manager
    import jupyter_client.restarter
    import traitlets.config

    modules = [
        jupyter_client.manager,
        jupyter_client.ioloop,
        jupyter_client.kernelspec,
        jupyter_client.restarter,
        traitlets.config,
    ]
    for new in set(KEPT_CLASSES.values()):
        assert any(hasattr(m, new) for m in modules) or new == "JupyterApp", new


@pytest.mark.skipif(not DOCS_PAGE.is_file(), reason="the documentation is not next to this package")
def test_docs_table_is_current() -> None:
    text = DOCS_PAGE.read_text(encoding="utf-8")
    assert table.update_page(text) == text, "run: python -m jupyter_core_server_migrate.table docs/user/migrating.md"


def test_table_lists_every_rule() -> None:
    rendered = table.render()
    for rule in RULES:
        assert f"`{rule.sources[0]}`" in rendered
    for name in ENV_VARS:
        assert f"`{name}`" in rendered


def test_plugin_contributes_the_subcommand(jcs_isolated_paths: dict[str, Path]) -> None:
    pm = PluginManager(strict=True)
    pm.discover()
    pm.load_enabled()
    assert pm.records["migrate"].distribution == "jupyter-core-server-migrate"
    contributed = dict(pm.call_each("register_subcommands"))
    assert contributed["migrate"]["migrate"][0] is MigrateApp


def test_tornado_headers_become_response_headers_that_the_server_accepts() -> None:
    rule, _ = RULE_INDEX["ServerApp.tornado_settings"]
    value = {
        "websocket_max_message_size": 1024,
        "headers": {
            "Content-Security-Policy": "frame-ancestors https://portal.example.org",
            "X-Frame-Options": "DENY",
            "Bad Name": "1",
            "X-Split": "a\r\nSet-Cookie: x=1",
            "Content-Length": "0",
        },
        "compress_response": True,
    }
    converted = convert(value, rule, lambda _: None)
    assert dict(converted.settings) == {
        "KernelService.websocket_max_message_size": 1024,
        "CoreServerApp.response_headers": {
            "Content-Security-Policy": "frame-ancestors https://portal.example.org",
            "X-Frame-Options": "DENY",
        },
    }
    dropped = dict(converted.dropped)
    assert set(dropped) == {
        "tornado_settings['headers']['Bad Name']",
        "tornado_settings['headers']['X-Split']",
        "tornado_settings['headers']['Content-Length']",
        "tornado_settings['compress_response']",
    }
    assert "not a valid header name" in dropped["tornado_settings['headers']['Bad Name']"]
    assert "control character" in dropped["tornado_settings['headers']['X-Split']"]
    # what is kept is what CoreServerApp accepts
    CoreServerApp(response_headers=dict(converted.settings)["CoreServerApp.response_headers"])

    only_bad = convert({"headers": "DENY"}, rule, lambda _: None)
    assert only_bad.settings == [] and "not a dict" in dict(only_bad.dropped)["tornado_settings['headers']"]
    with pytest.raises(Drop):
        convert({}, rule, lambda _: None)
