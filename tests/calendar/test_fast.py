"""Sync's shortcuts (scheduler/calendar/fast.py) equal their plain versions."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.calendar import diff, fast
from scheduler.core.memory import paused_gc
from scheduler.core.model import Media

from .conftest import LAUNCH, NOW, brand, planned

texts = st.text(max_size=80)
maybe = st.none() | texts
media = st.lists(
    st.builds(Media, file=texts, alt=texts, kind=st.sampled_from(["image", "video"])), max_size=3
)


@given(text=texts, title=maybe, link=maybe, first_comment=maybe, account=texts, media=media)
def test_the_fast_hash_equals_content_hash(
    text: str,
    title: str | None,
    link: str | None,
    first_comment: str | None,
    account: str,
    media: list[Media],
) -> None:
    p = replace(
        planned(),
        text=text,
        title=title,
        link=link,
        first_comment=first_comment,
        account=account,
        media=tuple(media),
    )
    assert fast.content_hash(p) == fast.plain_content_hash(p) == p.content_hash


@given(
    edits=st.lists(
        st.tuples(st.integers(0, 7), st.sampled_from(["text", "later", "earlier", "draft"])),
        max_size=8,
    )
)
def test_a_diff_with_the_collector_paused_equals_one_without(edits) -> None:  # type: ignore[no-untyped-def]
    posts = brand()
    for i, edit in edits:
        p = posts[i]
        if edit == "text":
            posts[i] = replace(p, text=p.text + " Edited.")
        elif edit == "later":
            posts[i] = replace(p, due_utc=p.due_utc + timedelta(days=1))
        elif edit == "earlier":
            posts[i] = replace(p, due_utc=NOW - timedelta(hours=1))
        else:
            posts[i] = planned(p.story, p.beat, p.network, p.market, due=LAUNCH, draft=True)
    existing = _existing(brand())
    with paused_gc():
        paused = diff.diff(None, posts, NOW, existing=existing)  # type: ignore[arg-type]
    with contextlib.nullcontext():
        plain = diff.diff(None, posts, NOW, existing=existing)  # type: ignore[arg-type]
    assert paused == plain


def _existing(posts: list) -> dict[str, diff.Existing]:  # type: ignore[type-arg]
    return {
        p.post_id: diff.Existing(
            post_id=p.post_id,
            story=p.story,
            beat=p.beat,
            network=p.network,
            market=p.market,
            account=p.account,
            account_name=p.account_name,
            campaign=p.campaign,
            timezone=p.timezone,
            content_hash=p.content_hash,
            due_utc=p.due_utc,
            status="planned",
            status_reason=None,
            hold_reason=None,
            set_by="sync",
        )
        for p in posts
    }
