"""Drawing the statement of account with fpdf2 (dunning/letters/pdf.py builds what it
shows). A4 (Letter for the United States, Canada and Mexico), DejaVu Sans from
``letters/fonts/``; every value is cut to its cell's width (an ellipsis says so), the
items table repeats its header on every page, and each page says "Page 1 of 3" in the
customer's language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from dunning.aging import BUCKETS
from dunning.letters.render import _date_in, _money_in, _number_in

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
LETTER_COUNTRIES = frozenset({"US", "CA", "MX"})
MAX_TEXT = 300  # characters of one value looked at: the rest could never fit a line
MAX_BLOCK_LINES = 12  # lines of the remit-to address or the payment instructions
HEAD_ADDRESS_LINES = 6  # lines of the company's address at the top of the first page
ROW = 5.0  # mm: one table row
HEAD = 9.0  # mm: the table header (two lines of small bold text)
GREY = (235, 235, 235)
MISSING = "\ufffd"  # shown for a character the bundled font has no glyph for
# the items table: (word, share of the width, alignment)
COLUMNS = (
    ("number", 0.19, "L"),
    ("document", 0.24, "L"),
    ("issue_date", 0.13, "L"),
    ("due_date", 0.13, "L"),
    ("days", 0.11, "R"),
    ("open", 0.20, "R"),
)


class _Doc(FPDF):
    def __init__(self, fmt: str, footer_left: str, page_words: str) -> None:
        super().__init__(orientation="P", unit="mm", format=fmt)
        self.footer_left = footer_left
        self.page_words = page_words
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.alias_nb_pages("{nb}")
        # the characters both faces can draw (the same subset: letters/fonts/README)
        self.drawable = frozenset.intersection(
            *(frozenset(font.cmap) for font in self.fonts.values())
        )

    def normalize_text(self, text: str) -> str:
        """Every text drawn or measured: a character the font cannot draw (a CJK name, an
        emoji) is shown as U+FFFD, never as a blank (and fpdf2 logs no warning)."""
        if text.isascii():
            return text
        return "".join(c if ord(c) in self.drawable else MISSING for c in text)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(90, 90, 90)
        half = self.epw / 2
        self.cell(half, 5, fit(self, self.footer_left, half), align="L")
        # "{nb}" is replaced by the page count when the document is output
        self.cell(half, 5, self.page_words.format(page=self.page_no(), pages="{nb}"), align="R")
        self.set_text_color(0, 0, 0)


def width_of(pdf: FPDF, text: str) -> float:
    """``text``'s width in mm in the current font: the font's advance widths summed
    (what fpdf2's get_string_width does without shaping, at a quarter of its cost)."""
    widths = pdf.current_font.cw
    return sum(widths[ord(c)] for c in text) * pdf.font_size_pt * 0.001 / pdf.k


def fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut (with an ellipsis) to fit ``width`` mm in the current font."""
    text = text[:MAX_TEXT]
    room = width - 2 * pdf.c_margin
    if width_of(pdf, text) <= room:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest start that fits with the ellipsis
        mid = (lo + hi + 1) // 2
        if width_of(pdf, text[:mid] + "…") <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def draw(
    context: dict[str, Any],
    items: Sequence[dict[str, Any]],
    more: int,
    *,
    locale: str,
    words: dict[str, str],
) -> tuple[bytes, int]:
    """The PDF's bytes and its number of pages."""
    customer = context["customer"]
    as_of: date = context["today"]
    pdf = _Doc(
        "Letter" if customer["country"] in LETTER_COUNTRIES else "A4",
        f"{context['company']['name']} · {words['account'].format(ref=customer['ref'])} · "
        f"{_date_in(as_of, 'short', locale)}",
        words["page"],
    )
    pdf.set_title(f"{words['title']} {customer['ref']}")
    pdf.set_author(context["company"]["name"])
    pdf.set_creator("dunning")
    pdf.add_page()
    _head(pdf, context, locale, words)
    _summary(pdf, context, locale, words)
    _items_table(pdf, context, items, more, locale, words)
    _aging(pdf, context, locale, words)
    _how_to_pay(pdf, context, words)
    data = bytes(pdf.output())
    return data, pdf.pages_count


def _line(pdf: FPDF, text: str, *, size: float = 9, bold: bool = False, align: str = "L") -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.cell(pdf.epw, size * 0.5, fit(pdf, text, pdf.epw), align=align)
    pdf.ln(size * 0.5)


def _para(pdf: FPDF, text: str, *, size: float = 9) -> None:
    """A paragraph of the full width, left-aligned and wrapped."""
    pdf.set_font(FAMILY, "", size)
    pdf.multi_cell(pdf.epw, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _block(
    pdf: FPDF, text: str, *, size: float = 9, width: float | None = None, lines: int = 0
) -> None:
    """Lines of configured text (an address, instructions), each wrapped, at most
    ``lines`` (default MAX_BLOCK_LINES) of them."""
    pdf.set_font(FAMILY, "", size)
    x = pdf.get_x()
    for line in text.splitlines()[: lines or MAX_BLOCK_LINES]:
        pdf.set_x(x)
        pdf.multi_cell(
            width or pdf.epw,
            size * 0.45,
            line[:MAX_TEXT] or " ",
            align="L",
            new_x=XPos.LEFT,
            new_y=YPos.NEXT,
        )


def _head(pdf: FPDF, context: dict[str, Any], locale: str, words: dict[str, str]) -> None:
    company, customer = context["company"], context["customer"]
    top = pdf.get_y()
    left = pdf.epw * 0.55
    pdf.set_font(FAMILY, "B", 13)
    pdf.cell(left, 7, fit(pdf, company["name"], left), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if company["address"]:
        _block(pdf, company["address"], size=8.5, width=left, lines=HEAD_ADDRESS_LINES)
    pdf.set_font(FAMILY, "", 8.5)
    for value in (company["phone"], company["email"], company["website"]):
        if value:
            pdf.cell(left, 4, fit(pdf, value, left), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    below = pdf.get_y()
    # the title, the date and the account on the right
    right = pdf.epw - left
    pdf.set_xy(pdf.l_margin + left, top)
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(right, 8, fit(pdf, words["title"], right), align="R")
    pdf.set_font(FAMILY, "", 9)
    for k, text in enumerate(
        (
            words["date"].format(date=_date_in(context["today"], "long", locale)),
            words["account"].format(ref=customer["ref"]),
        )
    ):
        pdf.set_xy(pdf.l_margin + left, pdf.get_y() + (8 if k == 0 else 5))
        pdf.cell(right, 5, fit(pdf, text, right), align="R")
    pdf.set_xy(pdf.l_margin, max(below, pdf.get_y() + 6) + 6)
    # the customer's block
    _line(pdf, customer["name"], size=11, bold=True)
    contact = context["contact"]
    if contact and contact["name"] and contact["name"] != customer["name"]:
        name = contact["name"] + (f", {contact['title']}" if contact["title"] else "")
        _line(pdf, words["attention"].format(name=name))
    address = customer["address"].splitlines()
    place = _country_name(customer["country"], locale)
    if address:  # street lines, city line, the country (named in the statement's language)
        for text in address[:-1] if customer["country"] else address:
            _line(pdf, text)
    elif customer["subdivision"]:
        place = f"{customer['subdivision']}, {place}" if place else customer["subdivision"]
    if place:
        _line(pdf, place)
    pdf.ln(4)
    _para(pdf, words["intro"].format(date=_date_in(context["today"], "long", locale)))
    pdf.ln(3)


def _country_name(code: str, locale: str) -> str:
    from dunning.letters.context import country_name

    return country_name(code, locale)


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.get_y() + 8 + HEAD + 2 * ROW > pdf.page_break_trigger:
        pdf.add_page()
    pdf.set_font(FAMILY, "B", 10.5)
    pdf.cell(pdf.epw, 7, fit(pdf, text, pdf.epw), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _two_lines(pdf: FPDF, text: str, width: float) -> list[str]:
    """``text`` wrapped at spaces into at most two lines of ``width`` (the second cut)."""
    room = width - 2 * pdf.c_margin
    first: list[str] = []
    words = text[:MAX_TEXT].split()
    while words and width_of(pdf, " ".join([*first, words[0]])) <= room:
        first.append(words.pop(0))
    if not first:  # one word wider than the cell
        return [fit(pdf, text, width)]
    return [" ".join(first), fit(pdf, " ".join(words), width)] if words else [" ".join(first)]


def _header_row(pdf: FPDF, cells: Sequence[tuple[str, float, str]]) -> None:
    """A grey header row; each heading on up to two lines."""
    pdf.set_font(FAMILY, "B", 7.5)
    pdf.set_fill_color(*GREY)
    x, y = pdf.l_margin, pdf.get_y()
    pdf.rect(x, y, sum(w for _, w, _ in cells), HEAD, style="F")
    for text, width, align in cells:
        for k, line in enumerate(_two_lines(pdf, text, width)):
            room = width - pdf.c_margin - (width_of(pdf, line) if align == "R" else 0)
            pdf.text(x + (room if align == "R" else pdf.c_margin), y + 3.3 + 3.8 * k, line)
        x += width
    pdf.set_xy(pdf.l_margin, y + HEAD)


def _row(
    pdf: FPDF, cells: Sequence[tuple[str, float, str]], *, bold: bool = False, rule: bool = True
) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", 8)
    # text() rather than cell(): a row's cells are one line each, already cut to fit, and
    # cell()'s line layout is most of a 200-invoice statement's time
    x, y = pdf.l_margin, pdf.get_y()
    baseline = y + ROW / 2 + 0.3 * pdf.font_size
    for text, width, align in cells:
        shown = fit(pdf, text, width)
        if shown:
            room = width - pdf.c_margin - (width_of(pdf, shown) if align == "R" else 0)
            pdf.text(x + (room if align == "R" else pdf.c_margin), baseline, shown)
        x += width
    pdf.set_xy(pdf.l_margin, y)
    pdf.ln(ROW)
    if rule:
        pdf.set_draw_color(215, 215, 215)
        width = sum(w for _, w, _ in cells)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())


def _summary(pdf: FPDF, context: dict[str, Any], locale: str, words: dict[str, str]) -> None:
    w = pdf.epw / 4
    head = [(words["currency"], w, "L"), (words["overdue"], w, "R")]
    head += [(words["disputed_total"], w, "R"), (words["total_due"], w, "R")]
    _heading(pdf, words["summary"])
    _header_row(pdf, head)
    for t in context["totals"]:
        c = t["currency"]
        _row(
            pdf,
            [
                (c, w, "L"),
                (_money_in(t["overdue"], c, locale), w, "R"),
                (_money_in(t["disputed"], c, locale), w, "R"),
                (_money_in(t["balance"], c, locale), w, "R"),
            ],
            bold=True,
        )
    if not context["totals"]:
        _row(pdf, [(words["nothing_open"], pdf.epw, "L")], rule=False)
    pdf.ln(4)


def _items_table(
    pdf: FPDF,
    context: dict[str, Any],
    items: Sequence[dict[str, Any]],
    more: int,
    locale: str,
    words: dict[str, str],
) -> None:
    if not items and not context["unapplied"]:
        return
    widths = [(words[key], share * pdf.epw, align) for key, share, align in COLUMNS]
    _heading(pdf, words["open_items"])
    _header_row(pdf, widths)
    rows = [_item_cells(i, locale, words) for i in items]
    rows += [
        [
            u["reference"],
            words["payment"],
            _date_in(u["date"], "short", locale),
            "",
            "",
            _money_in(u["amount"], u["currency"], locale),
        ]
        for u in context["unapplied"]
    ]
    for cells in rows:
        if pdf.get_y() + ROW > pdf.page_break_trigger:
            pdf.add_page()
            _header_row(pdf, widths)
        _row(pdf, [(text, w, a) for text, (_, w, a) in zip(cells, widths, strict=True)])
    if more:
        _row(pdf, [(words["more"].format(n=_number_in(more, locale)), pdf.epw, "L")], rule=False)
    if any(i["disputed"] for i in items):
        pdf.ln(1)
        _para(pdf, "* " + words["disputed_note"], size=7.5)
    pdf.ln(4)


def _item_cells(item: dict[str, Any], locale: str, words: dict[str, str]) -> list[str]:
    document = words["credit_note" if item["credit"] else "invoice"]
    if item["disputed"]:
        document = f"{document} ({words['disputed']})*"
    return [
        item["number"],
        document,
        _date_in(item["issue_date"], "short", locale),
        _date_in(item["due_date"], "short", locale),
        _number_in(item["days_past_due"], locale) if item["days_past_due"] else "",
        _money_in(item["open"], item["currency"], locale),
    ]


def _aging(pdf: FPDF, context: dict[str, Any], locale: str, words: dict[str, str]) -> None:
    aging = context["aging"]
    if not aging:
        return
    labels = [
        words["current"] if b == "current" else words["bucket"].format(range=b) for b in BUCKETS
    ]
    for start in range(0, len(aging), 4):  # four currencies side by side at most
        part = aging[start : start + 4]
        first = pdf.epw * 0.28
        w = min(pdf.epw * 0.24, (pdf.epw - first) / len(part))
        _heading(pdf, words["aging"])
        _header_row(pdf, [("", first, "L"), *[(a["currency"], w, "R") for a in part]])
        for k, label in enumerate(labels):
            cells = [(label, first, "L")]
            cells += [
                (_money_in(a["buckets"][k]["amount"], a["currency"], locale), w, "R") for a in part
            ]
            _row(pdf, cells)
        _row(
            pdf,
            [(words["total"], first, "L")]
            + [(_money_in(a["total"], a["currency"], locale), w, "R") for a in part],
            bold=True,
            rule=False,
        )
        pdf.ln(4)


def _how_to_pay(pdf: FPDF, context: dict[str, Any], words: dict[str, str]) -> None:
    company, customer = context["company"], context["customer"]
    _heading(pdf, words["how_to_pay"])
    if company["payment_instructions"]:
        _block(pdf, company["payment_instructions"])
        pdf.ln(2)
    if company["address"]:
        _line(pdf, words["remit_to"].format(name=company["name"]), bold=True)
        _block(pdf, company["address"])
        pdf.ln(2)
    _para(pdf, words["quote_ref"].format(ref=customer["ref"]))
    contact = " · ".join(v for v in (company["phone"], company["email"]) if v)
    if contact:
        _para(pdf, words["questions"].format(contact=contact))
