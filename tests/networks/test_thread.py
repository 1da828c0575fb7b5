"""X threads (``scheduler.text.thread``): numbered parts within 280, the link in the first."""

from __future__ import annotations

from scheduler.text.networks import measure
from scheduler.text.thread import split

SENTENCE = "Day {n}: the comfort SUV arrives with a quiet cabin and seats that feel like home."
LINK = "https://holdout.example/aurora?utm_source=x&utm_medium=social&utm_campaign=aurora"


def long_text(sentences: int = 6) -> str:
    return " ".join(SENTENCE.format(n=n) for n in range(1, sentences + 1))


def test_a_text_that_fits_is_one_post_without_a_number() -> None:
    thread = split(f"Meet Aurora. {LINK}", link=LINK)
    assert thread.parts == (f"Meet Aurora. {LINK}",)
    assert not thread.is_thread


def test_a_long_text_is_cut_at_sentence_ends_and_numbered() -> None:
    thread = split(long_text())
    assert thread.is_thread
    total = len(thread.parts)
    for i, part in enumerate(thread.parts, 1):
        assert part.endswith(f". {i}/{total}")
        assert measure("x", part) <= 280
    assert thread.unfit == ()


def test_the_link_goes_at_the_end_of_the_first_part_wherever_the_text_had_it() -> None:
    thread = split(f"{long_text()} {LINK} #HoldoutAurora", link=LINK)
    first, *rest = thread.parts
    assert first.endswith(f" {LINK} 1/{len(thread.parts)}")
    assert all(LINK not in part for part in rest)
    assert thread.parts[-1].endswith(f"#HoldoutAurora {len(thread.parts)}/{len(thread.parts)}")
    assert all(measure("x", part) <= 280 for part in thread.parts)


def test_the_first_part_counts_the_link_as_x_does() -> None:
    # 23 for any link (t.co): the first part has room for sentences up to 280 with it.
    thread = split(f"{LINK} {long_text(12)}", link=LINK)
    assert all(measure("x", part) <= 280 for part in thread.parts)
    assert measure("x", thread.parts[0]) > 200


def test_ten_parts_or_more_make_room_for_two_digit_numbers() -> None:
    thread = split(long_text(40))
    assert len(thread.parts) >= 10
    assert thread.parts[9].endswith(f" 10/{len(thread.parts)}")
    assert all(measure("x", part) <= 280 for part in thread.parts)


def test_a_sentence_longer_than_a_post_is_unfit_and_cut_between_words() -> None:
    giant = " ".join(["word"] * 80) + "."
    thread = split(f"Short start. {giant} Short end.")
    assert thread.unfit == (giant,)
    assert all(measure("x", part) <= 280 for part in thread.parts)


def test_paragraph_breaks_inside_a_part_are_kept() -> None:
    thread = split(f"{SENTENCE.format(n=1)}\n\n{long_text(5)}")
    assert "home.\n\nDay 1" in thread.parts[0]


def test_parts_are_as_even_as_whole_sentences_allow() -> None:
    thread = split(f"{long_text(7)} Questions? Ask us.")
    lengths = [measure("x", part) for part in thread.parts]
    assert len(thread.parts) == 3
    assert min(lengths) > 100, lengths  # no two-word last post
    assert thread.parts[-1].endswith("Questions? Ask us. 3/3")
