"""The search index: customers' names folded for substring search, phones by their tail.

Folding (``fold``), the one function used for the stored text and for what a person types:
case folded, accents and other combining marks dropped (NFKD), a few letters NFKD keeps
whole spelled out (œ -> oe, æ -> ae, ø -> o, ł -> l, ß -> ss), then everything that is
not a letter or a digit dropped, spaces included: ``Gagné`` -> ``gagne``, ``O'Brien`` ->
``obrien``, ``Peña Hnos.`` -> ``penahnos``, ``Saint-Jean`` -> ``saintjean``. So a query
matches whatever punctuation and spacing the name was written with.

Stored (``index_text``): the folded name; when a word is ``saint``/``sainte`` or
``st``/``ste`` the name is also stored with those words swapped, after a separator no
query can hold, so ``st jean`` finds Saint-Jean and ``saint jean`` finds St-Jean.

Tables (migration m014_search, dunning/db/schema.py):
- ``search_names(customer_id, folded)`` with an index on ``folded``: folded prefixes,
  and the content of
- ``search_names_fts``, FTS5 with the trigram tokenizer (SQLite 3.40 has it, but not its
  ``remove_diacritics``, 3.45+: hence folding in Python): folded substrings of 3+
  characters.
- What the index does not know yet: new customers are those above its high water mark
  (ids only grow: customers are never deleted, m013); renamed ones are listed in
  ``search_stale(customer_id)`` by a plain-SQL trigger on ``UPDATE OF name``. So a writer
  anywhere (even the sqlite3 shell) leaves search correct: search matches those customers
  itself, and ``sync`` (called by the writers: the import, the demo build) folds them into
  the index. Folding needs Python, which a trigger cannot call in every connection that
  may write, hence the two steps. No trigger on INSERT: it doubled the cost of loading
  customers (measured 1.7 -> 3.6 s CPU for 1M rows).
- Phones: an index on the number's end (``PHONE_KEY``) turns "ends with these digits"
  into a range of that index instead of a LIKE '%digits' over every phone. Since m017
  (``COVERING_DDL``) it holds the number and the customer: a phone search, of a whole
  number too, reads this index and never the phones table.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata

SEPARATOR = "\x1f"  # between a name's spellings in index_text; fold() never keeps it
# Phones by their end: the last 6 characters of e164 as they are, then the 7th to the 10th
# from the end one by one, right to left ('+15145550123' -> '550123' '5' '4' '1' '5'). The
# last n >= 6 digits typed are then a prefix of this key (phone_key): a range of the index.
# Built-in substr() only, so any connection (the sqlite3 shell too) can write phones; five
# calls, not the sixteen a full reversal takes (index build per 100k customers, measured:
# 0.64 s CPU with sixteen calls, 0.45 with ten, 0.16 with one).
PHONE_TAIL = 6
PHONE_KEY_CHARS = 10
PHONE_KEY = f"substr(e164, -{PHONE_TAIL})" + "".join(
    f" || substr(e164, -{i}, 1)" for i in range(PHONE_TAIL + 1, PHONE_KEY_CHARS + 1)
)
REBUILD_SHARE = 4  # sync rebuilds everything when 1/REBUILD_SHARE or more is stale

# DDL is what migration m014_search ran: never edit it, a change is a new migration.
FOLDED_INDEX = "CREATE INDEX search_names_folded ON search_names(folded)"
DDL = (
    "CREATE TABLE search_names (customer_id INTEGER PRIMARY KEY REFERENCES customers(id), "
    "folded TEXT NOT NULL)",
    FOLDED_INDEX,
    "CREATE VIRTUAL TABLE search_names_fts USING fts5(folded, content='search_names', "
    "content_rowid='customer_id', tokenize='trigram', columnsize=0)",
    "CREATE TABLE search_stale (customer_id INTEGER PRIMARY KEY)",
    """CREATE TRIGGER customers_search_name AFTER UPDATE OF name ON customers
         WHEN new.name IS NOT old.name BEGIN
         INSERT OR IGNORE INTO search_stale (customer_id) VALUES (new.id); END""",
    f"CREATE INDEX phones_tail ON phones({PHONE_KEY})",
)
# m017_search: phones_tail again, holding the number and the customer, so that a phone
# search (the number's end, or the whole number: queue/search.py) reads this index only: a
# number shared by 50 accounts is 50 entries in a row, not 50 phone rows read at random.
# The phone's id comes right after the key: rows are met in the order of before (key, then
# phone id), the order in which a search keeps its first accounts. phones_e164 (m001)
# stays as it is: widening it too cost the 1M build 1.1 s more CPU (measured).
COVERING_DDL = (
    "DROP INDEX IF EXISTS phones_tail",
    f"CREATE INDEX phones_tail ON phones({PHONE_KEY}, id, e164, customer_id)",
)

_SPELLED = str.maketrans(
    {"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_WORD = re.compile(r"[^\W_]+")  # runs of letters and digits (any script)
_ASCII_DROP = bytes(c for c in range(128) if not chr(c).isalnum())
_ALTERNATE = {"saint": "st", "sainte": "ste", "st": "saint", "ste": "sainte"}


def _lower(text: str) -> str:
    """Case folded, without combining marks (the diacritical-mark blocks after NFKD)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return _MARKS.sub("", decomposed).translate(_SPELLED)


