"""``render(kind, locale, context) -> Rendered(subject, text, html)``.

Jinja2, sandboxed (:class:`jinja2.sandbox.SandboxedEnvironment`: a templates folder from
the configuration is a file a host admin edits, and a template must not reach Python's
internals), with :class:`jinja2.StrictUndefined` (a misspelt name fails, it is never
rendered as nothing) and autoescape for the HTML body only. What is rendered is made
harmless where it enters the output: no control, bidi or invisible format character
reaches the subject, the text or the HTML, whether from a value or from the template
itself (newlines and tabs kept: the remit-to address has lines; one-line fields from the
ERP were made one line by the context builder), and the HTML body escapes every value:

- the template's own text is cleaned when it is loaded (an override could hold an ESC);
- every value a template writes (``{{ ... }}``, constants included) is cleaned by the
  environment's ``finalize`` (:func:`_finalize`: a value without a newline, tab or control
  costs one ``str.isprintable()``);
- ``{% filter %}`` and ``{% call %}`` blocks, the two tags whose output Jinja2 writes
  without ``finalize``, are refused when a template is compiled (FILE:LINE).

So the whole output is never scanned again: a regex pass over a 3-5 KB body costs
13-55 us (Python's ``re`` steps a character at a time, slower with astral ranges), 0.15 ms
a letter for the three parts.

Filters (babel, in the locale being rendered):

- ``money(minor, currency)``: integer minor units -> ``1 234,50 $`` (fr_CA), ``1.234,50 €``
  (es_ES), ``$1,234.50`` (en_US);
- ``date(value, format="long")``: a date or ``YYYY-MM-DD`` -> ``23 novembre 2026``; formats
  ``short``, ``medium``, ``long``, ``full`` or a babel pattern;
- ``number(value)``: ``12 345`` (fr), ``12,345`` (en).

Templates are looked up in the configured folder first, then the built-in ones
(``dunning/letters/templates/<lang>/<kind>.{subject,txt,html}``, docs/LETTERS.md).
A broken template is refused as :class:`TemplateProblem` naming its file and line.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2.ext import Extension
from jinja2.lexer import TokenStream
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from dunning.i18n import _
from dunning.letters.kinds import DEFAULT_LOCALE, KINDS, LANGUAGES, file_name
from dunning.money import format_money
from dunning.textsafe import clean

BUILTIN = Path(__file__).parent / "templates"
MAX_TEMPLATE_BYTES = 256 * 1024  # one template file; a bigger one is a mistake
SUBJECT_MAX = 200  # characters of a subject line
MAX_SOURCES = 16  # files one part may be read from (its own and the layouts it extends)
_SPACES = re.compile(r"[ \t]+\n")
_BLANKS = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class TemplateProblem(ValueError):
    """A template that cannot be used: its file, the line (0: the whole file) and why."""

    def __init__(self, file: str, line: int, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


class _Loader(jinja2.FileSystemLoader):
    """FileSystemLoader that refuses what is not a regular file of a sane size, or not
    UTF-8, naming the file."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        path = template
        for root in self.searchpath:
            if ".." in template.split("/"):
                break  # refused by FileSystemLoader below
            path = os.path.join(root, *template.split("/"))
            if os.path.lexists(path):
                if not os.path.isfile(path):
                    raise TemplateProblem(path, 0, _("not a regular file"))
                size = os.path.getsize(path)
                if size > MAX_TEMPLATE_BYTES:
                    raise TemplateProblem(
                        path, 0, _("{size} bytes is too large for a template").format(size=size)
                    )
                break
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            raise TemplateProblem(
                path, 0, _("not UTF-8 text ({error})").format(error=exc.reason)
            ) from None
        # the template's own text: no control, bidi or format character reaches a letter
        return clean(source, lines=True)[0], filename, uptodate


class _NoUnfinalizedBlocks(Extension):
    """Refuses ``{% filter %}`` and ``{% call %}`` blocks: Jinja2 writes their result
    without the environment's ``finalize``, which cleans every value (a filter block
    could make an ESC from clean text: ``{% filter format(27) %}%c{% endfilter %}``)."""

    def filter_stream(self, stream: TokenStream) -> TokenStream:
        return TokenStream(self._check(stream), stream.name, stream.filename)

    def _check(self, stream: TokenStream) -> Any:
        after_begin = False
        for token in stream:
            if after_begin and token.type == "name" and token.value in ("filter", "call"):
                raise jinja2.TemplateSyntaxError(
                    _("{{% {tag} %}} blocks are not allowed in a letter template").format(
                        tag=token.value
                    ),
                    token.lineno,
                    stream.name,
                    stream.filename,
                )
            after_begin = token.type == "block_begin"
            yield token


