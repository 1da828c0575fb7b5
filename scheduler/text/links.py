"""Campaign tracking on the brand's links, so analytics can tell which network brought a visit.

Every link a post carries gets the four UTM parameters Google Analytics (and every tool that
copied it) reads::

    utm_source=<network>  utm_medium=social  utm_campaign=<campaign>  utm_content=<post id>

Decisions, so the result is predictable:

* The link's own query string is kept byte for byte and the UTM parameters are appended
  after it; the fragment stays last, where browsers expect it.
* A UTM parameter the link already carries is **kept, not overridden**: a content team that
  wrote ``utm_campaign=partner-x`` by hand meant it. This also makes :func:`track`
  idempotent: tracking a tracked link changes nothing.
* Values are percent-encoded (a post id's ``/`` becomes ``%2F``), so a campaign with spaces
  or accents cannot break the URL.
* Only absolute ``http``/``https`` URLs can be tracked; anything else is a ``ValueError``
  naming the URL, for the caller to turn into a finding.

Pure: no I/O. Whether a line wants tracking at all is its ``utm`` rule (see ``voice``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Final
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import regex

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")


#: The maintained twitter-text package (``twitter-text-parser`` on PyPI): X's own counting.
TWITTER_TEXT: Final = "twitter_text"
_TWITTER_TEXT_LOCK = threading.RLock()


def twitter_text() -> ModuleType:
    """twitter-text's URL extractor (``twitter_text.extract_urls``), imported on first use.

    Importing it builds its URL expressions (a tenth of a second): commands that never count
    an X post nor look for a bare domain should not pay for it at start-up. It comes in
    through :func:`twitter_text_module`, without the package's ``__init__``.
    """
    return twitter_text_module("extract_urls")


@functools.cache
def twitter_text_module(name: str) -> ModuleType:
    """``twitter_text.<name>``, imported without running the package's ``__init__`` first.

    The package's ``__init__`` imports everything, its emoji module included, which loads
    its data file through ``pkg_resources`` (a fifth of a second to import, and gone from
    setuptools 81 on) and compiles an expression of thousands of emoji. Storyline uses the
    package's URL extractor and weight table, and reads the emoji table itself (see
    ``scheduler.networks``). The package is registered as it would be, and its ``__init__``
    runs the moment anything uses the package itself (``from twitter_text import
    parse_tweet``), leaving it exactly as a plain import would have.
    """
    with _TWITTER_TEXT_LOCK:
        _register_twitter_text()
        module = importlib.import_module(f"{TWITTER_TEXT}.{name}")
        package = sys.modules[TWITTER_TEXT]
        if "__getattr__" in vars(package):
            _defer_children(package)
        return module


#: Submodules imported before the package's ``__init__`` ran: bound to it only after.
_DEFERRED_CHILDREN: dict[str, ModuleType] = {}


def _defer_children(package: ModuleType) -> None:
    """Unbind the submodules from a package whose ``__init__`` has not run: until it has,
    ``twitter_text.extract_urls`` must reach ``__getattr__`` (and so the function of that
    name the ``__init__`` binds), not the submodule."""
    for key, value in list(vars(package).items()):
        if isinstance(value, ModuleType) and value.__name__ == f"{TWITTER_TEXT}.{key}":
            _DEFERRED_CHILDREN[key] = vars(package).pop(key)


def _register_twitter_text() -> None:
    """Put the twitter-text package in ``sys.modules``, its ``__init__`` deferred (PEP 562)."""
    if TWITTER_TEXT in sys.modules:
        return
    spec = importlib.util.find_spec(TWITTER_TEXT)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"No module named {TWITTER_TEXT!r}", name=TWITTER_TEXT)
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)

    def __getattr__(attribute: str) -> Any:
        with _TWITTER_TEXT_LOCK:
            if "__getattr__" in vars(package):
                del vars(package)["__getattr__"]
                try:
                    loader.exec_module(package)
                except BaseException:
                    del sys.modules[TWITTER_TEXT]
                    raise
                for key, child in _DEFERRED_CHILDREN.items():
                    vars(package).setdefault(key, child)
                _DEFERRED_CHILDREN.clear()
        return getattr(package, attribute)

    vars(package)["__getattr__"] = __getattr__
    sys.modules[TWITTER_TEXT] = package


class UntrackableURL(ValueError):
    """A link that is not an absolute http(s) URL, so it cannot carry UTM parameters."""


@functools.lru_cache(maxsize=4096)
def _encode(value: str) -> str:
    return quote(value, safe="")


def _encode_path(value: str) -> str:
    """:func:`_encode` of a post id, from its parts: quoting is per character, so the
    parts (story, beat, network, market) are each quoted once for every post they make."""
    return "%2F".join(map(_encode, value.split("/")))


def track(url: str, *, network: str, campaign: str, post_id: str, medium: str = "social") -> str:
    """``url`` with the UTM parameters of this post added; existing parameters are kept."""
    frame = _tracking_frame(url, network, medium, campaign)
    if frame is not None:  # nearly always: the link carries no UTM parameter of its own
        before, after = frame
        return f"{before}{_encode_path(post_id)}{after}"
    base, query, fragment, present, untouched = _split_for_tracking(url)
    wanted = zip(UTM_KEYS, (network, medium, campaign, post_id), strict=True)
    added = "&".join(f"{key}={_encode(value)}" for key, value in wanted if key not in present)
    if not added:
        return untouched
    query = f"{query}&{added}" if query else added
    return f"{base}?{query}#{fragment}" if fragment else f"{base}?{query}"


@functools.lru_cache(maxsize=1024)
def _tracking_frame(url: str, network: str, medium: str, campaign: str) -> tuple[str, str] | None:
    """A tracked link of a story on one network is the same but for its post id: what comes
    before and after the post id's value, or ``None`` when the link already carries a UTM
    parameter (then :func:`track` works it out in full)."""
    base, query, fragment, present, _untouched = _split_for_tracking(url)
    if not present.isdisjoint(UTM_KEYS):
        return None
    added = (
        f"utm_source={_encode(network)}&utm_medium={_encode(medium)}"
        f"&utm_campaign={_encode(campaign)}&utm_content="
    )
    query = f"{query}&{added}" if query else added
    return f"{base}?{query}", f"#{fragment}" if fragment else ""


@functools.lru_cache(maxsize=1024)
def _split_for_tracking(url: str) -> tuple[str, str, str, frozenset[str], str]:
    """What :func:`track` needs of a link, worked out once per link (a story's link is
    tracked for every post): ``urlunsplit`` without query and fragment, the query, the
    fragment, the parameter names present, and the link as ``urlunsplit`` writes it."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise UntrackableURL(f"cannot add tracking to {url!r}: not an absolute http(s) URL")
    present = frozenset(key.lower() for key, _ in parse_qsl(parts.query, keep_blank_values=True))
    base = urlunsplit(parts._replace(query="", fragment=""))
    return base, parts.query, parts.fragment, present, urlunsplit(parts)


