"""``storyline accounts check``: presence, validity and expiry per account; secrets never shown."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from meta_fakeapi import TOKEN, FakeApi, Reply, graph_error

from scheduler.interfaces.cli import cli

NOW = "2026-11-28T12:00:00Z"
IN_60_DAYS = int(datetime(2027, 1, 27, tzinfo=UTC).timestamp())
IN_3_DAYS = int(datetime(2026, 12, 1, 12, tzinfo=UTC).timestamp())
PAGE, IG, THREADS = "100200300", "178400000001", "178400000101"
FB, INSTA, TH = "/fb/v26.0", "/ig/v26.0", "/th/v1.0"

MARKETS = f"""\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    claim: Inspired By You
    accounts:
      facebook: {{id: "{PAGE}", name: Holdout Motors France}}
      instagram: {{id: "{IG}", handle: holdout_fr}}
      threads: {{id: "{THREADS}", handle: holdout_fr}}
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    (root / "stories").mkdir(parents=True)
    (root / "markets.yaml").write_text(MARKETS)
    return root


def run(
    fake_api: FakeApi,
    content: Path,
    secrets: dict[str, dict[str, dict[str, str]]],
    *args: str,
    env: dict[str, str] | None = None,
) -> Result:
    secrets_file = content.parent / "secrets.yaml"
    secrets_file.write_text(json.dumps(secrets))  # JSON is YAML
    environ = {
        "STORYLINE_SECRETS_FILE": str(secrets_file),
        "STORYLINE_NOW": NOW,
        "STORYLINE_API_BASE_FACEBOOK": fake_api.base_url + FB,
        "STORYLINE_API_BASE_INSTAGRAM": fake_api.base_url + INSTA,
        "STORYLINE_API_BASE_THREADS": fake_api.base_url + TH,
        **(env or {}),
    }
    return CliRunner().invoke(
        cli, ["--content", str(content), "accounts", "check", *args], env=environ
    )


def all_tokens() -> dict[str, dict[str, dict[str, str]]]:
    return {
        "facebook": {PAGE: {"access_token": TOKEN}},
        "instagram": {IG: {"access_token": TOKEN + "-ig"}},
        "threads": {THREADS: {"access_token": TOKEN + "-th"}},
    }


def valid(fake_api: FakeApi, prefix: str, identity: str, account: str, expires: int) -> None:
    fake_api.on(
        "GET",
        f"{prefix}/debug_token",
        Reply(200, {"data": {"is_valid": True, "expires_at": expires}}),
    )
    fake_api.on("GET", f"{prefix}/{identity}", Reply(200, {"id": account, "name": "Holdout"}))


def all_valid(fake_api: FakeApi, expires: int = IN_60_DAYS) -> None:
    valid(fake_api, FB, "me", PAGE, expires)
    valid(fake_api, INSTA, IG, IG, expires)
    valid(fake_api, TH, "me", THREADS, expires)


def by_network(result: Result) -> dict[str, dict[str, object]]:
    return {a["network"]: a for a in json.loads(result.output)["accounts"]}


def test_valid_tokens_are_reported_with_their_expiry_and_exit_0(
    fake_api: FakeApi, content: Path
) -> None:
    all_valid(fake_api)
    result = run(fake_api, content, all_tokens(), "--format", "json")
    assert result.exit_code == 0, result.output
    fb = by_network(result)["facebook"]
    assert fb["present"] is True
    assert fb["valid"] is True
    assert fb["expires_at"] == "2027-01-27T00:00:00Z"
    assert json.loads(result.output)["ok"] is True


def test_the_check_asks_debug_token_and_the_accounts_identity(
    fake_api: FakeApi, content: Path
) -> None:
    all_valid(fake_api)
    run(fake_api, content, all_tokens())
    [debug] = fake_api.calls("GET", f"{FB}/debug_token")
    assert debug.query == {"input_token": TOKEN, "access_token": TOKEN}
    [me] = fake_api.calls("GET", f"{FB}/me")
    assert me.query["fields"] == "id,name"
    assert fake_api.calls("GET", f"{INSTA}/{IG}")[0].query["fields"] == "id,username"


