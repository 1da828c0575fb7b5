"""The preview's own Jinja environment and the inlining of its CSS and JavaScript.

These templates are ours and trusted, unlike the brand's editorial lines (which render in
``lines``' sandbox): a plain ``Environment`` with autoescaping on, so every value from the
content — a post's text above all — is escaped unless this package marked it safe.

Every page is one self-contained file: styles and scripts are inlined, fonts are the system's,
images are ``data:`` URIs, and a Content-Security-Policy forbids the browser any request.
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

#: What a standalone page may load: nothing but itself and ``data:`` images.
OFFLINE_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)
#: ``storyline serve`` pages may also ask their own server whether to reload.
SERVED_CSP = OFFLINE_CSP.replace("default-src 'none';", "default-src 'none'; connect-src 'self';")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("scheduler.interfaces.preview", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["asset"] = asset
    return env


@cache
def _asset_text(name: str) -> str:
    return (resources.files("scheduler.interfaces.preview") / "static" / name).read_text(
        encoding="utf-8"
    )


def asset(name: str) -> Markup:
    """The text of ``static/<name>``, to inline inside a ``<style>`` or ``<script>`` element.

    Our own files, never content: ``</`` is refused so an asset cannot close its element early.
    """
    text = _asset_text(name)
    if "</" in text:
        raise ValueError(f"static/{name} contains '</', which would end its inline element")
    return Markup(text)  # noqa: S704 - a file shipped in this package


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
