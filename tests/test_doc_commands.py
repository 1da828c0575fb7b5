"""Every `storyline` command shown in README.md and docs/*.md runs, so the docs cannot drift.

A doctest for shell blocks: each fenced block holding `storyline ...` lines (``$ storyline``
in a ``console`` block) is run in order, one document at a time, in a temporary copy of the
sample content, through Click's CliRunner in this process (fast: no interpreter per command).
Every command must exit 0. ``;`` and ``&&`` separate commands, ``# ...`` is a comment,
``> FILE`` writes the output to FILE, and ``mkdir -p DIR`` is the only other command allowed.

Opt-outs are written in the document, as an HTML comment on the line before the block:

``<!-- no-run: why -->``
    The block's `storyline` commands are only *parsed* (the command and every option must
    exist, checked with ``--help``), not run: commands that run until Ctrl-C (`run`, `serve`),
    that need a post in a given state or a real account, or that need services.
``<!-- synopsis -->``
    A usage line with placeholders (``[--from DATE]``): neither run nor parsed.
"""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.interfaces.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
DIRECTIVE = re.compile(r"<!--\s*(no-run|synopsis)\b(?::\s*(.*?))?\s*-->\s*$")
#: Commands that run until Ctrl-C: a block showing one must be marked no-run.
FOREVER = {"run", "serve", "worker"}
#: The clock of the sample (before its first launch), so plan/sync/calendar are repeatable.
NOW = "2026-11-28T12:00:00Z"


@dataclass(frozen=True)
class Command:
    doc: str
    line: int  # 1-based line in the document
    words: tuple[str, ...]  # after `storyline`, or the whole command for `mkdir`
    output: str | None  # `> FILE`
    mode: str  # "run", "no-run"

    def __str__(self) -> str:
        redirect = f" > {self.output}" if self.output else ""
        return f"{self.doc}:{self.line}: {shlex.join(self.words)}{redirect}"


def _directive(text: str, start: int) -> str | None:
    """The opt-out written on the last non-blank line before the fence at ``start``."""
    before = text[:start].rstrip("\n").rsplit("\n", 1)[-1]
    m = DIRECTIVE.search(before)
    return m.group(1) if m else None


def _split(line: str) -> list[str]:
    """One shell line into its commands (``;``, ``&&``), the comment dropped."""
    words = shlex.split(line, comments=True)
    out: list[list[str]] = [[]]
    for w in words:
        if w in (";", "&&"):
            out.append([])
        elif w.endswith(";"):
            out[-1].append(w[:-1])
            out.append([])
        else:
            out[-1].append(w)
    return [shlex.join(c) for c in out if c]


def commands(doc: Path) -> list[Command]:
    text = doc.read_text(encoding="utf-8")
    name = str(doc.relative_to(ROOT))
    found: list[Command] = []
    for block in FENCE.finditer(text):
        lang, body = block.group(1), block.group(2)
        if lang not in ("", "sh", "shell", "bash", "console"):
            continue
        lines = body.splitlines()
        if not any(re.match(r"(\$ )?storyline\b", ln.strip()) for ln in lines):
            continue
        mode = _directive(text, block.start()) or "run"
        if mode == "synopsis":
            continue
        first = text[: block.start()].count("\n") + 2
        # A block with `$ ` prompts shows output too: only the prompted lines are commands.
        console = lang == "console" or any(ln.strip().startswith("$ ") for ln in lines)
        for offset, raw in enumerate(lines):
            line = raw.strip()
            if line.startswith("$ "):
                line = line[2:]
            elif console:
                continue  # output shown in the doc
            for part in _split(line):
                words = shlex.split(part)
                output = None
                if ">" in words:
                    i = words.index(">")
                    words, output = words[:i], words[i + 1]
                if words[0] == "storyline":
                    found.append(Command(name, first + offset, tuple(words[1:]), output, mode))
                elif mode == "run":
                    found.append(Command(name, first + offset, tuple(words), output, "shell"))
    return found


ALL = [c for doc in DOCS for c in commands(doc)]
BY_DOC = {doc: [c for c in ALL if c.doc == doc] for doc in dict.fromkeys(c.doc for c in ALL)}


@pytest.fixture
def brand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh clone's working directory: the sample content and lines, no data dir yet."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "editorial_lines", tmp_path / "editorial_lines")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _environment() -> dict[str, str | None]:
    """No STORYLINE_* of the developer's or CI's (defaults, as in the docs), a pinned clock."""
    import os

    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("STORYLINE_")}
    env["STORYLINE_NOW"] = NOW
    env["NO_COLOR"] = "1"
    return env


def _run(command: Command, brand: Path) -> None:
    if command.mode == "shell":
        words = list(command.words)
        assert words[:2] == ["mkdir", "-p"], (
            f"{command}: only `storyline` and `mkdir -p` run in the docs; "
            "mark the block <!-- no-run: why --> if it is not meant to be run"
        )
        for folder in words[2:]:
            (brand / folder).mkdir(parents=True, exist_ok=True)
        return
    args = list(command.words)
    assert command.mode == "no-run" or not FOREVER & set(args[:1]), (
        f"{command} runs until Ctrl-C: mark its block <!-- no-run: runs until Ctrl-C -->"
    )
    if command.mode == "no-run":
        args.append("--help")  # parses the command path and every option, runs nothing
    result = CliRunner().invoke(cli, args, env=_environment(), catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{command}: {result.exception!r}\n{result.output}"
    )
    assert result.exit_code == 0, f"{command} exited {result.exit_code}:\n{result.output}"
    if command.output:
        target = brand / command.output
        assert target.parent.is_dir(), f"{command}: the shell cannot write into a missing folder"
        target.write_text(result.stdout, encoding="utf-8")


def test_the_docs_show_commands_to_run() -> None:
    assert len([c for c in ALL if c.mode == "run"]) >= 20
    assert {"README.md", "docs/calendar.md", "docs/preview.md"} <= set(BY_DOC)


@pytest.mark.parametrize("doc", sorted(BY_DOC))
def test_every_command_a_document_shows_runs(doc: str, brand: Path) -> None:
    for command in BY_DOC[doc]:
        _run(command, brand)


def test_an_unknown_option_in_a_doc_would_fail(brand: Path) -> None:
    """The runner catches drift: a renamed option is an error even in a no-run block."""
    drifted = Command("x.md", 1, ("calendar", "--market-code", "fr"), None, "no-run")
    with pytest.raises(AssertionError, match="exited 2"):
        _run(drifted, brand)
