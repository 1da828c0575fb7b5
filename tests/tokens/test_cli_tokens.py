"""``storyline accounts check|connect|rotate-key`` with the token store, and the commands that
refuse to start while the stored tokens cannot be read. No token ever reaches the output.

The network is local: X's token endpoint and consent page (token_fakes), plus ``/2/users/me``
answering for the access tokens it issued.
"""

from __future__ import annotations

import json
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from token_fakes import APP_ID, APP_SECRET, FakeServer, FakeX, Reply, Req, browser
from tokens_support import KEY

from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import AccountToken
from scheduler.dispatch.sealing import new_key
from scheduler.interfaces.cli import cli

TOKENS = AccountToken.__table__  # type: ignore[attr-defined]
TOKEN_PATH = "/2/oauth2/token"

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    accounts:
      x: {handle: BrandFR, name: Brand France}
"""


@pytest.fixture
def calendar(tmp_path: Path) -> str:
    """The CLI on the embedded calendar (the store itself runs on both in test_store.py)."""
    from scheduler.calendar.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'calendar.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@dataclass
class Brand:
    env: dict[str, str]
    secrets_file: Path
    fake: FakeX
    database_url: str

    def write_secrets(self, text: str) -> None:
        self.secrets_file.write_text(text, encoding="utf-8")

    def x_entry(self, *, with_tokens: bool = True) -> tuple[str, str]:
        access, refresh = self.fake.tokens.pair() if with_tokens else ("", "")
        tokens = f"access_token: {access}, refresh_token: {refresh}, " if with_tokens else ""
        self.write_secrets(
            f"x:\n  BrandFR: {{{tokens}client_id: {APP_ID}, client_secret: {APP_SECRET}}}\n"
        )
        return access, refresh

    def run(self, *args: str, **env: str) -> Result:
        return CliRunner().invoke(cli, list(args), env={**self.env, **env})


@pytest.fixture
def brand(tmp_path: Path, calendar: str, server: FakeServer) -> Brand:
    content = tmp_path / "content"
    (content / "stories").mkdir(parents=True)
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    fake = FakeX(server)

    def me(req: Req) -> Reply:
        token = req.header("authorization").removeprefix("Bearer ")
        if token not in fake.tokens.access:
            return Reply(401, {"title": "Unauthorized", "status": 401})
        return Reply(200, {"data": {"id": "42", "username": "BrandFR"}})

    server.route("GET", "/2/users/me", me)
    secrets_file = tmp_path / "secrets.yaml"
    env = {
        "STORYLINE_CONTENT_DIR": str(content),
        "STORYLINE_DATA_DIR": str(tmp_path / "data"),
        "STORYLINE_DATABASE_URL": calendar,
        "STORYLINE_SECRETS_FILE": str(secrets_file),
        "STORYLINE_API_BASE_X": server.url,
        "STORYLINE_SECRET_KEY": KEY,
    }
    return Brand(env, secrets_file, fake, calendar)


def stored_rows(brand: Brand) -> list[Any]:
    engine = make_engine(brand.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(TOKENS)).mappings())
    finally:
        engine.dispose()


def every_token(brand: Brand, *extra: str) -> set[str]:
    return {*brand.fake.tokens.access, *brand.fake.tokens.refresh, *extra} - {""}


def test_check_refresh_renews_now_and_shows_the_new_expiry(
    brand: Brand, server: FakeServer
) -> None:
    first = brand.x_entry()
    brand.secrets_file.chmod(0o400)  # a mounted secret: read-only
    before = brand.secrets_file.read_bytes()

    result = brand.run("accounts", "check", "--refresh", "--format", "json")

    assert brand.secrets_file.read_bytes() == before  # the renewal went to the database

    assert result.exit_code == 0, result.output
    (account,) = json.loads(result.output)["accounts"]
    assert account["valid"] is True and account["expires_at"] is not None
    assert "token renewed now" in account["detail"]
    assert len(server.calls(TOKEN_PATH)) == 1
    ((row),) = stored_rows(brand)
    assert row["version"] == 1
    for token in every_token(brand, *first):
        assert token not in result.output


def test_check_uses_the_stored_token_once_the_files_is_spent(
    brand: Brand, server: FakeServer
) -> None:
    brand.x_entry()
    brand.run("accounts", "check", "--refresh")
    brand.fake.tokens.access.clear()  # X: only the renewed token is honoured now ...
    brand.run("accounts", "check", "--refresh")  # ... renewed again from the stored pair

    result = brand.run("accounts", "check")

    assert result.exit_code == 0, result.output
    assert "valid, expires" in result.output
    assert "token from the database" in result.output
    assert len(server.calls(TOKEN_PATH)) == 2


def test_check_reports_a_refused_grant_with_the_reconnect_hint(brand: Brand) -> None:
    brand.x_entry()
    brand.fake.tokens.refresh.clear()  # revoked

    result = brand.run("accounts", "check", "--refresh")

    assert result.exit_code == 1
    assert "re-connect with `storyline accounts connect x BrandFR`" in result.output
    assert stored_rows(brand)[0]["status"] == "refused"


def test_connect_runs_the_browser_flow_and_stores_the_tokens_encrypted(
    brand: Brand, server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand.x_entry(with_tokens=False)  # only the app's client_id and client_secret
    visited: list[str] = []
    follow = browser(visited)
    monkeypatch.setattr(webbrowser, "open", lambda url: follow(url) or True)

    result = brand.run("accounts", "connect", "x", "BrandFR", "--timeout", "10")

    assert result.exit_code == 0, result.output
    assert "/i/oauth2/authorize?" in result.output  # the URL is printed
    assert "connected x:BrandFR: tokens stored encrypted" in result.output
    assert visited[1].startswith("http://127.0.0.1:")
    (row,) = stored_rows(brand)
    for token in every_token(brand):
        assert token not in row["sealed"]
        assert token not in result.output
    check = brand.run("accounts", "check")
    assert check.exit_code == 0, check.output
    assert "valid, expires" in check.output


def test_connect_without_a_client_id_says_what_to_add(brand: Brand) -> None:
    brand.write_secrets("x:\n  BrandFR: {client_secret: s}\n")

    result = brand.run("accounts", "connect", "x", "BrandFR", "--no-browser")

    assert result.exit_code == 1
    assert "has no client_id" in result.output
    assert "Traceback" not in result.output


def test_a_wrong_key_refuses_to_start_and_changes_nothing(brand: Brand) -> None:
    brand.x_entry()
    brand.run("accounts", "check", "--refresh")
    before = stored_rows(brand)

    for args in (("accounts", "check", "--refresh"), ("run",)):
        result = brand.run(*args, STORYLINE_SECRET_KEY=new_key())
        assert result.exit_code == 1
        assert "cannot be decrypted with STORYLINE_SECRET_KEY" in result.output
        assert "Traceback" not in result.output

    assert stored_rows(brand) == before


def test_a_missing_key_refuses_to_start_while_tokens_are_stored(brand: Brand) -> None:
    brand.x_entry()
    brand.run("accounts", "check", "--refresh")

    result = brand.run("accounts", "check", STORYLINE_SECRET_KEY="")

    assert result.exit_code == 1
    assert "STORYLINE_SECRET_KEY is not set" in result.output


def test_rotate_key_reencrypts_with_the_first_key(brand: Brand) -> None:
    brand.x_entry()
    brand.run("accounts", "check", "--refresh")
    new = new_key()

    result = brand.run("accounts", "rotate-key", STORYLINE_SECRET_KEY=f"{new},{KEY}")

    assert result.exit_code == 0, result.output
    assert "1 stored token set(s) re-encrypted" in result.output
    assert brand.run("accounts", "check", STORYLINE_SECRET_KEY=new).exit_code == 0
    old_only = brand.run("accounts", "check", STORYLINE_SECRET_KEY=KEY)
    assert "cannot be decrypted" in old_only.output


def test_new_key_prints_a_usable_key(brand: Brand) -> None:
    result = brand.run("accounts", "new-key")

    key = result.output.strip()
    assert len(key) == 44
    assert brand.run("accounts", "rotate-key", STORYLINE_SECRET_KEY=key).exit_code == 0


def test_an_unreachable_calendar_is_named_not_a_traceback(brand: Brand) -> None:
    brand.x_entry()

    result = brand.run(
        "accounts", "check", STORYLINE_DATABASE_URL="postgresql+psycopg://u:pw@127.0.0.1:9/nope"
    )

    assert result.exit_code == 1
    assert "127.0.0.1:9" in result.output and "pw" not in result.output
    assert "Traceback" not in result.output


def test_connecting_again_clears_a_refused_grant(
    brand: Brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand.x_entry()
    brand.fake.tokens.refresh.clear()  # revoked: the account is refused
    assert brand.run("accounts", "check", "--refresh").exit_code == 1
    follow = browser([])
    monkeypatch.setattr(webbrowser, "open", lambda url: follow(url) or True)

    assert brand.run("accounts", "connect", "x", "BrandFR", "--timeout", "10").exit_code == 0

    (row,) = stored_rows(brand)
    assert (row["status"], row["last_error"]) == ("ok", None)
    assert brand.run("accounts", "check").exit_code == 0
