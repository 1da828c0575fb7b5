"""A post as the content says it should be: what is sent, where, and when.

Planning makes these; the calendar compares them with what it holds; previews show them. They
live in the core because every layer above speaks of them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from scheduler.core.diagnostics import Finding
from scheduler.core.model import Media, StoryStatus
from scheduler.core.signoff import Signoff


def post_id(story: str, beat: str, network: str, market: str) -> str:
    """The stable, human-readable idempotency key: ``<story>/<beat>/<network>/<market>``."""
    return f"{story}/{beat}/{network}/{market}"


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """One post as the content says it should be: what, where, when (UTC and local)."""

    post_id: str
    story: str
    beat: str
    network: str
    market: str
    account: str  # the account key (id or handle) from markets.yaml
    account_name: str
    timezone: str
    due_utc: datetime  # aware, UTC
    due_local: datetime  # aware, in ``timezone``
    text: str
    title: str | None = None
    link: str | None = None
    media: tuple[Media, ...] = ()
    first_comment: str | None = None
    story_status: StoryStatus = StoryStatus.APPROVED
    campaign: str = ""
    findings: tuple[Finding, ...] = field(default=(), compare=False)
    #: Its market's sign-off (None: the market needs none); set by
    #: :func:`scheduler.planning.signoff.apply_signoff` before the due time is ever re-timed.
    signoff: Signoff | None = field(default=None, compare=False)
    #: The posts of an X thread, numbered, when the story opted in and the text is long
    #: (:mod:`scheduler.text.thread`); empty for a single post. Derived from ``text`` and
    #: ``link``: the X publisher splits the same way.
    thread: tuple[str, ...] = field(default=(), compare=False)

    @property
    def awaiting_signoff(self) -> str | None:
        """Why sync must hold it until someone signs off (None: nothing to wait for)."""
        s = self.signoff
        return s.reason if s is not None and s.holds else None

    @property
    def content_hash(self) -> str:
        """Changes when what would be sent changes; the due time is compared on its own."""
        payload = {
            "account": self.account,
            "text": self.text,
            "title": self.title,
            "link": self.link,
            "media": [[m.file, m.alt, m.kind] for m in self.media],
            "first_comment": self.first_comment,
        }
        raw = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(raw).hexdigest()[:32]
