"""Rendering macro templates in a sandbox that reaches only the variables given, in bounded time and space.

Jinja's own sandbox stops attribute access to Python internals, but a
template could still call string methods (`'x'.center(10**9)`), build huge
values (`'x' * 10**9`, `'%999999999d' % 1`), recurse through macros or nest
loops a billion steps deep. This environment goes further:

- values are plain data: a field of a mapping, an item of a list; no
  attributes or methods of any Python object (only `loop.index` and friends);
- no `set`, `with`, `macro`, `call`, `import`, `include` or `extends`: a
  reply template does not need them, and they are how templates grow without
  bound;
- only a list of harmless filters, the ones that can grow a value checked
  before they allocate; `*`, `+`, `**` and `%` checked the same way (`%` on
  text refused: no format strings);
- every loop draws on one budget of steps per render, and the output stops
  at MAX_OUTPUT_CHARS;
- one function, `article('slug')`, reads a help article's fields (title,
  url, excerpt) from the `articles` the caller passes (the ones the template
  names, found by referenced_articles), never from anywhere else.

Any breach is a TemplateError with a sentence saying what went wrong.
"""

import contextvars
import functools
import operator
import re
from collections.abc import Iterable, Mapping

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, UndefinedError, nodes
from jinja2.exceptions import SecurityError, TemplateRuntimeError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from .errors import TemplateError

MAX_TEMPLATE_CHARS = 10_000
# No rendered text (reply or note) is longer than this; it is also the bound
# on any one value a template builds along the way.
MAX_OUTPUT_CHARS = 20_000
# Loop iterations one render may take, all loops together.
MAX_LOOP_STEPS = 10_000
MAX_RANGE = 1_000
# Whole numbers a template computes stay below 2**MAX_INT_BITS.
MAX_INT_BITS = 256

# Constructs refused at compile time, with what to say about them.
FORBIDDEN = {
    nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}", nodes.With: "{% with %}",
    nodes.Macro: "{% macro %}", nodes.CallBlock: "{% call %}", nodes.Import: "{% import %}",
    nodes.FromImport: "{% from %}", nodes.Include: "{% include %}", nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}", nodes.ExprStmt: "{% do %}",
}
# What a template may read of `loop` inside a for loop.
LOOP_FIELDS = frozenset({"index", "index0", "revindex", "revindex0", "first", "last", "length",
                         "previtem", "nextitem", "depth", "depth0"})

_budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("macro_loop_budget")


def _checked_size(value, what: str):
    """Refuse a text or list past MAX_OUTPUT_CHARS, and a whole number past MAX_INT_BITS."""
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"{what} would make a value longer than {MAX_OUTPUT_CHARS} characters")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise SecurityError(f"{what} would make a number too large")
    return value


def _length_of(value) -> int | None:
    return len(value) if isinstance(value, (str, list, tuple)) else None


def _multiply(left, right):
    for sized, times in ((left, right), (right, left)):
        size = _length_of(sized)
        if size is not None and isinstance(times, int) and size * times > MAX_OUTPUT_CHARS:
            raise SecurityError(f"'*' would make a value longer than {MAX_OUTPUT_CHARS} characters")
    return _checked_size(operator.mul(left, right), "'*'")


def _power(left, right):
    if isinstance(left, int) and isinstance(right, int) and right > 0 \
            and max(left.bit_length(), 1) * right > MAX_INT_BITS * 2:
        raise SecurityError("'**' would make a number too large")
    if isinstance(right, (int, float)) and abs(right) > MAX_INT_BITS:
        raise SecurityError("'**' with so large an exponent is not allowed")
    return _checked_size(operator.pow(left, right), "'**'")


def _modulo(left, right):
    if isinstance(left, str):
        raise SecurityError("'%' formatting is not allowed in templates; join text with '~'")
    return operator.mod(left, right)


def _add(left, right):
    sizes = (_length_of(left), _length_of(right))
    if None not in sizes and sum(sizes) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"'+' would make a value longer than {MAX_OUTPUT_CHARS} characters")
    return _checked_size(operator.add(left, right), "'+'")


def _join(value, separator: str = "", attribute=None):
    """The `join` filter on plain values, refusing a result past the size bound before building it."""
    if attribute is not None:
        raise SecurityError("join(attribute=...) is not available in templates")
    items = [str(item) for item in value]
    if sum(map(len, items)) + len(str(separator)) * max(len(items) - 1, 0) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"join would make a value longer than {MAX_OUTPUT_CHARS} characters")
    return str(separator).join(items)


