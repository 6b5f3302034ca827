"""The few calls this server makes to the hub's REST API, over one ``aiohttp`` client session."""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp

from .environment import HubEnvironment

__all__ = ["HubApiError", "HubClient", "client_ssl_context"]


class HubApiError(Exception):
    """The hub could not be reached or answered with something unexpected."""


def client_ssl_context(env: HubEnvironment) -> ssl.SSLContext | None:
    """TLS for calls to the hub under internal SSL: trust the hub's CA, present our certificate."""
    if not env.ssl_client_ca and not env.ssl_certfile:
        return None
    context = ssl.create_default_context(cafile=env.ssl_client_ca or None)
    if env.ssl_certfile:
        context.load_cert_chain(env.ssl_certfile, env.ssl_keyfile or None)
    return context


class HubClient:
    """Calls to the hub's API: who owns a token, OAuth code exchange, activity reports.

    :param env: The hub's environment.
    :param timeout: Seconds to wait for each answer.
    """

    def __init__(self, env: HubEnvironment, timeout: float) -> None:
        self.env = env
        self._ssl = client_ssl_context(env)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))

    async def close(self) -> None:
        await self._session.close()

    async def _json(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            async with self._session.request(method, url, ssl=self._ssl if self._ssl else True, **kwargs) as response:
                status = response.status
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise HubApiError(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        if not text:
            return status, None
        try:
            return status, json.loads(text)
        except ValueError:
            return status, None

    async def version(self) -> str:
        """Return the hub's version (from its API root), or ``""`` when it does not say."""
        status, body = await self._json("GET", self.env.api_url.rstrip("/") + "/")
        if status == 200 and isinstance(body, dict) and isinstance(body.get("version"), str):
            return str(body["version"])
        return ""

    async def token_owner(self, token: str) -> dict[str, Any] | None:
        """Return the hub's model of the user (or service) owning ``token``, or ``None`` for an unknown token.

        :raises HubApiError: when the hub cannot be reached or fails.
        """
        status, body = await self._json("GET", self.env.user_url, headers={"Authorization": f"token {token}"})
        if status in (401, 403, 404):
            return None
        if status != 200 or not isinstance(body, dict):
            raise HubApiError(f"GET {self.env.user_url} answered {status}")
        return body

    async def exchange_code(self, code: str, verifier: str) -> str:
        """Trade an OAuth authorization code for an access token.

        :raises HubApiError: when the hub refuses the code or cannot be reached.
        """
        form = {
            "client_id": self.env.client_id,
            "client_secret": self.env.api_token,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.env.callback_url,
            "code_verifier": verifier,
        }
        status, body = await self._json("POST", self.env.token_url, data=form)
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            detail = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise HubApiError(
                f"the hub refused the authorization code ({status}{': ' + str(detail) if detail else ''})"
            )
        return str(body["access_token"])

    async def post_activity(self, last_activity: str) -> None:
        """Tell the hub when this server was last used.

        :param last_activity: ISO 8601 UTC time with a ``Z`` suffix.
        :raises HubApiError: unless the hub accepted the report.
        """
        body = {"servers": {self.env.server_name: {"last_activity": last_activity}}, "last_activity": last_activity}
        headers = {"Authorization": f"token {self.env.api_token}"}
        status, _ = await self._json("POST", self.env.activity_url, json=body, headers=headers)
        if status >= 400:
            raise HubApiError(f"POST {self.env.activity_url} answered {status}")
