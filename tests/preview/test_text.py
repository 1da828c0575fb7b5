"""Post text as a feed shows it: escaping, linkify, the fold, avatar initials."""

from __future__ import annotations

from scheduler.interfaces.preview.text import fold, initials, linkify, shown_url, tokens


def test_plain_text_is_escaped() -> None:
    assert linkify('<script>alert("x")</script>') == (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"
    )


def test_hashtags_become_highlighted_spans() -> None:
    assert linkify("new #ComfortSUV today") == (
        'new <span class="hashtag">#ComfortSUV</span> today'
    )


def test_mentions_become_highlighted_spans_including_fediverse_handles() -> None:
    html = linkify("thanks @HoldoutUK and @brand@social.example.")
    assert '<span class="mention">@HoldoutUK</span>' in html
    assert '<span class="mention">@brand@social.example</span>.' in html


def test_links_become_anchors_that_open_safely() -> None:
    html = linkify("read https://brand.example/suv.")
    assert html == (
        'read <a class="link" href="https://brand.example/suv" rel="noopener noreferrer nofollow"'
        ' target="_blank" title="https://brand.example/suv">brand.example/suv</a>.'
    )


def test_a_link_keeps_a_parenthesis_it_opened() -> None:
    kinds = [(t.kind, t.text) for t in tokens("(see https://en.wikipedia.org/wiki/SUV_(car))")]
    assert ("url", "https://en.wikipedia.org/wiki/SUV_(car)") in kinds


def test_link_query_strings_are_escaped_inside_the_attribute() -> None:
    html = linkify("https://ok.example/?a=1&b=2")
    assert 'href="https://ok.example/?a=1&amp;b=2"' in html


def test_a_quote_ends_a_link_so_it_cannot_break_out_of_the_attribute() -> None:
    html = linkify('https://ok.example/"onmouseover="alert(1)')
    assert 'href="https://ok.example/"' in html
    assert "&#34;onmouseover=&#34;alert(1)" in html


def test_javascript_urls_are_never_linked() -> None:
    html = linkify("javascript:alert(1)")
    assert "<a" not in html
    assert html == "javascript:alert(1)"


def test_an_email_address_is_not_a_mention() -> None:
    assert "mention" not in linkify("write to press@brand.example")


def test_html_entities_are_not_read_as_hashtags() -> None:
    assert "hashtag" not in linkify("Tom &#38; Jerry")


def test_long_urls_are_shown_shortened() -> None:
    url = "https://brand.example/campaigns/2026/suv-comfort/launch?utm_source=x"
    assert shown_url(url) == "brand.example/campaigns/2026/su…"
    assert len(shown_url(url)) == 32


def test_a_short_text_is_not_folded() -> None:
    cut = fold("short post", 125)
    assert not cut.is_folded
    assert cut.shown == "short post"


def test_no_fold_point_means_the_whole_text_is_shown() -> None:
    assert not fold("x" * 5000, None).is_folded


def test_a_long_text_is_cut_at_the_fold_on_a_word_boundary() -> None:
    text = "word " * 40  # 200 characters
    cut = fold(text, 125)
    assert cut.is_folded
    assert len(cut.shown) <= 125
    assert cut.shown.endswith("word")
    assert (cut.shown + " " + cut.hidden).split() == text.split()


def test_the_fold_never_cuts_a_link_in_two() -> None:
    text = "a" * 100 + " https://brand.example/a-long-path-to-the-suv-page and more"
    cut = fold(text, 125)
    assert "https://" not in cut.shown
    assert cut.hidden.startswith("https://brand.example/a-long-path-to-the-suv-page")


def test_the_fold_cuts_a_text_without_spaces_exactly_at_the_limit() -> None:
    text = "细节决定舒适。" * 40
    cut = fold(text, 140)
    assert len(cut.shown) == 140
    assert cut.shown + cut.hidden == text


def test_initials_come_from_the_first_two_words() -> None:
    assert initials("Holdout Motors France") == "HM"
    assert initials("holdout_fr") == "HF"
    assert initials("Brand") == "BR"
    assert initials("") == "?"


def test_weibo_topics_between_two_signs_are_one_hashtag() -> None:
    assert linkify("#好德极光#七座") == '<span class="hashtag">#好德极光#</span>七座'


def test_two_plain_hashtags_are_not_read_as_one_weibo_topic() -> None:
    html = linkify("#a #b")
    assert html == '<span class="hashtag">#a</span> <span class="hashtag">#b</span>'


def test_a_link_counts_as_its_shortened_form_for_the_fold() -> None:
    url = "https://holdout.example/aurora?utm_source=weibo&utm_medium=social&utm_campaign=x"
    text = "x" * 100 + " " + url + " done"
    assert not fold(text, 140).is_folded  # 100 + 1 + 32 + 5 shown characters
