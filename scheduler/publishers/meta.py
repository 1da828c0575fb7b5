"""What Facebook Pages, Instagram and Threads share: the Graph API's errors, calls and containers.

All three speak Meta's Graph API dialect: ``access_token`` as a parameter, errors as
``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` (often with HTTP 400
whatever the cause), cursor paging, and — for Instagram and Threads — the two-step media
*container* flow. Keeping the dialect here means the three publishers agree on what each error
code means for the post's lifecycle, following Meta's error-handling guide:

* ``190`` (token expired/revoked), ``102`` (session), ``10`` and ``200``-``299`` (permission
  missing or removed) -> :class:`NeedsAuth`: only a person re-authorising can fix them;
* ``4``, ``17``, ``32``, ``613``, ``341`` and the Business Use Case codes ``80000``-``80014``
  (throttling) -> :class:`Transient` with ``retry_after`` from ``Retry-After``, else the
  ``estimated_time_to_regain_access`` of ``X-Business-Use-Case-Usage``, else a default backoff;
* ``1``/``2`` (unknown / service temporarily down) -> :class:`Transient`; ``1`` after a write is
  marked ``sent`` because Meta does not say whether the write happened;
* ``368`` (temporarily blocked for policy) -> :class:`Transient` after an hour;
* ``100``/``33`` or HTTP 404 (no such object) -> :class:`MissingObject` (``find`` reads it
  as "not there");
* ``506`` (duplicate post) -> :class:`DuplicatePost`: evidence that the post may already be
  out, which the publisher checks with ``find`` instead of failing;
* Instagram ``9``/``2207042`` (publishing limit reached) -> :class:`Transient`;
  ``9007``/``2207027`` (media not ready) -> :class:`Transient`;
* anything else 4xx -> :class:`Permanent` with Meta's own message.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import httpx

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, PublishError, Transient
from scheduler.publishers.base import Credentials, Published
from scheduler.publishers.media import MEDIA_BASE_URL_VARIABLE, public_url

if TYPE_CHECKING:
    from scheduler.core.model import Media
    from scheduler.publishers.base import AccountStatus, PublisherSettings
from scheduler.publishers.http import Classifier, HttpClient, retry_after_seconds

#: The Graph API version Storyline is written against (changelog: v26.0, July 29, 2026).
GRAPH_VERSION = "v26.0"
GRAPH_BASE = f"https://graph.facebook.com/{GRAPH_VERSION}"
THREADS_BASE = "https://graph.threads.net/v1.0"

AUTH_CODES = frozenset({102, 190, 10, *range(200, 300)})
THROTTLE_CODES = frozenset({4, 17, 32, 613, 341, *range(80000, 80015)})
DEFAULT_THROTTLE_WAIT = 300.0  # Meta says "wait and retry"; five minutes unless told otherwise
POLICY_BLOCK_WAIT = 3600.0
DUPLICATE_POST = 506
IG_LIMIT_SUBCODE = 2207042
IG_NOT_READY = frozenset({9007, 2207027})

#: How far before the due time ``find`` looks (clocks differ; a retry may run late).
FIND_MARGIN = timedelta(hours=1)
#: ``find`` reads at most this many pages of recent posts: bounded work, then "cannot tell".
FIND_MAX_PAGES = 5


class DuplicatePost(Permanent):
    """Meta refused the post as a duplicate of one just published (code 506)."""


class MissingObject(Permanent):
    """The object asked for does not exist (code 100 subcode 33, or HTTP 404)."""


@dataclass(frozen=True, slots=True)
class GraphError:
    """The ``error`` object of a Graph API answer."""

    code: int | None
    subcode: int | None
    type: str
    message: str
    is_transient: bool

    @classmethod
    def of(cls, response: httpx.Response) -> GraphError | None:
        try:
            body = response.json()
        except ValueError:
            return None
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return None

        def num(value: Any) -> int | None:
            try:
                return int(value)
            except (TypeError, ValueError):
                return None

        message = err.get("error_user_msg") or err.get("message") or "no message"
        if err.get("error_user_msg") and err.get("message"):
            message = f"{err['message']} ({err['error_user_msg']})"
        return cls(
            code=num(err.get("code")),
            subcode=num(err.get("error_subcode")),
            type=str(err.get("type") or ""),
            message=str(message),
            is_transient=bool(err.get("is_transient")),
        )


def usage_wait(response: httpx.Response) -> float | None:
    """Seconds until access returns, from ``X-Business-Use-Case-Usage`` (given in minutes)."""
    raw = response.headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = [
        float(entry.get("estimated_time_to_regain_access") or 0)
        for entries in (usage.values() if isinstance(usage, dict) else [])
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    ]
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


def graph_classifier(network: str, *, write: bool) -> Classifier:
    """The ``classify`` hook for :meth:`HttpClient.request` speaking Meta's error codes."""

    def classify(response: httpx.Response) -> PublishError | None:
        err = GraphError.of(response)
        status = response.status_code
        if err is None:
            return None  # not a Graph error body: the shared default mapping applies
        where = f"{network} (HTTP {status}, code {err.code}"
        where += f"/{err.subcode})" if err.subcode else ")"
        msg = f"{where}: {err.message}"
        code = err.code
        if code in AUTH_CODES or (err.type == "OAuthException" and code is None):
            return NeedsAuth(msg, http_status=status)
        if code in THROTTLE_CODES or status == 429:
            wait = retry_after_seconds(response) or usage_wait(response) or DEFAULT_THROTTLE_WAIT
            return Transient(msg, retry_after=wait, http_status=status)
        if code == 9 and err.subcode == IG_LIMIT_SUBCODE:
            return Transient(msg, retry_after=POLICY_BLOCK_WAIT, http_status=status)
        if code in IG_NOT_READY or err.subcode in IG_NOT_READY:
            return Transient(msg, retry_after=60.0, http_status=status)
        if code == 368:
            return Transient(msg, retry_after=POLICY_BLOCK_WAIT, http_status=status)
        if code == DUPLICATE_POST:
            return DuplicatePost(msg, http_status=status)
        if code in (1, 2) or err.is_transient or status >= 500:
            return Transient(
                msg,
                retry_after=retry_after_seconds(response),
                http_status=status,
                sent=write and code == 1,
            )
        if status == 404 or (code == 100 and err.subcode == 33):
            return MissingObject(msg, http_status=status)
        return Permanent(msg, http_status=status)

    return classify