def _replace(value, old, new, count=None):
    """The `replace` filter, refusing a result past the size bound before building it."""
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if count is None else min(text.count(old), max(int(count), 0))
    if len(text) + hits * (len(new) - len(old)) > MAX_OUTPUT_CHARS:
        raise SecurityError(f"replace would make a value longer than {MAX_OUTPUT_CHARS} characters")
    return text.replace(old, new, -1 if count is None else max(int(count), 0))


def _bounded(iterable: Iterable):
    """Yield the loop's items, each one drawn from the render's step budget."""
    budget = _budget.get()
    for item in iterable:
        budget[0] -= 1
        if budget[0] < 0:
            raise SecurityError(f"the template's loops took more than {MAX_LOOP_STEPS} steps")
        yield item


def _range(*args):
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() is limited to {MAX_RANGE} numbers")
    return numbers


# The filters a template may use; everything else (format, center, indent,
# wordwrap, map, attr, xmlattr, ...) is unknown to it.
SAFE_FILTERS = ("abs", "capitalize", "count", "d", "default", "first", "float", "int", "last", "length", "list",
                "lower", "max", "min", "reverse", "round", "sort", "string", "striptags", "sum", "title", "trim",
                "truncate", "unique", "upper", "urlencode", "wordcount")


class MacroSandbox(ImmutableSandboxedEnvironment):
    """A Jinja sandbox where templates see plain data only (see the module's docstring)."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self):
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.filters = {name: self.filters[name] for name in SAFE_FILTERS}
        self.filters.update(join=_join, replace=_replace, _bounded=_bounded)
        self.tests = {name: self.tests[name] for name in (
            "defined", "undefined", "none", "number", "string", "even", "odd", "divisibleby", "in",
            "eq", "ne", "lt", "le", "gt", "ge", "==", "!=", "<", "<=", ">", ">=", "sequence", "mapping")}
        self.globals = {"range": _range}
        self.binop_table = {**self.binop_table, "*": _multiply, "**": _power, "%": _modulo, "+": _add}

    def getattr(self, obj, attribute: str):
        """A field of a mapping (`author.name`) or of `loop`; nothing else has fields."""
        if isinstance(obj, Undefined):
            return obj  # the first missing name is the one the error should name
        if isinstance(obj, Mapping):
            return obj[attribute] if attribute in obj else self.undefined(obj=obj, name=attribute)
        if isinstance(obj, LoopContext) and attribute in LOOP_FIELDS:
            return getattr(obj, attribute)
        if attribute.startswith("_"):
            return self.unsafe_undefined(obj, attribute)
        return self.undefined(f"{type(obj).__name__} values have no field {attribute!r} in templates",
                              obj=obj, name=attribute, exc=SecurityError)

    def getitem(self, obj, argument):
        """An item of a mapping by key, or of a list or text by position or slice."""
        if isinstance(obj, Undefined):
            return obj
        if isinstance(argument, str):
            return self.getattr(obj, argument)
        if isinstance(obj, (list, tuple, str)) and isinstance(argument, (int, slice)):
            try:
                return obj[argument]
            except IndexError:
                pass
        return self.undefined(obj=obj, name=argument)


_ENVIRONMENT = MacroSandbox()


class _Checker(NodeTransformer):
    """Refuses the forbidden constructs and routes every loop through the step budget."""

    def generic_visit(self, node, *args, **kwargs):
        """Refuse forbidden statements wherever they are nested."""
        for kind, name in FORBIDDEN.items():
            if isinstance(node, kind):
                raise TemplateError(f"line {node.lineno}: {name} is not allowed in macro templates")
        return super().generic_visit(node, *args, **kwargs)

    def visit_For(self, node: nodes.For):
        """Bound the loop: its iterable is drawn through the render's budget."""
        if node.recursive:
            raise TemplateError(f"line {node.lineno}: recursive loops are not allowed in macro templates")
        node = self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_bounded", [], [], None, None, lineno=node.lineno)
        return node


