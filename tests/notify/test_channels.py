"""Channels from the environment: each once, routed by market, named without their secret."""

from __future__ import annotations

import pytest

from scheduler.app.notify_channels import channel_id, channels_of, redact, routes_of
from scheduler.app.settings import Settings
from scheduler.core.errors import ConfigError

SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"
MAIL = "mailtos://cm:pa55word@smtp.example.com?to=cm-fr@example.com"


def settings(**env: str) -> Settings:
    return Settings.from_env({f"STORYLINE_{k}": v for k, v in env.items()})


def test_a_channel_is_named_by_a_hash_that_reveals_nothing_of_its_url() -> None:
    cid = channel_id(SLACK)
    assert cid.startswith("slack-") and len(cid) == len("slack-") + 16
    assert "T1JJ3T3L2" not in cid and cid == channel_id(SLACK)


def test_labels_are_apprises_privacy_form_without_tokens_or_passwords() -> None:
    labels = [c.label for c in channels_of(settings(NOTIFY=f"{SLACK} {MAIL}"))]
    assert labels[0].startswith("slack://")
    assert labels[1].startswith("mailtos://")
    for secret in ("T1JJ3T3L2", "A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7", "pa55word"):
        assert all(secret not in label for label in labels)


def test_market_channels_hear_their_market_and_a_url_in_both_hears_everything_once() -> None:
    channels = channels_of(settings(NOTIFY=SLACK, NOTIFY_FR=f"{SLACK} {MAIL}", NOTIFY_US=MAIL))
    assert [(c.variable, c.markets) for c in channels] == [
        ("STORYLINE_NOTIFY", ()),
        ("STORYLINE_NOTIFY_US", ("fr", "us")),
    ]
    routes = routes_of(channels)
    assert routes.channels_for(["fr"]) == (channel_id(SLACK), channel_id(MAIL))
    assert routes.channels_for(["de"]) == (channel_id(SLACK),)


def test_a_url_apprise_cannot_read_names_its_variable_and_not_its_secret() -> None:
    with pytest.raises(ConfigError) as refused:
        channels_of(settings(NOTIFY_DE="slak://s3cr3tT0ken/x"))
    assert str(refused.value).startswith("STORYLINE_NOTIFY_DE: slak://… is not a notification URL")
    assert "s3cr3tT0ken" not in str(refused.value)


def test_redact_hides_passwords_path_tokens_query_values_and_token_hosts() -> None:
    text = f"failed {SLACK} and {MAIL}: TIiajkdnlazkcOXrIdevi7, pa55word, T1JJ3T3L2"
    clean = redact(text, [SLACK, MAIL])
    for secret in ("TIiajkdnlazkcOXrIdevi7", "pa55word", "T1JJ3T3L2", "A1BRTD4JD"):
        assert secret not in clean
    assert clean == "failed *** and ***: ***, ***, ***"
    # A host name is not a secret: an error about it stays readable.
    assert redact("cannot reach smtp.example.com", [MAIL]) == "cannot reach smtp.example.com"
