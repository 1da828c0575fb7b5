"""The publisher mode said at start (`storyline run`, every worker and beat), the accounts of
markets.yaml and their relays, and a secrets file read again when it changes."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from scheduler.app.mode import Accounts, announce, banner, read_accounts
from scheduler.app.publishing import registry_for
from scheduler.app.secrets import WatchedSecrets
from scheduler.app.settings import Settings

MARKETS = """\
markets:
  us:
    name: United States
    timezone: America/New_York
    locale: en
    accounts:
      x: {handle: HoldoutUS}
      facebook: {id: "123"}
      instagram: {id: "178", via: "webhook:agency"}
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    accounts:
      x: {handle: HoldoutFR}
      mastodon: {handle: brand@social.example}
"""


@pytest.fixture
def brand(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    lines = tmp_path / "lines"
    for network in ("x", "facebook", "instagram"):  # no mastodon line: no mastodon post
        (lines / network).mkdir(parents=True)
        (lines / network / "line.yaml").write_text("voice: v\n", encoding="utf-8")
    return tmp_path


def settings_for(home: Path, secrets: str | None, **env: str) -> Settings:
    variables = {
        "STORYLINE_CONTENT_DIR": str(home / "content"),
        "STORYLINE_LINES_DIR": str(home / "lines"),
        "STORYLINE_DATA_DIR": str(home / "data"),
        **env,
    }
    if secrets is not None:
        path = home / "secrets.yaml"
        path.write_text(secrets, encoding="utf-8")
        variables["STORYLINE_SECRETS_FILE"] = str(path)
    return Settings.from_env(variables)


def test_read_accounts_lists_the_accounts_with_a_line_and_the_relays(brand: Path) -> None:
    accounts = read_accounts(settings_for(brand, None))
    assert accounts.keys == (
        ("x", "HoldoutUS"),
        ("facebook", "123"),
        ("instagram", "178"),
        ("x", "HoldoutFR"),
    )
    assert dict(accounts.relays) == {("instagram", "178"): ("webhook", "agency")}


def test_live_mode_names_the_accounts_without_credentials(brand: Path) -> None:
    settings = settings_for(brand, "x: {HoldoutFR: {access_token: t}}\n")
    line = banner(settings, registry_for(settings), read_accounts(settings))
    assert line == (
        "live mode: 3 account(s) have no credentials: x:HoldoutUS, facebook:123, "
        "instagram:178 (posts for them are held)"
    )


def test_a_relayed_account_has_credentials_when_its_relay_has(brand: Path) -> None:
    settings = settings_for(
        brand,
        "x: {HoldoutFR: {access_token: t}, HoldoutUS: {access_token: t}}\n"
        "facebook: {'123': {access_token: t}}\n"
        "webhook: {agency: {url: 'http://127.0.0.1:9/hook', secret: s}}\n",
    )
    line = banner(settings, registry_for(settings), read_accounts(settings))
    assert line == "live mode: all 4 account(s) have credentials"


def test_the_list_stops_after_a_few_accounts(brand: Path) -> None:
    settings = settings_for(brand, "x: {}\n")
    many = Accounts(keys=tuple(("x", f"Brand{i}") for i in range(8)))
    line = banner(settings, registry_for(settings), many)
    assert line.startswith("live mode: 8 account(s) have no credentials: x:Brand0, ")
    assert "x:Brand4, … (posts for them are held)" in line
    assert "x:Brand5" not in line


def test_outbox_mode_says_where_the_posts_go(brand: Path) -> None:
    settings = settings_for(brand, None)
    line = banner(settings, registry_for(settings), read_accounts(settings))
    assert line.startswith("outbox mode (no secrets file configured): every post is written to")
    assert str(brand / "data" / "outbox") in line


def test_outbox_forced_by_the_variable_says_so(brand: Path) -> None:
    settings = settings_for(brand, "x: {}\n", STORYLINE_PUBLISHER="outbox")
    assert banner(settings, registry_for(settings), read_accounts(settings)).startswith(
        "outbox mode (STORYLINE_PUBLISHER=outbox)"
    )


def test_announce_warns_in_the_log_when_accounts_lack_credentials(
    brand: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(brand, "x: {}\n")
    with caplog.at_level(logging.INFO, logger="storyline.mode"):
        announce(settings, registry_for(settings))
    [record] = caplog.records
    assert record.levelno == logging.WARNING and "x:HoldoutUS" in record.getMessage()


def test_a_missing_markets_file_still_starts(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, "x: {}\n")
    assert banner(settings, registry_for(settings), read_accounts(settings)) == (
        "live mode: all 0 account(s) have credentials"
    )


# --- the secrets file, watched --------------------------------------------------------------


def test_credentials_added_to_the_file_are_seen_without_a_restart(brand: Path) -> None:
    settings = settings_for(brand, "x: {HoldoutFR: {access_token: t}}\n")
    watched = WatchedSecrets(settings)
    assert watched.credentials("x", "HoldoutUS") is None
    assert settings.secrets_file is not None
    settings.secrets_file.write_text(
        "x: {HoldoutFR: {access_token: t}, HoldoutUS: {access_token: u2}}\n", encoding="utf-8"
    )
    _touch_later(settings.secrets_file)
    found = watched.credentials("x", "HoldoutUS")
    assert found is not None and found["access_token"] == "u2"


def test_a_broken_edit_keeps_the_credentials_read_before(
    brand: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(brand, "x: {HoldoutFR: {access_token: t}}\n")
    watched = WatchedSecrets(settings)
    assert settings.secrets_file is not None
    settings.secrets_file.write_text("x: {HoldoutFR: [unclosed\n", encoding="utf-8")
    _touch_later(settings.secrets_file)
    with caplog.at_level(logging.WARNING):
        assert watched.credentials("x", "HoldoutFR") is not None
    assert "keeping the credentials read before" in caplog.text
    assert "unclosed" not in caplog.text  # a YAML error could quote a secret: never shown


def _touch_later(path: Path) -> None:
    """Move the file's mtime forward, whatever the filesystem's timestamp resolution."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_accounts_check_reads_a_relayed_accounts_credentials_from_its_relay(brand: Path) -> None:
    import json

    from click.testing import CliRunner

    from scheduler.interfaces.cli import cli

    (brand / "secrets.yaml").write_text(
        "webhook: {agency: {url: 'http://127.0.0.1:9/hook', secret: s}}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli,
        ["--content", str(brand / "content"), "accounts", "check", "--offline", "--format", "json"],
        env={"STORYLINE_SECRETS_FILE": str(brand / "secrets.yaml")},
        catch_exceptions=False,
    )
    rows = {(r["network"], r["account"]): r for r in json.loads(result.output)["accounts"]}
    relayed = rows[("instagram", "178")]
    assert relayed["present"] is True
    assert relayed["detail"].startswith("relayed through webhook:agency")
    assert rows[("x", "HoldoutUS")]["present"] is False


def test_the_secrets_file_may_name_a_relay_that_markets_yaml_routes_through(brand: Path) -> None:
    from scheduler.app.accounts import load_markets
    from scheduler.app.secrets import check_accounts_known, load_secrets
    from scheduler.core.errors import ConfigError

    relay = "webhook: {agency: {url: 'http://127.0.0.1:9/hook', secret: s}}\n"
    settings = settings_for(brand, relay)
    check_accounts_known(load_secrets(settings), load_markets(settings))
    typo = settings_for(brand, relay.replace("agency", "agencyy"))
    with pytest.raises(ConfigError, match=r"webhook\.agencyy: .*did you mean 'agency'"):
        check_accounts_known(load_secrets(typo), load_markets(typo))


def test_run_says_the_mode_before_starting_its_worker(brand: Path) -> None:
    from scheduler.interfaces.cli.publishing import _mode_line

    settings = settings_for(brand, "x: {HoldoutFR: {access_token: t}}\n")
    assert _mode_line(settings).startswith("live mode: 3 account(s) have no credentials: ")
    assert _mode_line(settings_for(brand, None)).startswith("outbox mode")
