"""``storyline accounts check``: for each account in ``markets.yaml``, are its credentials
present, does the network accept them, and when do they expire?

Why a command of its own: a token that expires on a Sunday holds every post of that account
(``held``); finding out on Friday is the point. Presence is read from the secrets
(file and environment, :mod:`scheduler.app.secrets`); validity and expiry from the network, through
the publisher's optional ``check(credentials) -> AccountStatus`` method:

    class MyPublisher:
        def check(self, credentials: Credentials) -> AccountStatus: ...

``check`` answers an :class:`AccountStatus`, or raises ``NeedsAuth`` (the network refused the
token: invalid) or another ``PublishError`` (the network could not be asked: unknown). A
publisher without ``check`` is reported as present, not verified.

Secrets never appear in the report: every detail is redacted with the account's own values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scheduler.core.errors import ContentError, NeedsAuth, PublishError, StorylineError
from scheduler.publishers.base import AccountStatus

if TYPE_CHECKING:
    from scheduler.app.secrets import Secrets
    from scheduler.app.settings import Settings
    from scheduler.app.tokens import TokenNote
    from scheduler.core.model import Market
    from scheduler.dispatch.credentials import StoredCredentials
    from scheduler.publishers.base import Credentials
    from scheduler.publishers.http import HttpClient

log = logging.getLogger(__name__)

#: A token expiring sooner than this is reported as a problem: time to renew it.
EXPIRY_WARNING = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class AccountReport:
    """One row of ``storyline accounts check``."""

    market: str
    network: str
    account: str  # the key in the secrets file: id or handle
    name: str
    status: AccountStatus
    problem: bool  # missing, invalid, or expiring within EXPIRY_WARNING

    def to_json(self) -> dict[str, Any]:
        expires = self.status.expires_at
        return {
            "market": self.market,
            "network": self.network,
            "account": self.account,
            "name": self.name,
            "present": self.status.present,
            "valid": self.status.valid,
            "expires_at": expires.astimezone(UTC).isoformat().replace("+00:00", "Z")
            if expires
            else None,
            "detail": self.status.detail,
            "ok": not self.problem,
        }


def _redacted(status: AccountStatus, secrets: Iterable[str]) -> AccountStatus:
    from scheduler.publishers.http import redact

    return replace(status, detail=redact(status.detail, secrets))


def check_account(
    network: str,
    account: str,
    credentials: Credentials | None,
    publisher: Any | None,
    requires: tuple[str, ...] = (),
) -> AccountStatus:
    """The status of one account, from its credentials and (if any) its publisher's check."""
    from scheduler.app.secrets import ENV_PREFIX, env_key

    if credentials is None:
        variable = f"{ENV_PREFIX}{env_key(network)}_{env_key(account)}_<FIELD>"
        return AccountStatus(
            present=False,
            detail=f"no credentials: add {network}.{account} to the secrets file or set {variable}",
        )
    missing = [f for f in requires if not credentials.get(f)]
    if missing:
        return AccountStatus(present=False, detail=f"missing {', '.join(missing)}")
    check = getattr(publisher, "check", None)
    if not callable(check):
        return AccountStatus(present=True, detail="present; this network offers no online check")
    try:
        status = check(credentials)
    except NeedsAuth as exc:
        status = AccountStatus(present=True, valid=False, detail=str(exc))
    except PublishError as exc:
        status = AccountStatus(present=True, valid=None, detail=f"could not check: {exc}")
    except Exception as exc:  # a publisher's bug must not hide the other accounts' report
        from scheduler.publishers.http import redact

        # No traceback in the log: its message could quote a secret; the redacted repr says
        # enough to find the bug.
        why = redact(repr(exc), credentials.secret_values())
        log.warning("%s: the check of %s crashed: %s", network, account, why)
        detail = f"could not check: the {network} check failed ({type(exc).__name__})"
        status = AccountStatus(present=True, valid=None, detail=detail)
    return _redacted(status, credentials.secret_values())


def is_problem(status: AccountStatus, now: datetime, *, renews: bool = False) -> bool:
    """Missing, invalid, or expiring soon (a token Storyline renews by itself excepted)."""
    if not status.present or status.valid is False:
        return True
    if renews:
        return False
    return status.expires_at is not None and status.expires_at - now < EXPIRY_WARNING


