"""Campaign tracking on the brand's links, so analytics can tell which network brought a visit.

Every link a post carries gets the four UTM parameters Google Analytics (and every tool that
copied it) reads::

    utm_source=<network>  utm_medium=social  utm_campaign=<campaign>  utm_content=<post id>

Decisions, so the result is predictable:

* The link's own query string is kept byte for byte and the UTM parameters are appended
  after it; the fragment stays last, where browsers expect it.
* A UTM parameter the link already carries is **kept, not overridden**: a content team that
  wrote ``utm_campaign=partner-x`` by hand meant it. This also makes :func:`track`
  idempotent: tracking a tracked link changes nothing.
* Values are percent-encoded (a post id's ``/`` becomes ``%2F``), so a campaign with spaces
  or accents cannot break the URL.
* Only absolute ``http``/``https`` URLs can be tracked; anything else is a ``ValueError``
  naming the URL, for the caller to turn into a finding.

Links are found by ``extract`` (the links written with their scheme). Pure: no I/O.
Whether a line wants tracking at all is its ``utm`` rule (see ``voice``).
"""

from __future__ import annotations

import functools
from typing import Final
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from scheduler.text.extract import links

UTM_KEYS: Final = ("utm_source", "utm_medium", "utm_campaign", "utm_content")


class UntrackableURL(ValueError):
    """A link that is not an absolute http(s) URL, so it cannot carry UTM parameters."""


def track(url: str, *, network: str, campaign: str, post_id: str, medium: str = "social") -> str:
    """``url`` with the UTM parameters of this post added; existing parameters are kept.

    Shortcut: a story's tracked links on one network are the same but for the post id, so
    the rest (the frame around it) is worked out once per link, network and campaign, and
    the post id is quoted part by part; :func:`track_plain` works everything out each time.
    """
    frame = _tracking_frame(url, network, medium, campaign)
    if frame is None:  # the link carries a UTM parameter of its own
        return track_plain(url, network=network, campaign=campaign, post_id=post_id, medium=medium)
    before, after = frame
    return f"{before}{_encode_path(post_id)}{after}"


def track_plain(
    url: str, *, network: str, campaign: str, post_id: str, medium: str = "social"
) -> str:
    """:func:`track`, the plain way: split the link, add what is missing, put it together."""
    base, query, fragment, present, untouched = _split_for_tracking(url)
    wanted = zip(UTM_KEYS, (network, medium, campaign, post_id), strict=True)
    added = "&".join(
        f"{key}={quote(value, safe='')}" for key, value in wanted if key not in present
    )
    if not added:
        return untouched
    query = f"{query}&{added}" if query else added
    return f"{base}?{query}#{fragment}" if fragment else f"{base}?{query}"


@functools.lru_cache(maxsize=4096)
def _encode(value: str) -> str:
    return quote(value, safe="")


def _encode_path(value: str) -> str:
    """:func:`_encode` of a post id, from its parts: quoting is per character, so the
    parts (story, beat, network, market) are each quoted once for every post they make."""
    return "%2F".join(map(_encode, value.split("/")))


@functools.lru_cache(maxsize=1024)
def _tracking_frame(url: str, network: str, medium: str, campaign: str) -> tuple[str, str] | None:
    """A tracked link of a story on one network is the same but for its post id: what comes
    before and after the post id's value, or ``None`` when the link already carries a UTM
    parameter (then :func:`track` works it out in full)."""
    base, query, fragment, present, _untouched = _split_for_tracking(url)
    if not present.isdisjoint(UTM_KEYS):
        return None
    added = (
        f"utm_source={_encode(network)}&utm_medium={_encode(medium)}"
        f"&utm_campaign={_encode(campaign)}&utm_content="
    )
    query = f"{query}&{added}" if query else added
    return f"{base}?{query}", f"#{fragment}" if fragment else ""


def _split_for_tracking(url: str) -> tuple[str, str, str, frozenset[str], str]:
    """What :func:`track` needs of a link: ``urlunsplit`` without query and fragment, the
    query, the fragment, the parameter names present, and the link as ``urlunsplit`` writes
    it."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise UntrackableURL(f"cannot add tracking to {url!r}: not an absolute http(s) URL")
    present = frozenset(key.lower() for key, _ in parse_qsl(parts.query, keep_blank_values=True))
    base = urlunsplit(parts._replace(query="", fragment=""))
    return base, parts.query, parts.fragment, present, urlunsplit(parts)


def track_urls_in(
    text: str, *, network: str, campaign: str, post_id: str, medium: str = "social"
) -> str:
    """``text`` with every http(s) link in it tracked as :func:`track` does.

    Bare domains (no scheme) are left alone: rewriting them would change what the reader sees.
    """
    pieces: list[str] = []
    last = 0
    for _, start, end, url in links(text, bare=False):
        try:
            tracked = track(url, network=network, campaign=campaign, post_id=post_id, medium=medium)
        except UntrackableURL:
            continue
        pieces.append(text[last:start])
        pieces.append(tracked)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
