"""The floor: a bare aiohttp app answering every GET with the same fixed JSON.

No auth, no middleware, no access log. Run: ``python bench/null_server.py --port N``.
"""

from __future__ import annotations

import argparse

from aiohttp import web

BODY = (
    b'{"started": "2026-01-01T00:00:00.000000Z", "last_activity": "2026-01-01T00:00:00.000000Z", '
    b'"kernels": 0, "connections": 0}'
)


async def fixed(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/{tail:.*}", fixed)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=lambda *a: None)


if __name__ == "__main__":
    main()
