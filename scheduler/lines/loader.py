"""Editorial lines: each network's voice as a ``line.yaml`` plus Jinja templates, rendered safely.

An editorial line lives in ``editorial_lines/<network>/``: ``line.yaml`` (the voice, its rules
and per-locale phrases) and one template per beat (``teaser.j2``, ``reveal.j2``...), falling
back to ``default.j2`` the way a Pelican theme falls back to its parent. Shared macros live in
``editorial_lines/_shared/`` and are imported as ``{% import "_shared/macros.j2" as m %}``.

Templates are written by the brand, not by us, so they are treated as untrusted: one
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with ``StrictUndefined`` is built per
load, every template is compiled up front (syntax errors are findings before anything is
rendered), and a render runs under a budget (steps, sizes, output length) so a template can
neither reach Python internals nor hang or exhaust memory. Every failure becomes a
:class:`~scheduler.diagnostics.Finding` naming the template file and line.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import operator
import string
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType, NoneType
from typing import Any

from jinja2 import (
    BaseLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    nodes,
)
from jinja2.bccache import BytecodeCache, FileSystemBytecodeCache
from jinja2.environment import Environment, Template, TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment

from scheduler.content.yamlpos import Node, load_yaml
from scheduler.core.diagnostics import Finding, Position
from scheduler.core.model import Media
from scheduler.core.suggest import did_you_mean
from scheduler.text.networks import UnknownNetwork
from scheduler.text.networks import spec as network_spec
from scheduler.text.voice import LinkPolicy, VoiceRules, parse_rules

#: The file of an editorial line, inside ``editorial_lines/<network>/``.
LINE_FILE = "line.yaml"
#: Template suffix; ``<beat>.j2`` then ``default.j2``.
TEMPLATE_SUFFIX = ".j2"
DEFAULT_TEMPLATE = "default"
#: Folder of macros shared by every line (not a network).
SHARED_DIR = "_shared"
#: Locale whose phrases fill in for a locale that lacks one.
FALLBACK_LOCALE = "en"
#: Top-level keys ``line.yaml`` may hold.
LINE_KEYS = ("voice", "rules", "phrases")

# --- resource limits of one render (a template must not hang or exhaust memory) -------------
#: Longest text a render may produce; far above any network's limit, far below harm.
MAX_OUTPUT_CHARS = 50_000
#: Longest string or sequence any single operation inside a template may build.
MAX_VALUE_LEN = 50_000
#: Largest integer argument a filter or method may receive (widths, counts, repeats).
MAX_INT_ARG = 10_000
#: Most items ``range()`` may produce.
MAX_RANGE = 1_000
#: Work allowed in one render, in units: a loop iteration costs ``ITERATION_COST``, a call or
#: filter ``CALL_COST``, and every operation also pays one unit per item or character of the
#: values it takes and makes — so quadratic tricks (growing a list in a loop, sorting a big
#: list again and again) run out as surely as deep loops do. Real templates use a few thousand.
MAX_WORK = 2_000_000
ITERATION_COST = 2
CALL_COST = 20
#: Largest template file accepted (bytes).
MAX_TEMPLATE_BYTES = 64 * 1024
#: Largest ``line.yaml`` accepted (bytes).
MAX_LINE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class PostContext:
    """Exactly what a template may use — the documented contract between code and brand.

    Every field is listed in ``docs/editorial-lines.md`` (a test keeps the two in step).
    Text fields are already resolved for the market's locale and the network/market
    overrides; ``link`` is already UTM-tracked, and is ``None`` when the line's link policy
    keeps links out of the text (``first_comment`` or ``none``).
    """

    story: str  # the story id (file name)
    title: str  # the story's internal title
    campaign: str
    audience: str  # public | pro
    beat: str  # teaser | reveal | followup | ...
    network: str
    market: str  # market code, e.g. "fr"
    market_name: str  # e.g. "France"
    locale: str  # e.g. "fr", "zh"
    timezone: str  # IANA name
    account_name: str  # how the account is displayed
    account_handle: str | None  # the handle without "@", if the network has handles
    headline: str
    hook: str
    body: str
    facts: tuple[str, ...]
    hashtags: tuple[str, ...]  # without the leading "#"
    link: str | None  # UTM-tracked, or None when the line keeps links out of the text
    claim: str | None  # the brand signature for this market and audience
    media: tuple[Media, ...]
    due_local: datetime  # aware, in ``timezone``
    phrases: Mapping[str, str]  # this line's phrases in the market's locale (en fills gaps)

    def as_template_vars(self) -> dict[str, Any]:
        """The variables handed to Jinja: one per field, nothing else."""
        return dict(zip(CONTEXT_FIELDS, _CONTEXT_VALUES(self), strict=True))


#: The names a template sees, in declaration order.
CONTEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PostContext))
#: Every field's value of a context in one C-level call (built per render).
_CONTEXT_VALUES = operator.attrgetter(*CONTEXT_FIELDS)


@dataclass(frozen=True, slots=True)
class Draft:
    """What a line made of one context: the post as it would be sent, plus what went wrong.

    ``title`` is the template's exported ``{% set title = ... %}`` (YouTube needs one);
    ``first_comment`` is the exported ``first_comment`` or, when the line's link policy is
    ``first_comment``, the tracked link.
    """

    text: str
    title: str | None = None
    link: str | None = None
    media: tuple[Media, ...] = ()
    hashtags: tuple[str, ...] = ()
    first_comment: str | None = None
    template: str = ""  # the template file that produced it
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


@dataclass(frozen=True, slots=True)
class Line:
    """One network's editorial line as written in its ``line.yaml``.

    ``rules`` is kept as written (with ``rule_positions``) and parsed by
    :func:`scheduler.voice.parse_rules` into ``voice_rules``: voice owns their meaning.
    """

    network: str
    path: str  # the line.yaml file, as a display path
    voice: str
    rules: Mapping[str, Any]
    phrases: Mapping[str, Mapping[str, str]]  # locale -> key -> text
    templates: tuple[str, ...]  # beat names that have their own template (default included)
    pos: Position
    voice_rules: VoiceRules = field(default_factory=VoiceRules)
    rule_positions: Mapping[tuple[str | int, ...], Position] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )

    @property
    def link_policy(self) -> LinkPolicy:
        """Where this line puts the story's link: ``inline``, ``first_comment`` or ``none``."""
        return self.voice_rules.link

    def rule_pos(self, *path: str | int) -> Position:
        """Where a rule was written (or the nearest enclosing key, or the file)."""
        while path:
            found = self.rule_positions.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.pos

    def phrases_for(self, locale: str) -> Mapping[str, str]:
        """Phrases in ``locale`` (``pt-BR`` falls back to ``pt``), gaps filled from English."""
        merged: dict[str, str] = dict(self.phrases.get(FALLBACK_LOCALE, {}))
        language = locale.split("-")[0].split("_")[0]
        if language != locale:
            merged.update(self.phrases.get(language, {}))
        merged.update(self.phrases.get(locale, {}))
        return MappingProxyType(merged)


