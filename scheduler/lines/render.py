"""Rendering one :class:`PostContext` into a :class:`Draft`, and template failures as findings.

A render never raises: a template that does not compile, reads an unknown field, trips the
sandbox or runs out of budget gives a draft with no text and a finding naming the template's
own file and line (Jinja rewrites its traceback frames to point there). The line's link
policy decides where the tracked link goes; the text is tidied so templates stay readable.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.environment import Environment, Template
from jinja2.exceptions import SecurityError

from scheduler.core.diagnostics import Finding, Position
from scheduler.core.model import Media
from scheduler.core.suggest import did_you_mean
from scheduler.lines.model import (
    CONTEXT_FIELDS,
    DEFAULT_TEMPLATE,
    TEMPLATE_SUFFIX,
    Draft,
    EditorialLine,
    PostContext,
)
from scheduler.lines.sandbox import BudgetExceeded, run_budgeted
from scheduler.text.voice import LinkPolicy


def compile_template(env: Environment, name: str, display: str) -> Template | Finding:
    """The compiled template, or the finding that says why it does not compile."""
    try:
        return env.get_template(name)
    except TemplateSyntaxError as exc:
        file = exc.filename or display
        pos = _position(env, file, exc.lineno or 0, exc)
        return Finding.error(pos, "template-syntax", exc.message or str(exc))
    except TemplateError as exc:
        return Finding.error(Position(display, 0, 0), "template-error", str(exc))


def missing_template(line: EditorialLine | None, root: str, ctx: PostContext) -> Draft:
    """The draft of a beat no template of the line can render."""
    where = line.pos if line else Position(f"{root}/{ctx.network}", 0, 0)
    finding = Finding.error(
        where,
        "template-missing",
        f"no template for beat {ctx.beat!r} on {ctx.network}: add "
        f"{ctx.network}/{ctx.beat}{TEMPLATE_SUFFIX} or {DEFAULT_TEMPLATE}{TEMPLATE_SUFFIX}",
    )
    return Draft(text="", findings=(finding,))


def render_draft(
    line: EditorialLine,
    template: Template | Finding,
    display: str,
    ctx: PostContext,
    tracked_link: str | None,
) -> Draft:
    """Render ``ctx`` with the line's ``template`` (or report why it does not compile).

    ``tracked_link`` is the post's link even when the line keeps it out of the text
    (``ctx.link`` is then ``None``): it becomes the draft's link or first comment.
    """
    if isinstance(template, Finding):  # a broken beat template must not fall back silently
        return Draft(text="", template=display, findings=(template,))
    filename = template.filename or display
    try:
        text, exported = run_budgeted(template, ctx.as_template_vars())
    except Exception as exc:  # every template failure is the template's, reported as such
        finding = _finding_of(exc, filename, ctx, line, template.environment)
        return Draft(text="", template=filename, findings=(finding,))
    title = exported.get("title")
    first_comment = exported.get("first_comment")
    link = ctx.link or tracked_link
    policy = line.link_policy
    if policy is LinkPolicy.FIRST_COMMENT:
        link = tracked_link
        first_comment = first_comment or link
    elif policy is LinkPolicy.NONE:
        link = None
    return Draft(
        text=tidy(text),
        title=_clean(title) if title is not None else None,
        link=link,
        media=ctx.media,
        hashtags=ctx.hashtags,
        first_comment=_clean(first_comment) if first_comment else None,
        template=filename,
    )


def _clean(value: Any) -> str:
    return " ".join(str(value).split())


def tidy(text: str) -> str:
    """Strip trailing spaces per line and collapse 3+ blank lines: templates stay readable."""
    lines = [ln.rstrip() for ln in text.strip().splitlines()]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out)


def _template_frame(exc: BaseException, fallback: str) -> tuple[str, int]:
    """The innermost frame that belongs to a template file (Jinja rewrites those frames)."""
    found: tuple[str, int] | None = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith(TEMPLATE_SUFFIX):
            found = (frame.filename, frame.lineno or 0)
    return found or (fallback, 0)


def _finding_of(
    exc: Exception, filename: str, ctx: PostContext, line: EditorialLine, env: Environment
) -> Finding:
    file, lineno = _template_frame(exc, filename)
    where = f"{ctx.story}/{ctx.beat}/{ctx.network}/{ctx.market}"
    if isinstance(exc, TemplateSyntaxError):  # a syntax error in an imported macro file
        file = exc.filename or file
        return Finding.error(
            _position(env, file, exc.lineno or 0, exc), "template-syntax", exc.message or str(exc)
        )
    if isinstance(exc, BudgetExceeded):
        code, what = "template-budget", str(exc)
    elif isinstance(exc, SecurityError):
        code, what = "template-unsafe", f"refused by the sandbox: {exc}"
    elif isinstance(exc, UndefinedError):
        code, what = "template-undefined", _undefined(exc.message or str(exc), ctx, line)
    elif isinstance(exc, TemplateError):
        code, what = "template-error", str(exc)
    elif isinstance(exc, RecursionError):
        code, what = "template-budget", "the template recurses too deeply"
    else:
        code, what = "template-error", f"{type(exc).__name__}: {exc}"
    return Finding.error(_position(env, file, lineno, exc), code, f"{what} (rendering {where})")


#: Jinja's words for a phrase the line lacks (``phrases`` is a read-only mapping).
_MISSING_PHRASE = re.compile(r"^'mappingproxy object' has no attribute '([^']*)'$")
_UNDEFINED_NAME = re.compile(r"^'([^']*)' is undefined$")
_NO_ATTRIBUTE = re.compile(r"^'(.+) object' has no attribute '([^']*)'$")
#: The objects of the context whose attributes a template reads, as a writer names them.
_ATTRIBUTES = {
    f"{Media.__module__}.{Media.__qualname__}": (
        "a media item",
        tuple(f.name for f in fields(Media) if f.name != "pos"),
    ),
}


def _undefined(message: str, ctx: PostContext, line: EditorialLine) -> str:
    """Jinja's undefined error in the writer's words: which phrase, which field."""
    phrase = _MISSING_PHRASE.match(message)
    if phrase is not None:
        name = phrase.group(1)
        known = list(ctx.phrases)
        listed = ", ".join(known[:12]) + (", …" if len(known) > 12 else "") or "none"
        return (
            f"unknown phrase {name!r} for locale {ctx.locale} in {line.path}"
            f"{did_you_mean(name, known)}; known: {listed}"
        )
    attribute = _NO_ATTRIBUTE.match(message)
    if attribute is not None and attribute.group(1) in _ATTRIBUTES:
        what, names = _ATTRIBUTES[attribute.group(1)]
        name = attribute.group(2)
        return (
            f"{what} has no attribute {name!r}{did_you_mean(name, names)}; it has: "
            f"{', '.join(names)}"
        )
    field = _UNDEFINED_NAME.match(message)
    if field is not None:
        hint = did_you_mean(field.group(1), CONTEXT_FIELDS)
        return f"{message}{hint}; the fields are: {_field_list()}"
    return f"{message}; the fields are: {_field_list()}"


def _position(env: Environment, file: str, lineno: int, exc: BaseException) -> Position:
    """Jinja's line, and the column of what it complains about on that line.

    Jinja gives no column: the column is where the name or token its message quotes first
    appears on the line (``'headlne' is undefined``, ``unexpected '}'``); the end of the
    line for an unexpected end of template; else the line's first ``{{`` or ``{%``.
    """
    if not lineno:
        return Position(file, 0, 0)
    text = _source_line(env, file, lineno)
    message = getattr(exc, "message", None) or str(exc)
    return Position(file, lineno, _column(text, message) if text is not None else 1)


def _source_line(env: Environment, file: str, lineno: int) -> str | None:
    sources: Mapping[str, tuple[str, str]] = getattr(env.loader, "sources", {})
    for source, filename in sources.values():
        if filename == file:
            lines = source.splitlines()
            return lines[lineno - 1] if 0 < lineno <= len(lines) else None
    return None


def _column(text: str, message: str) -> int:
    if "unexpected end of template" in message:
        return len(text) + 1
    quoted = re.findall(r"'([^'\n]+)'", message.splitlines()[0] if message else "")
    for token in reversed(quoted):
        if token.endswith(" object"):
            continue
        if re.fullmatch(r"\w+", token):
            found = re.search(rf"(?<!\w){re.escape(token)}(?!\w)", text)
            at = found.start() if found else -1
        else:
            at = text.find(token)
        if at >= 0:
            return at + 1
    starts = [i for i in (text.find("{{"), text.find("{%")) if i >= 0]
    return min(starts) + 1 if starts else 1


def _field_list() -> str:
    return ", ".join(CONTEXT_FIELDS)
