"""Every exception Storyline raises on purpose, in one tree (the httpx habit).

::

    StorylineError                 anything Storyline reports to a user instead of a traceback
    ├── ContentError               the content or the editorial lines are wrong; carries Findings
    ├── ConfigError                a flag, a variable or the secrets file is wrong
    ├── DatabaseError              the calendar database cannot be used
    │   ├── DatabaseUnreachable    the URL points nowhere or credentials are refused
    │   ├── SchemaBehind           migrations are missing: run `storyline db upgrade`
    │   └── DatabaseBusy           another sync holds the calendar, or SQLite is locked
    ├── NotFound                   a post id, story or account that does not exist
    ├── InvalidTransition          a command asked for a state change the lifecycle forbids
    └── PublishError               a network said no; the dispatcher decides what follows
        ├── Transient              try again later (timeouts, 5xx, 429); retry_after in seconds
        ├── Permanent              the network refused this post; retrying cannot help
        ├── NeedsAuth              the account's token is missing, expired or revoked
        └── CannotCheck            reconciliation cannot tell whether the post went out

The CLI turns any ``StorylineError`` into a message and an exit code; anything else is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler.core.diagnostics import Finding


class StorylineError(Exception):
    """Base of every error Storyline reports as a message rather than a traceback."""


class ContentError(StorylineError):
    """Content or editorial lines failed validation; ``findings`` says where and why."""

    def __init__(self, findings: Sequence[Finding], message: str | None = None) -> None:
        self.findings = tuple(findings)
        super().__init__(message or f"{len(self.findings)} problem(s) in the content")


class ConfigError(StorylineError):
    """A setting (flag, environment variable, secrets file) cannot be used."""


class DatabaseError(StorylineError):
    """The calendar database cannot be used."""


class DatabaseUnreachable(DatabaseError):
    """The database URL cannot be connected to."""


class SchemaBehind(DatabaseError):
    """The database schema is older than the code: `storyline db upgrade` fixes it."""


class DatabaseBusy(DatabaseError):
    """Another writer holds the calendar (a concurrent sync, a locked SQLite file)."""


class NotFound(StorylineError):
    """A post, story or account named by the user does not exist."""


class InvalidTransition(StorylineError):
    """The requested state change is not allowed from the post's current state."""


class PublishError(StorylineError):
    """A publisher could not publish; the subclass tells the dispatcher what to do next."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        self.http_status = http_status
        super().__init__(message)


class Transient(PublishError):
    """Worth retrying later; ``retry_after`` (seconds) is the network's hint, if any.

    ``sent`` is True when the request may have reached the network (a timeout after the
    body was written, a lost response): the dispatcher must reconcile before any resend.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        http_status: int | None = None,
        sent: bool = False,
    ) -> None:
        self.retry_after = retry_after
        self.sent = sent
        super().__init__(message, http_status=http_status)


class Permanent(PublishError):
    """The network refused the post for good (validation, policy, duplicate content)."""


class NeedsAuth(PublishError):
    """The account must be re-authorised; its posts are held until then."""


class CannotCheck(PublishError):
    """The network offers no way to tell whether an earlier attempt went out."""


class NoCredentials(ConfigError):
    """In ``live`` mode an account has no credentials: its posts are held, never parked in the
    outbox (``storyline release`` sends them once the credentials exist)."""
