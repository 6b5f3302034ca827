"""Reading the variables a JupyterHub spawner sets."""

from __future__ import annotations

import json

import pytest

from jupyter_core_server_hub.environment import DEFAULT_ACTIVITY_INTERVAL, HubEnvironmentError, read_environment

BASE = {
    "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/dana/",
    "JUPYTERHUB_API_TOKEN": "secret",
    "JUPYTERHUB_API_URL": "http://hub:8081/hub/api",
    "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-dana",
    "JUPYTERHUB_USER": "dana",
}


def test_absent_without_service_url() -> None:
    assert read_environment({"JUPYTERHUB_API_TOKEN": "x"}) is None
    with pytest.raises(HubEnvironmentError, match="JUPYTERHUB_API_TOKEN"):
        read_environment({}, required=True)


def test_minimal_environment_gets_the_hub_defaults() -> None:
    env = read_environment(BASE)
    assert env is not None
    assert env.bind == ("0.0.0.0", 8888)
    assert env.prefix == "/user/dana/" and env.callback_url == "/user/dana/oauth_callback"
    assert env.access_scopes == {"access:servers!server=dana/", "access:servers!user=dana"}
    assert env.activity_interval == DEFAULT_ACTIVITY_INTERVAL
    assert env.authorize_url == "/hub/api/oauth2/authorize" and env.logout_url == "/hub/logout"
    assert env.token_url == "http://hub:8081/hub/api/oauth2/token" and env.user_url == "http://hub:8081/hub/api/user"
    assert env.cookie_name == "jupyterhub-user-dana" and env.cookie_path == "/user/dana/"
    assert "secret" not in repr(env)


def test_public_hub_url_subdomains_and_host_prefixed_cookies() -> None:
    env = read_environment(
        {
            **BASE,
            "JUPYTERHUB_BASE_URL": "/jh/",
            "JUPYTERHUB_HOST": "https://hub.example.org",
            "JUPYTERHUB_COOKIE_HOST_PREFIX_ENABLED": "1",
            "JUPYTERHUB_ACTIVITY_INTERVAL": "30",
        }
    )
    assert env is not None
    assert env.authorize_url == "https://hub.example.org/jh/hub/api/oauth2/authorize"
    assert env.cookie_name == "__Host-jupyterhub-user-dana" and env.cookie_path == "/"
    assert env.activity_interval == 30
    public = read_environment({**BASE, "JUPYTERHUB_PUBLIC_HUB_URL": "https://example.org/hub/"})
    assert public is not None and public.logout_url == "https://example.org/hub/logout"


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ({"JUPYTERHUB_OAUTH_ACCESS_SCOPES": "not json"}, "not a JSON list"),
        ({"JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps({"a": 1})}, "JSON list of scope names"),
        ({"JUPYTERHUB_OAUTH_ACCESS_SCOPES": "[]"}, "nobody could be allowed in"),
        ({"JUPYTERHUB_ACTIVITY_INTERVAL": "often"}, "number of seconds"),
        ({"JUPYTERHUB_COOKIE_OPTIONS": "[1]"}, "JSON object"),
        ({"JUPYTERHUB_USER": ""}, "nobody could be allowed in"),
    ],
)
def test_malformed_variables_are_named(extra: dict[str, str], complaint: str) -> None:
    with pytest.raises(HubEnvironmentError, match=complaint):
        read_environment({**BASE, **extra})