class GraphApi:
    """One account's view of a Graph API host: the token goes with every call, never logged.

    GET requests carry ``access_token`` in the query string (the only place Graph reads it
    for reads); POST requests carry it in the form body, so it stays out of URLs and access
    logs of proxies.
    """

    def __init__(self, http: HttpClient, base: str, network: str, credentials: Credentials) -> None:
        try:
            self.token = credentials["access_token"]
        except KeyError:
            raise NeedsAuth(
                f"{network}: no access_token for account {credentials.account}"
            ) from None
        self.http = http
        self.base = base.rstrip("/")
        self.network = network
        self.secrets = credentials.secret_values()

    def at(self, base: str) -> GraphApi:
        """The same account on another host (Facebook uploads videos to its video host)."""
        other = copy.copy(self)
        other.base = base.rstrip("/")
        return other

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def get(self, path: str, *, as_token: str | None = None, **params: Any) -> dict[str, Any]:
        query = {k: str(v) for k, v in params.items() if v is not None}
        query["access_token"] = as_token or self.token
        response = self.http.request(
            "GET",
            self.url(path),
            network=self.network,
            secrets=self.secrets,
            classify=graph_classifier(self.network, write=False),
            params=query,
        )
        return _json(response, self.network)

    def post(
        self,
        path: str,
        data: Mapping[str, Any],
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        body = {k: str(v) for k, v in data.items() if v is not None}
        body["access_token"] = self.token
        response = self.http.request(
            "POST",
            self.url(path),
            network=self.network,
            secrets=self.secrets,
            classify=graph_classifier(self.network, write=True),
            data=body,
            files=dict(files) if files else None,
        )
        return _json(response, self.network)

    def paged(self, path: str, *, max_pages: int = FIND_MAX_PAGES, **params: Any) -> PageWalk:
        """Walk a list edge page by page (``paging.next`` cursors), at most ``max_pages``."""
        return PageWalk(self, path, max_pages, params)


class PageWalk:
    """Iterates the items of a Graph list edge; ``exhausted`` tells whether it saw them all."""

    def __init__(self, api: GraphApi, path: str, max_pages: int, params: dict[str, Any]) -> None:
        self.api, self.path, self.max_pages, self.params = api, path, max_pages, params
        self.exhausted = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        params = dict(self.params)
        for _ in range(self.max_pages):
            page = self.api.get(self.path, **params)
            yield from page.get("data") or []
            after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
            if not (page.get("paging") or {}).get("next") or not after:
                self.exhausted = True
                return
            params["after"] = after


def _json(response: httpx.Response, network: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise Transient(
            f"{network}: answer was not JSON (HTTP {response.status_code})", sent=True
        ) from None
    if not isinstance(body, dict):
        raise Transient(f"{network}: unexpected answer shape", sent=True)
    return body


def same_text(a: str | None, b: str | None) -> bool:
    """Networks trim and re-space text; compare the words, not the whitespace."""
    if a is None or b is None:
        return False
    return re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip()


def parse_time(value: Any) -> datetime | None:
    """Graph timestamps: ``2026-12-01T08:00:03+0000`` (ISO 8601, offset without colon)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def find_by_text(
    walk: PageWalk,
    *,
    text: str,
    text_field: str,
    time_field: str,
    since: datetime,
    url_field: str = "permalink",
) -> Published | None:
    """Look through recent posts (newest first) for one whose text is ours.

    Found -> Published. Reached posts older than ``since`` or the end of the list -> None
    (certainly absent). Ran out of pages first -> CannotCheck: too many posts to be sure.
    """
    for item in walk:
        if same_text(item.get(text_field), text):
            return Published(str(item["id"]), item.get(url_field))
        created = parse_time(item.get(time_field))
        if created is not None and created < since:
            return None
    if walk.exhausted:
        return None
    raise CannotCheck(
        f"{walk.api.network}: more than {walk.max_pages} pages of posts since "
        f"{since:%Y-%m-%d %H:%M}Z; cannot tell whether the post went out"
    )


Sleep = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class Polling:
    """How long one attempt waits for a container before handing back a Transient.

    Meta recommends checking a container about once a minute for at most five minutes; one
    attempt waits ``max_wait`` seconds (well under the claim lease), then the retry waits
    ``retry_after`` and resumes from the checkpointed container.
    """

    interval: float = 3.0
    max_wait: float = 30.0
    retry_after: float = 60.0


class ContainerPublisher:
    """What Instagram and Threads share: a Graph host (overridable per network), media sent as
    public URLs, bounded waiting for containers, and the answers they both read back."""

    network: ClassVar[str]
    default_base: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ("access_token",)

    def __init__(
        self,
        settings: PublisherSettings,
        http: HttpClient,
        *,
        polling: Polling | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.settings = settings
        self.http = http
        self.base = settings.api_base(self.network, self.default_base)
        self.polling = polling or Polling()
        self.sleep = sleep

    def _url(self, media: Media, *, strict: bool = True) -> str:
        """The media's public URL; for ``describe`` (not strict), a placeholder when unset."""
        if not strict and not self.settings.media_base_url:
            return f"${{{MEDIA_BASE_URL_VARIABLE}}}/{media.file}"
        return public_url(self.settings, media)

    def _permalink(self, api: GraphApi, media_id: str) -> str | None:
        try:
            body = api.get(media_id, fields="permalink")
        except NeedsAuth:
            raise
        except PublishError:
            return None
        link = body.get("permalink")
        return str(link) if link else None

    def _id(self, body: Mapping[str, Any]) -> str:
        """The id of a created object; none means the answer was lost in some way."""
        if not body.get("id"):
            raise Transient(f"{self.network}: answer without an id", sent=True)
        return str(body["id"])


def wait_for_container(
    api: GraphApi,
    container_id: str,
    *,
    status_field: str,
    error_field: str,
    polling: Polling,
    sleep: Sleep = time.sleep,
) -> str:
    """Poll a container until it is no longer ``IN_PROGRESS``; return its final status.

    ``ERROR`` becomes Permanent with Meta's reason; still ``IN_PROGRESS`` when the budget is
    spent becomes Transient (the checkpoint keeps the container, the retry resumes it).
    """
    deadline = time.monotonic() + polling.max_wait
    while True:
        body = api.get(container_id, fields=f"{status_field},{error_field}")
        status = str(body.get(status_field) or "").upper()
        if status == "ERROR":
            reason = body.get(error_field) or "no reason given"
            raise Permanent(f"{api.network}: media container {container_id} failed: {reason}")
        if status != "IN_PROGRESS":
            return status
        if time.monotonic() + polling.interval > deadline:
            raise Transient(
                f"{api.network}: media container {container_id} still processing after "
                f"{polling.max_wait:.0f}s",
                retry_after=polling.retry_after,
            )
        sleep(polling.interval)


def check_quota(api: GraphApi, path: str, *, what: str) -> None:
    """Read the account's publishing quota (rolling 24 h) and stop before tripping it."""
    body = api.get(path, fields="quota_usage,config")
    entries = body.get("data") or []
    if not entries or not isinstance(entries[0], dict):
        return
    entry = entries[0]
    usage = entry.get("quota_usage")
    config = entry.get("config") or {}
    total = config.get("quota_total")
    if isinstance(usage, int | float) and isinstance(total, int | float) and usage >= total:
        duration = float(config.get("quota_duration") or 86400)
        raise Transient(
            f"{api.network}: {what} quota used ({int(usage)} of {int(total)} posts in "
            f"{duration / 3600:.0f} h); retrying later",
            retry_after=min(POLICY_BLOCK_WAIT, duration),
        )


def token_status(
    api: GraphApi,
    credentials: Credentials,
    *,
    identity: str,
    fields: str,
    expected_id: str,
) -> AccountStatus:
    """Validity and expiry of an account's token, the Graph way.

    ``GET /debug_token?input_token=<token>`` tells ``is_valid`` and ``expires_at`` (0: never);
    it must be called with an app token or a token of the same app, so an ``app_token`` field
    in the secrets is used when present, the token itself otherwise. Then the identity call
    (``GET /me`` or ``GET /{ig-user-id}``) proves the token reaches *this* account.
    """
    from scheduler.publishers.base import AccountStatus

    expires_at: datetime | None = None
    notes: list[str] = []
    try:
        debug = api.get("debug_token", as_token=credentials.get("app_token"), input_token=api.token)
    except (NeedsAuth, Transient):
        raise
    except Permanent as exc:
        debug = {}
        notes.append(f"expiry unknown ({exc})")
    data = debug.get("data") or {}
    if data.get("is_valid") is False:
        reason = (data.get("error") or {}).get("message") or "the network says the token is invalid"
        return AccountStatus(present=True, valid=False, detail=str(reason))
    stamps = [int(v) for v in (data.get("expires_at"), data.get("data_access_expires_at")) if v]
    if stamps:
        expires_at = datetime.fromtimestamp(min(stamps), UTC)
    elif data:
        notes.append("never expires")
    me = api.get(identity, fields=fields)
    if str(me.get("id")) != expected_id:
        return AccountStatus(
            present=True,
            valid=False,
            expires_at=expires_at,
            detail=f"the token reaches account {me.get('id')}, not {expected_id}",
        )
    who = me.get("name") or me.get("username")
    detail = "; ".join([f"reaches {who}" if who else "reaches the account", *notes])
    return AccountStatus(present=True, valid=True, expires_at=expires_at, detail=detail)
