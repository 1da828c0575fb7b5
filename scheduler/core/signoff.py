"""Per-market sign-off bound to the exact post: what a reviewer approved, as a hash.

A sign-off is only worth something if it is tied to what goes out. :func:`signoff_hash` hashes
everything a network receives for one post — the account, the due instant, the text, title,
first comment, link, and each media file's *bytes* (their digest) with its alt text and kind —
so a template edit, a translation fix, a replaced photo or a moved launch all void it, and
nothing else does (``tests/core/test_signoff_hash.py`` holds it to that with Hypothesis).

The approvals file keeps the :class:`Sent` snapshot beside its hash, so a hand-edited hash is
seen (the snapshot no longer hashes to it) and ``plan``/``preview`` can show what changed since
as a text diff (:func:`changes_since`). Pure: no files, no clock.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol, TypeVar

#: An approver: an e-mail address, or a team name (lower case, digits, ``.``, ``_``, ``-``,
#: optionally ``org/team`` as CODEOWNERS writes it, with or without its ``@``).
_EMAIL = r"[^@\s,;<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
_TEAM = r"@?([a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*"
EMAIL_PATTERN = f"^{_EMAIL}$"
TEAM_PATTERN = f"^{_TEAM}$"
#: Either, as the JSON Schema of ``markets.yaml`` writes it.
APPROVER_PATTERN = f"^(?:{_EMAIL}|{_TEAM})$"
APPROVER_HINT = "an e-mail address (claire@brand.example) or a team name (fr-social)"


def approver_problem(name: str) -> str | None:
    """Why ``name`` cannot be an approver, or None when it is an e-mail or a team name."""
    if re.fullmatch(EMAIL_PATTERN, name) or re.fullmatch(TEAM_PATTERN, name):
        return None
    return f"approver {name!r} is not {APPROVER_HINT}"


@dataclass(frozen=True, slots=True)
class SentMedia:
    """One attached file as sent: where it is, what it says to who cannot see it, its bytes."""

    file: str
    alt: str
    kind: str
    digest: str  # sha256 of the file's bytes ("" when the file cannot be read)


class _MediaLike(Protocol):
    @property
    def file(self) -> str: ...
    @property
    def alt(self) -> str: ...
    @property
    def kind(self) -> str: ...


M_co = TypeVar("M_co", covariant=True)


class Sendable(Protocol[M_co]):
    """What a hash reads of a post: a :class:`Sent` snapshot (media :class:`SentMedia`) or a
    planned post (media with file, alt and kind; ``PlannedPost`` has them)."""

    @property
    def account(self) -> str: ...
    @property
    def due_utc(self) -> datetime: ...
    @property
    def text(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def first_comment(self) -> str | None: ...
    @property
    def link(self) -> str | None: ...
    @property
    def media(self) -> Sequence[M_co]: ...


#: The planned post's attributes :func:`sent` and :func:`planned_hash` read.
PlannedLike = Sendable[_MediaLike]


@dataclass(frozen=True, slots=True)
class Sent:
    """Exactly what a network receives for one post: the snapshot an approval records."""

    account: str
    due_utc: datetime  # aware
    text: str
    title: str | None = None
    first_comment: str | None = None
    link: str | None = None
    media: tuple[SentMedia, ...] = ()


def sent(post: PlannedLike, digests: Mapping[str, str]) -> Sent:
    """The snapshot of a planned post; ``digests`` maps each media file to its bytes' sha256."""
    return Sent(
        account=post.account,
        due_utc=post.due_utc,
        text=post.text,
        title=post.title,
        first_comment=post.first_comment,
        link=post.link,
        media=tuple(SentMedia(m.file, m.alt, m.kind, digests.get(m.file, "")) for m in post.media),
    )


