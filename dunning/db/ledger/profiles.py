"""What each import kind accepts (the generic layout) and the built-in ERP profiles.

A profile maps each field to the column names an export uses; the first name present
in the file's header wins. Header names are compared without case, spaces or
punctuation ("Due Date" = "due_date" = "DueDate"). ``--map COLUMN=field`` overrides.
docs/IMPORT.md documents every field and profile.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from dunning.bounds import clip, quote

KINDS = ("customers", "contacts", "invoices", "payments")


@dataclass(frozen=True)
class Field:
    name: str
    required: bool
    help: str
    aliases: tuple[str, ...] = ()


FIELDS: dict[str, tuple[Field, ...]] = {
    "customers": (
        Field(
            "customer_ref",
            True,
            "the ERP's customer number (key)",
            (
                "customer_id",
                "customer",
                "customer_number",
                "customer_no",
                "account",
                "external_ref",
                "client_id",
            ),
        ),
        Field("name", True, "customer name", ("customer_name", "company", "company_name")),
        Field("country", False, "ISO 3166 alpha-2 (default --country)", ("country_code",)),
        Field(
            "subdivision",
            False,
            "state or province code: NY, ON, QC",
            ("state", "province", "region"),
        ),
        Field(
            "address_line1",
            False,
            "postal address: street and number (blank clears)",
            ("address1", "address", "street", "street_address", "billing_address"),
        ),
        Field(
            "address_line2",
            False,
            "postal address: suite, building (blank clears)",
            ("address2", "street2"),
        ),
        Field("city", False, "postal address: city (blank clears)", ("town", "locality")),
        Field(
            "postal_code",
            False,
            "postal address: ZIP or postal code (blank clears)",
            ("postcode", "zip", "zip_code", "postal"),
        ),
        Field("language", False, "ISO 639-1: en, fr, es", ("lang",)),
        Field("currency", False, "ISO 4217 (default --currency)", ("currency_code",)),
        Field("portfolio", False, "b2b or consumer"),
        Field("status", False, "active, credit_hold, legal, agency, cease, write_off, closed"),
        Field("risk_score", False, "0-100", ("risk",)),
        Field("credit_limit", False, "amount in the customer's currency"),
        Field(
            "collector",
            False,
            "collectors.username who works the account",
            ("collector_username", "owner", "assigned_to"),
        ),
        Field("phone", False, "main number (E.164 or national)", ("telephone", "phone_number")),
        Field("mobile", False, "second number", ("cell", "mobile_phone")),
        Field("email", False, "e-mail of the contact", ("e_mail",)),
        Field("contact_name", False, "the person to ask for", ("contact",)),
    ),
    "contacts": (
        Field(
            "customer_ref",
            True,
            "the ERP's customer number",
            ("customer_id", "customer", "customer_number", "account", "external_ref"),
        ),
        Field(
            "name",
            True,
            "contact name (with the customer: the key)",
            ("contact_name", "contact", "full_name"),
        ),
        Field("title", False, "job title", ("job_title", "role")),
        Field("language", False, "ISO 639-1", ("lang",)),
        Field("email", False, "e-mail", ("e_mail",)),
        Field("phone", False, "number (E.164 or national)", ("telephone", "phone_number")),
        Field("mobile", False, "second number", ("cell", "mobile_phone")),
        Field("do_not_call", False, "yes/no: never dial this contact's numbers", ("dnc",)),
        Field("is_primary", False, "yes/no", ("primary",)),
    ),
    "invoices": (
        Field(
            "customer_ref",
            True,
            "the ERP's customer number",
            ("customer_id", "customer", "customer_number", "account", "external_ref"),
        ),
        Field("customer_name", False, "name, for customers created by the import", ("name",)),
        Field(
            "number",
            True,
            "invoice or credit note number (key)",
            ("invoice", "invoice_number", "invoice_no", "document", "document_number"),
        ),
        Field("issue_date", True, "date issued", ("invoice_date", "date", "document_date")),
        Field(
            "due_date",
            False,
            "net due date (required for invoices; credits default to the issue date)",
            ("net_due_date", "date_due"),
        ),
        Field(
            "amount",
            True,
            "original amount; negative for a credit note",
            ("invoice_amount", "total", "amount_total"),
        ),
        Field(
            "open_amount",
            False,
            "what is still owed (default: amount less payments applied)",
            ("open", "open_balance", "balance_due", "amount_due", "residual"),
        ),
        Field("currency", False, "ISO 4217 (default: the customer's)", ("currency_code",)),
        Field("status", False, "open, paid or closed (default: from the open amount)"),
        Field("disputed", False, "yes/no: contested by the customer", ("in_dispute",)),
        Field(
            "settled_on",
            False,
            "date paid in full (with --as-of: settled by then = paid)",
            ("settled_date", "paid_date", "date_paid"),
        ),
    ),
    "payments": (
        Field(
            "customer_ref",
            False,
            "the ERP's customer number (or give the invoice)",
            ("customer_id", "customer", "customer_number", "account", "external_ref"),
        ),
        Field(
            "invoice",
            False,
            "invoice number it pays (else applied oldest first)",
            ("invoice_number", "invoice_no", "applied_to"),
        ),
        Field("amount", True, "amount received", ("payment_amount", "amount_paid")),
        Field("paid_on", True, "date received", ("date", "payment_date", "received_on")),
        Field(
            "payment_ref",
            False,
            "the ERP's payment id (key for re-imports)",
            ("payment_id", "payment_number", "receipt", "receipt_number"),
        ),
        Field("currency", False, "ISO 4217 (default: the customer's)", ("currency_code",)),
        Field("reference", False, "remittance text, cheque number", ("memo", "remittance")),
    ),
}


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    kinds: dict[str, dict[str, tuple[str, ...]]]
    dates: str = "auto"  # auto, ymd, mdy, dmy
    locale: str = "en_US"  # decides ambiguous separators ("1,234") and, with dates=auto,
    # the order of ambiguous dates ("3/4/2024")
    create_customers: bool = False  # invoice lines name customers that are created
    group_customer: bool = False  # the customer is named on a header row above its lines
    skip_unless: tuple[str, ...] = ()  # a row with all of these blank is a title/total row
    split_by_due: bool = False  # one invoice per (number, due date): instalment lines
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _generic() -> dict[str, dict[str, tuple[str, ...]]]:
    return {k: {f.name: (f.name, *f.aliases) for f in fs} for k, fs in FIELDS.items()}


PROFILES: dict[str, Profile] = {
    "generic": Profile(
        "generic",
        "the documented layout: one column per field, named as the field (docs/IMPORT.md)",
        _generic(),
    ),
    "quickbooks": Profile(
        "quickbooks",
        "QuickBooks A/R Aging Detail (Date, Type, Num, Customer, Due Date, Past Due, "
        "Amount, Open Balance); title, section and total rows are skipped",
        {
            "invoices": {
                "customer_ref": ("Customer", "Name", "Customer Full Name"),
                "customer_name": ("Customer", "Name", "Customer Full Name"),
                "number": ("Num", "No.", "Number"),
                "issue_date": ("Date", "Transaction Date"),
                "due_date": ("Due Date",),
                "amount": ("Amount",),
                "open_amount": ("Open Balance", "Open balance"),
                # profile-only: names the credit lines that have no Num (see rows.py)
                "type": ("Transaction Type", "Type"),
            }
        },
        dates="mdy",
        create_customers=True,
        skip_unless=("number", "issue_date"),
        notes="credit memos and unapplied payments are lines with a negative open balance; "
        "a credit line without a Num (an unapplied payment) is keyed by its type, date, "
        "customer and amount: 'Payment 2026-10-25 Cool Cars -300.00'",
    ),
    "sap_fbl5n": Profile(
        "sap_fbl5n",
        "SAP FBL5N customer line items (Customer, Document Number, Document Date, Net due "
        "date, Amount in local currency, Local Currency); 1.234,56- amounts, D.M.YYYY dates",
        {
            "invoices": {
                "customer_ref": ("Customer", "Account", "Kunde", "Customer Account"),
                "customer_name": ("Name 1", "Name", "Customer Name"),
                "number": (
                    "Document Number",
                    "DocumentNo",
                    "Document No",
                    "Belegnummer",
                    "Reference",
                ),
                "issue_date": ("Document Date", "Doc. Date", "Belegdatum", "Posting Date"),
                "due_date": ("Net due date", "Net Due Date", "Nettofälligkeit", "Due Date"),
                "amount": (
                    "Amount in local currency",
                    "Amount in LC",
                    "Amt in loc.cur.",
                    "Betrag in HW",
                    "Amount in doc. curr.",
                    "Amount",
                ),
                "currency": (
                    "Local Currency",
                    "LCurr",
                    "Hauswährung",
                    "Document currency",
                    "Currency",
                ),
            }
        },
        dates="dmy",
        locale="de_DE",
        create_customers=True,
        skip_unless=("number",),
        notes="an open-items list: each line's amount is what is open; lines with a "
        "negative amount (payments on account, credit memos) are credits",
    ),
    "odoo": Profile(
        "odoo",
        "Odoo journal items export (Partner, Journal Entry, Date, Due Date, Balance, "
        "Amount Due/amount_residual, Currency); labels or technical names",
        {
            "invoices": {
                "customer_ref": (
                    "Partner",
                    "partner_id",
                    "Partner/Display Name",
                    "partner_id/name",
                ),
                "customer_name": ("Partner", "partner_id", "Partner/Display Name"),
                "number": ("Journal Entry", "move_id", "Move", "Number", "move_name"),
                "issue_date": ("Date", "date", "Invoice Date"),
                "due_date": ("Due Date", "date_maturity"),
                "amount": ("Balance", "balance", "Debit", "debit"),
                "open_amount": (
                    "Amount Due",
                    "Residual Amount",
                    "amount_residual",
                    "Amount Residual",
                ),
                "currency": ("Currency", "currency_id", "Company Currency"),
            }
        },
        dates="ymd",
        create_customers=True,
        skip_unless=("number",),
        split_by_due=True,
        notes="an invoice with instalment terms has one receivable line per instalment: "
        "each is an invoice of its own, numbered 'INV/2026/00030@2026-12-30' (move@due "
        "date), so that the aging counts each instalment from its own due date",
    ),
    "xero": Profile(
        "xero",
        "Xero Aged Receivables Detail (Contact, Invoice Date, Invoice Number, Due Date, "
        "Total, Due); the contact may head its group of lines instead of a column",
        {
            "invoices": {
                "customer_ref": ("Contact", "Contact Name", "Customer", "ContactName"),
                "customer_name": ("Contact", "Contact Name", "Customer", "ContactName"),
                "number": ("Invoice Number", "Number", "Reference", "InvoiceNumber"),
                "issue_date": ("Invoice Date", "Date", "InvoiceDate"),
                "due_date": ("Due Date", "DueDate"),
                "amount": ("Total", "Invoice Total", "Gross"),
                "open_amount": ("Due", "Amount Due", "Balance", "Outstanding", "AmountDue"),
                "currency": ("Currency",),
            }
        },
        dates="dmy",
        locale="en_GB",
        create_customers=True,
        group_customer=True,
        skip_unless=("number",),
    ),
    "ibm": Profile(
        "ibm",
        "IBM's public Accounts Receivable sample (customerID, invoiceNumber, InvoiceDate, "
        "DueDate, InvoiceAmount, Disputed, SettledDate); use --as-of DATE",
        {
            "invoices": {
                "customer_ref": ("customerID",),
                "number": ("invoiceNumber",),
                "issue_date": ("InvoiceDate",),
                "due_date": ("DueDate",),
                "amount": ("InvoiceAmount",),
                "disputed": ("Disputed",),
                "settled_on": ("SettledDate",),
            }
        },
        dates="mdy",
        create_customers=True,
        notes="every invoice is settled; --as-of DATE rebuilds the ledger as it stood then: "
        "issued later = skipped, settled by then = paid (a payment is recorded), "
        "else open. countryCode is not an ISO code: customers get --country (US).",
    ),
}


def norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.casefold())


class MappingError(Exception):
    pass


def field_names(kind: str) -> list[str]:
    return [f.name for f in FIELDS[kind]]


def resolve(
    profile: Profile, kind: str, header: list[str], overrides: dict[str, str]
) -> dict[str, int]:
    """field -> column index for this header; MappingError says what is missing."""
    if kind not in profile.kinds:
        raise MappingError(
            f"profile {profile.name!r} reads {', '.join(profile.kinds)} files, not {kind}"
        )
    index: dict[str, int] = {}
    twins: dict[int, int] = {}  # a column whose name (normalized) an earlier one has
    for i, name in enumerate(header):
        first = index.setdefault(norm(name), i)
        if first != i and norm(name):
            twins.setdefault(first, i)
    mapping: dict[str, int] = {}
    for fld, candidates in profile.kinds[kind].items():
        for cand in candidates:
            if norm(cand) in index:
                mapping[fld] = index[norm(cand)]
                break
    known = set(field_names(kind))
    for column, fld in overrides.items():
        if fld and fld not in known:
            raise MappingError(
                f"--map {clip(column, 80)}={clip(fld, 80)}: {kind} have no field "
                f"{quote(fld, 80)}; "
                f"fields: {', '.join(sorted(known))}"
            )
        if norm(column) not in index:
            raise MappingError(
                f"--map {clip(column, 80)}={fld}: no column {quote(column, 80)}; "
                f"columns: {_names(header)}"
            )
        for other, i in list(mapping.items()):
            if i == index[norm(column)] and other != fld:
                del mapping[other]
        if fld:
            mapping[fld] = index[norm(column)]
    for fld, i in sorted(mapping.items(), key=lambda item: item[1]):
        if i in twins:  # two columns of one name: which one holds the field is a guess
            raise MappingError(
                f"columns {i + 1} and {twins[i] + 1} are both named {quote(header[i], 80)}"
                f"{'' if header[i] == header[twins[i]] else ' / ' + quote(header[twins[i]], 80)}"
                f" (read as {fld}): rename or remove one of them"
            )
    optional = {"customer_ref"} if profile.group_customer else set()
    missing = [
        f.name
        for f in FIELDS[kind]
        if f.required and f.name not in mapping and f.name not in optional
    ]
    if missing:
        wanted = "; ".join(
            f"{m} (one of: {', '.join(profile.kinds[kind].get(m, (m,)))})" for m in missing
        )
        raise MappingError(
            f"no column for {wanted}. Columns found: {_names(header)}. "
            f"Use --profile or --map COLUMN=field"
        )
    return mapping


def _names(header: list[str]) -> str:
    """The header's names for a message: each cut, and at most 40 of them."""
    names = [clip(h, 40) for h in header if h]
    more = f" and {len(names) - 40:,} more" if len(names) > 40 else ""
    return ", ".join(names[:40]) + more


