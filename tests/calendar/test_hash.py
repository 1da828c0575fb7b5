"""The store's fast content hash is the planning module's content hash, byte for byte."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from scheduler.calendar import store
from scheduler.core.model import Media

from .conftest import planned

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
    assert store.fast_content_hash(p) == p.content_hash


def test_the_hash_falls_back_to_content_hash_when_they_disagree(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(store, "fast_content_hash", lambda _p: "different")
    hasher = store._hasher([planned()])
    assert hasher(planned()) == planned().content_hash
