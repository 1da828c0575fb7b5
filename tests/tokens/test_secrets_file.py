"""The secrets file is checked, not silently ignored: an unknown network, a misspelled field or
an account ``markets.yaml`` does not name is an error with the file, the line, the key and a
suggestion; never with a value."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.app.secrets import allowed_fields, check_accounts_known, load_secrets
from scheduler.app.settings import Settings
from scheduler.core.errors import ConfigError
from scheduler.interfaces.cli import cli

VALUE = "tok-VALUE-never-shown"

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    accounts:
      x: {handle: BrandFR, name: Brand France}
      facebook: {id: "100200300", name: Brand France}
"""


def load(tmp_path: Path, text: str) -> tuple[Path, object]:
    path = tmp_path / "secrets.yaml"
    path.write_text(text, encoding="utf-8")
    return path, load_secrets(Settings(secrets_file=path))


def refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert VALUE not in message
    return message


def test_a_misspelled_network_is_named_with_its_line_and_the_network_meant(
    tmp_path: Path,
) -> None:
    message = refusal(tmp_path, f"facebook:\n  '100200300': {{access_token: {VALUE}}}\ntwiter:\n")

    assert f"{tmp_path / 'secrets.yaml'}:3:1: unknown network 'twiter'" in message
    assert "(did you mean 'x'?)" in message


def test_a_network_far_from_any_lists_the_networks(tmp_path: Path) -> None:
    message = refusal(tmp_path, "myspace:\n  brand: {access_token: t}\n")

    assert "unknown network 'myspace'; the networks are: bluesky, facebook" in message


def test_google_plus_says_it_was_shut_down(tmp_path: Path) -> None:
    assert "shut down" in refusal(tmp_path, "google+:\n  brand: {access_token: t}\n")


def test_a_misspelled_field_is_named_with_its_line_and_the_field_meant(tmp_path: Path) -> None:
    message = refusal(tmp_path, f"x:\n  BrandFR:\n    client_id: app\n    acess_token: {VALUE}\n")

    assert ":4:5: x.BrandFR: unknown field 'acess_token' (did you mean 'access_token'?)" in message


def test_every_mistake_is_reported_at_once(tmp_path: Path) -> None:
    message = refusal(
        tmp_path, "twiter:\n  a: {access_token: t}\nx:\n  BrandFR: {acess_token: t, clientid: c}\n"
    )

    assert message.startswith("3 problem(s) in the secrets file")
    assert "'clientid' (did you mean 'client_id'?)" in message


def test_a_value_that_is_not_text_is_refused_by_position(tmp_path: Path) -> None:
    message = refusal(tmp_path, "x:\n  BrandFR: {access_token: [a, b]}\n")

    assert ":2:13: x.BrandFR.access_token: must be a string" in message


def test_the_fields_of_each_network_follow_its_own_words() -> None:
    assert set(allowed_fields("x")) >= {"access_token", "refresh_token", "client_id"}
    assert set(allowed_fields("bluesky")) >= {"identifier", "app_password"}
    assert set(allowed_fields("webhook")) >= {"url", "secret"}
    assert "refresh_token" not in allowed_fields("mastodon")


def test_an_account_markets_yaml_does_not_name_is_refused_with_the_one_meant(
    tmp_path: Path,
) -> None:
    from scheduler.app.accounts import load_markets

    content = tmp_path / "content"
    content.mkdir()
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    path, secrets = load(tmp_path, f"x:\n  BrandFr: {{access_token: {VALUE}}}\n")

    with pytest.raises(ConfigError) as caught:
        check_accounts_known(secrets, load_markets(Settings(content_dir=content)))  # type: ignore[arg-type]

    message = str(caught.value)
    assert f"{path}:2:3: x.BrandFr: no account 'BrandFr' of x in markets.yaml" in message
    assert "(did you mean 'BrandFR'?)" in message
    assert VALUE not in message


def test_the_cli_reports_the_secrets_file_without_a_traceback(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"x:\n  BrandFR: {{acess_token: {VALUE}}}\n", encoding="utf-8")
    env = {
        "STORYLINE_CONTENT_DIR": str(content),
        "STORYLINE_DATA_DIR": str(tmp_path / "data"),
        "STORYLINE_SECRETS_FILE": str(secrets),
    }

    result = CliRunner().invoke(cli, ["accounts", "check", "--offline"], env=env)

    assert result.exit_code == 1
    assert f"{secrets}:2:13: x.BrandFR: unknown field 'acess_token'" in result.output
    assert "Traceback" not in result.output and VALUE not in result.output


def test_without_a_key_the_start_names_the_accounts_that_cannot_be_renewed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from scheduler.app.tokens import startup_checks

    content = tmp_path / "content"
    content.mkdir()
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"x:\n  BrandFR: {{access_token: {VALUE}}}\n", encoding="utf-8")
    settings = Settings(
        content_dir=content,
        data_dir=tmp_path / "data",
        secrets_file=secrets,
        database_url_override=f"sqlite:///{tmp_path / 'calendar.db'}",
    )

    startup_checks(settings)

    assert "STORYLINE_SECRET_KEY is not set: the tokens of 1 account(s) (x:BrandFR)" in caplog.text
    assert VALUE not in caplog.text