@functools.lru_cache(maxsize=4096)
def utc_text(when: datetime) -> str:
    """An instant as the approvals file writes it: ``2027-03-01T08:00:00Z`` (cached: a year's
    posts share a few thousand due instants)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def signoff_hash(post: Sendable[SentMedia]) -> str:
    """The hash a sign-off binds to: it changes if and only if what would be sent changes.

    The due instant counts in UTC (a launch moved by an hour is a different post; the same
    instant written in another zone is not). Each field is framed with its length (a
    netstring; ``~`` for none), so no text can forge a separator: the encoding is injective.
    """
    media = "".join(_framed_media(m.file, m.alt, m.kind, m.digest) for m in post.media)
    return _digest(post, len(post.media), media)


def planned_hash(
    post: PlannedLike,
    digests: Mapping[str, str],
    framed: dict[int, tuple[Sequence[_MediaLike], int, str]] | None = None,
) -> str:
    """``signoff_hash(sent(post, digests))`` without building the snapshot: planning hashes
    every post of a sign-off market (``tests/signoff/test_signoff_hash.py`` holds the two
    equal). ``framed`` remembers each media tuple's framing: planning shares one tuple among
    the posts that show the same media."""
    media = post.media
    entry = framed.get(id(media)) if framed is not None else None
    if entry is None or entry[0] is not media:
        parts = [_framed_media(m.file, m.alt, m.kind, digests.get(m.file, "")) for m in media]
        entry = (media, len(parts), "".join(parts))
        if framed is not None:
            framed[id(media)] = entry  # holds the tuple: its id stays its own
    return _digest(post, entry[1], entry[2])


def _framed_media(file: str, alt: str, kind: str, digest: str) -> str:
    """One attached file, framed as the hash reads it (the same for a snapshot and a plan)."""
    return f"{len(file)}:{file},{len(alt)}:{alt},{len(kind)}:{kind},{len(digest)}:{digest},"


def _frame(value: str | None) -> str:
    return "~" if value is None else f"{len(value)}:{value},"


#: Names the encoding below: a new one must not hash like an old one.
_VERSION = "signoff-v1|"


def _digest(post: Sendable[object], count: int, media: str) -> str:
    """sha256 of the framed fields, then ``<count>[`` and the media's framed fields."""
    a, t, due = post.account, post.text, utc_text(post.due_utc)
    raw = (
        f"{_VERSION}{len(a)}:{a},{len(due)}:{due},{len(t)}:{t},{_frame(post.title)}"
        f"{_frame(post.first_comment)}{_frame(post.link)}{count}[{media}"
    )
    return "sha256:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class SignoffState(StrEnum):
    """A post's sign-off, as ``approvals``, ``preview`` and sync tell it."""

    NOT_REQUIRED = "not_required"  # its market needs no sign-off
    AWAITING = "awaiting"  # nobody who counts approved it yet
    CHANGED = "changed"  # approved, but what would be sent changed since
    APPROVED = "approved"  # approved as it is today


@dataclass(slots=True)
class Signoff:
    """One planned post's sign-off: its state, who approved it and when, and what changed.

    Not frozen only because planning builds one per post of a sign-off market and a frozen
    dataclass's ``__init__`` costs twice as much; nothing changes one once built."""

    state: SignoffState
    market: str
    hash: str = ""
    by: str | None = None
    at: datetime | None = None
    diff: str = ""  # unified diff of what was approved -> what would be sent now

    @property
    def holds(self) -> bool:
        return self.state in (SignoffState.AWAITING, SignoffState.CHANGED)

    @property
    def reason(self) -> str:
        """Why sync holds the post, for people (the calendar's ``status_reason``)."""
        if self.state is SignoffState.CHANGED and self.by and self.at:
            return f"changed since {self.by} approved it on {self.at:%Y-%m-%d}"
        if self.state is SignoffState.APPROVED and self.by and self.at:
            return f"approved by {self.by} on {self.at:%Y-%m-%d}"
        if self.state is SignoffState.NOT_REQUIRED:
            return "no sign-off required"
        return f"awaiting {self.market} sign-off"


def _lines(snapshot: Sent) -> list[str]:
    """A snapshot as the lines a diff compares: the text first, then each other field."""
    out = [f"due: {utc_text(snapshot.due_utc)}", f"account: {snapshot.account}"]
    if snapshot.title is not None:
        out.append(f"title: {snapshot.title}")
    out += [f"text: {line}" for line in snapshot.text.splitlines() or [""]]
    if snapshot.first_comment is not None:
        out.append(f"first comment: {snapshot.first_comment}")
    if snapshot.link is not None:
        out.append(f"link: {snapshot.link}")
    for m in snapshot.media:
        out.append(f"media: {m.file} ({m.kind}) alt={m.alt!r} bytes={m.digest[:12] or '?'}")
    return out


def changes_since(approved: Sent, now: Sent, label: str = "approved") -> str:
    """What changed since the approval, as a unified text diff (empty when nothing did)."""
    return "\n".join(
        difflib.unified_diff(
            _lines(approved), _lines(now), fromfile=label, tofile="now", lineterm="", n=1
        )
    )
