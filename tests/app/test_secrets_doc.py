"""docs/secrets.md describes the secrets file as the code reads it (issue 16, item 9)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scheduler.app import secrets as secrets_module
from scheduler.app.secrets import Secrets, _parse, allowed_fields, env_key, known_networks
from scheduler.core.errors import ConfigError
from scheduler.publishers.auth.registry import LIFECYCLES, fields_of

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "secrets.md").read_text(encoding="utf-8")


def _example(tmp_path: Path) -> Path:
    block = re.search(r"```yaml\n(.*?)```", DOC, re.S)
    assert block
    path = tmp_path / "secrets.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    return path


def _field_table() -> dict[str, set[str]]:
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", DOC, re.M)
    return {network: set(re.findall(r"`(\w+)`", fields)) for network, fields in rows}


def test_the_example_file_loads(tmp_path: Path) -> None:
    loaded, _ = _parse(_example(tmp_path))
    assert set(loaded) == set(known_networks())


def test_the_table_lists_exactly_the_fields_the_file_accepts() -> None:
    table = _field_table()
    for network in known_networks():
        assert set(allowed_fields(network)) == table[network] - {"facebook", "instagram"}, network
    for network in LIFECYCLES:
        assert set(fields_of(network)) <= table[network], network


def test_the_example_keys_its_accounts_as_the_sample_markets_do(tmp_path: Path) -> None:
    loaded, _ = _parse(_example(tmp_path))
    markets = yaml.safe_load((ROOT / "content" / "markets.yaml").read_text(encoding="utf-8"))
    keys: dict[str, set[str]] = {}
    for market in markets["markets"].values():
        for network, account in market["accounts"].items():
            keys.setdefault(network, set()).add(str(account.get("id") or account["handle"]))
    for network, accounts in loaded.items():
        if network in keys:
            assert set(accounts) <= keys[network], network


@pytest.mark.parametrize(
    ("network", "account", "field", "variable"),
    [
        (
            "facebook",
            "100200300",
            "access_token",
            "STORYLINE_SECRET_FACEBOOK_100200300_ACCESS_TOKEN",
        ),
        (
            "mastodon",
            "holdout@social.example",
            "access_token",
            "STORYLINE_SECRET_MASTODON_HOLDOUT_SOCIAL_EXAMPLE_ACCESS_TOKEN",
        ),
        ("webhook", "agency", "url", "STORYLINE_SECRET_WEBHOOK_AGENCY_URL"),
    ],
)
def test_each_variable_the_doc_names_replaces_that_field(
    network: str, account: str, field: str, variable: str
) -> None:
    assert f"`{variable}`" in DOC
    assert variable == f"STORYLINE_SECRET_{env_key(network)}_{env_key(account)}_{field.upper()}"
    secrets = Secrets(file_fields={network: {account: {field: "old"}}}, environ={variable: "new"})
    credentials = secrets.credentials(network, account)
    assert credentials is not None and credentials[field] == "new"


def test_every_error_message_in_the_doc_is_the_codes(tmp_path: Path) -> None:
    source = Path(secrets_module.__file__).read_text(encoding="utf-8")
    table = DOC[DOC.index("## Mistakes") : DOC.index("## `storyline accounts check`")]
    messages = re.findall(r"^\| [^|]+ \| `(.+)` \|$", table, re.M)
    assert len(messages) == 11
    for message in messages[:5]:  # fixed words: they are in the code as written
        words = re.sub(r"<[^>]+>", " ", message).split(": ")[-1].strip()
        assert words in source, message


def test_the_misspelt_field_example_is_what_the_loader_says(tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text("x:\n  BrandFR:\n    acess_token: t0ken\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        _parse(path)
    said = str(refused.value).splitlines()[-1]
    expected = (
        f"{path}:3:5: x.BrandFR: unknown field 'acess_token' (did you mean 'access_token'?); "
        "x reads: access_token, refresh_token, client_id, client_secret, user_id"
    )
    assert said == expected
    assert expected.replace(str(path), "secrets.yaml") in DOC
    assert "t0ken" not in str(refused.value)
