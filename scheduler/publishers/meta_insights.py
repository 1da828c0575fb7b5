"""Meta's ``/{object-id}/insights`` edge, shared by Facebook Pages, Instagram and Threads.

One object per request (the edge has no batch form), ``metric`` a comma-separated list.
Errors keep :mod:`scheduler.publishers.meta`'s meaning but two: code ``10`` and ``200``-``299``
mean the token lacks the insights permission (``read_insights``, ``instagram_manage_insights``,
``threads_manage_insights``) -> :class:`~scheduler.publishers.metrics.NoPermission`, reported
once per account; and Instagram's "(#10) Not enough viewers for the media to show insights"
means no data yet: the post stays missing, as Meta's docs say (an empty set, never 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from scheduler.core.errors import Permanent, PublishError
from scheduler.publishers.http import Classifier
from scheduler.publishers.meta import GraphApi, GraphError, MissingObject, graph_classifier
from scheduler.publishers.metrics import NoPermission


class _NoDataYet(Permanent):
    """Meta has no insights for this object yet (too few viewers)."""


def insights_classifier(network: str) -> Classifier:
    base = graph_classifier(network, write=False)

    def classify(response: httpx.Response) -> PublishError | None:
        err = GraphError.of(response)
        if err is not None and err.code is not None and (err.code == 10 or 200 <= err.code < 300):
            msg = f"{network} (HTTP {response.status_code}, code {err.code}): {err.message}"
            if "not enough viewers" in err.message.lower():
                return _NoDataYet(msg, http_status=response.status_code)
            return NoPermission(msg, http_status=response.status_code)
        return base(response)

    return classify


def read_insights(api: GraphApi, object_id: str, metrics: Sequence[str]) -> dict[str, Any] | None:
    """``metric name -> value`` of one object; None when Meta has no data for it yet."""
    try:
        response = api.http.request(
            "GET",
            api.url(f"{object_id}/insights"),
            network=api.network,
            secrets=api.secrets,
            classify=insights_classifier(api.network),
            params={"metric": ",".join(metrics), "access_token": api.token},
        )
    except _NoDataYet:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    values: dict[str, Any] = {}
    for item in body.get("data") or [] if isinstance(body, dict) else []:
        if not isinstance(item, dict) or "name" not in item:
            continue
        series = item.get("values") or []
        if series and isinstance(series[-1], dict):
            values[str(item["name"])] = series[-1].get("value")
        elif isinstance(item.get("total_value"), dict):
            values[str(item["name"])] = item["total_value"].get("value")
    return values


def gone(exc: PublishError) -> bool:
    """Meta's "no such object" (code 100 subcode 33, or HTTP 404): the post was deleted."""
    return isinstance(exc, MissingObject) or exc.http_status == 404