# A link with a scheme runs to the next space or quote; trailing sentence punctuation is not
# part of it. twitter-text would be stricter (it wants a TLD it knows), which is right for
# X's own counter but would miss ``https://brand.example/`` links that every network posts.
# Case-insensitive "http(s)" spelt out rather than by IGNORECASE, which makes the engine fold
# every character of the link: the same matches (U+017F, long s, folds to "s"), twice as fast.
_SCHEME_URL = regex.compile(r"""\b[hH][tT][tT][pP][sS\u017f]?://[^\s<>"'\u00a0\u3000]+""")
_TRAILING = ".,;:!?'\"…。，、！？"
_CLOSERS = {")": "(", "]": "[", "}": "{"}


def _trim(url: str) -> str:
    """Drop sentence punctuation after a link, and a closing bracket it did not open."""
    while url:
        last = url[-1]
        unopened = last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last)
        if last not in _TRAILING and not unopened:
            break
        url = url[:-1]
    return url


# twitter-text finds a bare domain only by a "." and the first letter of its top-level
# domain: a text with neither outside its scheme links has none, and is not handed to the
# extractor (whose import alone costs a preview a third of a second).
# (``re``, not ``regex``: a plain scan is several times faster, and "." followed by anything
# but a space or another "." is a superset of "." followed by a letter.)
_DOT_WORD = re.compile(r"\.[^\s.]")


def url_spans(text: str, *, bare: bool = True) -> list[tuple[int, int, str]]:
    """``(start, end, url)`` of every link in ``text``, in order.

    Links written with their scheme first; then, unless ``bare`` is false, bare domains
    (``www.brand.com/suv``) from twitter-text's extractor, which only accepts real top-level
    domains, so "e.g." or "file.txt" are not taken for links.
    """
    return list(_url_spans(text, bare))


@functools.lru_cache(maxsize=4096)
def _url_spans(text: str, bare: bool) -> tuple[tuple[int, int, str], ...]:
    """:func:`url_spans`, remembered: a post's text is searched by several checks."""
    scheme = _scheme_spans(text)
    if not bare or not _may_hold_bare_domain(text, scheme):
        return scheme
    spans = list(scheme)
    for entity in twitter_text().extract_urls_with_indices(text):
        start, end = (int(i) for i in entity["indices"])
        if not any(s <= start < e for s, e, _ in spans):
            spans.append((start, end, str(entity["url"])))
    return tuple(sorted(spans))


@functools.lru_cache(maxsize=4096)
def scheme_urls(text: str) -> tuple[str, ...]:
    """The links written with their scheme in ``text``, in order (``url_spans(bare=False)``'s
    URLs, remembered: voice and networks both ask)."""
    return tuple(url for _, _, url in _scheme_spans(text))


@functools.lru_cache(maxsize=4096)
def _scheme_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """The links written with their scheme, found once for both kinds of :func:`url_spans`."""
    if "://" not in text:
        return ()
    spans = []
    for match in _SCHEME_URL.finditer(text):
        url = _trim(match.group(0))
        if "://" in url and len(url) > url.index("://") + 3:
            spans.append((match.start(), match.start() + len(url), url))
    return tuple(spans)


def _may_hold_bare_domain(text: str, spans: Sequence[tuple[int, int, str]]) -> bool:
    """Whether a "." followed by a letter stands outside the scheme links ``spans``.

    A bare domain the extractor would report starts outside those links (the others are
    dropped) and cannot run into one (a host holds no "://"), so its top-level domain's dot
    is outside them too: without such a dot there is nothing to extract.
    """
    if "." not in text:
        return False
    return any(not any(s <= m.start() < e for s, e, _ in spans) for m in _DOT_WORD.finditer(text))


def find_urls(text: str) -> list[str]:
    """The links written in ``text``, in order (see :func:`url_spans`)."""
    return [url for _, _, url in url_spans(text)]


def track_urls_in(
    text: str, *, network: str, campaign: str, post_id: str, medium: str = "social"
) -> str:
    """``text`` with every http(s) link in it tracked as :func:`track` does.

    Bare domains (no scheme) are left alone: rewriting them would change what the reader sees.
    """
    pieces: list[str] = []
    last = 0
    for start, end, url in url_spans(text, bare=False):
        try:
            tracked = track(url, network=network, campaign=campaign, post_id=post_id, medium=medium)
        except UntrackableURL:
            continue
        pieces.append(text[last:start])
        pieces.append(tracked)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)
