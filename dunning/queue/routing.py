"""Routing by language (issue 9, item 4): who may be dealt a customer's account.

A collector may be given an account when they speak the customer's language: the
customer's ``language`` (ISO 639-1, ``fr``; a locale such as ``fr_CA`` is read as its
language) is one of the collector's ``languages`` (``en,fr``). On by default; ``[routing]
by_language = false`` in the configuration turns it off (queue/config.py).

Where accounts are dealt, the rule is applied here, so the CLI and the screen obey it alike:
``dunning assign`` (explicit accounts and ``--from``: the accounts the target cannot serve
are left where they are and counted, unless ``--any-language``), the screen's ``a`` (the
dialog marks who speaks the language; a non-speaker is refused), the import's ``collector``
column (an account is not given to a collector who cannot serve it; the summary says how
many), and the rebalance (queue/rebalance.py). The claim is not touched: it only takes the
collector's own accounts, so routing is a rule of assignment, not of the claim (issue 8's
hot path stays as it is).

:func:`unserved_by_language` lists the open accounts that no active collector (of a team)
can serve, by language: the board shows it (p4), ``dunning routing check`` prints it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from dunning.i18n import _
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings

# the customer's language as SQL reads it: 'FR', 'fr_CA' and 'fr-CA' are all 'fr'
LANG_SQL = "lower(substr(c.language, 1, 2))"


def language_of(code: str | None) -> str:
    """``'fr_CA'`` -> ``'fr'``, ``' ES '`` -> ``'es'``; '' for nothing."""
    text = (code or "").strip().lower().replace("-", "_")
    return text.split("_", 1)[0]


def spoken(c: Collector) -> tuple[str, ...]:
    """The languages ``c`` speaks, as codes (``('en', 'fr')``)."""
    return tuple(dict.fromkeys(language_of(x) for x in c.languages if language_of(x)))


def speaks(c: Collector, language: str | None) -> bool:
    """True when ``c`` may serve a customer of ``language`` (an unknown language: anyone)."""
    lang = language_of(language)
    return not lang or lang in spoken(c)


def enabled(settings: Settings | None) -> bool:
    return (settings or Settings()).routing.by_language


def speakers_filter(c: Collector) -> tuple[str, list[object]]:
    """SQL (on customers ``c``) keeping the customers ``c`` can serve, and its parameters."""
    langs = spoken(c)
    if not langs:
        return " AND 0", []
    return f" AND {LANG_SQL} IN ({','.join('?' * len(langs))})", list(langs)


def split_servable(
    conn: sqlite3.Connection, to: Collector, ids: Iterable[int]
) -> tuple[list[int], dict[str, int]]:
    """``ids`` split into those ``to`` can serve (in order) and the others counted by
    language (``{'es': 3}``). Ids that are not customers are kept (the move skips them)."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    langs: dict[int, str] = {}
    for i in range(0, len(wanted), 900):
        chunk = wanted[i : i + 900]
        marks = ",".join("?" * len(chunk))
        for cid, lang in conn.execute(
            f"SELECT c.id, {LANG_SQL} FROM customers c WHERE c.id IN ({marks})", chunk
        ):
            langs[int(cid)] = str(lang or "")
    ok: list[int] = []
    refused: dict[str, int] = {}
    for cid in wanted:
        lang = langs.get(cid, "")
        if speaks(to, lang):
            ok.append(cid)
        else:
            refused[lang] = refused.get(lang, 0) + 1
    return ok, refused


def counts_text(counts: dict[str, int]) -> str:
    """``{'es': 3, 'de': 1}`` -> ``'es 3, de 1'`` (most first)."""
    return ", ".join(f"{k or '?'} {n:,}" for k, n in sorted(counts.items(), key=lambda x: -x[1]))


def skipped_message(to: Collector, counts: dict[str, int]) -> str:
    """One line: how many accounts ``to`` was not given, by language, and how to override."""
    return _(
        "{n:,} account(s) left where they are: {name} does not speak their language ({langs}); "
        "--any-language gives them anyway"
    ).format(n=sum(counts.values()), name=to.username, langs=counts_text(counts))


def refusal(to: Collector, language: str) -> str:
    """The screen's refusal when a lead picks a collector who cannot serve the account."""
    return _(
        "{name} does not speak {lang} (speaks {langs}): choose a collector who does"
    ).format(name=to.username, lang=language_of(language) or "?",
             langs=",".join(spoken(to)) or "-")  # fmt: skip


@dataclass
class Unserved:
    """Open accounts of one language that no active collector (of the team) speaks."""

    language: str
    accounts: int
    open_minor: dict[str, int] = field(default_factory=dict)  # currency -> open balance


def active_languages(conn: sqlite3.Connection, team: str | None = None) -> set[str]:
    """The languages spoken by the active collectors (of ``team``; None: everyone)."""
    sql = "SELECT languages FROM collectors WHERE active = 1"
    params: list[object] = []
    if team is not None:
        sql += " AND team = ?"
        params.append(team)
    out: set[str] = set()
    for (langs,) in conn.execute(sql, params):
        out.update(language_of(x) for x in str(langs or "").split(",") if language_of(x))
    return out


