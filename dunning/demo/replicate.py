"""Big demo builds: the bulk of the accounts made by SQLite from a template, in C.

The Python generator (gen.py, account.py, history.py) makes every account one value at
a time: ~100 us of CPU a customer plus shipping and binding its ~15 rows, ~250 s of CPU
for a million customers (docs/ROUND4_r4.md, ROUND5_p7.md). A big build now runs it for
the first ``template`` customers only (ids 1..template: exactly the rows a build of that
size makes, every scenario, promise, dispute, plan and queue row included) and makes the
rest with ``INSERT ... SELECT`` statements that copy the template's accounts, in id
order, each copy with every id shifted past the rows already there:

- ids and the references made from ids are written again for the new id
  (``C0000123``, ``INV-``/``CN-``, ``PAY-``, a payment's invoice number, ``plan-<activity>``,
  the ``promise_id`` of a promise's decision and the ``invoice_ids`` of a dispute in the
  activities' details JSON, byte for byte as history.py writes them);
- phone numbers are drawn again, by an integer hash of the new phone id, from the same
  checked pools of valid numbers per region and line type the generator draws from
  (data.number_pool), so numbers are shared by as many accounts as before;
- everything else (names, amounts, dates, history, the queue row and its standing,
  which depend on neither the ids nor the numbers) is the template account's: a copy is
  an account of the same kind, in the same scenario and aging bucket, so the portfolio's
  mix (countries, languages, currencies, buckets, promises, disputes, states) is the
  template's, which is a sample of ``template`` accounts from the generator.

The search index's rows are copied too (the folded name is the template's). Nothing
here binds a value per row: the copy runs in SQLite's C code (ROUND4_r4.md: binding is
half the writer's insert CPU, and the generator's per-row CPU is gone for copied rows).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from dunning.demo import data as D
from dunning.demo.gen import POOL

# per table: the SELECT list of a copy. :c customers' offset; the others by table.
# Offsets are bound, the template rows read by rowid range (``id <= :top``).
_COPY: dict[str, str] = {
    "customers": (
        "SELECT id + :oc, printf('C%07d', id + :oc), name, country, subdivision, language, "
        "currency, portfolio, status, risk_score, credit_limit_minor, created_at, updated_at, "
        "address_line1, address_line2, city, postal_code "
        "FROM customers WHERE id <= :top ORDER BY id"
    ),
    "contacts": (
        "SELECT id + :ocontacts, customer_id + :oc, name, title, language, email, is_primary, "
        "created_at FROM contacts WHERE id <= :top ORDER BY id"
    ),
    "phones": (
        "SELECT p.id + :ophones, p.customer_id + :oc, p.contact_id + :ocontacts, "
        "(SELECT e164 FROM temp.demo_pool WHERE k = g.base + "
        "((p.id + :ophones) * 2654435761 % 4294967296) / 4096 % g.n), "
        "p.type, p.do_not_call, p.bad, p.bad_at, p.bad_by, p.created_at "
        "FROM phones p JOIN customers c ON c.id = p.customer_id "
        "JOIN temp.demo_pool_group g ON g.rk = c.country || '-' || c.subdivision "
        "AND g.type = p.type WHERE p.id <= :top ORDER BY p.id"
    ),
    "invoices": (
        "SELECT id + :oinvoices, customer_id + :oc, CASE WHEN substr(number, 1, 3) = 'CN-' "
        "THEN printf('CN-%07d', id + :oinvoices) ELSE printf('INV-%07d', id + :oinvoices) END, "
        "issue_date, due_date, amount_minor, open_minor, currency, status, disputed, "
        "created_at, updated_at FROM invoices WHERE id <= :top ORDER BY id"
    ),
    "payments": (
        "SELECT id + :opayments, customer_id + :oc, invoice_id + :oinvoices, "
        "printf('PAY-%07d', id + :opayments), amount_minor, currency, paid_on, "
        "CASE WHEN invoice_id IS NULL THEN reference "
        "ELSE printf('INV-%07d', invoice_id + :oinvoices) END, created_at "
        "FROM payments WHERE id <= :top ORDER BY id"
    ),
    "activities": (
        "SELECT id + :oactivities, customer_id + :oc, collector_id, at, outcome, attempt, "
        "contact, rpc, worked, phone_id + :ophones, note, next_action, next_action_at, "
        "CASE WHEN details IS NULL THEN NULL "
        "WHEN outcome = 'system' AND substr(details, 1, 14) = '{\"promise_id\":' THEN "
        "'{\"promise_id\":' || (json_extract(details, '$.promise_id') + :opromises) "
        "|| substr(details, instr(details, ',\"status\"')) "
        "WHEN outcome = 'dispute' AND substr(details, 1, 15) = '{\"invoice_ids\":' THEN "
        "'{\"invoice_ids\": [' || (SELECT group_concat(value + :oinvoices, ', ') "
        "FROM json_each(details, '$.invoice_ids')) "
        "|| substr(details, instr(details, '], \"reason\"')) "
        "ELSE details END FROM activities WHERE id <= :top ORDER BY id"
    ),
    "promises": (
        "SELECT id + :opromises, customer_id + :oc, activity_id + :oactivities, "
        "CASE WHEN plan_ref IS NULL THEN NULL ELSE 'plan-' || (activity_id + :oactivities) END, "
        "instalment, amount_minor, currency, promised_on, due_date, grace_days, status, "
        "paid_minor, decided_at, created_at, created_by, decide_at "
        "FROM promises WHERE id <= :top ORDER BY id"
    ),
    "disputes": (
        "SELECT id + :odisputes, customer_id + :oc, activity_id + :oactivities, reason, "
        "department, amount_minor, currency, status, created_at, created_by, resolved_at, "
        "resolved_by FROM disputes WHERE id <= :top ORDER BY id"
    ),
    "dispute_invoices": (
        "SELECT dispute_id + :odisputes, invoice_id + :oinvoices FROM dispute_invoices "
        "WHERE dispute_id <= :top ORDER BY dispute_id, invoice_id"
    ),
    "payment_reports": (
        "SELECT id + :opayment_reports, customer_id + :oc, activity_id + :oactivities, "
        "amount_minor, currency, paid_on, reference, created_at, created_by "
        "FROM payment_reports WHERE id <= :top ORDER BY id"
    ),
    "assignments": (
        "SELECT id + :oassignments, customer_id + :oc, collector_id, assigned_at, "
        "assigned_by, reason FROM assignments WHERE id <= :top ORDER BY id"
    ),
}
# the tables whose rows name their own id; dispute_invoices goes by its dispute
_TOP_OF = {"dispute_invoices": "disputes"}
# every table a copy writes, in the order it writes them
TABLES = (*_COPY, "queue")


class Replicator:
    """Copies accounts 1..template again and again until ``customers`` exist."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        columns: dict[str, tuple[str, ...]],
        counts: dict[str, int],
        template: int,
        tables: tuple[str, ...] = TABLES,
        into: str = "",
    ) -> None:
        """``tables``: the ones this copier writes (demo/side.py splits them between two
        processes); ``into``: the schema the copies go to (``main.`` when the template's
        rows are TEMP tables of the same names, read first by the unqualified SELECTs)."""
        self.conn = conn
        self.columns = columns
        self.template = template
        self.tables = tables
        self.into = into
        self.per = {t: n for t, n in counts.items() if t != "dispute_invoices"}
        self.per["queue"] = template
        self.seconds = dict.fromkeys((*_COPY, "queue", "search index"), 0.0)

    @staticmethod
    def pools(conn: sqlite3.Connection) -> None:
        """The generator's checked pools, grouped by (region, line type), as temp tables
        (made before the template's rows come: the writer waits for them anyway)."""
        conn.execute("DROP TABLE IF EXISTS temp.demo_pool")
        conn.execute("DROP TABLE IF EXISTS temp.demo_pool_group")
        conn.execute("CREATE TEMP TABLE demo_pool (k INTEGER PRIMARY KEY, e164 TEXT)")
        conn.execute(
            "CREATE TEMP TABLE demo_pool_group (rk TEXT, type TEXT, base INTEGER, n INTEGER, "
            "PRIMARY KEY (rk, type))"
        )
        k = 0
        for r in D.REGIONS:
            kinds = (r.fixed, r.mobile, D.TOLL_FREE if r.toll_free else ())
            by_type: dict[str, set[str]] = {}
            for prefixes in kinds:
                if prefixes:
                    for e164, kind in D.number_pool(prefixes, r.country, POOL):
                        by_type.setdefault(kind, set()).add(e164)
            for kind, numbers in sorted(by_type.items()):
                ordered = sorted(numbers)
                conn.executemany(
                    "INSERT INTO temp.demo_pool VALUES (?, ?)",
                    [(k + i, e) for i, e in enumerate(ordered)],
                )
                conn.execute(
                    "INSERT INTO temp.demo_pool_group VALUES (?, ?, ?, ?)",
                    (r.key, kind, k, len(ordered)),
                )
                k += len(ordered)

    def copy(self, copy_no: int, upto: int) -> dict[str, int]:
        """Copy ``copy_no`` (1, 2, ...): template accounts 1..``upto`` as accounts
        ``copy_no * template + 1``..; returns the rows inserted per table."""
        offsets = {f"o{t}": copy_no * n for t, n in self.per.items() if t != "queue"}
        offsets["oc"] = copy_no * self.template
        tops = self._tops(upto)
        done: dict[str, int] = {}
        for table, select in _COPY.items():
            if table not in self.tables:
                continue
            cols = ", ".join(self.columns[table])
            params = {"top": tops[table]}
            params.update({k: v for k, v in offsets.items() if f":{k}" in select})
            t = time.perf_counter()
            cur = self.conn.execute(f"INSERT INTO {self.into}{table} ({cols}) {select}", params)
            self.seconds[table] += time.perf_counter() - t
            done[table] = cur.rowcount
        if "queue" not in self.tables:
            return done
        cols = ", ".join(self.columns["queue"])
        rest = ", ".join(self.columns["queue"][1:])
        t = time.perf_counter()
        cur = self.conn.execute(
            f"INSERT INTO {self.into}queue ({cols}) SELECT customer_id + :oc, {rest} FROM queue "
            "WHERE customer_id <= :top ORDER BY customer_id",
            {"oc": offsets["oc"], "top": upto},
        )
        done["queue"] = cur.rowcount
        self.seconds["queue"] += time.perf_counter() - t
        return done

    def _tops(self, upto: int) -> dict[str, int]:
        """The last template row of each table that belongs to customers 1..upto (ids
        are given in customer order, so those rows are ids 1..top)."""
        tops: dict[str, int] = {}
        for table in _COPY:
            if table not in self.tables:
                continue
            if table == "customers":
                tops[table] = upto
                continue
            if upto == self.template:
                tops[table] = self.per.get(_TOP_OF.get(table, table), 0)
                continue
            source = _TOP_OF.get(table, table)
            tops[table] = self.conn.execute(
                f"SELECT COALESCE(MAX(id), 0) FROM {source} WHERE id <= ? AND customer_id <= ?",
                (self.per.get(source, 0), upto),
            ).fetchone()[0]
        return tops

    def search_names(self, copy_no: int, upto: int) -> int:
        """The copied customers' rows of the search index (the folded name is the
        template's), FTS5 included, as build._Names.fold writes them."""
        oc = copy_no * self.template
        t = time.perf_counter()
        self.conn.execute(
            "INSERT INTO search_names (customer_id, folded) SELECT customer_id + ?, folded "
            "FROM search_names WHERE customer_id <= ? ORDER BY customer_id",
            (oc, upto),
        )
        self.conn.execute(
            "INSERT INTO search_names_fts (rowid, folded) SELECT customer_id, folded "
            "FROM search_names WHERE customer_id > ? AND customer_id <= ?",
            (oc, oc + upto),
        )
        self.seconds["search index"] += time.perf_counter() - t
        return upto