REJECTS_COLUMNS = ("_line", "_reason")  # the two a rejects file adds in front


def ignored_columns(
    profile: Profile, kind: str, header: list[str], mapping: dict[str, int]
) -> dict[str, str]:
    """Named columns of the header that no field reads -> the field each probably
    meant ('open_amout' -> 'open_amount'; '' when no field's name is close)."""
    used = set(mapping.values())
    names: dict[str, str] = {}  # normalized name or alias -> field
    for fld, candidates in profile.kinds[kind].items():
        for cand in (fld, *candidates):
            names.setdefault(norm(cand), fld)
    for f in FIELDS[kind]:
        for cand in (f.name, *f.aliases):
            names.setdefault(norm(cand), f.name)
    out: dict[str, str] = {}
    for i, column in enumerate(header):
        if i in used or not column.strip() or column in REJECTS_COLUMNS:
            continue
        close = difflib.get_close_matches(norm(column), list(names), n=1, cutoff=0.8)
        out[column] = names[close[0]] if close and names[close[0]] not in mapping else ""
    return out


def header_matcher(
    profile: Profile, kind: str, overrides: dict[str, str]
) -> Callable[[list[str]], bool]:
    """A predicate that recognises the header row among report title lines."""

    def is_header(names: list[str]) -> bool:
        try:
            resolve(profile, kind, names, overrides)
        except MappingError:
            return False
        return True

    return is_header
