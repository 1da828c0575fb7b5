"""YAML syntax errors in the writer's words, at the cause rather than where the parser stopped.

libyaml notices a mistake where it can no longer go on, which is often lines away from it: an
unclosed quote swallows the rest of the file, a line indented one space too deep turns into part
of the value above. :func:`syntax_finding` moves the position back to the cause and says what to
write instead; anything it does not recognise keeps the parser's own words and position.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from scheduler.core.diagnostics import Finding, Position

#: libyaml's scanner (the pure-Python one takes seconds on a 10,000-bracket bomb).
_SCANNER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _mark_pos(file: str, mark: Any) -> Position:
    if mark is None:
        return Position(file, 1, 1)
    return Position(file, int(mark.line) + 1, int(mark.column) + 1)


def _indent_tab(text: str, line_number: int) -> Position | None:
    """The tab in the leading whitespace of line ``line_number`` (1-based), if any."""
    lines = text.splitlines()
    if not 1 <= line_number <= len(lines):
        return None
    line = lines[line_number - 1]
    lead = line[: len(line) - len(line.lstrip(" \t"))]
    return Position("", line_number, lead.index("\t") + 1) if "\t" in lead else None


def syntax_finding(text: str, file: str, exc: yaml.MarkedYAMLError) -> Finding:
    """A parser error as a finding that points near its cause, in the writer's words.

    The parser notices a mistake where it can no longer go on, which is often far from it: an
    unclosed quote swallows the lines after it, so the error is reported at the end of the file
    or where a later apostrophe closed it. Each case below moves the position back to the cause
    and says what to write instead.
    """
    mark = exc.problem_mark or exc.context_mark
    # The parser stops on the offending line; only a tab *there* is the cause.
    tab = _indent_tab(text, int(mark.line) + 1) if mark is not None else None
    if tab is not None:
        return Finding.error(
            Position(file, tab.line, tab.column),
            "yaml-tab",
            "tab character used for indentation; YAML only allows spaces here",
        )
    stopped = _mark_pos(file, mark)
    quote = _unclosed_quote(text, exc)
    if quote is not None:
        opened, char, until = quote
        reads = (
            "to the end of the file" if until > len(text.splitlines()) else f"up to line {until}"
        )
        apostrophe = (
            " (an apostrophe inside '...' is written twice: 'it''s')" if char == "'" else ""
        )
        return Finding.error(
            Position(file, opened.line, opened.column),
            "yaml-syntax",
            f"the quoted value that starts here with {char} is not closed on its line, so the "
            f"lines after it are read as part of it, {reads}: close it with {char}{apostrophe}",
        )
    problem = exc.problem or exc.context or "invalid YAML"
    lines = text.splitlines()
    if "mapping values are not allowed" in problem and mark is not None:
        deeper = _indented_into_value(lines, int(mark.line), int(mark.column))
        if deeper is not None:  # at the key that should move left
            key_at = Position(file, stopped.line, _indent_of(_line(lines, mark.line)) + 1)
            return Finding.error(key_at, "yaml-syntax", deeper)
        return Finding.error(stopped, "yaml-syntax", _stray_colon(text, int(mark.line)))
    if "cannot start any token" in problem and mark is not None:
        return Finding.error(stopped, "yaml-syntax", _bad_start(lines, mark))
    if exc.context == "while parsing a block mapping" and mark is not None:
        misaligned = _misaligned(lines, int(mark.line))
        if misaligned is not None:
            return Finding.error(Position(file, stopped.line, 1), "yaml-syntax", misaligned)
    flow = _unclosed_flow(exc)
    if flow is not None:
        opened_at, closer = flow
        opening = _line(lines, opened_at.line - 1)[opened_at.column - 1 :]
        comment = (
            "; a '#' starts a comment in YAML, so the rest of that line was ignored: write "
            "hashtags without '#' (hashtags: [HoldoutFR]) or quote them ('#HoldoutFR')"
            if re.search(r"(^|[\[{,\s])#", opening)
            else ""
        )
        return Finding.error(
            Position(file, opened_at.line, opened_at.column),
            "yaml-syntax",
            f"the list or mapping that starts here is not closed: expected ',' or {closer!r} "
            f"before line {stopped.line} column {stopped.column}{comment}",
        )
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return Finding.error(stopped, "yaml-syntax", f"{problem}{context}")


def _unclosed_quote(text: str, exc: yaml.MarkedYAMLError) -> tuple[Position, str, int] | None:
    """(where it opens, the quote, the line the parser read to) for a quoted value that runs
    past its own line before the error: almost always a missing closing quote (or an
    apostrophe that closed a '...' early). Content never needs a quoted value over lines."""
    if exc.context == "while scanning a quoted scalar" and exc.context_mark is not None:
        start, end = exc.context_mark, exc.problem_mark or exc.context_mark
        lines = text.splitlines()
        line = lines[start.line] if start.line < len(lines) else ""
        char = line[start.column] if start.column < len(line) else '"'
        return Position("", start.line + 1, start.column + 1), char, int(end.line) + 1
    stop = exc.problem_mark
    if stop is None:
        return None
    found: tuple[Position, str, int] | None = None
    try:
        head = "".join(text.splitlines(keepends=True)[: stop.line + 1])  # what was read
        for token in yaml.scan(head, Loader=_SCANNER):
            if token.start_mark.line > stop.line:
                break
            style = getattr(token, "style", None)
            if style in ("'", '"') and token.end_mark.line > token.start_mark.line:
                start = token.start_mark
                found = (
                    Position("", start.line + 1, start.column + 1),
                    style,
                    token.end_mark.line + 1,
                )
    except yaml.MarkedYAMLError:
        pass  # the tokens before the error are the ones that matter
    return found


def _stray_colon(text: str, line_index: int) -> str:
    """``headline: Aurora: the SUV``: a second ``: `` in a plain value; suggest the quotes."""
    lines = text.splitlines()
    line = lines[line_index] if line_index < len(lines) else ""
    indent = line[: len(line) - len(line.lstrip(" "))]
    key, sep, value = line.strip().partition(": ")
    value = value.strip()
    if sep and value and not value.startswith(("'", '"')):
        quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return (
            "a ':' followed by a space inside a value starts a new key; put the value in "
            f"quotes: {indent.strip() or ''}{key}: {quoted}"
        )
    return "a ':' followed by a space starts a key here, which YAML does not allow; quote the value"


def _unclosed_flow(exc: yaml.MarkedYAMLError) -> tuple[Position, str] | None:
    """Where an unclosed ``[`` or ``{`` opened, and the bracket that would close it."""
    context = exc.context or ""
    if exc.context_mark is None or not context.startswith("while parsing a flow"):
        return None
    closer = "]" if "sequence" in context else "}"
    mark = exc.context_mark
    return Position("", mark.line + 1, mark.column + 1), closer


def _line(lines: list[str], index: int) -> str:
    """Line ``index`` (0-based), or "" past the end: the parser's marks may point there."""
    return lines[index] if 0 <= index < len(lines) else ""


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_lines(lines: list[str], before: int) -> list[tuple[int, str]]:
    """(indent, key) of the ``key:`` lines before line index ``before``, nearest first."""
    out = []
    for line in reversed(lines[:before]):
        m = re.match(r"( *)(?:- )?([^\s#:'\"][^:#]*?):(?:\s|$)", line)
        if m:
            out.append((len(m.group(1)), m.group(2)))
    return out


def _indented_into_value(lines: list[str], index: int, column: int) -> str | None:
    """``  headline: Hi`` then ``    hook: x``: a key indented deeper than the key above is
    read as the rest of that key's value; say so instead of suggesting quotes."""
    line = lines[index] if index < len(lines) else ""
    if ": " in line[:column] or index == 0:
        return None  # the colon is inside a value: quoting is the fix
    key = line[:column].strip()
    above = _key_lines(lines, index)
    if not key or not above or _indent_of(line) <= above[0][0]:
        return None
    indent, parent = above[0]
    return (
        f"'{key}:' is indented more than '{parent}:' above, so YAML reads it as the rest of "
        f"{parent}'s value: indent '{key}' by {indent} space(s), like '{parent}'"
    )


def _misaligned(lines: list[str], index: int) -> str | None:
    """A key whose indentation matches no key above it (one space short or too many)."""
    line = lines[index] if index < len(lines) else ""
    levels = sorted({indent for indent, _ in _key_lines(lines, index)})
    indent = _indent_of(line)
    if not line.strip() or indent in levels:
        return None
    shown = " or ".join(str(n) for n in levels[-3:])
    return (
        f"this line is indented by {indent} space(s), which lines it up with no key above "
        f"({shown}): indent it like the key it belongs with"
    )


#: Characters YAML reserves at the start of a plain value.
_RESERVED = {"@": "'@'", "`": "a backtick", "%": "'%'"}


def _bad_start(lines: list[str], mark: Any) -> str:
    """``hook: @HoldoutFR is here``: a value starting with a reserved character; quote it."""
    line = lines[mark.line] if mark.line < len(lines) else ""
    char = line[mark.column] if mark.column < len(line) else ""
    name = _RESERVED.get(char, repr(char))
    value = line[mark.column :].rstrip()
    head = line[: mark.column].rstrip()
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return (
        f"a value cannot start with {name} in YAML: put it in quotes: "
        f"{head.strip()} {quoted}".rstrip()
    )