def replicate(
    conn: sqlite3.Connection,
    columns: dict[str, tuple[str, ...]],
    counts: dict[str, int],
    template: int,
    customers: int,
    say: Callable[[str], None],
    tables: tuple[str, ...] = TABLES,
    into: str = "",
    search: bool = True,
) -> tuple[dict[str, int], dict[str, float]]:
    """Copies of the template until ``customers`` accounts exist (Replicator.pools made
    first), of ``tables`` only (and the search index's rows with ``search``); returns
    rows added and seconds spent per table."""
    rep = Replicator(conn, columns, counts, template, tables, into)
    added = dict.fromkeys(tables, 0)
    copy_no = 1
    while copy_no * template < customers:
        upto = min(template, customers - copy_no * template)
        conn.execute("BEGIN")
        for table, n in rep.copy(copy_no, upto).items():
            added[table] += n
        if search:
            rep.search_names(copy_no, upto)
        conn.execute("COMMIT")
        say(f"customers {copy_no * template + upto}/{customers}")
        copy_no += 1
    if "phones" in tables:
        conn.execute("DROP TABLE temp.demo_pool")
        conn.execute("DROP TABLE temp.demo_pool_group")
    seconds = {
        k: v for k, v in rep.seconds.items() if k in tables or (search and k == "search index")
    }
    return added, seconds