def test_missing_credentials_are_reported_and_exit_1(fake_api: FakeApi, content: Path) -> None:
    all_valid(fake_api)
    secrets = all_tokens()
    del secrets["threads"]
    result = run(fake_api, content, secrets, "--format", "json")
    assert result.exit_code == 1
    threads = by_network(result)["threads"]
    assert threads["present"] is False
    assert "STORYLINE_SECRET_THREADS_178400000101_<FIELD>" in str(threads["detail"])
    assert fake_api.calls("GET", f"{TH}/debug_token") == []


def test_credentials_from_the_environment_count_as_present(
    fake_api: FakeApi, content: Path
) -> None:
    all_valid(fake_api)
    secrets = all_tokens()
    del secrets["threads"]
    result = run(
        fake_api,
        content,
        secrets,
        "--format",
        "json",
        env={f"STORYLINE_SECRET_THREADS_{THREADS}_ACCESS_TOKEN": TOKEN + "-env"},
    )
    assert result.exit_code == 0, result.output
    assert by_network(result)["threads"]["valid"] is True


def test_a_token_the_network_says_is_invalid_is_reported_invalid(
    fake_api: FakeApi, content: Path
) -> None:
    valid(fake_api, FB, "me", PAGE, IN_60_DAYS)
    valid(fake_api, TH, "me", THREADS, IN_60_DAYS)
    fake_api.on(
        "GET",
        f"{INSTA}/debug_token",
        Reply(
            200,
            {
                "data": {
                    "is_valid": False,
                    "error": {"code": 190, "message": "The session was invalidated by the user"},
                }
            },
        ),
    )
    result = run(fake_api, content, all_tokens(), "--format", "json")
    assert result.exit_code == 1
    ig = by_network(result)["instagram"]
    assert ig["valid"] is False
    assert "invalidated" in str(ig["detail"])


def test_a_revoked_token_refused_with_code_190_is_invalid(fake_api: FakeApi, content: Path) -> None:
    valid(fake_api, FB, "me", PAGE, IN_60_DAYS)
    valid(fake_api, INSTA, IG, IG, IN_60_DAYS)
    fake_api.on(
        "GET",
        f"{TH}/debug_token",
        Reply(400, graph_error(190, "Error validating access token: token revoked", subcode=460)),
    )
    result = run(fake_api, content, all_tokens(), "--format", "json")
    th = by_network(result)["threads"]
    assert th["valid"] is False
    assert "token revoked" in str(th["detail"])


def test_a_token_reaching_another_account_is_invalid(fake_api: FakeApi, content: Path) -> None:
    valid(fake_api, FB, "me", "999", IN_60_DAYS)
    valid(fake_api, INSTA, IG, IG, IN_60_DAYS)
    valid(fake_api, TH, "me", THREADS, IN_60_DAYS)
    result = run(fake_api, content, all_tokens(), "--format", "json")
    fb = by_network(result)["facebook"]
    assert fb["valid"] is False
    assert "999" in str(fb["detail"])


def test_a_token_expiring_within_a_week_needs_attention(fake_api: FakeApi, content: Path) -> None:
    all_valid(fake_api, expires=IN_3_DAYS)
    result = run(fake_api, content, all_tokens())
    assert result.exit_code == 1
    assert "expires 2026-12-01" in result.output
    assert "renew it" in result.output


def test_a_network_that_cannot_be_reached_leaves_validity_unknown(
    fake_api: FakeApi, content: Path
) -> None:
    valid(fake_api, INSTA, IG, IG, IN_60_DAYS)
    valid(fake_api, TH, "me", THREADS, IN_60_DAYS)
    fake_api.on("GET", f"{FB}/debug_token", Reply(503, None))
    result = run(fake_api, content, all_tokens(), "--format", "json")
    fb = by_network(result)["facebook"]
    assert fb["valid"] is None
    assert "could not check" in str(fb["detail"])


def test_offline_only_checks_presence_without_calling_the_network(
    fake_api: FakeApi, content: Path
) -> None:
    result = run(fake_api, content, all_tokens(), "--offline", "--format", "json")
    assert fake_api.requests == []
    assert {a["present"] for a in json.loads(result.output)["accounts"]} == {True}


