"""Rendering macro templates: the fields given, nothing else, in bounded time and space."""

import pytest

from macros import TemplateError, check_template, render
from macros.rendering import MAX_OUTPUT_CHARS

VARIABLES = {
    "author": {"first_name": "Maya", "name": "Maya Lin", "handle": "maya", "followers": 1200, "tags": ["vip"],
               "email": None},
    "agent": {"name": "Ana", "first_name": "Ana"},
    "conversation": {"id": 7, "subject": "Charged twice"},
    "queue": {"slug": "billing", "name": "Billing"},
}


def test_fields_defaults_filters_and_loops_render():
    """The documented fields render; a missing value takes its default; loops and `loop.index` work."""
    text = ("Hi {{ author.first_name | default('there') }}, {{ agent.name }} from {{ queue.name }} here about "
            "#{{ conversation.id }} ({{ conversation.subject | lower }}). {{ author.email | default('no email') }}. "
            "{% for tag in author.tags %}{{ loop.index }}={{ tag | upper }}{% endfor %} {{ author.tags | join(',') }}")
    assert render(text, VARIABLES) == ("Hi Maya, Ana from Billing here about #7 (charged twice). no email. "
                                       "1=VIP vip")
    assert render("Hi {{ author.first_name | default('there') }}", {"author": {"first_name": None}}) == "Hi there"


@pytest.mark.parametrize("template,says", [
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
    ("{{ cycler.__init__.__globals__.os }}", "'cycler' is undefined"),
    ("{{ joiner.__init__.__globals__ }}", "'joiner' is undefined"),
    ("{{ lipsum.__globals__['os'].popen('id').read() }}", "'lipsum' is undefined"),
    ("{{ namespace.__init__ }}", "'namespace' is undefined"),
    ("{{ self._TemplateReference__context }}", "unsafe"),
    ("{{ author.__class__.__init__.__globals__ }}", "'__class__'"),
    ("{{ author['__class__'] }}", "'__class__'"),
    ("{{ author.items() }}", "'items'"),
    ("{{ author.tags.append('x') }}", "no field 'append'"),
    ("{{ author.name.upper() }}", "no field 'upper'"),
    ("{{ '{0.__class__}'.format(author) }}", "no field 'format'"),
    ("{{ '%s' % author }}", "'%' formatting is not allowed"),
    ("{{ '%999999999d' % 1 }}", "'%' formatting is not allowed"),
    ("{{ 'x' * 1000000000 }}", "longer than"),
    ("{{ [1] * 1000000000 }}", "longer than"),
    ("{{ 9 ** 9 ** 9 }}", "too large"),
    ("{{ range(1000000000) | list }}", "range() is limited"),
    ("{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}", "steps"),
    ("{% for a in 'x' * 5000 %}{% for b in 'y' * 5000 %}{% endfor %}{% endfor %}", "steps"),
    ("{% for a in range(1000) %}{{ 'x' * 1000 }}{% endfor %}", f"more than {MAX_OUTPUT_CHARS}"),
    ("{{ author.name | replace('', 'x' * 10000) }}", "longer than"),
    ("{{ (author.name | list | join(author.name * 100)) | list | join(author.name * 100) }}", "longer than"),
    ("{{ author.name | center(1000000000) }}", "No filter named 'center'"),
    ("{{ author.name | format(1) }}", "No filter named 'format'"),
    ("{{ author | attr('__class__') }}", "No filter named 'attr'"),
    ("{{ author.nickname }}", "no attribute 'nickname'"),
    ("{{ config }}", "'config' is undefined"),
    ("{% set x = 'a' %}{{ x }}", "{% set %} is not allowed"),
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "{% macro %} is not allowed"),
    ("{% include 'other' %}", "{% include %} is not allowed"),
    ("{% for x in author.tags recursive %}{{ loop(x) }}{% endfor %}", "recursive loops are not allowed"),
    ("{% with a = 1 %}{{ a }}{% endwith %}", "{% with %} is not allowed"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ("{{ author.name ", "unexpected end of template"),
])
def test_hostile_templates_fail_quickly_with_a_clear_error(template, says):
    """Reaching for Python internals, format strings, huge values or loop bombs is a TemplateError saying why."""
    with pytest.raises(TemplateError) as refused:
        render(template, VARIABLES)
    assert says in str(refused.value)


def test_templates_past_the_size_limit_are_refused_before_parsing():
    """A 10,001-character template is refused as such; check_template is what admins' saves go through."""
    with pytest.raises(TemplateError, match="at most 10000 characters"):
        check_template("x" * 10_001)
    with pytest.raises(TemplateError, match="line 2"):
        check_template("fine\n{% if %}")
    check_template("Hi {{ author.first_name }}")


def test_the_same_template_renders_each_conversation_separately():
    """One compiled template, many renders: the loop budget is per render, not shared."""
    template = "{% for n in range(900) %}{% endfor %}{{ author.handle }}"
    assert [render(template, {"author": {"handle": h}}) for h in ("a", "b") * 20] == ["a", "b"] * 20


def test_saving_checks_the_template_against_every_documented_field():
    """check_template renders on sample data: a misspelt field or a reach for internals is refused at save."""
    check_template("{{ author.first_name }} {{ author.handle }} {{ agent.name }} {{ conversation.subject }} "
                   "{{ queue.name }} {{ channel.reply_limit }}")
    with pytest.raises(TemplateError, match="'nickname'"):
        check_template("Hi {{ author.nickname }}")
    with pytest.raises(TemplateError, match="unsafe"):
        check_template("{{ ''.__class__ }}")


@pytest.mark.parametrize("template", [
    "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
    "{{ 'a'" + "|e" * 2000 + " }}",
    "{{ " + "[" * 300 + "]" * 300 + " }}",
])
def test_templates_nested_too_deeply_are_refused_with_the_reason(template):
    """3,000 parentheses or a chain of 2,000 filters overflow the parser: a TemplateError that says why."""
    with pytest.raises(TemplateError, match="nested too deeply"):
        check_template(template)


def test_moderate_nesting_still_renders():
    """Fifty parentheses and a chain of a hundred filters are ordinary templates."""
    assert render("{{ " + "(" * 50 + "1" + ")" * 50 + " }}", VARIABLES) == "1"
    assert render("{{ 'a'" + "|upper" * 100 + " }}", VARIABLES) == "A"
