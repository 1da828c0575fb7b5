"""Secrets are never printed, logged or stored: a planted secret must never be seen again.

A unique value (``sk-PLANTED-<uuid>``) is planted in the secrets file and in
``STORYLINE_SECRET_*`` variables; then every way Storyline talks is exercised — ``accounts
check``, ``validate``, ``preview``, publishes through the real registry and dispatcher against a
local network that answers 401/400/500 *echoing the token it was sent* in its error body, the
outbox — and every place something could land is scanned: stdout/stderr, log records at DEBUG,
every file under the data dir (outbox JSON, the SQLite database's bytes), exception messages
and tracebacks, ``repr()`` of the objects holding credentials. Finding ``PLANTED`` anywhere is
a leak (the redaction replaces the whole value, so not even a piece of it may remain).
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from scheduler.app.publishing import registry_for
from scheduler.app.secrets import load_secrets
from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Attempt, Post
from scheduler.core.errors import PublishError
from scheduler.dispatch.dispatcher import Dispatcher, Policy
from scheduler.interfaces.cli import cli
from scheduler.publishers.base import Credentials, OutgoingPost
from scheduler.publishers.http import HttpClient

ROOT = Path(__file__).resolve().parents[2]
MARKER = "PLANTED"
T0 = datetime(2027, 6, 1, 7, 0, tzinfo=UTC)

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    claim: Inspired By You
    accounts:
      x: {handle: BrandFR, name: Brand France}
      facebook: {id: "100", name: Brand France}
"""
STORY = """\
title: The comfort SUV
status: approved
launch: 2027-06-01 09:00
networks: [x, facebook]
markets: [fr]
story:
  headline: Meet the comfort SUV
  hook: Seven seats, one quiet cabin.
link: https://brand.example/suv
hashtags: [ComfortSUV]
"""


# --- a network that echoes what it was sent --------------------------------------------------


@dataclass
class EchoNetwork:
    """Answers every request with ``status`` and an error body quoting the request verbatim:
    its Authorization header, its query string and its body (where tokens travel)."""

    status: int = 401
    seen: list[str] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def network() -> Iterator[EchoNetwork]:
    state = EchoNetwork()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            echo = f"{self.headers.get('Authorization')} {self.path} {body}"
            state.seen.append(echo)
            payload = {
                "error": {"message": f"invalid token: {echo}", "code": 190, "type": "OAuth"},
                "detail": echo,
                "title": f"rejected {echo}",
            }
            raw = json.dumps(payload).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the brand, its secrets and its data dir -------------------------------------------------


@dataclass(frozen=True)
class Brand:
    env: dict[str, str]
    content: Path
    data: Path
    secrets: tuple[str, ...]  # every planted value


@pytest.fixture
def brand(tmp_path: Path, planted: str, network: EchoNetwork) -> Brand:
    content = tmp_path / "content"
    (content / "stories").mkdir(parents=True)
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    (content / "stories" / "suv.yaml").write_text(STORY, encoding="utf-8")
    in_file, in_env, webhook = f"{planted}-file", f"{planted}-env", f"{planted}-hmac"
    secrets_file = tmp_path / "secrets.yaml"
    secrets_file.write_text(
        f"x:\n  BrandFR: {{access_token: {in_file}}}\n"
        f"webhook:\n  agency: {{url: '{network.url}/hook', secret: {webhook}}}\n",
        encoding="utf-8",
    )
    data = tmp_path / "data"
    data.mkdir()
    env = {
        "STORYLINE_CONTENT_DIR": str(content),
        "STORYLINE_LINES_DIR": str(ROOT / "editorial_lines"),
        "STORYLINE_DATA_DIR": str(data),
        "STORYLINE_SECRETS_FILE": str(secrets_file),
        "STORYLINE_SECRET_FACEBOOK_100_ACCESS_TOKEN": in_env,
        "STORYLINE_API_BASE_X": network.url,
        "STORYLINE_API_BASE_FACEBOOK": network.url,
        "STORYLINE_NOW": "2027-05-01T00:00:00Z",
    }
    return Brand(env, content, data, (in_file, in_env, webhook))


def assert_no_secret(where: str, text: str) -> None:
    assert MARKER not in text, f"a planted secret leaked into {where}: ...{_around(text)}..."


def _around(text: str) -> str:
    at = text.find(MARKER)
    return text[max(0, at - 80) : at + 60]


