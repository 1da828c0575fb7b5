"""Link tracking: UTM parameters added, the link's own query kept (scheduler.links)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from scheduler.text.links import UntrackableURL, track, track_urls_in

POST_ID = "suv/reveal/x/fr"


def tracked(url: str, **overrides: str) -> str:
    args = {"network": "x", "campaign": "suv-comfort-launch", "post_id": POST_ID} | overrides
    return track(url, **args)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_track_adds_the_four_utm_parameters() -> None:
    assert query(tracked("https://brand.example/suv")) == {
        "utm_source": ["x"],
        "utm_medium": ["social"],
        "utm_campaign": ["suv-comfort-launch"],
        "utm_content": [POST_ID],
    }


def test_track_keeps_the_existing_query_verbatim_and_first() -> None:
    url = tracked("https://brand.example/suv?ref=home&q=a+b")
    assert urlsplit(url).query.startswith("ref=home&q=a+b&utm_source=x")


def test_track_keeps_the_fragment_last() -> None:
    url = tracked("https://brand.example/suv?ref=home#specs")
    assert url.endswith("&utm_content=suv%2Freveal%2Fx%2Ffr#specs")


def test_track_percent_encodes_values() -> None:
    url = tracked("https://brand.example/", campaign="été 2026 & more")
    assert "utm_campaign=%C3%A9t%C3%A9%202026%20%26%20more" in url
    assert query(url)["utm_campaign"] == ["été 2026 & more"]


def test_track_encodes_the_slashes_of_the_post_id() -> None:
    assert "utm_content=suv%2Freveal%2Fx%2Ffr" in tracked("https://brand.example/")


def test_track_never_overrides_a_utm_parameter_the_link_already_has() -> None:
    url = tracked("https://brand.example/suv?utm_campaign=partner-x")
    assert query(url)["utm_campaign"] == ["partner-x"]
    assert query(url)["utm_source"] == ["x"]


def test_track_is_idempotent() -> None:
    once = tracked("https://brand.example/suv?ref=home#specs")
    assert tracked(once) == once
    assert tracked(once, network="facebook", post_id="other") == once


def test_track_uses_the_medium_given() -> None:
    assert query(tracked("https://brand.example/", medium="paid_social"))["utm_medium"] == [
        "paid_social"
    ]


@pytest.mark.parametrize("url", ["mailto:press@brand.example", "/suv", "brand.example/suv", ""])
def test_track_refuses_what_is_not_an_absolute_http_url(url: str) -> None:
    with pytest.raises(UntrackableURL, match="not an absolute http"):
        tracked(url)


def test_track_urls_in_tracks_each_scheme_link_in_place() -> None:
    text = "New! https://brand.example/suv. More: www.brand.com"
    result = track_urls_in(text, network="x", campaign="c", post_id="p")
    assert result == (
        "New! https://brand.example/suv?utm_source=x&utm_medium=social&utm_campaign=c"
        "&utm_content=p. More: www.brand.com"
    )