# --- the render budget -----------------------------------------------------------------------


class BudgetExceeded(SecurityError):
    """A template tried to do more work or build more text than one post can need."""


class _Budget:
    __slots__ = ("left",)

    def __init__(self, units: int) -> None:
        self.left = units

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise BudgetExceeded(
                f"the template does more work than a post can need (over {MAX_WORK:,} units "
                "of loop iterations, calls and the sizes of the values they handle)"
            )


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "storyline_render_budget", default=None
)


def _spend(n: int) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.spend(n)


_SIZED = (str, list, tuple, dict, set, frozenset)


def _weight(values: Iterable[Any]) -> int:
    """Items and characters of the sized values among ``values``: what handling them costs."""
    total = 0
    for value in values:  # a loop, not sum() over a generator: a few arguments per call
        if isinstance(value, _SIZED):
            total += len(value)
    return total


def _check_size(value: Any) -> Any:
    """Refuse a post-sized limit breach, and pay for what was built."""
    if isinstance(value, _SIZED):
        if len(value) > MAX_VALUE_LEN:
            raise BudgetExceeded(f"the template builds a value longer than {MAX_VALUE_LEN}")
        _spend(len(value))
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4096:
        raise BudgetExceeded("the template builds an integer too large for a post")
    return value


def _check_int_args(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_INT_ARG:
            raise BudgetExceeded(f"an argument of {arg} is larger than {MAX_INT_ARG}")


def _length(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return 0


def _check_printf(fmt: str) -> None:
    """``'%999999999s' % x`` would allocate before any size check: refuse big widths."""
    number = ""
    for ch in fmt:
        if ch.isdigit():
            number += ch
            if int(number) > MAX_INT_ARG:
                raise BudgetExceeded("a format width or precision is too large")
        else:
            number = ""
    if "%*" in fmt or ".*" in fmt:
        raise BudgetExceeded("format widths taken from arguments are not allowed")


def _check_format_spec(fmt: str) -> None:
    """``'{:>999999999}'.format(x)``: the same refusal for ``str.format``."""
    for _literal, _name, spec, _conversion in string.Formatter().parse(fmt):
        if spec:
            if "{" in spec:
                raise BudgetExceeded("nested format specifications are not allowed")
            _check_printf(spec)


def _safe_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise BudgetExceeded(f"range() of {len(rng)} items; at most {MAX_RANGE} are allowed")
    return rng


def _budget_iter(value: Any) -> Iterator[Any]:
    """Wraps every ``{% for %}`` iterable: each iteration spends its share of the budget."""
    for item in value:
        _spend(ITERATION_COST)
        yield item


def _cap(value: Any) -> Any:
    """Wraps every ``~`` concatenation: its result must stay post-sized."""
    return _check_size(value)


def _pieces(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[int, int]:
    """How many copies of which string argument a multiplying filter is about to insert."""
    value = args[0] if args else None
    if name == "join":
        strings = [a for a in (*args[1:], *kwargs.values()) if isinstance(a, str)]
        return _length(value), max(map(len, strings), default=0)
    if name == "replace" and isinstance(value, str) and len(args) >= 3:
        old, new = str(args[1]), str(args[2])
        if not new:  # removing never grows the value, however many copies
            return 0, 0
        return (len(value) + 1 if old == "" else value.count(old)), len(new)
    if name == "indent" and isinstance(value, str):
        width = args[1] if len(args) > 1 else kwargs.get("width", 4)
        return value.count("\n") + 1, len(width) if isinstance(width, str) else int(width or 0)
    return 0, 0


#: Filters whose output is (copies x a string argument): bounded *before* they run, since a
#: check of the result would come after the memory was already spent.
_MULTIPLYING_FILTERS = frozenset({"join", "replace", "indent"})


def _guard_filter(func: Callable[..., Any], name: str = "") -> Callable[..., Any]:
    multiplying = name in _MULTIPLYING_FILTERS
    passes_context = getattr(func, "jinja_pass_arg", None) is not None  # eval ctx comes first

    @functools.wraps(func)  # keeps jinja_pass_arg, so context-taking filters still get it
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _spend(CALL_COST + _weight(args) + (_weight(kwargs.values()) if kwargs else 0))
        _check_int_args(args[1:])
        if kwargs:
            _check_int_args(kwargs.values())
        if multiplying:
            copies, size = _pieces(name, args[1:] if passes_context else args, kwargs)
            if copies * size > MAX_VALUE_LEN:
                raise BudgetExceeded(f"the {name} filter would build a huge value")
        return _check_size(func(*args, **kwargs))

    return guarded


def _guard_format_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def guarded(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_printf(str(value))
        return func(value, *args, **kwargs)

    return guarded


#: Objects whose public attributes the sandbox always allows (see ``_LineEnvironment.getattr``).
_PLAIN_NAMESPACES = frozenset({LoopContext, TemplateModule})
_MAPPING_PROXY_NAMES = frozenset(dir(MappingProxyType))
#: Types of value that cannot be a bound ``str.format`` (the one wrap the sandbox applies).
_NOT_METHODS = frozenset({Macro, bool, int, str, NoneType})


class _StrictUndefined(StrictUndefined):
    """Printing a list or dict uses ``repr``: an undefined inside one must fail there too."""

    __repr__ = StrictUndefined._fail_with_undefined_error


class _LineEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with a budget: no internals, no mutation, no unbounded work or output."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "//"})

    def __init__(self, loader: BaseLoader, bytecode_cache: BytecodeCache | None = None) -> None:
        super().__init__(
            loader=loader,
            bytecode_cache=bytecode_cache,
            undefined=_StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            cache_size=-1,
        )
        self.globals["range"] = _safe_range
        self.globals.pop("lipsum", None)
        for name, func in list(self.filters.items()):
            self.filters[name] = _guard_filter(func, name)
        self.filters["format"] = _guard_format_filter(self.filters["format"])
        self.filters["_sl_iter"] = _budget_iter  # not guarded: they are the guards
        self.filters["_sl_cap"] = _cap

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict, not Jinja's ``ChainMap`` over ours.

        The globals are fixed once ``__init__`` is done, so a snapshot sees the same names;
        a ``ChainMap`` is walked in Python on every render (copying it into the context,
        and comparing key sets on every ``{% import %}``), a dict in C.
        """
        return {**self.globals, **(d or {})}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Rewrite the tree so every loop spends budget and every built string is checked:
        ``~`` concatenations, and ``{% set x %}...{% endset %}`` blocks (which could
        otherwise double a value each iteration without any operator seeing it)."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(
                loop.iter, "_sl_iter", [], [], None, None, lineno=loop.iter.lineno
            )
        for concat in list(tree.find_all(nodes.Concat)):
            _wrap_concat(tree, concat)
        for block in tree.find_all(nodes.AssignBlock):
            if block.filter is None:  # a filtered block is checked by its (guarded) filter
                block.filter = nodes.Filter(
                    None, "_sl_cap", [], [], None, None, lineno=block.lineno
                )
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(times, int) and _length(seq) * times > MAX_VALUE_LEN:
                    raise BudgetExceeded("the template repeats a value into a huge one")
        elif operator == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise BudgetExceeded("exponents above 64 are not allowed in templates")
        elif operator == "%" and isinstance(left, str):
            _check_printf(left)
        _spend(1 + _weight((left, right)))
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend(CALL_COST + _weight(args) + (_weight(kwargs.values()) if kwargs else 0))
        _check_int_args(args)
        if kwargs:
            _check_int_args(kwargs.values())
        if type(__obj) is Macro:
            # A template's own macro: what ``Context.call`` does for one (it takes no
            # context argument and is safely callable), without its generic inspection.
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                return _check_size(__obj(*args, **kwargs))
            except StopIteration:
                return __self.undefined(
                    "value was undefined because a callable raised a StopIteration exception"
                )
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            method = getattr(__obj, "__name__", "")
            if method == "replace" and len(args) >= 2 and isinstance(args[1], str):
                grows = owner.count(str(args[0])) * len(args[1]) + len(owner)
                if grows > MAX_VALUE_LEN:
                    raise BudgetExceeded("str.replace would build a huge value")
            elif method == "join" and args:
                items = list(args[0])
                total = sum(_length(i) for i in items) + len(owner) * len(items)
                if total > MAX_VALUE_LEN:
                    raise BudgetExceeded("str.join would build a huge value")
                args = (items, *args[1:])
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        """The sandbox's ``getattr``, without its generic safety walk where the answer is
        known: every template reads loop variables, macros and phrases on every post.

        A public name of a loop or of an imported macro module is always safe (neither type
        is internal nor a known mutable); a phrase is an item of a read-only mapping whose
        name is not one of the mapping's own attributes. Anything else, the sandbox decides.
        """
        kind = type(obj)
        if kind is MappingProxyType and attribute not in _MAPPING_PROXY_NAMES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        if kind in _PLAIN_NAMESPACES and not attribute.startswith("_"):
            try:
                value = getattr(obj, attribute)
            except AttributeError:
                return super().getattr(obj, attribute)
            if type(value) in _NOT_METHODS:  # a macro, ``loop.last``...: no str.format here
                return value
            wrapped = self.wrap_str_format(value)
            return value if wrapped is None else wrapped
        return super().getattr(obj, attribute)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        """Refuse at once: an unsafe attribute kept as an undefined inside a list (``map``)
        would print as ``Undefined`` in a post instead of failing validation."""
        kind = type(obj).__name__
        raise SecurityError(f"access to attribute {attribute!r} of {kind!r} object is unsafe")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _check_format_spec(value.__self__)
        return wrapped


def _wrap_concat(tree: nodes.Template, concat: nodes.Concat) -> None:
    """Replace ``concat`` in its parent by ``concat|_sl_cap``."""
    capped = nodes.Filter(concat, "_sl_cap", [], [], None, None, lineno=concat.lineno)
    for parent in tree.find_all(nodes.Node):
        for name in parent.fields:
            value = getattr(parent, name, None)
            if value is concat:
                setattr(parent, name, capped)
                return
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if item is concat:
                        value[i] = capped
                        return


class _PreloadedLoader(BaseLoader):
    """Templates read once at load time: rendering does no I/O and sees a fixed set."""

    def __init__(self, sources: Mapping[str, tuple[str, str]]) -> None:
        self.sources = dict(sources)  # name -> (source, display filename)

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        try:
            source, filename = self.sources[template]
        except KeyError:
            raise TemplateNotFound(template) from None
        return source, filename, lambda: True

    def list_templates(self) -> list[str]:
        return sorted(self.sources)


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lines:
    """Every editorial line of a folder, its one sandboxed environment, and what was wrong.

    Templates compile on first use (``storyline preview`` of one story compiles only what it
    renders) or all at load time (``load_lines(eager=True)``: validation reports every
    syntax error, used or not). Either way each compiles once per load.
    """

    root: str
    lines: Mapping[str, Line]
    findings: tuple[Finding, ...]
    env: _LineEnvironment = field(repr=False, compare=False)
    #: Template name (``x/teaser.j2``) -> its display path, for every template read.
    sources: Mapping[str, str] = field(repr=False, compare=False)
    _compiled: dict[str, Template | Finding] = field(
        default_factory=dict, repr=False, compare=False
    )

    def template(self, name: str) -> Template | Finding:
        """The compiled template, or the finding that says why it does not compile."""
        found = self._compiled.get(name)
        if found is None:
            found = self._compiled[name] = _compile(self.env, name, self.sources[name])
        return found

    def __contains__(self, network: object) -> bool:
        return network in self.lines

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
        line = self.lines.get(ctx.network)
        name = self.template_name(ctx.network, ctx.beat)
        if line is None or name is None:
            where = line.pos if line else Position(f"{self.root}/{ctx.network}", 0, 0)
            finding = Finding.error(
                where,
                "template-missing",
                f"no template for beat {ctx.beat!r} on {ctx.network}: add "
                f"{ctx.network}/{ctx.beat}{TEMPLATE_SUFFIX} or {DEFAULT_TEMPLATE}{TEMPLATE_SUFFIX}",
            )
            return Draft(text="", findings=(finding,))
        template = self.template(name)
        if isinstance(template, Finding):  # a broken beat template must not fall back silently
            return Draft(text="", template=self.sources[name], findings=(template,))
        filename = template.filename or name
        try:
            text, exported = _run(template, ctx.as_template_vars())
        except Exception as exc:  # every template failure is the template's, reported as such
            return Draft(text="", template=filename, findings=(_finding_of(exc, filename, ctx),))
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
            text=text,
            title=_clean(title) if title is not None else None,
            link=link,
            media=ctx.media,
            hashtags=ctx.hashtags,
            first_comment=_clean(first_comment) if first_comment else None,
            template=filename,
        )


def _clean(value: Any) -> str:
    return " ".join(str(value).split())


def _run(template: Template, variables: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Render with a fresh budget, stopping as soon as the output outgrows any post."""
    token = _BUDGET.set(_Budget(MAX_WORK))
    try:
        context = template.new_context(variables)
        parts: list[str] = []
        size = 0
        try:
            for chunk in template.root_render_func(context):
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise BudgetExceeded(f"the template writes more than {MAX_OUTPUT_CHARS} chars")
                parts.append(chunk)
        except Exception:
            template.environment.handle_exception()  # re-raises with template file:line frames
        return _tidy("".join(parts)), context.get_exported()
    finally:
        _BUDGET.reset(token)


def _tidy(text: str) -> str:
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


def _finding_of(exc: Exception, filename: str, ctx: PostContext) -> Finding:
    file, line = _template_frame(exc, filename)
    where = f"{ctx.story}/{ctx.beat}/{ctx.network}/{ctx.market}"
    if isinstance(exc, TemplateSyntaxError):  # a syntax error in an imported macro file
        line = exc.lineno or 0
        pos = Position(exc.filename or file, line, 1 if line else 0)
        return Finding.error(pos, "template-syntax", exc.message or str(exc))
    if isinstance(exc, BudgetExceeded):
        code, what = "template-budget", str(exc)
    elif isinstance(exc, SecurityError):
        code, what = "template-unsafe", f"refused by the sandbox: {exc}"
    elif isinstance(exc, UndefinedError):
        code, what = "template-undefined", f"{exc.message}; the fields are: {_field_list()}"
    elif isinstance(exc, TemplateError):
        code, what = "template-error", str(exc)
    elif isinstance(exc, RecursionError):
        code, what = "template-budget", "the template recurses too deeply"
    else:
        code, what = "template-error", f"{type(exc).__name__}: {exc}"
    pos = Position(file, line, 1 if line else 0)
    return Finding.error(pos, code, f"{what} (rendering {where})")


def _field_list() -> str:
    return ", ".join(CONTEXT_FIELDS)


def _display(path: Path) -> str:
    return path.as_posix()


def _read_templates(
    root: Path, folder: Path, findings: list[Finding]
) -> dict[str, tuple[str, str]]:
    sources: dict[str, tuple[str, str]] = {}
    for file in sorted(folder.glob(f"*{TEMPLATE_SUFFIX}")):
        display = _display(file)
        try:
            size = file.stat().st_size
            if size > MAX_TEMPLATE_BYTES:
                findings.append(
                    Finding.error(
                        Position(display, 0, 0),
                        "template-too-large",
                        f"template is {size} bytes; at most {MAX_TEMPLATE_BYTES} are read",
                    )
                )
                continue
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            findings.append(Finding.error(Position(display, 0, 0), "template-unreadable", str(exc)))
            continue
        sources[f"{folder.name}/{file.name}"] = (source, display)
    return sources


def _bytecode_cache(folder: Path | None) -> BytecodeCache | None:
    """Compiled templates kept between runs, so a preview does not recompile the lines.

    The file names carry a hash of this module: compiled code embeds the sandbox's budget
    rewriting, so a change here must never load code compiled by an older version.
    """
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only data dir only costs compile time
    salt = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return FileSystemBytecodeCache(str(folder), f"storyline-{salt}-%s.cache")


def load_lines(root: Path | str, *, eager: bool = True, cache_dir: Path | None = None) -> Lines:
    """Load every ``<network>/line.yaml`` and template under ``root``.

    ``eager`` compiles every template now, so syntax errors in templates no story uses are
    findings too; otherwise each compiles when first rendered. ``cache_dir`` keeps compiled
    templates between runs (checked against each template's source).

    Problems (unreadable YAML, unknown keys, template syntax errors) are findings; a line
    with errors is still returned when it can be, so validation reports everything at once.
    """
    root_path = Path(root)
    findings: list[Finding] = []
    sources: dict[str, tuple[str, str]] = {}
    lines: dict[str, Line] = {}
    if not root_path.is_dir():
        findings.append(
            Finding.error(
                Position(_display(root_path), 0, 0),
                "lines-missing",
                "the editorial lines folder does not exist (set --lines or STORYLINE_LINES_DIR)",
            )
        )
    else:
        shared = root_path / SHARED_DIR
        if shared.is_dir():
            sources.update(_read_templates(root_path, shared, findings))
        for folder in sorted(p for p in root_path.iterdir() if p.is_dir()):
            if folder.name.startswith(("_", ".")):
                continue
            try:
                network_spec(folder.name)
            except UnknownNetwork as exc:  # Google+, or a typo: no post could be checked or sent
                findings.append(
                    Finding.error(
                        Position(_display(folder), 0, 0), "line-unknown-network", str(exc)
                    )
                )
                continue
            yaml_file = folder / LINE_FILE
            templates = _read_templates(root_path, folder, findings)
            sources.update(templates)
            if not yaml_file.is_file():
                findings.append(
                    Finding.error(
                        Position(_display(folder), 0, 0),
                        "line-missing",
                        f"{folder.name}/ has no {LINE_FILE}: every line states its voice and rules",
                    )
                )
                continue
            beats = tuple(sorted(Path(n).stem for n in templates))
            line, line_findings = load_line_file(folder.name, yaml_file, beats)
            findings.extend(line_findings)
            if line is not None:
                lines[folder.name] = line
    result = Lines(
        root=_display(root_path),
        lines=MappingProxyType(lines),
        findings=(),
        env=_LineEnvironment(_PreloadedLoader(sources), _bytecode_cache(cache_dir)),
        sources=MappingProxyType({name: display for name, (_src, display) in sources.items()}),
    )
    if eager:
        for name in sorted(sources):
            compiled = result.template(name)
            if isinstance(compiled, Finding):
                findings.append(compiled)
    for network, line in lines.items():
        if line.templates and f"{network}/{DEFAULT_TEMPLATE}{TEMPLATE_SUFFIX}" not in sources:
            findings.append(
                Finding.warning(
                    line.pos,
                    "line-no-default",
                    f"{network}/ has no {DEFAULT_TEMPLATE}{TEMPLATE_SUFFIX}: beats without their "
                    "own template cannot be rendered",
                )
            )
    return replace(result, findings=tuple(findings), _compiled=result._compiled)


def _compile(env: _LineEnvironment, name: str, display: str) -> Template | Finding:
    try:
        return env.get_template(name)
    except TemplateSyntaxError as exc:
        pos = Position(exc.filename or display, exc.lineno or 0, 1 if exc.lineno else 0)
        return Finding.error(pos, "template-syntax", exc.message or str(exc))
    except TemplateError as exc:
        return Finding.error(Position(display, 0, 0), "template-error", str(exc))


def load_line_file(
    network: str, path: Path, templates: tuple[str, ...]
) -> tuple[Line | None, list[Finding]]:
    """Read one ``line.yaml``: its voice, its rules (kept as written) and its phrases."""
    display = _display(path)
    loaded = load_yaml(path, display=display, max_bytes=MAX_LINE_BYTES)
    findings = list(loaded.findings)
    root = loaded.root
    whole = Position(display, 1, 1)
    if root is None:
        if loaded.ok:
            findings.append(Finding.error(whole, "line-empty", f"{LINE_FILE} is empty"))
        return None, findings
    if not root.is_map:
        findings.append(
            Finding.error(root.pos, "wrong-type", f"{LINE_FILE} must be a mapping of {LINE_KEYS}")
        )
        return None, findings
    for key, kpos, _node in root.entries():
        if key not in LINE_KEYS:
            findings.append(
                Finding.error(
                    kpos,
                    "unknown-field",
                    f"unknown field {key!r} in {LINE_FILE}{did_you_mean(key, LINE_KEYS)}",
                )
            )
    voice_node = root.get("voice")
    voice = ""
    if voice_node is None:
        findings.append(
            Finding.error(
                whole, "missing-field", "an editorial line states its voice: add `voice:`"
            )
        )
    elif not (voice_node.is_scalar and isinstance(voice_node.value, str)):
        findings.append(Finding.error(voice_node.pos, "wrong-type", "`voice` must be text"))
    else:
        voice = voice_node.value
    rules: Mapping[str, Any] = MappingProxyType({})
    rule_positions: dict[tuple[str | int, ...], Position] = {}
    rules_node = root.get("rules")
    if rules_node is not None:
        if rules_node.is_map:
            rules = MappingProxyType(rules_node.plain())
            _collect_positions(rules_node, (), rule_positions)
        else:
            findings.append(
                Finding.error(rules_node.pos, "wrong-type", "`rules` must be a mapping")
            )
    phrases = _phrases(root.get("phrases"), findings)
    positions = MappingProxyType(rule_positions)

    def pos_of(path: tuple[str | int, ...]) -> Position:
        while path:
            if path in positions:
                return positions[path]
            path = path[:-1]
        return rules_node.pos if rules_node is not None else whole

    voice_rules, rule_findings = parse_rules(rules, pos_of)
    findings.extend(rule_findings)
    line = Line(
        network=network,
        path=display,
        voice=voice,
        rules=rules,
        phrases=phrases,
        templates=templates,
        pos=whole,
        voice_rules=voice_rules,
        rule_positions=positions,
    )
    return line, findings


def _collect_positions(
    node: Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], Position]
) -> None:
    if node.is_map:
        for key, kpos, child in node.entries():
            out[(*path, key)] = kpos
            _collect_positions(child, (*path, key), out)
    elif node.is_seq:
        for i, child in enumerate(node.items):
            out[(*path, i)] = child.pos
            _collect_positions(child, (*path, i), out)


def _phrases(node: Node | None, findings: list[Finding]) -> Mapping[str, Mapping[str, str]]:
    """``phrases: {<locale>: {<key>: text}}`` — what a voice says in each market's language."""
    if node is None:
        return MappingProxyType({})
    if not node.is_map:
        findings.append(
            Finding.error(node.pos, "wrong-type", "`phrases` maps a locale to {key: text}")
        )
        return MappingProxyType({})
    out: dict[str, Mapping[str, str]] = {}
    for locale, _kpos, by_key in node.entries():
        if not by_key.is_map:
            findings.append(
                Finding.error(by_key.pos, "wrong-type", f"phrases.{locale} must map keys to text")
            )
            continue
        texts: dict[str, str] = {}
        for key, _kp, value in by_key.entries():
            if value.is_scalar and isinstance(value.value, str | int | float):
                texts[key] = str(value.value)
            else:
                findings.append(
                    Finding.error(value.pos, "wrong-type", f"phrases.{locale}.{key} must be text")
                )
        out[locale] = MappingProxyType(texts)
    english: Mapping[str, str] = out.get(FALLBACK_LOCALE, {})
    for locale, written in out.items():
        for key in sorted(set(english) - set(written)):
            findings.append(
                Finding.warning(
                    node.fields[locale].pos,
                    "phrase-missing",
                    f"phrase {key!r} has no {locale} text; the English one will be used",
                )
            )
    return MappingProxyType(out)
