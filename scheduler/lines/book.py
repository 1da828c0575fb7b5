"""The brand's book of editorial lines: every network's line, one sandbox, the templates.

A :class:`LineBook` is what :func:`scheduler.lines.loader.load_lines` reads from a folder,
and what planning asks to render each post: it picks the beat's template (``<beat>.j2``, the
line's ``default.j2``, then the shared one), compiles each template once per load, and hands
the render to :mod:`scheduler.lines.render`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from jinja2.environment import Environment, Template

from scheduler.core.diagnostics import Finding
from scheduler.lines.model import (
    DEFAULT_TEMPLATE,
    SHARED_DIR,
    TEMPLATE_SUFFIX,
    Draft,
    EditorialLine,
    PostContext,
)
from scheduler.lines.render import compile_template, missing_template, render_draft


@dataclass(frozen=True, slots=True)
class LineBook:
    """Every editorial line of a folder, its one sandboxed environment, and what was wrong.

    Templates compile on first use (``storyline preview`` of one story compiles only what it
    renders) or all at load time (``load_lines(eager=True)``: validation reports every
    syntax error, used or not). Either way each compiles once per load.
    """

    root: str
    by_network: Mapping[str, EditorialLine]
    findings: tuple[Finding, ...]
    env: Environment = field(repr=False, compare=False)
    #: Template name (``x/teaser.j2``) -> its display path, for every template read.
    sources: Mapping[str, str] = field(repr=False, compare=False)
    _compiled: dict[str, Template | Finding] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def networks(self) -> tuple[str, ...]:
        """The networks the brand has a line for, in folder order."""
        return tuple(self.by_network)

    def __contains__(self, network: object) -> bool:
        return network in self.by_network

    def template(self, name: str) -> Template | Finding:
        """The compiled template, or the finding that says why it does not compile."""
        found = self._compiled.get(name)
        if found is None:
            found = self._compiled[name] = compile_template(self.env, name, self.sources[name])
        return found

    def source_text(self, display: str) -> str:
        """The text of the template read from ``display`` ("" for none): where a finding on a
        rendered post looks for words no field wrote."""
        loaded: Mapping[str, tuple[str, str]] = getattr(self.env.loader, "sources", {})
        return next((text for text, shown in loaded.values() if shown == display), "")

    def template_name(self, network: str, beat: str) -> str | None:
        """The template a beat uses: ``<network>/<beat>.j2``, else the line's ``default.j2``."""
        for candidate in (
            f"{network}/{beat}{TEMPLATE_SUFFIX}",
            f"{network}/{DEFAULT_TEMPLATE}{TEMPLATE_SUFFIX}",
            f"{SHARED_DIR}/{DEFAULT_TEMPLATE}{TEMPLATE_SUFFIX}",
        ):
            if candidate in self.sources:
                return candidate
        return None

    def render(self, ctx: PostContext, tracked_link: str | None = None) -> Draft:
        """Render one post; template problems come back as findings, never as exceptions.

        ``tracked_link`` is the post's link even when the line keeps it out of the text
        (``ctx.link`` is then ``None``): it becomes the draft's link or first comment.
        """
        line = self.by_network.get(ctx.network)
        name = self.template_name(ctx.network, ctx.beat)
        if line is None or name is None:
            return missing_template(line, self.root, ctx)
        return render_draft(line, self.template(name), self.sources[name], ctx, tracked_link)
