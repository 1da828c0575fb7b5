"""Which token lifecycle serves which network, and the secret fields each one reads.

The secrets-file validation reads :func:`fields_of` to refuse a misspelled field with a
"did you mean" (scheduler.core.suggest); the database side calls :func:`lifecycle_for`.
"""

from __future__ import annotations

from scheduler.core.errors import ConfigError
from scheduler.core.suggest import unknown
from scheduler.publishers.auth.base import TokenLifecycle
from scheduler.publishers.auth.bluesky import BlueskyTokens
from scheduler.publishers.auth.facebook import FacebookTokens
from scheduler.publishers.auth.instagram import InstagramTokens
from scheduler.publishers.auth.linkedin import LinkedInTokens
from scheduler.publishers.auth.mastodon import MastodonTokens
from scheduler.publishers.auth.threads import ThreadsTokens
from scheduler.publishers.auth.weibo import WeiboTokens
from scheduler.publishers.auth.x import XTokens
from scheduler.publishers.auth.youtube import YouTubeTokens
from scheduler.publishers.base import PublisherSettings
from scheduler.publishers.http import HttpClient

LIFECYCLES: dict[str, type[TokenLifecycle]] = {
    cls.network: cls
    for cls in (
        XTokens,
        YouTubeTokens,
        LinkedInTokens,
        ThreadsTokens,
        InstagramTokens,
        FacebookTokens,
        BlueskyTokens,
        MastodonTokens,
        WeiboTokens,
    )
}


def lifecycle_class(network: str) -> type[TokenLifecycle]:
    try:
        return LIFECYCLES[network]
    except KeyError:
        raise ConfigError(unknown("network with tokens", network, sorted(LIFECYCLES))) from None


def lifecycle_for(network: str, settings: PublisherSettings, http: HttpClient) -> TokenLifecycle:
    """The network's token lifecycle, speaking through the shared HTTP client."""
    return lifecycle_class(network)(settings, http)


def fields_of(network: str) -> tuple[str, ...]:
    """The secret fields the network's token lifecycle reads (empty for a network without one,
    such as the webhook)."""
    cls = LIFECYCLES.get(network)
    return cls.fields if cls is not None else ()
