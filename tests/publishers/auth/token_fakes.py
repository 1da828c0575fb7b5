"""Local token servers for every network, in their documented request shapes.

One recording HTTP server on 127.0.0.1 (port 0) hosts the fake of a network: each fake
registers the routes its documentation names and checks every request against the documented
shape (method, path, encoding, fields, client authentication). A request of the wrong shape is
answered 400 and written to ``server.violations``; the fixture fails the test if any is left.
The fakes keep state as the networks do: X spends a refresh token on use, Bluesky rotates its
refresh JWT, codes are bound to their PKCE challenge and redirect URI. ``server.fail_next``
plays a 5xx, a 429 or a silence.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

APP_ID = "app-client-id-42"
APP_SECRET = "app-client-secret-5ecret"


@dataclass
class Req:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class ShapeError(Exception):
    """The request is not what the network documents."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ShapeError(message)


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[Req] = []
        self.violations: list[str] = []
        self.routes: dict[tuple[str, str], Callable[[Req], Reply]] = {}
        self._faults: list[Reply] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def route(self, method: str, path: str, handler: Callable[[Req], Reply]) -> None:
        self.routes[(method, path)] = handler

    def fail_next(self, reply: Reply) -> None:
        """The next request, whatever it is, gets this answer."""
        self._faults.append(reply)

    def calls(self, path: str) -> list[Req]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, req: Req) -> Reply:
        with self._lock:
            self.requests.append(req)
            if self._faults:
                return self._faults.pop(0)
            handler = self.routes.get((req.method, req.path))
            if handler is None:
                self.violations.append(f"undocumented request {req.method} {req.path}")
                return Reply(404, {"error": "not_found"})
            try:
                return handler(req)
            except ShapeError as exc:
                self.violations.append(f"{req.method} {req.path}: {exc}")
                return Reply(400, {"error": "fake_shape_error", "error_description": str(exc)})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                req = Req(
                    method=self.command,
                    path=split.path,
                    query={k: v[-1] for k, v in parse_qs(split.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = fake.answer(req)
                if reply.delay and fake._stop.wait(reply.delay):
                    self.close_connection = True
                    return
                payload = json.dumps(reply.json).encode() if reply.json is not None else b""
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.json is not None:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

        return Handler


# -- shared pieces ---------------------------------------------------------------------------


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def form_post(req: Req) -> dict[str, str]:
    check(req.method == "POST", "must be a POST")
    check(
        req.header("content-type").startswith("application/x-www-form-urlencoded"),
        f"must be form-encoded, not {req.header('content-type')!r}",
    )
    return req.form


def redirect(to: str, **params: str) -> Reply:
    return Reply(302, headers={"Location": f"{to}?{urlencode(params)}"})


@dataclass
class Grant:
    """A code the fake consent page handed out."""

    client_id: str
    redirect_uri: str
    challenge: str | None
    scope: str


class Issuer:
    """Tokens and codes with a network's prefix; remembers which are alive."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._n = count(1)
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.codes: dict[str, Grant] = {}

    def new(self, kind: str) -> str:
        return f"{self.prefix}-{kind}-{next(self._n):04d}-{'z' * 12}"

    def pair(self) -> tuple[str, str]:
        access, refresh = self.new("access"), self.new("refresh")
        self.access.add(access)
        self.refresh.add(refresh)
        return access, refresh

    def consent(self, req: Req, *, pkce: bool, scope_sep: str = " ") -> Reply:
        """The consent page: a person says yes at once; the browser goes back with a code."""
        q = req.query
        for name in ("client_id", "redirect_uri", "state"):
            check(bool(q.get(name)), f"the authorization request has no {name}")
        check(q.get("response_type") == "code", "response_type must be code")
        check(q.get("client_id") == APP_ID, "unknown client_id")
        if pkce:
            check(q.get("code_challenge_method") == "S256", "code_challenge_method must be S256")
            check(len(q.get("code_challenge", "")) == 43, "code_challenge must be a S256 digest")
        else:
            check("code_challenge" not in q, "this network documents no PKCE")
        code = self.new("code")
        self.codes[code] = Grant(
            APP_ID, q["redirect_uri"], q.get("code_challenge"), q.get("scope", "")
        )
        return redirect(q["redirect_uri"], code=code, state=q["state"])

    def redeem(self, form: dict[str, str], *, pkce: bool) -> Grant | None:
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None:
            return None
        check(
            form.get("redirect_uri") == grant.redirect_uri,
            "redirect_uri differs from the one authorized",
        )
        if pkce:
            check(
                s256(form.get("code_verifier", "")) == grant.challenge,
                "code_verifier does not match",
            )
        else:
            check("code_verifier" not in form, "this network documents no PKCE")
        return grant


# -- X -----------------------------------------------------------------------------------------


class FakeX:
    """docs.x.com: POST /2/oauth2/token; Basic for confidential clients; rotating refresh."""

    def __init__(self, server: FakeServer, *, confidential: bool = True) -> None:
        self.confidential = confidential
        self.tokens = Issuer("x")
        server.route("POST", "/2/oauth2/token", self.token)
        server.route("GET", "/i/oauth2/authorize", lambda r: self.tokens.consent(r, pkce=True))

    def _client(self, req: Req, form: dict[str, str]) -> None:
        if self.confidential:
            check(
                req.header("authorization") == basic(APP_ID, APP_SECRET),
                "Basic client auth expected",
            )
            check("client_secret" not in form, "the secret goes in the Basic header, not the body")
        else:
            check(not req.header("authorization"), "a public client sends no Authorization")
            check(form.get("client_id") == APP_ID, "a public client sends client_id in the body")

    def token(self, req: Req) -> Reply:
        form = form_post(req)
        self._client(req, form)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            if old not in self.tokens.refresh:
                return Reply(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the token was invalid.",
                    },
                )
            self.tokens.refresh.discard(old)  # single use: rotated
        elif grant == "authorization_code":
            if self.tokens.redeem(form, pkce=True) is None:
                return Reply(
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the token was invalid.",
                    },
                )
        else:
            raise ShapeError(f"grant_type {grant!r}")
        access, refresh = self.tokens.pair()
        return Reply(
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": access,
                "scope": "tweet.read tweet.write users.read media.write offline.access",
                "refresh_token": refresh,
            },
        )


# -- Google ------------------------------------------------------------------------------------


class FakeGoogle:
    """oauth2.googleapis.com/token; client_id and client_secret in the body; no rotation."""

    def __init__(self, server: FakeServer) -> None:
        self.tokens = Issuer("ya29")
        server.route("POST", "/token", self.token)
        server.route("GET", "/o/oauth2/v2/auth", self.consent)

    def consent(self, req: Req) -> Reply:
        check(req.query.get("access_type") == "offline", "access_type=offline expected")
        return self.tokens.consent(req, pkce=True)

    def token(self, req: Req) -> Reply:
        form = form_post(req)
        check(form.get("client_id") == APP_ID, "client_id in the body")
        check(form.get("client_secret") == APP_SECRET, "client_secret in the body")
        check(not req.header("authorization"), "Google reads the client from the body")
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.tokens.refresh:
                return Reply(
                    400,
                    {
                        "error": "invalid_grant",
                        "error_description": "Token has been expired or revoked.",
                    },
                )
            access = self.tokens.new("access")
            return Reply(
                200,
                {
                    "access_token": access,
                    "expires_in": 3599,
                    "scope": "https://www.googleapis.com/auth/youtube.upload",
                    "token_type": "Bearer",
                },
            )
        check(form.get("grant_type") == "authorization_code", "grant_type")
        if self.tokens.redeem(form, pkce=True) is None:
            return Reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        access, refresh = self.tokens.pair()
        return Reply(
            200,
            {
                "access_token": access,
                "expires_in": 3920,
                "refresh_token": refresh,
                "scope": "https://www.googleapis.com/auth/youtube.upload",
                "token_type": "Bearer",
            },
        )


# -- LinkedIn ----------------------------------------------------------------------------------


class FakeLinkedIn:
    """www.linkedin.com/oauth/v2/{accessToken,introspectToken,authorization}."""

    def __init__(self, server: FakeServer) -> None:
        self.tokens = Issuer("AQV")
        self.refresh_left = 300 * 86400  # the refresh token's TTL keeps counting down
        server.route("POST", "/oauth/v2/accessToken", self.token)
        server.route("POST", "/oauth/v2/introspectToken", self.introspect)
        server.route("GET", "/oauth/v2/authorization", lambda r: self.tokens.consent(r, pkce=False))

    @staticmethod
    def _client(form: dict[str, str]) -> None:
        check(form.get("client_id") == APP_ID, "client_id in the body")
        check(form.get("client_secret") == APP_SECRET, "client_secret in the body")

    def token(self, req: Req) -> Reply:
        form = form_post(req)
        self._client(form)
        dead = Reply(
            400,
            {
                "error": "invalid_request",
                "error_description": (
                    "The provided authorization grant or refresh token is invalid, expired or "
                    "revoked"
                ),
            },
        )
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.tokens.refresh:
                return dead
        else:
            check(form.get("grant_type") == "authorization_code", "grant_type")
            if self.tokens.redeem(form, pkce=False) is None:
                return dead
        access, refresh = self.tokens.pair()
        self.refresh_left -= 86400
        return Reply(
            200,
            {
                "access_token": access,
                "expires_in": 5184000,
                "refresh_token": refresh,
                "refresh_token_expires_in": self.refresh_left,
                "scope": "r_organization_social,w_organization_social",
            },
        )

    def introspect(self, req: Req) -> Reply:
        form = form_post(req)
        self._client(form)
        check(bool(form.get("token")), "token")
        active = form["token"] in self.tokens.access
        return Reply(
            200,
            {
                "active": active,
                "client_id": APP_ID,
                "authorized_at": 1790000000,
                "created_at": 1790000000,
                "status": "active" if active else "revoked",
                "expires_at": 1795184000,
                "scope": "r_organization_social,w_organization_social",
                "auth_type": "3L",
            },
        )


# -- Meta (Threads, Instagram, Facebook) --------------------------------------------------------


def graph_error(code: int = 190, message: str = "Error validating access token") -> Reply:
    return Reply(
        400,
        {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "fbtrace_id": "A1b2",
            }
        },
    )


def token_in_query(req: Req, name: str = "access_token") -> str:
    check(req.method == "GET", "Meta token calls are GET requests")
    check(not req.body, "no body: the parameters go in the query string")
    value = req.query.get(name, "")
    check(bool(value), f"{name} in the query")
    return value


class FakeLongLived:
    """Threads and Instagram Login: refresh_access_token, access_token, oauth/access_token."""

    def __init__(self, server: FakeServer, *, grant: str, exchange: str, prefix: str) -> None:
        self.grant, self.exchange_grant = grant, exchange
        self.tokens = Issuer(prefix)
        self.short: set[str] = set()
        server.route("GET", "/refresh_access_token", self.refresh)
        server.route("GET", "/access_token", self.exchange)
        server.route("POST", "/oauth/access_token", self.code)
        server.route("GET", "/oauth/authorize", lambda r: self.tokens.consent(r, pkce=False))

    def refresh(self, req: Req) -> Reply:
        token = token_in_query(req)
        check(req.query.get("grant_type") == self.grant, f"grant_type={self.grant}")
        check("client_secret" not in req.query, "the refresh takes no client secret")
        if token not in self.tokens.access:
            return graph_error()
        new = self.tokens.new("long")
        self.tokens.access.add(new)
        return Reply(200, {"access_token": new, "token_type": "bearer", "expires_in": 5183944})

    def exchange(self, req: Req) -> Reply:
        token = token_in_query(req)
        check(
            req.query.get("grant_type") == self.exchange_grant, f"grant_type={self.exchange_grant}"
        )
        check(req.query.get("client_secret") == APP_SECRET, "client_secret in the query")
        if token not in self.short:
            return graph_error()
        new = self.tokens.new("long")
        self.tokens.access.add(new)
        return Reply(200, {"access_token": new, "token_type": "bearer", "expires_in": 5183944})

    def code(self, req: Req) -> Reply:
        form = form_post(req)
        check(
            form.get("client_id") == APP_ID and form.get("client_secret") == APP_SECRET,
            "client id and secret in the form",
        )
        check(form.get("grant_type") == "authorization_code", "grant_type")
        if self.tokens.redeem(form, pkce=False) is None:
            return graph_error(100, "Invalid verification code format.")
        short = self.tokens.new("short")
        self.short.add(short)
        return Reply(200, {"access_token": short, "user_id": 17841400000000})


class FakeFacebook:
    """graph.facebook.com: debug_token, me/accounts, oauth/access_token, the Login dialog."""

    def __init__(self, server: FakeServer, page_id: str) -> None:
        self.page_id = page_id
        self.tokens = Issuer("EAAG")
        self.users: set[str] = set()
        self.expires_at = 0
        server.route("GET", "/debug_token", self.debug)
        server.route("GET", "/me/accounts", self.accounts)
        server.route("GET", "/oauth/access_token", self.oauth)
        server.route("GET", "/dialog/oauth", lambda r: self.tokens.consent(r, pkce=False))

    def debug(self, req: Req) -> Reply:
        token = token_in_query(req, "input_token")
        check(
            token_in_query(req) == f"{APP_ID}|{APP_SECRET}",
            "debug_token is called with the app token",
        )
        if token not in self.tokens.access:
            return Reply(
                200,
                {
                    "data": {
                        "is_valid": False,
                        "error": {
                            "code": 190,
                            "message": (
                                "The session has been invalidated because the user changed "
                                "their password."
                            ),
                        },
                    }
                },
            )
        return Reply(
            200,
            {
                "data": {
                    "app_id": APP_ID,
                    "type": "PAGE",
                    "application": "Storyline",
                    "data_access_expires_at": 0,
                    "expires_at": self.expires_at,
                    "is_valid": True,
                    "scopes": ["pages_manage_posts", "pages_read_engagement"],
                    "profile_id": self.page_id,
                }
            },
        )

    def accounts(self, req: Req) -> Reply:
        user = token_in_query(req)
        check("access_token" in req.query.get("fields", ""), "fields must ask for access_token")
        if user not in self.users:
            return graph_error()
        page = self.tokens.new("page")
        self.tokens.access.add(page)
        return Reply(
            200,
            {
                "data": [
                    {"id": "111", "access_token": self.tokens.new("other")},
                    {"id": self.page_id, "access_token": page},
                ],
                "paging": {"cursors": {"before": "b", "after": "a"}},
            },
        )

    def oauth(self, req: Req) -> Reply:
        check(
            req.query.get("client_id") == APP_ID and req.query.get("client_secret") == APP_SECRET,
            "client id and secret",
        )
        if req.query.get("grant_type") == "fb_exchange_token":
            if req.query.get("fb_exchange_token") not in self.users:
                return graph_error()
            long = self.tokens.new("user-long")
            self.users.add(long)
            return Reply(200, {"access_token": long, "token_type": "bearer", "expires_in": 5183944})
        check(bool(req.query.get("redirect_uri")), "redirect_uri")
        if self.tokens.redeem({**req.query}, pkce=False) is None:
            return graph_error(100, "Invalid verification code format.")
        short = self.tokens.new("user-short")
        self.users.add(short)
        return Reply(200, {"access_token": short, "token_type": "bearer", "expires_in": 5400})


# -- Bluesky ------------------------------------------------------------------------------------


def jwt(sub: str, exp: float) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = part({"typ": "at+jwt", "alg": "ES256K"})
    claims = part({"sub": sub, "exp": int(exp), "jti": f"{sub}-{time.time_ns()}"})
    return f"{header}.{claims}.c2ln"


class FakeBluesky:
    """A PDS: createSession (JSON identifier + password), refreshSession (Bearer refreshJwt)."""

    def __init__(self, server: FakeServer, *, handle: str, password: str, now: float) -> None:
        self.handle, self.password, self.now = handle, password, now
        self.refresh_jwts: set[str] = set()
        server.route("POST", "/xrpc/com.atproto.server.createSession", self.create)
        server.route("POST", "/xrpc/com.atproto.server.refreshSession", self.refresh)

    def session(self) -> dict[str, str]:
        refresh = jwt("did:plc:brand", self.now + 90 * 86400)
        self.refresh_jwts.add(refresh)
        return {
            "accessJwt": jwt("did:plc:brand", self.now + 7200),
            "refreshJwt": refresh,
            "handle": self.handle,
            "did": "did:plc:brand",
        }

    def create(self, req: Req) -> Reply:
        check(req.header("content-type").startswith("application/json"), "JSON body")
        body = req.json()
        check(set(body) <= {"identifier", "password", "authFactorToken"}, f"fields {sorted(body)}")
        if body.get("identifier") != self.handle or body.get("password") != self.password:
            return Reply(
                401,
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
            )
        return Reply(200, self.session())

    def refresh(self, req: Req) -> Reply:
        check(not req.body, "refreshSession has no body")
        auth = req.header("authorization")
        check(auth.startswith("Bearer "), "Bearer refreshJwt")
        token = auth.removeprefix("Bearer ")
        if token not in self.refresh_jwts:
            return Reply(400, {"error": "ExpiredToken", "message": "Token has expired"})
        self.refresh_jwts.discard(token)  # rotated (the grace window is not played here)
        return Reply(200, self.session())


# -- Mastodon and Weibo -------------------------------------------------------------------------


class FakeMastodon:
    def __init__(self, server: FakeServer) -> None:
        self.tokens = Issuer("mstdn")
        server.route("GET", "/api/v1/accounts/verify_credentials", self.verify)
        server.route("POST", "/oauth/token", self.token)
        server.route("GET", "/oauth/authorize", lambda r: self.tokens.consent(r, pkce=True))

    def verify(self, req: Req) -> Reply:
        token = req.header("authorization").removeprefix("Bearer ")
        if token not in self.tokens.access:
            return Reply(401, {"error": "The access token is invalid"})
        return Reply(200, {"id": "1", "username": "brand", "acct": "brand"})

    def token(self, req: Req) -> Reply:
        form = form_post(req)
        check(
            form.get("client_id") == APP_ID and form.get("client_secret") == APP_SECRET,
            "client id and secret in the form",
        )
        check(form.get("grant_type") == "authorization_code", "Mastodon has no refresh_token grant")
        if self.tokens.redeem(form, pkce=True) is None:
            return Reply(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": (
                        "The provided authorization grant is invalid, expired, revoked, does "
                        "not match the redirection URI used in the authorization request, or "
                        "was issued to another client."
                    ),
                },
            )
        access = self.tokens.new("access")
        self.tokens.access.add(access)
        return Reply(
            200,
            {
                "access_token": access,
                "token_type": "Bearer",
                "scope": form.get(
                    "scope", "read:accounts read:statuses write:statuses write:media"
                ),
                "created_at": 1790000000,
            },
        )


class FakeWeibo:
    def __init__(self, server: FakeServer) -> None:
        self.tokens = Issuer("2.00weibo")
        self.expire_in = 86400 * 2
        server.route("POST", "/oauth2/get_token_info", self.info)
        server.route("POST", "/oauth2/access_token", self.token)
        server.route("GET", "/oauth2/authorize", lambda r: self.tokens.consent(r, pkce=False))

    def info(self, req: Req) -> Reply:
        form = form_post(req)
        check(bool(form.get("access_token")), "access_token in the form")
        if form["access_token"] not in self.tokens.access:
            return Reply(
                400,
                {
                    "error": "expired_token",
                    "error_code": 21327,
                    "request": "/oauth2/get_token_info",
                },
            )
        return Reply(
            200,
            {
                "uid": 1073880650,
                "appkey": APP_ID,
                "scope": None,
                "create_at": 1790000000,
                "expire_in": self.expire_in,
            },
        )

    def token(self, req: Req) -> Reply:
        form = form_post(req)
        check(
            form.get("client_id") == APP_ID and form.get("client_secret") == APP_SECRET,
            "client id and secret in the form",
        )
        check(form.get("grant_type") == "authorization_code", "grant_type")
        if self.tokens.redeem(form, pkce=False) is None:
            return Reply(
                400,
                {"error": "invalid_grant", "error_code": 21325, "request": "/oauth2/access_token"},
            )
        access = self.tokens.new("access")
        self.tokens.access.add(access)
        return Reply(
            200,
            {
                "access_token": access,
                "expires_in": 157679999,
                "remind_in": "157679999",
                "uid": "1073880650",
            },
        )


# -- the browser ---------------------------------------------------------------------------------


def browser(visited: list[str]) -> Callable[[str], None]:
    """A person's browser: opens the consent page, follows its redirect to the loopback."""

    def open_url(url: str) -> None:
        visited.append(url)
        with httpx.Client(follow_redirects=False, timeout=5.0) as client:
            consent = client.get(url)
            assert consent.status_code == 302, consent.text
            back = consent.headers["location"]
            visited.append(back)
            client.get(back)

    return open_url
