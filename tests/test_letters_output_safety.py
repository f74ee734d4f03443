"""What a template writes is cleaned where it enters the output (dunning/letters/render.py):
the template's own text when it is loaded, every value by the environment's finalize, and
the two tags that bypass finalize ({% filter %}, {% call %}) refused. These tests try each
way an override could put a control, bidi or format character into a letter."""

from __future__ import annotations

from pathlib import Path

import pytest

from dunning.letters.render import TemplateProblem, Templates

BAD = ("\x1b", "\x07", "\x9b", "\u202e", "\u200b", "\r", "\x00")


def _folder(tmp_path: Path, subject: str, text: str, html: str) -> Path:
    folder = tmp_path / "templates"
    (folder / "en").mkdir(parents=True)
    for part, body in (("subject", subject), ("txt", text), ("html", html)):
        (folder / "en" / f"reminder_1.{part}").write_text(body, encoding="utf-8")
    return folder


CONTEXT = {
    "name": "Evil\x1b]52;c;cGF5\x07 \u202eCo\u200b",
    "lines": "line 1\r\nline 2\x9b31m\n\tindented",
    "html": "<b>bold</b>\x1b[2J",
}


@pytest.mark.parametrize(
    "expression",
    [
        "{{ name }}",  # a value from the data
        '{{ "\\x1b[2J\\u202e" }}',  # a constant made with a Jinja escape in the literal
        "{% set e = '\\x07' %}{{ e ~ name }}",  # a variable set in the template
        '{{ "%c"|format(27) }}',  # a filter's result
        "{{ [name] }}",  # a list: its repr holds the escapes as text, not the characters
        "{{ html|safe }}",  # Markup: kept as HTML, cleaned all the same
        "{% macro m() %}\x1b{{ name }}{% endmacro %}{{ m() }}",  # a macro's output
        "{% for c in name %}{{ c }}{% endfor %}",  # one character at a time
    ],
)
def test_no_way_a_template_writes_a_control_character(tmp_path: Path, expression: str) -> None:
    folder = _folder(
        tmp_path, f"S {expression}\n", f"{expression}\n{{{{ lines }}}}\n", f"<p>{expression}</p>\n"
    )
    out = Templates(folder).render("reminder_1", "en_US", dict(CONTEXT))
    for part in (out.subject, out.text, out.html):
        for bad in BAD:
            assert bad not in part, (bad, part)
    assert "line 1\nline 231m\n\tindented\n" in out.text  # lines and tabs kept, CR LF one line


def test_the_template_text_itself_is_cleaned_when_loaded(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "Hi\x1b]0;title\x07\n", "A\x1b[31m\r\nB\u202eC\n", "<p>\x9bx</p>\n")
    out = Templates(folder).render("reminder_1", "en_US", {})
    assert (out.subject, out.text, out.html) == ("Hi]0;title", "A[31m\nBC\n", "<p>x</p>\n")


def test_values_keep_their_lines_and_tabs_and_lose_only_what_is_unsafe(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "{{ name }}\n", "{{ lines }}\n", "{{ html }}\n")
    out = Templates(folder).render("reminder_1", "en_US", dict(CONTEXT))
    assert out.subject == "Evil]52;c;cGF5 Co"
    assert out.text == "line 1\nline 231m\n\tindented\n"
    assert out.html == "&lt;b&gt;bold&lt;/b&gt;[2J\n"  # escaped, and cleaned


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("ok\n{% filter format(27) %}%c{% endfilter %}\n", "filter"),
        ("ok\n{%- filter upper %}x{% endfilter %}\n", "filter"),
        ("{% macro m() %}{{ caller() }}{% endmacro %}\n{% call m() %}x{% endcall %}\n", "call"),
    ],
)
def test_filter_and_call_blocks_are_refused_naming_the_file_and_line(
    tmp_path: Path, text: str, tag: str
) -> None:
    folder = _folder(tmp_path, "S\n", text, "<p></p>\n")
    with pytest.raises(TemplateProblem) as caught:
        Templates(folder).render("reminder_1", "en_US", {})
    assert caught.value.file == str(folder / "en" / "reminder_1.txt")
    assert caught.value.line == 2
    assert f"{{% {tag} %}}" in str(caught.value)


def test_a_filter_used_as_a_filter_is_still_allowed(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "{{ 'x'|upper }}\n", "{{ name|replace('Evil', 'Good') }}\n", "\n")
    out = Templates(folder).render("reminder_1", "en_US", dict(CONTEXT))
    assert out.subject == "X" and out.text.startswith("Good]52;c;cGF5")
