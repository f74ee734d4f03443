"""The statement of account as a PDF (issue 10, item 2):
``statement_pdf(conn, ref, as_of=..., settings=...) -> Statement``.

The numbers are the letters' (:func:`dunning.letters.context.build_context` with
``kind="statement"``): the open items (invoices, credit notes, unapplied cash), the aging
buckets and the totals per currency. The words are the customer's language
(``letters/templates/<lang>/statement_pdf.toml``, kept beside the letter templates),
money and dates are formatted by babel in the customer's locale (fr_CA and fr_FR differ).

Made with fpdf2 (pure Python): the text is in DejaVu Sans, bundled in
``letters/fonts/`` (a subset: Latin, Greek, Cyrillic, currency signs; fpdf2 embeds only
the glyphs a document uses), so a Polish or Czech name shows as it is written. Every
text from the ERP was made one line and lost its control and bidi characters when the
context was built; here each is also cut to the width of its cell, so a 10,000-character
name never breaks the layout. The table header is repeated on every page.

The drawing is in :mod:`dunning.letters.pdf_layout`.
"""

from __future__ import annotations

import re
import sqlite3
import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from dunning.letters.context import _items, build_context
from dunning.letters.kinds import LANGUAGES
from dunning.letters.render import BUILTIN, known_locale, language_of_locale, locale_for
from dunning.letters.settings import LetterSettings

# items listed in one PDF; past this an account's statement says how many more there are
# (a 200-invoice account is 5-6 pages; 5,000 lines are about 130)
MAX_PDF_ITEMS = 5000
_REF_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Statement:
    """A statement PDF: ``filename`` (``statement-C0000042-2026-12-02.pdf``), the bytes,
    the locale it is written in (``fr_CA``) and its number of pages."""

    filename: str
    data: bytes
    locale: str
    pages: int


@lru_cache(maxsize=len(LANGUAGES))
def words(lang: str) -> dict[str, str]:
    """The statement's words in ``lang`` (en, fr, es; another language: English)."""
    lang = lang if lang in LANGUAGES else "en"
    with (BUILTIN / lang / "statement_pdf.toml").open("rb") as fh:
        return {str(k): str(v) for k, v in tomllib.load(fh).items()}


def file_name(ref: str, as_of: date) -> str:
    """``statement-C0000042-2026-12-02.pdf``: the reference made safe for a file name."""
    safe = _REF_SAFE.sub("_", ref).strip("._")[:64] or "account"
    return f"statement-{safe}-{as_of.isoformat()}.pdf"


def statement_pdf(
    conn: sqlite3.Connection,
    ref: str,
    *,
    as_of: date,
    settings: LetterSettings,
    lang: str | None = None,
    locale: str | None = None,
) -> Statement:
    """The statement of account ``ref`` as of ``as_of``, in the customer's language and
    locale; ``lang`` writes in another language (for the customer's country),
    ``locale`` (``fr_FR``) sets both. NoSuchAccount for an unknown ``ref``, ValueError for
    an unknown ``locale`` or ``lang``."""
    from dunning.letters.pdf_layout import draw

    found, context = build_context(conn, ref, as_of=as_of, settings=settings, kind="statement")
    country = context["customer"]["country"] or "US"
    if locale:
        locale = locale.replace("-", "_")
        if not known_locale(locale):
            raise ValueError(f"unknown locale {locale[:40]!r}")
    elif lang:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang[:20]!r}")
        locale = locale_for(lang, country)
    else:
        locale = found
    items = context["items"]
    if context["items_more"]:
        # a letter lists 200 lines; a statement lists every item (up to MAX_PDF_ITEMS)
        cid = conn.execute("SELECT id FROM customers WHERE external_ref = ?", (ref,)).fetchone()
        items = _items(conn, cid[0], as_of)[0]
    more = max(0, len(items) - MAX_PDF_ITEMS)
    data, pages = draw(
        context,
        items[:MAX_PDF_ITEMS],
        more,
        locale=locale,
        words=words(language_of_locale(locale)),
    )
    return Statement(file_name(context["customer"]["ref"] or ref, as_of), data, locale, pages)


def write_statement(statement: Statement, dest: Path) -> None:
    """Write the PDF to ``dest`` whole (through ``DEST.partial``, renamed when complete)
    and private (``0600``): dunning/db/outfile.py. The caller refuses an existing file."""
    import os

    from dunning.db import private
    from dunning.db.outfile import partial_path

    with partial_path(dest) as path:
        if path != dest:  # the private .partial just created
            fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
        else:  # a special file (a pipe, /dev/null) is written in place
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, private.file_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(statement.data)