def scan_tree(root: Path) -> int:
    """Every file under ``root`` (database, WAL, outbox, logs), as bytes; returns the count."""
    files = [p for p in root.rglob("*") if p.is_file()]
    for path in files:
        assert MARKER.encode() not in path.read_bytes(), f"a planted secret is stored in {path}"
    return len(files)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of every logger (httpx, celery, ours) at DEBUG."""
    caplog.set_level(logging.DEBUG)
    return caplog


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    out = []
    for record in caplog.records:
        out.append(record.getMessage())
        if record.exc_info:
            out.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(out)


def _invoke(brand: Brand, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env=brand.env, catch_exceptions=False)


# --- the CLI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 400, 500])
def test_accounts_check_never_prints_a_secret(
    brand: Brand, network: EchoNetwork, all_logs: pytest.LogCaptureFixture, status: int
) -> None:
    network.status = status
    for fmt in ("text", "json"):
        result = _invoke(brand, "accounts", "check", "--format", fmt)
        assert result.exit_code == 1  # the echoing network refuses every token
        assert_no_secret(f"accounts check --format {fmt}", result.output)
    assert any(MARKER in seen for seen in network.seen)  # the tokens did reach the network
    assert_no_secret("the logs", _log_text(all_logs))
    scan_tree(brand.data)


@pytest.mark.parametrize("command", [["validate"], ["preview", "suv"], ["plan"]])
def test_content_commands_never_print_a_secret(
    brand: Brand, all_logs: pytest.LogCaptureFixture, command: list[str]
) -> None:
    result = _invoke(brand, *command)
    assert result.exit_code in (0, 1), result.output
    assert_no_secret(" ".join(command), result.output)
    assert_no_secret("the logs", _log_text(all_logs))


def test_a_broken_secrets_file_is_reported_without_its_values(brand: Brand, planted: str) -> None:
    broken = Path(brand.env["STORYLINE_SECRETS_FILE"])
    broken.write_text(f"x:\n  BrandFR: {{access_token: {planted}\n  oops: [\n", encoding="utf-8")
    result = _invoke(brand, "accounts", "check", "--offline")
    assert result.exit_code != 0
    assert "secrets" in result.output
    assert_no_secret("a secrets-file error", result.output)


# --- publishing: the registry, the dispatcher, the outbox ---------------------------------------


def _add_post(engine: Any, network: str, account: str) -> str:
    post_id = f"suv/reveal/{network}/fr"
    with engine.begin() as conn:
        conn.execute(
            insert(Post.__table__),  # type: ignore[attr-defined]
            [
                {
                    "post_id": post_id,
                    "story": "suv",
                    "beat": "reveal",
                    "network": network,
                    "market": "fr",
                    "account": account,
                    "account_name": "Brand France",
                    "campaign": "suv",
                    "text": "Meet the comfort SUV #ComfortSUV",
                    "media_json": "[]",
                    "content_hash": "0" * 32,
                    "due_utc": T0,
                    "timezone": "Europe/Paris",
                    "status": "planned",
                    "attempts": 0,
                    "created_at": T0 - timedelta(days=1),
                    "updated_at": T0 - timedelta(days=1),
                }
            ],
        )
    return post_id


def _publish_all(settings: Settings, accounts: list[tuple[str, str]]) -> Any:
    """Sync-free: insert the posts, let one dispatcher tick claim them and publish each."""
    from scheduler.calendar import migrate

    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    for network, account in accounts:
        _add_post(engine, network, account)
    dispatcher = Dispatcher(
        engine,
        settings,
        clock=lambda: T0 + timedelta(seconds=5),
        policy=Policy(lease=timedelta(seconds=60), max_attempts=1, backoff_base=1.0),
        worker="security-test",
        make_registry=lambda: registry_for(settings),
    )
    try:
        jobs: list[tuple[str, str]] = []
        dispatcher.tick(jobs.extend)
        assert len(jobs) == len(accounts)
        for post_id, token in jobs:
            dispatcher.publish(post_id, token)
        with engine.connect() as conn:
            posts = conn.execute(select(Post.__table__)).mappings().all()  # type: ignore[attr-defined]
            attempts = conn.execute(select(Attempt.__table__)).mappings().all()  # type: ignore[attr-defined]
    finally:
        dispatcher.close()
        engine.dispose()
    return posts, attempts


ACCOUNTS = [("x", "BrandFR"), ("facebook", "100"), ("webhook", "agency")]


@pytest.mark.parametrize("status", [401, 400, 500])
def test_a_refused_publish_never_stores_or_logs_the_secret(
    brand: Brand, network: EchoNetwork, all_logs: pytest.LogCaptureFixture, status: int
) -> None:
    network.status = status
    posts, attempts = _publish_all(Settings.from_env(brand.env), ACCOUNTS)
    assert {p["status"] for p in posts} <= {"held", "failed", "retry_wait", "needs_review"}
    assert any(MARKER in seen for seen in network.seen)  # the network did get the tokens
    recorded = json.dumps([dict(r) for r in (*posts, *attempts)], default=str)
    assert str(status) in recorded  # the attempts were recorded, with the network's answer
    assert_no_secret("the calendar rows", recorded)
    assert scan_tree(brand.data) >= 1  # the SQLite database, byte for byte
    assert_no_secret("the logs", _log_text(all_logs))


def test_the_outbox_never_stores_a_secret(brand: Brand, all_logs: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({**brand.env, "STORYLINE_PUBLISHER": "outbox"})
    posts, _ = _publish_all(settings, ACCOUNTS)
    assert {p["status"] for p in posts} == {"published"}
    outbox = list((brand.data / "outbox").rglob("*.json"))
    assert len(outbox) == len(ACCOUNTS)
    scan_tree(brand.data)
    assert_no_secret("the logs", _log_text(all_logs))


@pytest.mark.parametrize(("network_name", "account"), ACCOUNTS)
@pytest.mark.parametrize("status", [401, 400, 500])
def test_a_publisher_error_never_carries_the_secret(
    brand: Brand, network: EchoNetwork, network_name: str, account: str, status: int
) -> None:
    network.status = status
    registry = registry_for(Settings.from_env(brand.env), http=HttpClient())
    try:
        route = registry.route(network_name, account)
        post = OutgoingPost(
            post_id=f"suv/reveal/{network_name}/fr",
            story="suv",
            beat="reveal",
            network=network_name,
            market="fr",
            account=account,
            account_name="Brand",
            due_utc=T0,
            text="Meet the comfort SUV",
        )
        with pytest.raises(PublishError) as caught:
            route.publisher.publish(post, route.credentials)
    finally:
        registry.close()
    exc = caught.value
    said = "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.args)
    assert_no_secret(f"a {network_name} {status} error", said)
    # Tokens travel to the network (and come back echoed); a webhook's HMAC secret never does.
    assert any(MARKER in seen for seen in network.seen) is (network_name != "webhook")


def test_objects_holding_credentials_never_show_them(brand: Brand) -> None:
    settings = Settings.from_env(brand.env)
    secrets = load_secrets(settings)
    registry = registry_for(settings, http=HttpClient())
    try:
        routes = [registry.route(n, a) for n, a in ACCOUNTS]
    finally:
        registry.close()
    credentials = secrets.credentials("x", "BrandFR")
    assert credentials is not None and credentials["access_token"].startswith("sk-")
    shown = [repr(settings), str(settings), repr(credentials), str(credentials), repr(routes)]
    shown.append(f"{credentials}")
    for text in shown:
        assert_no_secret("a repr", text)


def test_the_secrets_store_repr_never_shows_a_value(brand: Brand) -> None:
    """``Secrets`` is a dataclass: its ``file_fields`` (every value of the secrets file) must
    stay out of its ``repr``, one debug log or traceback-with-locals away from a log file."""
    secrets = load_secrets(Settings.from_env(brand.env))
    assert_no_secret("repr(Secrets)", repr(secrets))


def test_the_http_client_keeps_httpx_request_lines_out_of_the_logs() -> None:
    """httpx logs every request URL at INFO, query string included — where Graph API reads
    carry ``access_token``. A worker run at ``--loglevel=INFO`` or DEBUG must not write them."""
    import scheduler.publishers.http  # noqa: F401 - importing it sets the level

    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


def test_credentials_give_their_values_to_the_redactor() -> None:
    credentials = Credentials("x", "BrandFR", {"access_token": "sk-PLANTED-1", "user_id": ""})
    assert credentials.secret_values() == ["sk-PLANTED-1"]
