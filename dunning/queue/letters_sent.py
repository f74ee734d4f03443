"""Reading the archive of letters sent (``letters_sent``, db/letters_schema.py): the
history's line for an ``email_sent`` / ``letter_sent`` activity, and the archived letter
itself (read-only) for the history screen and ``dunning history REF --letter ID``.

Every text read back is made safe for a terminal here (the subject one line, the text
body keeping its lines, no control character).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from dunning.i18n import N_, _
from dunning.letters.kinds import KINDS
from dunning.textsafe import clean

SENT_OUTCOMES = ("email_sent", "letter_sent")
_SENT_LINE = {
    "email_sent": N_("e-mail sent: {subject}"),
    "letter_sent": N_("letter sent: {subject}"),
}


def kind_label(kind: str) -> str:
    """The kind of letter in the reader's words ("reminder, level 1: ...")."""
    return _(KINDS[kind]) if kind in KINDS else clean(kind)[0][:40]


def sent_line(code: str, details: Mapping[str, object]) -> str:
    """ "e-mail sent: <subject> (<kind>)" for a sent letter's activity, '' otherwise."""
    if code not in _SENT_LINE:
        return ""
    subject = " ".join(clean(str(details.get("subject") or ""))[0].split())
    line = _(_SENT_LINE[code]).format(subject=subject)
    kind = details.get("kind")
    return f"{line} ({kind_label(kind)})" if isinstance(kind, str) and kind else line


@dataclass(frozen=True)
class ArchivedLetter:
    id: int
    activity_id: int | None
    at: str
    who: str  # the collector's name, or "system"
    kind: str
    channel: str
    language: str
    locale: str
    recipient: str
    subject: str
    text: str
    message_id: str
    note: str
    path: str
    level: int | None


_SELECT = """SELECT l.id, l.activity_id, l.at, COALESCE(k.display_name, 'system'), l.kind,
       l.channel, l.language, l.locale, l.recipient, l.subject, l.body_text, l.message_id,
       l.note, l.path, l.level
  FROM letters_sent l LEFT JOIN collectors k ON k.id = l.collector_id"""


def _letter(row: tuple[object, ...]) -> ArchivedLetter:
    (lid, aid, at, who, kind, channel, lang, loc, to, subject, text, mid, note, path, lvl) = row
    one = lambda v: " ".join(clean(str(v or ""))[0].split())  # noqa: E731
    return ArchivedLetter(
        int(lid),  # type: ignore[call-overload]
        int(aid) if aid is not None else None,  # type: ignore[call-overload]
        str(at),
        one(who),
        one(kind),
        one(channel),
        one(lang),
        one(loc),
        one(to),
        one(subject),
        clean(str(text or ""), lines=True)[0],
        one(mid),
        one(note),
        one(path),
        int(lvl) if lvl is not None else None,  # type: ignore[call-overload]
    )


def letter_of_activity(conn: sqlite3.Connection, activity_id: int) -> ArchivedLetter | None:
    """The letter an ``email_sent`` / ``letter_sent`` activity sent."""
    row = conn.execute(f"{_SELECT} WHERE l.activity_id = ?", (activity_id,)).fetchone()
    return _letter(tuple(row)) if row is not None else None


def letter_by_id(
    conn: sqlite3.Connection, letter_id: int, customer_id: int | None = None
) -> ArchivedLetter | None:
    """An archived letter by its id (of ``customer_id`` when given)."""
    sql, params = f"{_SELECT} WHERE l.id = ?", [letter_id]
    if customer_id is not None:
        sql += " AND l.customer_id = ?"
        params.append(customer_id)
    row = conn.execute(sql, params).fetchone()
    return _letter(tuple(row)) if row is not None else None


def letters_of(
    conn: sqlite3.Connection, customer_id: int, limit: int = 200
) -> list[ArchivedLetter]:
    """The account's letters sent, newest first."""
    rows = conn.execute(
        f"{_SELECT} WHERE l.customer_id = ? ORDER BY l.at DESC, l.id DESC LIMIT ?",
        (customer_id, limit),
    ).fetchall()
    return [_letter(tuple(r)) for r in rows]


def letter_text(letter: ArchivedLetter) -> str:
    """The archived letter as it is shown: a few header lines, then the text body."""
    head = [
        _("Letter #{id}, {kind}, {channel}").format(
            id=letter.id, kind=kind_label(letter.kind), channel=letter.channel
        ),
        _("Sent: {at} by {who}").format(at=letter.at, who=letter.who),
    ]
    if letter.recipient:
        head.append(_("To: {to}").format(to=letter.recipient))
    head.append(_("Subject: {subject}").format(subject=letter.subject))
    head.append(_("Language: {locale}").format(locale=letter.locale))
    if letter.note:
        head.append(_("Added line: {note}").format(note=letter.note))
    if letter.path:
        head.append(_("File: {path}").format(path=letter.path))
    return "\n".join(head) + "\n\n" + letter.text
