"""How each network's feed draws a post: its colours, where it folds long text, its words.

These are display facts, not limits: a network *accepts* a 2,200-character Instagram caption
but its feed shows 125 characters before "more". The hard limits and the length counting live
in :mod:`scheduler.text.networks`; the numbers here and their sources are in ``docs/preview.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FeedStyle:
    """One network's look in the preview.

    ``fold`` is the number of characters a feed shows before its "see more" link (``None``: the
    whole post is shown); ``layout`` picks the card template (``feed``, ``square`` media first
    with the caption under it, ``video`` with a title and a description).
    """

    network: str
    label: str
    color: str
    fold: int | None
    more: str
    layout: str = "feed"
    handle_prefix: str = "@"


FEEDS: dict[str, FeedStyle] = {
    s.network: s
    for s in (
        FeedStyle("facebook", "Facebook", "#1877f2", 480, "See more"),
        FeedStyle("instagram", "Instagram", "#d62976", 125, "more", layout="square"),
        FeedStyle("x", "X", "#0f1419", None, "Show more"),
        FeedStyle("linkedin", "LinkedIn", "#0a66c2", 210, "…see more"),
        FeedStyle("youtube", "YouTube", "#ff0000", 150, "...more", layout="video"),
        FeedStyle("weibo", "Weibo", "#e6162d", 140, "...全文"),
        FeedStyle("mastodon", "Mastodon", "#6364ff", None, "Show more"),
        FeedStyle("bluesky", "Bluesky", "#0085ff", None, "Show more"),
        FeedStyle("threads", "Threads", "#101010", None, "more"),
    )
}

_GENERIC_COLOR = "#5b6573"


def feed_style(network: str) -> FeedStyle:
    """The style of ``network``; a network the preview does not know gets a plain card."""
    known = FEEDS.get(network)
    if known is not None:
        return known
    return FeedStyle(network, network.capitalize(), _GENERIC_COLOR, None, "more")


#: Colours of the post states (docs/architecture.md, lifecycle) in the calendar.
STATE_COLORS: dict[str, str] = {
    "planned": "#5b6573",
    "queued": "#8a6d00",
    "publishing": "#b35c00",
    "retry_wait": "#b35c00",
    "published": "#1a7f37",
    "outbox": "#0969da",  # written to the local outbox, never sent: not a publication
    "failed": "#cf222e",
    "reconciling": "#8250df",
    "needs_review": "#cf222e",
    "held": "#9a6700",
    "cancelled": "#8c959f",
}
