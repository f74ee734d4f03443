"""``dunning templates check``: every template in force (built-in and overridden) rendered
against the demo portfolio in every language; each broken one named with its file, line
and why. Also the sample accounts ``templates show`` renders when no account is given."""

from __future__ import annotations

import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from dunning.clock import FixedClock, today
from dunning.letters.context import NEEDS, build_context
from dunning.letters.kinds import KINDS, LANGUAGES, PARTS
from dunning.letters.render import TemplateProblem, Templates, language_of_locale, locale_for
from dunning.letters.settings import LetterSettings

DEMO_CUSTOMERS = 300
ACCOUNTS_PER_KIND = 4  # accounts each kind is rendered for, in every language
_LANGS, _KINDS, _PARTS = ("|".join(names) for names in (LANGUAGES, KINDS, PARTS))
_TEMPLATE_NAME = re.compile(
    rf"(?:{_LANGS})/(?:(?:{_KINDS})\.(?:{_PARTS})|_[A-Za-z0-9_-]+\.(?:txt|html))"
)


@dataclass
class CheckReport:
    rendered: int = 0
    problems: list[TemplateProblem] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # override files not named as a template
    unread: list[str] = field(default_factory=list)  # override layouts no kind reads (_common.*)
    unchecked: list[str] = field(default_factory=list)  # kinds no demo account could take

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unchecked


@contextmanager
def demo_portfolio(customers: int = DEMO_CUSTOMERS) -> Iterator[tuple[sqlite3.Connection, date]]:
    """A demo portfolio in a temporary folder (removed after) and its as-of date."""
    from dunning.demo.build import build_demo

    clock = FixedClock()
    with tempfile.TemporaryDirectory(prefix="dunning-templates-") as tmp:
        path = Path(tmp) / "demo.db"
        build_demo(path, customers=customers, clock=clock)
        conn = sqlite3.connect(path)
        try:
            yield conn, today(clock)
        finally:
            conn.close()


def sample_accounts(
    conn: sqlite3.Connection, kind: str, as_of: date, n: int = ACCOUNTS_PER_KIND
) -> list[str]:
    """Accounts ``kind`` can be written for: with what it confirms (a promise, a plan, a
    dispute; a reminder: an undisputed invoice past due), consumer and business ones, in
    each language."""
    needed = NEEDS.get(kind) or ("overdue" if kind.startswith("reminder_") else None)
    where = {
        "promise": "EXISTS (SELECT 1 FROM promises p WHERE p.customer_id = c.id "
        "AND p.plan_ref IS NULL AND p.status != 'cancelled')",
        "plan": "EXISTS (SELECT 1 FROM promises p WHERE p.customer_id = c.id "
        "AND p.plan_ref IS NOT NULL AND p.status != 'cancelled')",
        "dispute": "EXISTS (SELECT 1 FROM disputes d WHERE d.customer_id = c.id "
        "AND d.status != 'voided')",
        "overdue": "EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id "
        "AND i.status = 'open' AND i.disputed = 0 AND i.open_minor > 0 AND i.due_date < ?)",
        None: "EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id AND i.status = 'open')",
    }[needed]
    due = (as_of.isoformat(),) if needed == "overdue" else ()
    refs: list[str] = []
    for portfolio in ("consumer", "b2b"):
        for lang in LANGUAGES:
            row = conn.execute(
                f"SELECT external_ref FROM customers c WHERE {where} AND portfolio = ? "
                "AND language = ? ORDER BY id LIMIT 1",
                (*due, portfolio, lang),
            ).fetchone()
            if row is not None and row[0] not in refs:
                refs.append(row[0])
    return refs[: max(n, 1) * 2]


def check_templates(
    templates: Templates,
    settings: LetterSettings,
    conn: sqlite3.Connection,
    as_of: date,
) -> CheckReport:
    report = CheckReport()
    seen: set[str] = set()
    report.unknown = [n for n in templates.overridden() if not _TEMPLATE_NAME.fullmatch(n)]
    read = {
        name
        for kind in KINDS
        for lang in LANGUAGES
        for part in PARTS
        for name, _ in templates.sources(lang, kind, part)
    }
    report.unread = [
        n for n in templates.overridden() if _TEMPLATE_NAME.fullmatch(n) and n not in read
    ]
    for kind in KINDS:
        refs = sample_accounts(conn, kind, as_of)
        if not refs:
            report.unchecked.append(kind)
        for ref in refs:
            locale, context = build_context(conn, ref, as_of=as_of, settings=settings, kind=kind)
            country = locale.split("_")[1] if "_" in locale else "US"
            for lang in LANGUAGES:
                target = locale if language_of_locale(locale) == lang else locale_for(lang, country)
                try:
                    templates.render(kind, target, context)
                    report.rendered += 1
                except TemplateProblem as problem:
                    key = str(problem)
                    if key not in seen:
                        seen.add(key)
                        report.problems.append(problem)
    return report
