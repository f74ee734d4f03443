"""dunning/textsafe.py: every control, bidi and invisible format character made visible
(display) or removed (input); JSON exact and terminal-safe."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.textsafe import clean, is_safe, json_text, visible

# What a terminal acts on or a reader cannot see: C0, DEL, C1, format (bidi, zero-width),
# line/paragraph separators, lone surrogates.
KEPT_FORMAT = {"\u200c", "\u200d"}  # ZWNJ, ZWJ: Persian/Indic names and emoji need them


def dangerous(ch: str, *, lines: bool = False) -> bool:
    if lines and ch in "\n\t":
        return False
    if ch in KEPT_FORMAT:
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")


HOSTILE = "x \x1b]52;c;aGk=\x07 \x1b]0;pwned\x1b\\ \x1b[5;5Hfake"


def test_escape_sequences_become_control_pictures() -> None:
    shown = visible(HOSTILE)
    assert "\x1b" not in shown and "\x07" not in shown
    assert shown == "x ␛]52;c;aGk=␇ ␛]0;pwned␛\\ ␛[5;5Hfake"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x00", "␀"),
        ("\x08", "␈"),
        ("\r", "␍"),
        ("\n", "␊"),
        ("\t", "␉"),
        ("\x1f", "␟"),
        ("\x7f", "␡"),
        ("\x9b", "\\x9b"),  # a one-character CSI
        ("\x85", "\\x85"),  # NEL
        ("\x9d", "\\x9d"),  # a one-character OSC
        ("\u202e", "<U+202E>"),  # right-to-left override (Trojan Source)
        ("\u202a", "<U+202A>"),
        ("\u2066", "<U+2066>"),
        ("\u2069", "<U+2069>"),
        ("\u200e", "<U+200E>"),
        ("\u200f", "<U+200F>"),
        ("\u061c", "<U+061C>"),
        ("\u2028", "<U+2028>"),
        ("\u2029", "<U+2029>"),
        ("\u200b", "<U+200B>"),  # zero-width space
        ("\u2060", "<U+2060>"),  # word joiner
        ("\ufeff", "<U+FEFF>"),  # BOM
        ("\U000e0041", "<U+E0041>"),  # tag character (hidden ASCII)
        ("\udc9b", "<U+DC9B>"),  # an undecodable byte (surrogateescape)
    ],
)
def test_each_class_is_made_visible(raw: str, shown: str) -> None:
    assert visible(f"a{raw}b") == f"a{shown}b"
    assert not is_safe(f"a{raw}b")


def test_ordinary_text_is_unchanged_and_not_copied() -> None:
    for text in ("Émilie Côté-Nuñez", "株式会社", "مرحبا", "a\u200db 👩\u200d💻", "Zoë ß"):
        assert visible(text) is text
        assert is_safe(text)


def test_lines_keep_newline_and_tab_but_not_cr() -> None:
    assert visible("one\n\ttwo\r\nthree\rfour", lines=True) == "one\n\ttwo\nthree␍four"
    assert visible("one\ntwo") == "one␊two"


@given(st.text())
def test_output_never_holds_a_dangerous_character(text: str) -> None:
    assert not any(dangerous(ch) for ch in visible(text))
    assert not any(dangerous(ch, lines=True) for ch in visible(text, lines=True))


@given(st.text())
def test_clean_removes_every_dangerous_character(text: str) -> None:
    one, _ = clean(text)
    assert not any(dangerous(ch) for ch in one)
    note, _ = clean(text, lines=True)
    assert not any(dangerous(ch, lines=True) for ch in note)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_safe_text_passes_unchanged(text: str) -> None:
    assert visible(text) == text
    assert clean(text) == (text, 0)


def test_clean_counts_what_it_removed() -> None:
    assert clean(HOSTILE, lines=True) == ("x ]52;c;aGk= ]0;pwned\\ [5;5Hfake", 5)
    assert clean("Acme\u202e Corp\x9b") == ("Acme Corp", 2)
    # whitespace controls in a one-line field: one space, not counted
    assert clean("12 Main St\r\nSuite 4\tBack") == ("12 Main St Suite 4 Back", 0)
    # a note keeps its lines; CR LF and a lone CR become newlines
    assert clean("first\r\nsecond\rthird\n\tfourth", lines=True) == (
        "first\nsecond\nthird\n\tfourth",
        0,
    )


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_json_text_is_exact_and_terminal_safe(data: object) -> None:
    text = json_text(data, indent=2)
    assert json.loads(text) == data
    assert not any(dangerous(ch, lines=True) for ch in text)


def test_json_text_escapes_c1_bidi_and_astral_format() -> None:
    data = {"name": "a\x9b\u202e\U000e0041\x1b"}
    text = json_text(data)
    assert text == '{"name": "a\\u009b\\u202e\\udb40\\udc41\\u001b"}'
    assert json.loads(text) == data


@given(st.lists(st.tuples(st.text(), st.sampled_from(["", "bold", "red on blue"])), max_size=6))
def test_the_screen_text_never_holds_a_dangerous_character(parts: list[tuple[str, str]]) -> None:
    from rich.text import Text

    from dunning.tui.fmt import safe

    text = Text(style="dim")
    for piece, style in parts:
        text.append(piece, style=style)
    out = safe(text)
    assert isinstance(out, Text)
    assert not any(dangerous(ch, lines=True) for ch in out.plain)
    assert out.plain == visible(text.plain, lines=True)  # the same rule as the CLI's
    literal = safe("[@click=app.quit]x[/]" + "".join(p for p, _ in parts))
    assert isinstance(literal, Text) and literal.plain.startswith("[@click=app.quit]x[/]")


def test_every_character_any_pattern_removes_is_not_printable() -> None:
    """The letters' fast path (dunning/letters/render.py _finalize) keeps a value as it is
    when ``str.isprintable()``: true only if no pattern here can match any of its
    characters. Checked on every code point."""
    from dunning.textsafe import _REMOVE_LINE, _UNSAFE  # noqa: PLC0415

    for pattern in (_REMOVE_LINE, _UNSAFE):
        matched = [cp for cp in range(0x110000) if pattern.match(chr(cp))]
        assert len(matched) > 2000  # C0, C1, format characters, surrogates
        assert not [hex(cp) for cp in matched if chr(cp).isprintable()]