@functools.lru_cache(maxsize=256)
def compile_template(text: str):
    """Compile a template once (bulk renders one template thousands of times).

    Args:
        text: the template source.

    Returns:
        The compiled jinja2 Template.

    Raises:
        TemplateError: it is too long, does not parse, or uses a forbidden construct.
    """
    if not isinstance(text, str):
        raise TemplateError("template: must be text")
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"template: at most {MAX_TEMPLATE_CHARS} characters")
    try:
        tree = _ENVIRONMENT.parse(text)
        tree = _Checker().visit(tree)
        code = _ENVIRONMENT.compile(tree)
    except TemplateSyntaxError as error:
        raise TemplateError(f"template line {error.lineno}: {error.message}") from None
    except (RecursionError, SyntaxError, MemoryError):
        # Jinja's parser recurses per level of parentheses or filters, and Python's compiler
        # refuses over 200 nested brackets: either way the template is nested too deeply.
        raise TemplateError("template: nested too deeply (parentheses, filters or blocks)") from None
    return _ENVIRONMENT.template_class.from_code(_ENVIRONMENT, code, _ENVIRONMENT.make_globals(None))


def _blank_missing(value):
    """None (a field this customer lacks) becomes undefined, so `default(...)` replaces it and it prints empty."""
    if value is None:
        return Undefined()
    if isinstance(value, Mapping):
        return {key: _blank_missing(item) for key, item in value.items()}
    return value


# `article('refund-policy')`: the slug a template names (in single or double quotes).
ARTICLE_CALL = re.compile(r"""\barticle\(\s*['"]([a-z0-9][a-z0-9-]*)['"]\s*\)""")


def referenced_articles(text: str) -> set[str]:
    """The slugs of the help articles a template calls `article(...)` on (what the caller must pass)."""
    return set(ARTICLE_CALL.findall(text or ""))


def _article_lookup(articles: Mapping[str, Mapping]):
    """The `article(slug)` function of one render: a passed article's fields, or undefined naming the slug."""
    def article(slug):
        if isinstance(slug, str) and slug in articles:
            return _blank_missing(articles[slug])
        return _ENVIRONMENT.undefined(f"no published help article {slug!r}")
    return article


def render(text: str, variables: Mapping[str, Mapping]) -> str:
    """Render a template with only these variables, bounded in steps and output.

    Args:
        text: the template source.
        variables: name -> plain mapping (author, agent, conversation, queue, channel...); `articles`, if
            given, maps slugs to the fields `article(slug)` returns.

    Returns:
        The rendered text.

    Raises:
        TemplateError: saying what the template did wrong (unknown field, forbidden
            access, too long, too many steps, a failing expression).
    """
    template = compile_template(text)
    token = _budget.set([MAX_LOOP_STEPS])
    parts, size = [], 0
    try:
        context = {name: _blank_missing(value) for name, value in variables.items() if name != "articles"}
        context["article"] = _article_lookup(variables.get("articles") or {})
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise TemplateError(f"template: renders more than {MAX_OUTPUT_CHARS} characters")
            parts.append(chunk)
    except (UndefinedError, SecurityError, TemplateRuntimeError) as error:
        raise TemplateError(f"template: {error.message or error}") from None
    except (TypeError, ValueError, ArithmeticError, RecursionError, MemoryError) as error:
        raise TemplateError(f"template: {type(error).__name__}: {error}"[:300]) from None
    finally:
        _budget.reset(token)
    return "".join(parts)


# The variables a template may use, with a made-up value of each kind: saving a
# template renders it with these, so a misspelt field or a forbidden reach
# is refused when the macro is saved, not when it is applied.
SAMPLE_VARIABLES = {
    "author": {"first_name": "Maya", "name": "Maya Lin", "handle": "maya", "followers": 1200, "verified": False,
               "email": "maya@example.com", "tags": ["vip"]},
    "agent": {"name": "Ana Agent", "first_name": "Ana", "email": "ana@example.com"},
    "conversation": {"id": 1, "subject": "Cannot log in", "status": "open", "priority": "normal",
                     "tags": ["login"], "survey_url": "https://support.example.com/survey/sample-token"},
    "queue": {"slug": "tech", "name": "Tech"},
    "channel": {"slug": "forum", "name": "Forum", "kind": "native", "reply_limit": 20_000},
    "ticket": {"id": 123, "url": "https://tickets.example.com/agent/tickets/123", "status": "open"},
}


SAMPLE_ARTICLE = {"slug": "refund-policy", "title": "Refund policy", "url": "https://help.example.com/refunds",
                  "excerpt": "Refunds reach your card within 5 working days."}


def check_template(text: str) -> None:
    """Refuse a template that does not compile or fails on sample data (an unknown field, a forbidden reach).

    Raises:
        TemplateError: saying why.
    """
    render(text, {**SAMPLE_VARIABLES, "articles": {slug: SAMPLE_ARTICLE for slug in referenced_articles(text)}})
