"""The hash a sign-off binds to changes if and only if what would be sent changes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from scheduler.core.signoff import (
    Sent,
    SentMedia,
    changes_since,
    planned_hash,
    sent,
    signoff_hash,
)

_text = st.text(max_size=30)
_maybe = st.none() | _text
_media = st.builds(
    SentMedia,
    file=st.sampled_from(["media/a.jpg", "media/b.jpg", "media/film.mp4"]),
    alt=_text,
    kind=st.sampled_from(["image", "video"]),
    digest=st.sampled_from(["", "sha256:01", "sha256:02"]),
)
_instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
posts = st.builds(
    Sent,
    account=st.sampled_from(["9001", "HoldoutFR", "holdout@social.example"]),
    due_utc=_instants,
    text=_text,
    title=_maybe,
    first_comment=_maybe,
    link=st.none() | st.sampled_from(["https://a.example/x", "https://a.example/y"]),
    media=st.lists(_media, max_size=3).map(tuple),
)


_FIELDS = ("account", "due_utc", "text", "title", "first_comment", "link", "media")


@given(posts, posts, st.sets(st.sampled_from(_FIELDS)))
def test_the_hash_changes_iff_what_would_be_sent_changes(
    a: Sent, other: Sent, taken: set[str]
) -> None:
    """``b`` is ``a`` with some fields (often none, often equal ones) taken from another post."""
    b = replace(a, **{name: getattr(other, name) for name in taken})
    assert (signoff_hash(a) == signoff_hash(b)) == (a == b)


@given(posts, st.integers(min_value=-14, max_value=14))
def test_the_same_instant_in_another_zone_is_the_same_post(post: Sent, hours: int) -> None:
    elsewhere = post.due_utc.astimezone(timezone(timedelta(hours=hours)))
    assert signoff_hash(replace(post, due_utc=elsewhere)) == signoff_hash(post)


@given(posts, st.sampled_from(["text", "link", "account", "due", "alt", "bytes"]))
def test_each_part_of_the_post_voids_the_signoff(post: Sent, part: str) -> None:
    media = post.media or (SentMedia("media/a.jpg", "alt", "image", "sha256:01"),)
    post = replace(post, media=media)
    first = media[0]
    changed = {
        "text": replace(post, text=post.text + "!"),
        "link": replace(post, link=(post.link or "") + "?v=2"),
        "account": replace(post, account=post.account + "2"),
        "due": replace(post, due_utc=post.due_utc + timedelta(minutes=1)),
        "alt": replace(post, media=(replace(first, alt=first.alt + "."), *media[1:])),
        "bytes": replace(post, media=(replace(first, digest=first.digest + "f"), *media[1:])),
    }[part]
    assert signoff_hash(changed) != signoff_hash(post)
    assert changes_since(post, changed)  # and the diff shows something


def test_an_unchanged_post_has_no_diff() -> None:
    post = Sent("9001", datetime(2027, 3, 1, 8, tzinfo=UTC), "Bonjour")
    assert changes_since(post, post) == ""


@given(posts)
def test_planning_hashes_a_post_as_its_snapshot_hashes(post: Sent) -> None:
    """:func:`planned_hash` is the shortcut planning takes: the same hash, no snapshot built."""
    digests = {m.file: m.digest for m in post.media}  # one file, one digest: as on disk
    post = replace(post, media=tuple(replace(m, digest=digests[m.file]) for m in post.media))
    as_planned = replace(post, media=tuple(_Planned(m.file, m.alt, m.kind) for m in post.media))
    assert planned_hash(as_planned, digests) == signoff_hash(post)
    framed: dict[int, object] = {}  # planning's memo of each media tuple's framing
    assert planned_hash(as_planned, digests, framed) == signoff_hash(post)  # type: ignore[arg-type]
    again = replace(as_planned, text=as_planned.text + "!")  # shares the media tuple
    assert planned_hash(again, digests, framed) == signoff_hash(replace(post, text=again.text))  # type: ignore[arg-type]
    assert sent(as_planned, digests) == post


@dataclass(frozen=True)
class _Planned:
    file: str
    alt: str
    kind: str
