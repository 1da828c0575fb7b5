"""A rendered post is tidied (trailing spaces per line dropped, blank lines collapsed to one);
a text that is already tidy is recognised without splitting it, and comes out the same."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.lines import _tidy


def _reference_tidy(text: str) -> str:
    """_tidy as first written: split every line, strip it, drop a blank after a blank."""
    lines = [ln.rstrip() for ln in text.strip().splitlines()]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out)


_PIECES = st.one_of(
    st.text(max_size=6),
    st.sampled_from(
        ["\n", "\n\n", "\n\n\n", " ", "\t", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028"]
    ),
    st.sampled_from(["\u2029", "\u00a0", "\u3000", "a", "Inspired By You", "#Tag", "👀"]),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, max_size=20).map("".join))
def test_tidying_equals_splitting_every_line(text: str) -> None:
    assert _tidy(text) == _reference_tidy(text)


def test_trailing_spaces_and_extra_blank_lines_go() -> None:
    assert _tidy("  Soon.  \n\n\n\nInspired By You \n") == "Soon.\n\nInspired By You"