def check_accounts(
    settings: Settings,
    markets: Mapping[str, Market],
    *,
    secrets: Secrets,
    http: HttpClient,
    now: datetime,
    online: bool = True,
    tokens: StoredCredentials | None = None,
    refresh: bool = False,
) -> list[AccountReport]:
    """Every account of every market, in market then network order. With ``tokens`` (the
    token store over the secrets) the check uses the stored tokens, shows their expiry and,
    with ``refresh``, renews each renewable token first (``accounts check --refresh``)."""
    from scheduler.app.tokens import describe_tokens
    from scheduler.publishers.registry import load_class

    publishers: dict[str, Any] = {}
    reports: list[AccountReport] = []
    for code in sorted(markets):
        market = markets[code]
        for network in sorted(market.accounts):
            account = market.accounts[network]
            key = account.key
            cls = load_class(network)
            if online and cls is not None and network not in publishers:
                try:
                    publishers[network] = cls(settings, http)
                except StorylineError as exc:
                    log.warning("%s: publisher unavailable for the check: %s", network, exc)
                    publishers[network] = None
            publisher = publishers.get(network) if online else None
            note = None
            credentials = secrets.credentials(network, key)
            if tokens is not None:
                note = describe_tokens(tokens, network, key, refresh=refresh and online)
                credentials = _current(tokens, network, key, credentials)
            status = check_account(
                network,
                key,
                credentials,
                publisher,
                tuple(getattr(cls, "requires", ()) or ()),
            )
            renews = note is not None and note.renewable
            if note is not None:
                status = _with_tokens(status, note)
            if renews:
                pass  # renewed ahead of expiry by the beat: only the lifecycle's warning counts
            elif status.expires_at is not None and status.valid is not False:
                left = status.expires_at - now
                when = f"expires {status.expires_at:%Y-%m-%d %H:%M}Z"
                if left <= timedelta(0):
                    status = replace(status, valid=False, detail=_join(status.detail, "expired"))
                elif left < EXPIRY_WARNING:
                    status = replace(
                        status, detail=_join(status.detail, f"{when}, in {_days(left)}: renew it")
                    )
            reports.append(
                AccountReport(
                    market=code,
                    network=network,
                    account=key,
                    name=account.display,
                    status=status,
                    problem=is_problem(status, now, renews=renews)
                    or bool(note is not None and (note.warning or note.error)),
                )
            )
    return reports


def _current(
    tokens: StoredCredentials, network: str, account: str, fallback: Credentials | None
) -> Credentials | None:
    """The credentials a publisher would get now (the stored tokens win while newer)."""
    try:
        return tokens.credentials(network, account)
    except NeedsAuth:
        return fallback  # refused: the note says so
    except StorylineError as exc:
        log.warning("%s:%s: stored tokens unavailable: %s", network, account, exc)
        return fallback


def _with_tokens(status: AccountStatus, note: TokenNote) -> AccountStatus:
    """The publisher's status with what the token store knows: expiry, renewal, refusal."""
    if note.refused:
        return replace(status, valid=False, detail=_join(status.detail, note.refused))
    expires = status.expires_at or note.expires_at
    detail = _join(_join(status.detail, note.detail()), note.warning or "")
    return replace(status, expires_at=expires, detail=detail)


def _join(detail: str, more: str) -> str:
    if not more:
        return detail
    return f"{detail}; {more}" if detail else more


def _days(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} day(s)" if hours >= 24 else f"{hours} hour(s)"


def load_markets(settings: Settings) -> Mapping[str, Market]:
    """The markets of the content folder; errors in ``markets.yaml`` stop the check."""
    from scheduler.content.files import MARKETS_FILE_NAME
    from scheduler.content.loader import load_content
    from scheduler.text.networks import NETWORKS

    content = load_content(settings.content_dir, networks=tuple(NETWORKS))
    errors = [
        f
        for f in content.findings
        if f.is_error and (f.file.endswith(MARKETS_FILE_NAME) or f.code == "missing-folder")
    ]
    if errors:
        raise ContentError(errors, f"{len(errors)} problem(s) in the markets file")
    if not content.markets:
        raise StorylineError(f"no markets in {settings.content_dir / MARKETS_FILE_NAME}")
    return content.markets


def format_text(reports: list[AccountReport]) -> str:
    """One line per account: market, network, account, verdict, expiry, detail."""
    if not reports:
        return "no accounts in markets.yaml"
    lines = []
    for r in reports:
        s = r.status
        if not s.present:
            verdict = "missing"
        elif s.valid is True:
            verdict = "valid"
        elif s.valid is False:
            verdict = "INVALID"
        else:
            verdict = "present"
        when = s.expires_at.astimezone(UTC) if s.expires_at else None
        expires = f"expires {when:%Y-%m-%d %H:%M} UTC" if when else ""
        mark = "!!" if r.problem else "ok"
        line = f"{mark} {r.market:<4} {r.network:<10} {r.name} ({r.account}): {verdict}"
        if expires:
            line += f", {expires}"
        if s.detail:
            line += f" — {s.detail}"
        lines.append(line)
    bad = sum(r.problem for r in reports)
    lines.append(f"{len(reports)} account(s), {bad} need attention")
    return "\n".join(lines)