def _squeeze(lowered: str) -> str:
    if lowered.isascii():  # the fast path: most names, once accents are dropped
        # bytes.translate: 0.6 us a name against 2.0 for str.translate (measured)
        return lowered.encode().translate(None, _ASCII_DROP).decode()
    return "".join(_WORD.findall(lowered))


def fold(text: str) -> str:
    """Lower case, no accents, letters and digits only (see the module's docstring)."""
    return _squeeze(_lower(text))


def index_text(name: str) -> str:
    """What the index holds for a name: its folded form, then the saint/st spelling."""
    lowered = _lower(name)
    folded = _squeeze(lowered)
    if "st" in lowered or "saint" in lowered:
        words = _WORD.findall(lowered)
        if any(w in _ALTERNATE for w in words):
            return folded + SEPARATOR + "".join(_ALTERNATE.get(w, w) for w in words)
    return folded


def phone_key(digits: str) -> str:
    """The start of PHONE_KEY of every number ending with ``digits`` (6 or more); past
    PHONE_KEY_CHARS digits the rest is for the caller to check."""
    return digits[-PHONE_TAIL:] + digits[:-PHONE_TAIL][::-1][: PHONE_KEY_CHARS - PHONE_TAIL]


def rebuild(conn: sqlite3.Connection) -> int:
    """Fold every customer's name into the index (inside the caller's transaction, if any).

    Set-based: one INSERT ... SELECT calling ``index_text``, the folded index built after
    the rows, and FTS5's own 'rebuild'. Returns the number of customers indexed."""
    conn.create_function("dunning_index_text", 1, index_text, deterministic=True)
    conn.execute("DELETE FROM search_stale")
    conn.execute("DROP INDEX IF EXISTS search_names_folded")
    conn.execute("DELETE FROM search_names")
    count = conn.execute(
        "INSERT INTO search_names (customer_id, folded) "
        "SELECT id, dunning_index_text(name) FROM customers ORDER BY id"
    ).rowcount
    conn.execute(FOLDED_INDEX)
    # no incremental merging while the whole index is written (measured 0.40 -> 0.25 s
    # CPU per 100k names, queries as fast); later writes merge as FTS5 does by default
    conn.execute("INSERT INTO search_names_fts (search_names_fts, rank) VALUES ('automerge', 0)")
    conn.execute("INSERT INTO search_names_fts (search_names_fts) VALUES ('rebuild')")
    conn.execute("INSERT INTO search_names_fts (search_names_fts, rank) VALUES ('automerge', 4)")
    return count


def _high_water(conn: sqlite3.Connection) -> int:
    """The highest customer id indexed: customers above it are new to the index."""
    return int(
        conn.execute("SELECT COALESCE(MAX(customer_id), 0) FROM search_names").fetchall()[0][0]
    )


def sync(conn: sqlite3.Connection) -> int:
    """Bring new and renamed customers into the index (inside the caller's write
    transaction). A large share of the book (a first import): ``rebuild``; new customers:
    set-based; renamed ones: one by one. Returns how many customers were (re)indexed."""
    top = _high_water(conn)
    new = conn.execute("SELECT COUNT(*) FROM customers WHERE id > ?", (top,)).fetchall()[0][0]
    renamed = conn.execute(
        """SELECT s.customer_id, c.name, n.folded FROM search_stale s
           CROSS JOIN customers c ON c.id = s.customer_id
           JOIN search_names n ON n.customer_id = s.customer_id"""
    ).fetchall()
    if not new and not renamed:
        conn.execute("DELETE FROM search_stale")
        return 0
    if (new + len(renamed)) * REBUILD_SHARE >= top:
        return rebuild(conn)
    for cid, name, old in renamed:
        text = index_text(name)
        if old == text:
            continue
        conn.execute(
            "INSERT INTO search_names_fts (search_names_fts, rowid, folded) "
            "VALUES ('delete', ?, ?)",
            (cid, old),
        )
        conn.execute("UPDATE search_names SET folded = ? WHERE customer_id = ?", (text, cid))
        conn.execute("INSERT INTO search_names_fts (rowid, folded) VALUES (?, ?)", (cid, text))
    conn.execute("DELETE FROM search_stale")
    if new:
        rows = conn.execute("SELECT id, name FROM customers WHERE id > ? ORDER BY id", (top,))
        conn.executemany(  # folded as read (no SQL function: create_function is refused
            # while the caller's statements are open)
            "INSERT INTO search_names (customer_id, folded) VALUES (?, ?)",
            ((cid, index_text(name)) for cid, name in rows.fetchall()),
        )
        conn.execute(
            "INSERT INTO search_names_fts (rowid, folded) "
            "SELECT customer_id, folded FROM search_names WHERE customer_id > ?",
            (top,),
        )
    return new + len(renamed)


def stale_names(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(customer id, indexed text) of customers the index does not know as they are now
    (new above its high water mark, or renamed): search matches these itself. Empty after
    every import and build; a few after a write elsewhere (the sqlite3 shell)."""
    rows = conn.execute(
        """SELECT c.id, c.name FROM search_stale s CROSS JOIN customers c
               ON c.id = s.customer_id
           WHERE s.customer_id <= (SELECT COALESCE(MAX(customer_id), 0) FROM search_names)
           UNION ALL
           SELECT id, name FROM customers
           WHERE id > (SELECT COALESCE(MAX(customer_id), 0) FROM search_names)"""
    )
    return [(cid, index_text(name)) for cid, name in rows]