def _finalize(value: Any) -> Any:
    """Every value a template writes, without a control, bidi or invisible format
    character (newlines and tabs kept). ``str.isprintable()`` is False for each of them
    (tests/test_textsafe.py checks every code point), so a printable value is as it is."""
    if type(value) is str:
        return value if value.isprintable() else clean(value, lines=True)[0]
    if isinstance(value, Markup):  # |safe, a macro's output: safe HTML, and clean
        return value if value.isprintable() else Markup(clean(str(value), lines=True)[0])
    if value is None or type(value) in (int, bool, date):
        return value
    return _finalize(str(value))


def locale_for(language: str, country: str) -> str:
    """The locale a customer's letter is formatted in: ``fr`` + ``CA`` -> ``fr_CA``; a
    language without templates is written in English (``de`` + ``DE`` -> ``en_DE``)."""
    lang = language.lower() if language.lower() in LANGUAGES else "en"
    name = f"{lang}_{country.upper()}"
    return name if known_locale(name) else DEFAULT_LOCALE[lang]


@lru_cache(maxsize=256)
def known_locale(name: str) -> bool:
    """babel has data for ``name`` (``fr_CA``; ``fr_ZZ`` and ``xx`` are unknown)."""
    from babel import localedata

    return name.isascii() and len(name) <= 20 and localedata.exists(name)


def language_of_locale(locale: str) -> str:
    lang = locale.replace("-", "_").split("_")[0].lower()
    return lang if lang in LANGUAGES else "en"


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise TypeError(f"date expects a date, not {type(value).__name__}")


# Formatting is most of a letter's cost (babel parses patterns and reads locale data on
# every call), and a letter shows each amount and date at least twice (the text and the
# HTML body, often the subject): the results are kept, keyed by value and locale.
@lru_cache(maxsize=16384)
def _money_in(minor: int, currency: str, locale: str) -> str:
    return format_money(minor, currency, locale)


@lru_cache(maxsize=4096)
def _date_in(day: date, fmt: str, locale: str) -> str:
    return format_date(day, format=fmt, locale=locale)


@lru_cache(maxsize=4096)
def _number_in(value: int | float | Decimal, locale: str) -> str:
    return format_decimal(value, locale=locale)


@jinja2.pass_context
def _money(ctx: jinja2.runtime.Context, minor: Any, currency: Any) -> str:
    if type(minor) is not int or not isinstance(currency, str):
        raise TypeError(f"money expects (minor units, currency), not ({minor!r}, {currency!r})")
    return _money_in(minor, currency, ctx["locale"])


@jinja2.pass_context
def _date(ctx: jinja2.runtime.Context, value: Any, fmt: str = "long") -> str:
    return _date_in(_as_date(value), str(fmt), ctx["locale"])


@jinja2.pass_context
def _number(ctx: jinja2.runtime.Context, value: Any) -> str:
    if type(value) not in (int, float, Decimal):
        raise TypeError(f"number expects a number, not {value!r}")
    return _number_in(value, ctx["locale"])


