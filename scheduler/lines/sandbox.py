"""The sandbox a brand's template runs in: no Python internals, no mutation, a budget.

Templates are written by the brand, not by us, so they are treated as untrusted code: an
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with ``StrictUndefined`` whose parse
tree is rewritten so every loop, concatenation and ``{% set %}`` block pays into a budget, and
whose calls, operators and filters are checked before they can build a huge value. A render
(:func:`run_budgeted`) runs under a fresh budget and stops as soon as its output outgrows any
post, so a template can neither reach Python internals nor hang or exhaust memory
(``tests/security``; ``docs/security.md`` lists each guard).

:class:`LineEnvironment` is the sandbox, plain. :class:`FastLineEnvironment` adds the speed
shortcuts, each one method beside the plain one it replaces, each measured on
``python -m bench render`` (``docs/benchmarks.md``) and held to the plain sandbox by a
property test (``tests/lines/test_shortcuts.py``).
"""

from __future__ import annotations

import contextvars
import functools
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from types import MappingProxyType, NoneType
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, nodes
from jinja2.bccache import BytecodeCache
from jinja2.environment import Environment, Template, TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment

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


def _charge_call(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """What every call from a template pays, and the integer arguments it may not pass."""
    _spend(CALL_COST + _weight(args) + (_weight(kwargs.values()) if kwargs else 0))
    _check_int_args(args)
    if kwargs:
        _check_int_args(kwargs.values())


class _StrictUndefined(StrictUndefined):
    """Printing a list or dict uses ``repr``: an undefined inside one must fail there too."""

    __repr__ = StrictUndefined._fail_with_undefined_error


class LineEnvironment(ImmutableSandboxedEnvironment):
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
        _charge_call(args, kwargs)
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


#: Objects whose public attributes the sandbox always allows (see ``FastLineEnvironment``).
_PLAIN_NAMESPACES = frozenset({LoopContext, TemplateModule})
_MAPPING_PROXY_NAMES = frozenset(dir(MappingProxyType))
#: Types of value that cannot be a bound ``str.format`` (the one wrap the sandbox applies).
_NOT_METHODS = frozenset({Macro, bool, int, str, NoneType})


class FastLineEnvironment(LineEnvironment):
    """:class:`LineEnvironment` with its speed shortcuts: what every render of every post
    pays for in Jinja's generic paths, done directly where the answer is known.

    Each override is one shortcut over the plain method it replaces, kept because switching
    it off costs ``load_plan`` of the ``bench render`` year more than 2% (CPU time, medians of
    fresh processes): ``make_globals`` 16%, ``call`` 8%, ``getattr`` 13% for loops and macro
    modules and 4% for phrases. ``tests/lines/test_shortcuts.py`` holds each to the plain
    sandbox: same text, same failure, same budget spent.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict, not Jinja's ``ChainMap`` over ours.

        The globals are fixed once ``__init__`` is done, so a snapshot sees the same names;
        a ``ChainMap`` is walked in Python on every render (copying it into the context,
        and comparing key sets on every ``{% import %}``), a dict in C.
        """
        return {**self.globals, **(d or {})}

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """A template's own macro called directly: what ``Context.call`` does for one (it
        takes no context argument and is safely callable), without its generic inspection,
        under the same charge. Anything else, the plain sandbox calls."""
        if type(__obj) is not Macro:
            return LineEnvironment.call(__self, __context, __obj, *args, **kwargs)
        _charge_call(args, kwargs)
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return _check_size(__obj(*args, **kwargs))
        except StopIteration:
            return __self.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )

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
                return LineEnvironment.getattr(self, obj, attribute)
            if type(value) in _NOT_METHODS:  # a macro, ``loop.last``...: no str.format here
                return value
            wrapped = self.wrap_str_format(value)
            return value if wrapped is None else wrapped
        return LineEnvironment.getattr(self, obj, attribute)


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


class PreloadedLoader(BaseLoader):
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


def run_budgeted(template: Template, variables: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Render with a fresh budget, stopping as soon as the output outgrows any post.

    Returns the text as the template wrote it and the template's exported variables; a
    failure is raised with Jinja's template ``file:line`` frames in its traceback.
    """
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
        return "".join(parts), context.get_exported()
    finally:
        _BUDGET.reset(token)