def test_the_text_report_names_each_account(fake_api: FakeApi, content: Path) -> None:
    all_valid(fake_api)
    result = run(fake_api, content, all_tokens())
    assert (
        "fr   facebook   Holdout Motors France (100200300): valid, expires 2027-01-27"
        in result.output
    )
    assert "3 account(s), 0 need attention" in result.output


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_never_appear_in_the_output_even_when_the_network_echoes_them(
    fake_api: FakeApi, content: Path, fmt: str
) -> None:
    fake_api.on(
        "GET", f"{FB}/debug_token", Reply(400, graph_error(190, f"Malformed access token {TOKEN}"))
    )
    fake_api.on(
        "GET", f"{INSTA}/debug_token", Reply(500, {"error": {"message": f"boom {TOKEN}-ig"}})
    )
    fake_api.on(
        "GET",
        f"{TH}/debug_token",
        Reply(200, {"data": {"is_valid": False, "error": {"message": f"bad {TOKEN}-th"}}}),
    )
    result = run(fake_api, content, all_tokens(), "--format", fmt)
    assert result.exit_code == 1
    assert TOKEN not in result.output
    assert "Malformed access token ***" in result.output


def test_bad_markets_file_is_a_clear_error_not_a_traceback(
    fake_api: FakeApi, content: Path
) -> None:
    (content / "markets.yaml").write_text("markets:\n  fr: [not, a, market]\n")
    result = run(fake_api, content, all_tokens())
    assert result.exit_code == 1
    assert "markets.yaml" in result.output
    assert "Traceback" not in result.output


class _CrashingCheck:
    def check(self, credentials: object) -> object:
        raise KeyError(f"oops {TOKEN}")


def test_a_crashing_check_is_reported_unknown_without_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from scheduler.app.accounts import check_account
    from scheduler.publishers.base import Credentials

    creds = Credentials("x", "BrandFR", {"access_token": TOKEN})
    status = check_account("x", "BrandFR", creds, _CrashingCheck(), ("access_token",))
    assert status.present is True
    assert status.valid is None
    assert "KeyError" in status.detail
    assert TOKEN not in caplog.text
    assert "oops ***" in caplog.text


def test_a_missing_required_field_is_reported_by_name() -> None:
    from scheduler.app.accounts import check_account
    from scheduler.publishers.base import Credentials

    creds = Credentials("bluesky", "brand.bsky.social", {"identifier": "brand.bsky.social"})
    status = check_account(
        "bluesky", "brand.bsky.social", creds, None, ("identifier", "app_password")
    )
    assert (status.present, status.detail) == (False, "missing app_password")


def test_an_unreachable_network_is_reported_unknown_not_ok(
    fake_api: FakeApi, content: Path
) -> None:
    valid(fake_api, INSTA, IG, IG, IN_60_DAYS)
    valid(fake_api, TH, "me", THREADS, IN_60_DAYS)
    fake_api.on("GET", f"{FB}/debug_token", Reply(503, None))
    text = run(fake_api, content, all_tokens())
    [fb_line] = [ln for ln in text.output.splitlines() if " facebook " in ln]
    assert fb_line.startswith("?? fr   facebook   Holdout Motors France (100200300): unknown — ")
    assert not fb_line.startswith("ok")
    assert text.output.rstrip().endswith(
        "3 account(s), 0 need attention, 1 unknown (the network could not be reached: "
        "check again later)"
    )
    fb = by_network(run(fake_api, content, all_tokens(), "--format", "json"))["facebook"]
    assert (fb["verdict"], fb["ok"]) == ("unknown", None)


def test_a_misspelt_field_in_the_secrets_file_is_named() -> None:
    from scheduler.app.accounts import check_account
    from scheduler.publishers.base import Credentials

    creds = Credentials("x", "HoldoutFR", {"acces_token": "t0ken-value"})
    status = check_account("x", "HoldoutFR", creds, None, ("access_token",))
    assert status.detail == (
        "missing access_token (the secrets file's 'acces_token' looks like a misspelt "
        "'access_token')"
    )
    assert "t0ken-value" not in status.detail