class _LetterEnvironment(SandboxedEnvironment):
    """The sandbox, except that ``customer.name`` on a plain dict (what a letter's context
    is made of) is the dict's item before any attribute: Jinja2 tries the attribute first,
    and a failed getattr (an AttributeError raised and caught) costs more than the lookup
    itself, for each of a letter's ~80 dotted names. Every other object (and a dict
    without the key: ``d.items`` on a dict with no "items" key, or a missing key, which
    stays an undefined name) goes through the sandbox's own checks."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def _environment(loader: jinja2.BaseLoader, *, html: bool) -> SandboxedEnvironment:
    env = _LetterEnvironment(
        loader=loader,
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=400,
        finalize=_finalize,
        extensions=[_NoUnfinalizedBlocks],
    )
    env.filters.update(money=_money, date=_date, number=_number)
    return env


class Templates:
    """The templates in force: a configured folder over the built-in ones."""

    def __init__(self, override: Path | None = None) -> None:
        self.override = override
        roots = [str(override)] if override is not None else []
        loader = _Loader([*roots, str(BUILTIN)])
        self.text_env = _environment(loader, html=False)
        self.html_env = _environment(loader, html=True)
        self._compiled: dict[tuple[bool, str], jinja2.Template] = {}

    def origin(self, lang: str, kind: str, part: str) -> Path:
        """The file a kind's part comes from: the override when it has one."""
        name = f"{lang}/{file_name(kind, part)}"
        if self.override is not None and (self.override / name).exists():
            return self.override / name
        return BUILTIN / name

    def overridden(self) -> list[str]:
        """The template names (``fr/reminder_1.txt``) the folder holds."""
        if self.override is None or not self.override.is_dir():
            return []
        return sorted(
            p.relative_to(self.override).as_posix()
            for p in self.override.glob("*/*")
            if p.is_file()
        )

    def sources(self, lang: str, kind: str, part: str) -> list[tuple[str, Path]]:
        """The files a kind's part is read from, in force (the folder's over the built-in
        ones): its own file, then each template it extends, includes or imports (the
        layouts: ``fr/_reminder.txt``, ``fr/_letter.txt``), each once, as
        ``(name, path)``. A file that is missing, refused or does not parse ends its branch
        (rendering names the problem)."""
        html = part == "html"
        out: list[tuple[str, Path]] = []
        todo = [f"{lang}/{file_name(kind, part)}"]
        while todo and len(out) < MAX_SOURCES:
            name = todo.pop(0)
            if any(name == seen for seen, _ in out):
                continue
            found = self._references(html, name)  # read afresh: an admin edits the folder
            if found is not None:
                out.append((name, found[0]))
                todo.extend(found[1])
        return out

    def _references(self, html: bool, name: str) -> tuple[Path, list[str]] | None:
        env = self.html_env if html else self.text_env
        try:
            source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        except (TemplateProblem, jinja2.TemplateError):
            return None
        try:
            refs = jinja2.meta.find_referenced_templates(env.parse(source, name, filename))
            return Path(filename or name), [r for r in refs if isinstance(r, str)]
        except jinja2.TemplateError:
            return Path(filename or name), []

    def render(self, kind: str, locale: str, context: dict[str, Any]) -> Rendered:
        """The three parts of ``kind`` in ``locale``'s language; TemplateProblem when a
        template is broken (file:line and why), KeyError for an unknown kind."""
        if kind not in KINDS:
            raise KeyError(kind)
        if not known_locale(locale):
            raise ValueError(_("unknown locale {locale!r}").format(locale=locale[:40]))
        lang = language_of_locale(locale)
        values = {**context, "locale": locale, "language": lang, "kind": kind}
        subject = self._one(self.text_env, f"{lang}/{file_name(kind, 'subject')}", values)
        text = self._one(self.text_env, f"{lang}/{file_name(kind, 'txt')}", values)
        html = self._one(self.html_env, f"{lang}/{file_name(kind, 'html')}", values)
        # values and the template's text were cleaned on their way in (module doc)
        one_line = " ".join(clean(subject)[0].split())
        return Rendered(one_line[:SUBJECT_MAX], _tidy(text), html)

    def _one(self, env: SandboxedEnvironment, name: str, values: dict[str, Any]) -> str:
        try:
            key = (env is self.html_env, name)
            template = self._compiled.get(key)
            if template is None:
                template = self._compiled[key] = env.get_template(name)
            return template.render(values)
        except TemplateProblem:
            raise
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(
                exc.filename or name,
                exc.lineno,
                _("syntax error: {error}").format(error=exc.message or exc),
            ) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(exc.name or name, 0, _("template not found")) from None
        except Exception as exc:  # noqa: BLE001 - undefined names, sandbox, bad values
            file, line = _template_frame(exc, name)
            raise TemplateProblem(file, line, _describe(exc)) from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return _("undefined name: {error}").format(error=exc)
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return _("not allowed in a template: {error}").format(error=exc)
    return f"{type(exc).__name__}: {exc}"


def _template_frame(exc: BaseException, name: str) -> tuple[str, int]:
    """The innermost template file and line of ``exc``'s traceback (Jinja maps template
    frames to their file and line)."""
    found = (name, 0)
    for frame, line in traceback.walk_tb(exc.__traceback__):
        file = frame.f_code.co_filename
        if file.endswith((".subject", ".txt", ".html")) and "<" not in file:
            found = (file, line)
    return found


def _tidy(text: str) -> str:
    """No space at a line's end, at most one blank line in a row (the regexes only when
    needed: each is a pass over the text)."""
    if " \n" in text or "\t\n" in text:
        text = _SPACES.sub("\n", text)
    if "\n\n\n" in text:
        text = _BLANKS.sub("\n\n", text)
    return text.strip("\n") + "\n"


@lru_cache(maxsize=8)
def templates(override: str = "") -> Templates:
    """One Templates per folder for the process (its compiled templates are kept)."""
    return Templates(Path(override).expanduser() if override else None)


def render(
    kind: str, locale: str, context: dict[str, Any], *, override: str | Path | None = None
) -> Rendered:
    """Render ``kind`` for ``locale`` (``fr_CA``) with ``context`` (letters.context)."""
    return templates(str(override) if override else "").render(kind, locale, context)
