"""One line for the same finding on many posts: a scaffolded story must not print 24 warnings.

Planning checks each post, so one cause — no media on Instagram, in a story for seven markets
and two beats — is found on every post it touches, each finding naming its post
(``story/beat/network/market: ...``) at the same place. Read by a person, that is one problem:
:func:`group_posts` folds such findings into one that names the posts compactly
(``winter/{reveal,teaser}/instagram/{br,de,fr} (6 posts): ...``). Machines (``--format json``)
keep one finding per post.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from itertools import product

from scheduler.core.diagnostics import Finding

#: ``story/beat/network/market: message``, as planning words a post's finding.
_POST = re.compile(r"(?P<post>[^\s/:]+/[^\s/:]+/[^\s/:]+/[^\s/:]+): (?P<rest>.*)", re.S)
#: ``(template editorial_lines/x/teaser.j2)``: differs by beat, not by cause.
_TEMPLATE = re.compile(r" \(template (?P<template>[^()]+)\)")


def group_posts(findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` with those that differ only by post (and template) folded into one, in
    the order of the first of each group."""
    groups: dict[tuple[object, ...], list[tuple[Finding, str, str | None]]] = {}
    order: list[tuple[object, ...] | Finding] = []
    for f in findings:
        m = _POST.fullmatch(f.message)
        if m is None:
            order.append(f)
            continue
        rest = m["rest"]
        template = _TEMPLATE.search(rest)
        cause = _TEMPLATE.sub("", rest)
        key = (f.file, f.line, f.column, f.severity, f.code, cause)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((f, m["post"], template["template"] if template else None))
    out: list[Finding] = []
    for item in order:
        if isinstance(item, Finding):
            out.append(item)
            continue
        members = groups[item]
        if len(members) == 1:
            out.append(members[0][0])
            continue
        cause = str(item[-1])
        posts = [post for _, post, _ in members]
        templates = sorted({t for _, _, t in members if t})
        where = (
            f" (templates {', '.join(templates)})"
            if len(templates) > 1
            else (f" (template {templates[0]})" if templates else "")
        )
        cause, draft = (cause[: -len(_DRAFT)], _DRAFT) if cause.endswith(_DRAFT) else (cause, "")
        message = f"{compact(posts)} ({len(posts)} posts): {cause}{where}{draft}"
        out.append(replace(members[0][0], message=message))
    return out


_DRAFT = " [draft: an error once approved]"


def compact(post_ids: list[str]) -> str:
    """Post ids as one pattern when they are every combination of their parts
    (``s/{a,b}/x/{fr,de}``); else the first three and a count."""
    parts = [sorted(set(p)) for p in zip(*(pid.split("/") for pid in post_ids), strict=True)]
    combos = {"/".join(c) for c in product(*parts)}
    if combos == set(post_ids):
        return "/".join(p[0] if len(p) == 1 else "{" + ",".join(p) + "}" for p in parts)
    shown = ", ".join(post_ids[:3])
    return shown if len(post_ids) <= 3 else f"{shown} and {len(post_ids) - 3} more"