def unserved_by_language(conn: sqlite3.Connection, team: str | None = None) -> list[Unserved]:
    """Open accounts (queue state not ``closed``) whose language no active collector
    speaks, by language, most first. With ``team``: the accounts of that team's collectors
    (and the unassigned ones) against that team's speakers.

    One pass over the open queue rows (no index on the customers' language: the build and
    the import stay as fast as before): the stored language is compared as it is (no
    function per row) and the few rows left are normalised here (``FR``, ``fr_CA``).
    ~60 ms of CPU per 100,000 accounts here (the bare join and count: ~50 ms)."""
    langs = active_languages(conn, team)
    marks = ",".join("?" * len(langs))
    sql = (
        "SELECT c.language, c.currency, COUNT(*), SUM(q.open_minor) "
        "FROM queue q JOIN customers c ON c.id = q.customer_id "
        "WHERE q.state != 'closed'"
    )
    params: list[object] = []
    if langs:
        sql += f" AND c.language NOT IN ({marks})"
        params.extend(sorted(langs))
    if team is not None:
        sql += (
            " AND (q.collector_id IS NULL OR q.collector_id IN "
            "(SELECT id FROM collectors WHERE team = ?))"
        )
        params.append(team)
    sql += " GROUP BY c.language, c.currency"
    found: dict[str, Unserved] = {}
    for raw, currency, n, total in conn.execute(sql, params):
        lang = language_of(raw)
        if lang in langs:
            continue  # 'FR' or 'fr_CA' stored: someone speaks it
        u = found.setdefault(lang, Unserved(lang, 0))
        u.accounts += int(n)
        u.open_minor[str(currency)] = u.open_minor.get(str(currency), 0) + int(total or 0)
    return sorted(found.values(), key=lambda u: (-u.accounts, u.language))


@dataclass(frozen=True)
class Misrouted:
    """Open accounts a collector holds but does not speak the language of."""

    username: str
    language: str
    accounts: int


def misrouted(conn: sqlite3.Connection, team: str | None = None) -> list[Misrouted]:
    """Per collector and language, the open accounts given to someone who cannot serve
    them (given before routing, by an import, or with ``--any-language``)."""
    out: list[Misrouted] = []
    sql = "SELECT id, username, languages FROM collectors"
    params: list[object] = []
    if team is not None:
        sql += " WHERE team = ?"
        params.append(team)
    people = conn.execute(sql + " ORDER BY username", params).fetchall()
    for cid, username, langs in people:
        codes = sorted({language_of(x) for x in str(langs or "").split(",") if language_of(x)})
        marks = ",".join("?" * len(codes))
        cond = f" AND c.language NOT IN ({marks})" if codes else ""
        per: dict[str, int] = {}
        for raw, n in conn.execute(
            f"""SELECT c.language, COUNT(*) FROM queue q
                JOIN customers c ON c.id = q.customer_id
                WHERE q.collector_id = ? AND q.state != 'closed'{cond}
                GROUP BY c.language""",
            [cid, *codes],
        ):
            lang = language_of(raw)
            if lang not in codes:
                per[lang] = per.get(lang, 0) + int(n)
        for lang, n in sorted(per.items(), key=lambda x: -x[1]):
            out.append(Misrouted(str(username), lang, n))
    return out


def who_speaks(collectors: Sequence[Collector], language: str | None) -> list[Collector]:
    """Those of ``collectors`` who can serve ``language``, in the order given."""
    return [c for c in collectors if speaks(c, language)]


def left_in_book(
    conn: sqlite3.Connection,
    source_id: int,
    to: Collector,
    *,
    state: str | None = None,
    language: str | None = None,
) -> dict[str, int]:
    """The accounts of ``source_id``'s book (``dunning assign --from``, with its filters)
    that ``to`` cannot serve, by language: what a move with routing leaves behind."""
    codes = spoken(to)
    sql = (
        f"SELECT {LANG_SQL} AS lang, COUNT(*) FROM queue q "
        "JOIN customers c ON c.id = q.customer_id WHERE q.collector_id = ?"
    )
    params: list[object] = [source_id]
    if state is not None:
        sql += " AND q.state = ?"
        params.append(state)
    if language is not None:
        sql += " AND c.language = ?"
        params.append(language)
    if codes:
        sql += f" AND {LANG_SQL} NOT IN ({','.join('?' * len(codes))})"
        params.extend(codes)
    return {str(k or ""): int(n) for k, n in conn.execute(sql + " GROUP BY lang", params)}


def servable_assignments(
    conn: sqlite3.Connection, assign: dict[int, int]
) -> tuple[dict[int, int], dict[str, int]]:
    """An import's ``collector`` column (customer id -> collector id) without the pairs
    whose collector does not speak the customer's language; those counted by language."""
    people = {
        int(r[0]): {language_of(x) for x in str(r[1] or "").split(",") if language_of(x)}
        for r in conn.execute("SELECT id, languages FROM collectors")
    }
    ids = list(assign)
    langs: dict[int, str] = {}
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        for cid, lang in conn.execute(
            f"SELECT c.id, {LANG_SQL} FROM customers c WHERE c.id IN "
            f"({','.join('?' * len(chunk))})",
            chunk,
        ):
            langs[int(cid)] = str(lang or "")
    kept: dict[int, int] = {}
    left: dict[str, int] = {}
    for cid, who in assign.items():
        lang = langs.get(cid, "")
        if not lang or lang in people.get(who, set()):
            kept[cid] = who
        else:
            left[lang] = left.get(lang, 0) + 1
    return kept, left
