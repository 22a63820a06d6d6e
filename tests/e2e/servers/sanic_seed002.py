"""Seed 002's server: sanic-jwt 1.8.0 on sanic 25.12.1, refresh tokens enabled.

    POST /auth          {username, password}  -> {access_token, refresh_token}
    POST /auth/refresh  Authorization: Bearer <access, may be expired>
                        {"refresh_token": ...} -> {access_token}
    GET  /api/protected @protected()          -> 200, or 401 {"reasons": ["Signature has expired."], ...}

plus, for the tests:
    GET  /test/stats    counters (refresh calls counted as they arrive, by status)
    POST /test/revoke   forgets every stored refresh token (the seed leaves storage to the app)
    GET  /e2e.html, /js/*, /pkg/*   the test page and the package, as static files

Usage: .venv/bin/python tests/e2e/servers/sanic_seed002.py --port N [--expiration-delta 3]
Prints "sanic-jwt ready http://127.0.0.1:N" once listening.
"""
import argparse
import mimetypes
import os
import secrets
import sys

from sanic import Sanic
from sanic.response import json
from sanic_jwt import Initialize, exceptions, protected

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SUPPORT = os.path.join(REPO, "tests", "e2e", "support")

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")


def build_app(expiration_delta):
    app = Sanic("freshtoken_e2e_seed002")
    app.config.ACCESS_LOG = False

    users = {}            # user_id -> user
    refresh_store = {}    # user_id -> refresh token (in memory, like the docs' Redis example)
    stats = {"logins": 0, "refreshCalls": 0, "refreshByStatus": {}, "api200": 0, "api401": 0}

    async def authenticate(request, *args, **kwargs):
        body = request.json or {}
        username, password = body.get("username"), body.get("password")
        if not username or not password:
            raise exceptions.AuthenticationFailed("Missing username or password.")
        stats["logins"] += 1
        user_id = len(users) + 1
        user = {"user_id": user_id, "username": username}
        users[user_id] = user
        return user

    async def retrieve_user(request, payload, *args, **kwargs):
        if payload:
            return users.get(payload.get("user_id"))
        return None

    async def store_refresh_token(user_id, refresh_token, *args, **kwargs):
        refresh_store[user_id] = refresh_token

    async def retrieve_refresh_token(request, user_id, *args, **kwargs):
        return refresh_store.get(user_id)

    Initialize(
        app,
        authenticate=authenticate,
        retrieve_user=retrieve_user,
        store_refresh_token=store_refresh_token,
        retrieve_refresh_token=retrieve_refresh_token,
        refresh_token_enabled=True,
        expiration_delta=expiration_delta,
        leeway=0,
        secret=secrets.token_hex(32),
    )

    @app.on_request
    async def count_request(request):
        if request.path == "/auth/refresh":
            stats["refreshCalls"] += 1

    @app.on_response
    async def count_response(request, response):
        if request.path == "/auth/refresh":
            key = str(response.status)
            stats["refreshByStatus"][key] = stats["refreshByStatus"].get(key, 0) + 1
        elif request.path == "/api/protected":
            if response.status == 200:
                stats["api200"] += 1
            elif response.status == 401:
                stats["api401"] += 1

    @app.get("/api/protected")
    @protected()
    async def protected_route(request):
        return json({"protected": True})

    @app.get("/test/stats")
    async def test_stats(request):
        return json(stats)

    @app.post("/test/revoke")
    async def test_revoke(request):
        n = len(refresh_store)
        refresh_store.clear()
        return json({"revoked": n})

    app.static("/e2e.html", os.path.join(SUPPORT, "e2e.html"), name="e2e_page")
    app.static("/js", os.path.join(REPO, "js"), name="js")
    app.static("/pkg", os.path.join(REPO, "pkg"), name="pkg")

    @app.after_server_start
    async def announce(app):
        print(f"sanic-jwt ready http://{HOST}:{PORT}", flush=True)

    return app


HOST = "127.0.0.1"
PORT = 0

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--expiration-delta", type=int, default=3)
    args = parser.parse_args()
    PORT = args.port
    application = build_app(args.expiration_delta)
    application.run(host=HOST, port=PORT, single_process=True, access_log=False, motd=False, debug=False)
    sys.exit(0)
