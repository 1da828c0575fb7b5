"""twitter-text's URL extractor: the links X counts as 23 and the bare domains it recognises.

Vendored from twitter-text-parser 3.0.0 (``twitter_text/extract_urls.py`` and the
``twitter_text/regexp/`` modules it assembles its expressions from), MIT licence: see
``LICENSE`` in this folder. The expressions are built from the same pieces, in the same way
(``#{name}`` placeholders replaced by each piece's source), so they are the package's own, and
``extract_urls_with_indices`` is the package's function. Importing this module compiles them
(some tens of milliseconds): import it where a link must be found, not at start-up.
"""

from __future__ import annotations

import re
from typing import Final, TypedDict

from scheduler.text.twitter_text.tlds import CCTLDS, GTLDS


def _supplant(source: str, pieces: dict[str, str]) -> str:
    """``source`` with each ``#{name}`` replaced by the source of the piece of that name."""
    return re.sub(r"#\{(\w+)\}", lambda match: pieces.get(match.group(1), ""), source)


_LOOKAHEAD: Final = r")(?=[^0-9a-zA-Z@+-]|$))"
VALID_GTLD: Final = "(?:(?:" + GTLDS + _LOOKAHEAD
VALID_CCTLD: Final = "(?:(?:" + CCTLDS + _LOOKAHEAD
VALID_PUNYCODE: Final = r"(?:xn--[\-0-9a-z]+)"
LATIN_ACCENT_CHARS: Final = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268"
    r"\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
CYRILLIC_LETTERS_AND_MARKS: Final = r"\u0400-\u04FF"
DIRECTIONAL_MARKERS_GROUP: Final = r"\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069"
INVALID_CHARS_GROUP: Final = r"\uFFFE\uFEFF\uFFFF"
PUNCT: Final = r"\!'#%&'\(\)*\+,\\\-\.\/:;<=>\?@\[\]\^_{|}~\$/"
SPACES_GROUP: Final = (
    r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
)
INVALID_DOMAIN_CHARS: Final = _supplant(
    r"#{punct}#{spaces_group}#{invalid_chars_group}#{directional_markers_group}",
    {
        "punct": PUNCT,
        "spaces_group": SPACES_GROUP,
        "invalid_chars_group": INVALID_CHARS_GROUP,
        "directional_markers_group": DIRECTIONAL_MARKERS_GROUP,
    },
)
VALID_DOMAIN_CHARS: Final = _supplant(
    r"[^#{invalid_domain_chars}]", {"invalid_domain_chars": INVALID_DOMAIN_CHARS}
)
VALID_SUBDOMAIN: Final = _supplant(
    r"(?:(?:#{valid_domain_chars}(?:[_-]|#{valid_domain_chars})*)?#{valid_domain_chars}\.)",
    {"valid_domain_chars": VALID_DOMAIN_CHARS},
)
VALID_DOMAIN_NAME: Final = _supplant(
    r"(?:(?:#{valid_domain_chars}(?:-|#{valid_domain_chars})*)?#{valid_domain_chars}\.)",
    {"valid_domain_chars": VALID_DOMAIN_CHARS},
)
_TLDS: Final = {
    "valid_gtld": VALID_GTLD,
    "valid_cctld": VALID_CCTLD,
    "valid_punycode": VALID_PUNYCODE,
}
VALID_DOMAIN: Final = _supplant(
    r"(?:#{valid_subdomain}*#{valid_domain_name}(?:#{valid_gtld}|#{valid_cctld}|#{valid_punycode}))",
    {"valid_subdomain": VALID_SUBDOMAIN, "valid_domain_name": VALID_DOMAIN_NAME, **_TLDS},
)
VALID_ASCII_DOMAIN: Final = _supplant(
    r"(?:(?:[\-a-z0-9#{latin_accent_chars}]+)\.)+(?:#{valid_gtld}|#{valid_cctld}|#{valid_punycode})",
    {"latin_accent_chars": LATIN_ACCENT_CHARS, **_TLDS},
)
VALID_URL_PRECEDING_CHARS: Final = _supplant(
    r"(?:[^A-Za-z0-9@＠$#＃#{invalid_chars_group}]|[#{directional_markers_group}]|^)",
    {
        "invalid_chars_group": INVALID_CHARS_GROUP,
        "directional_markers_group": DIRECTIONAL_MARKERS_GROUP,
    },
)
VALID_PORT_NUMBER: Final = r"[0-9]+"
VALID_URL_QUERY_CHARS: Final = r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]"
VALID_URL_QUERY_ENDING_CHARS: Final = r"[a-z0-9\-_&=#/]"
_PATH_ALPHABET: Final = {
    "cyrillic_letters_and_marks": CYRILLIC_LETTERS_AND_MARKS,
    "latin_accent_chars": LATIN_ACCENT_CHARS,
}
VALID_GENERAL_URL_PATH_CHARS: Final = _supplant(
    r"[a-z#{cyrillic_letters_and_marks}0-9!\*';:=\+,\.\$\/%#\[\]\-\u2013_~@\|&#{latin_accent_chars}]",
    _PATH_ALPHABET,
)
VALID_URL_BALANCED_PARENS: Final = _supplant(
    "\\("
    "(?:"
    "#{valid_general_url_path_chars}+"
    "|"
    # allow one nested level of balanced parentheses
    "(?:"
    "#{valid_general_url_path_chars}*"
    "\\("
    "#{valid_general_url_path_chars}+"
    "\\)"
    "#{valid_general_url_path_chars}*"
    ")"
    ")"
    "\\)",
    {"valid_general_url_path_chars": VALID_GENERAL_URL_PATH_CHARS},
)
VALID_URL_PATH_ENDING_CHARS: Final = _supplant(
    r"[\+\-a-z#{cyrillic_letters_and_marks}0-9=_#\/#{latin_accent_chars}]"
    r"|(?:#{valid_url_balanced_parens})",
    {**_PATH_ALPHABET, "valid_url_balanced_parens": VALID_URL_BALANCED_PARENS},
)
VALID_URL_PATH: Final = _supplant(
    "(?:"
    "(?:"
    "#{valid_general_url_path_chars}*"
    "(?:#{valid_url_balanced_parens}#{valid_general_url_path_chars}*)*"
    "#{valid_url_path_ending_chars}"
    ")|(?:@#{valid_general_url_path_chars}+/)"
    ")",
    {
        "valid_general_url_path_chars": VALID_GENERAL_URL_PATH_CHARS,
        "valid_url_balanced_parens": VALID_URL_BALANCED_PARENS,
        "valid_url_path_ending_chars": VALID_URL_PATH_ENDING_CHARS,
    },
)
_QUERY: Final = {
    "valid_url_query_chars": VALID_URL_QUERY_CHARS,
    "valid_url_query_ending_chars": VALID_URL_QUERY_ENDING_CHARS,
}
EXTRACT_URL_SOURCE: Final = _supplant(
    "("  # $1 total match
    "(#{valid_url_preceding_chars})"  # $2 Preceding character
    "("  # $3 URL
    "(https?:\\/\\/)?"  # $4 Protocol (optional)
    "(#{valid_domain})"  # $5 Domain(s)
    "(?::(#{valid_port_number}))?"  # $6 Port number (optional)
    "(\\/#{valid_url_path}*)?"  # $7 URL Path
    "(\\?#{valid_url_query_chars}*#{valid_url_query_ending_chars})?"  # $8 Query String
    ")"
    ")",
    {
        "valid_domain": VALID_DOMAIN,
        "valid_port_number": VALID_PORT_NUMBER,
        "valid_url_path": VALID_URL_PATH,
        "valid_url_preceding_chars": VALID_URL_PRECEDING_CHARS,
        **_QUERY,
    },
)
VALID_TCO_URL_SOURCE: Final = _supplant(
    r"^https?:\/\/t\.co\/([a-z0-9]+)(?:\?#{valid_url_query_chars}*#{valid_url_query_ending_chars})?",
    _QUERY,
)

EXTRACT_URL: Final = re.compile(EXTRACT_URL_SOURCE, re.IGNORECASE)
VALID_ASCII_DOMAIN_RE: Final = re.compile(VALID_ASCII_DOMAIN, re.IGNORECASE)
VALID_TCO_URL: Final = re.compile(VALID_TCO_URL_SOURCE, re.IGNORECASE)
INVALID_URL_WITHOUT_PROTOCOL_PRECEDING_CHARS: Final = re.compile(r"[-_./]$")

DEFAULT_PROTOCOL: Final = "https://"
MAX_URL_LENGTH: Final = 4096
MAX_TCO_SLUG_LENGTH: Final = 40


class UrlEntity(TypedDict):
    """One URL found: as written, and its ``[start, end)`` code point indices in the text."""

    url: str
    indices: list[int]


def extract_urls_with_indices(
    text: str, extract_urls_without_protocol: bool = True
) -> list[UrlEntity]:
    """Valid URLs present in ``text`` with their code point indices (the package's function).

    >>> [e["indices"] for e in extract_urls_with_indices("http://twitter.com/日本語。example.com")]
    [[0, 19], [23, 34]]
    """
    if text == "" or ("." not in text if extract_urls_without_protocol else ":" not in text):
        return []
    urls: list[UrlEntity] = []
    for url_match in EXTRACT_URL.finditer(text):
        _, before, url, protocol, domain, _, path, _ = url_match.groups()
        end_position = url_match.end()
        start_position = end_position - len(url)
        if not is_valid_url(url, protocol or DEFAULT_PROTOCOL, domain):
            continue
        # extract ASCII-only domains.
        if protocol is None:
            if (
                not extract_urls_without_protocol
                or INVALID_URL_WITHOUT_PROTOCOL_PRECEDING_CHARS.match(before)
            ):
                continue
            last_url: UrlEntity | None = None
            for ascii_domain_match in VALID_ASCII_DOMAIN_RE.finditer(domain):
                last_url = {
                    "url": ascii_domain_match.group(0),
                    "indices": [
                        start_position + ascii_domain_match.start(),
                        start_position + ascii_domain_match.end(),
                    ],
                }
                urls.append(last_url)
            # no ASCII-only domain found. Skip the entire URL.
            if last_url is None:
                continue
            # last_url only contains domain. Need to add path and query if they exist.
            if path:
                last_url["url"] = url.replace(domain, last_url["url"])
                last_url["indices"][1] = end_position
        else:
            # In the case of t.co URLs, don't allow additional path characters.
            tco_url_match = VALID_TCO_URL.search(url)
            if tco_url_match:
                tco_url_slug = tco_url_match.group(1)
                if tco_url_slug and len(tco_url_slug) > MAX_TCO_SLUG_LENGTH:
                    continue
                url = tco_url_match.group(0)
                end_position = start_position + len(url)
            urls.append({"url": url, "indices": [start_position, end_position]})
    return urls


def is_valid_url(url: str, protocol: str, domain: str) -> bool:
    puny_encoded_domain = idna_to_ascii(domain)
    if not puny_encoded_domain:
        return False
    url_length = len(url) + len(puny_encoded_domain) - len(domain)
    return len(protocol) + url_length <= MAX_URL_LENGTH


def idna_to_ascii(domain: str) -> str | None:
    """An Internationalized Domain Name as Punycode, or ``None`` when it is not a valid one.

    >>> idna_to_ascii("日本語.jp")
    'xn--wgv71a119e.jp'
    """
    try:
        return domain.encode("idna").decode("ascii")
    except Exception:  # the package's rule: any failure means "not a domain"
        return None
