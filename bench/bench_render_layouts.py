"""Render time per letter (subject + text + HTML, letters.render) with another templates
folder against this checkout's: round 11 made the built-in templates layouts with blocks
(no ``{% import ... with context %}``, no macro calls) and the sandbox look a plain dict's
key up before its attributes. Four configurations in one process, alternating (a
different order in each repetition), best of --reps, process CPU time:

- ``old``: the --old templates with Jinja2's plain sandbox (main before round 11);
- ``old+dict``: the --old templates with the dict-first lookup;
- ``layouts``: this checkout's templates with the plain sandbox;
- ``new``: this checkout as it is (layouts and dict-first).

    git -C /work/main archive main dunning/letters/templates | tar -x -C /tmp/old
    python bench/bench_render_layouts.py --old /tmp/old/dunning/letters/templates \\
        --db /work/benchdb/lr.db --lang fr --kind statement [--n 1500] [--reps 7]

The database is only read. Before timing, each account's three parts are rendered by
``old`` and ``new`` and compared: the script says how many differ (0: the same bytes).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dunning.letters.context import NothingToWrite, build_context  # noqa: E402
from dunning.letters.kinds import KINDS, LANGUAGES  # noqa: E402
from dunning.letters.render import Templates  # noqa: E402
from dunning.letters.settings import LetterSettings  # noqa: E402

SETTINGS = LetterSettings(
    company_name="Northwind Supply Co.",
    address="100 King Street West\nToronto ON  M5X 1A9",
    phone="+1 416 555 0100",
    email="ar@northwind.example",
    payment_instructions="Bank transfer: Northwind Supply Co., account 0012-3456789",
)
AS_OF = date(2026, 11, 23)


def contexts(db: Path, lang: str, kind: str, n: int) -> list[tuple[str, dict[str, Any]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out: list[tuple[str, dict[str, Any]]] = []
    try:
        rows = conn.execute(
            "SELECT external_ref FROM customers WHERE status = 'active' AND language = ? "
            "ORDER BY id LIMIT ?",
            (lang, n * 20),
        )
        for (ref,) in rows.fetchall():
            try:
                out.append(build_context(conn, ref, as_of=AS_OF, settings=SETTINGS, kind=kind))
            except NothingToWrite:
                continue
            if len(out) >= n:
                break
    finally:
        conn.close()
    return out


def templates(folder: Path | None, *, dict_first: bool) -> Templates:
    t = Templates(folder)
    if not dict_first:
        for env in (t.text_env, t.html_env):
            env.__class__ = SandboxedEnvironment
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", type=Path, required=True, help="main's templates folder")
    ap.add_argument("--db", type=Path, required=True, help="a database (read only)")
    ap.add_argument("--lang", choices=LANGUAGES, default="en")
    ap.add_argument("--kind", choices=sorted(KINDS), default="reminder_1")
    ap.add_argument("--n", type=int, default=1500, help="accounts")
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    ctxs = contexts(args.db, args.lang, args.kind, args.n)
    if not ctxs:
        sys.exit(f"no account of {args.db} can take {args.kind} in {args.lang}")
    runs = {
        "old": templates(args.old, dict_first=False),
        "old+dict": templates(args.old, dict_first=True),
        "layouts": templates(None, dict_first=False),
        "new": templates(None, dict_first=True),
    }
    differ = sum(
        runs["old"].render(args.kind, loc, c) != runs["new"].render(args.kind, loc, c)
        for loc, c in ctxs
    )
    best = dict.fromkeys(runs, float("inf"))
    names = list(runs)
    for rep in range(args.reps):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            t = runs[name]
            start = time.process_time()
            for loc, c in ctxs:
                t.render(args.kind, loc, c)
            best[name] = min(best[name], (time.process_time() - start) / len(ctxs) * 1000)
    print(
        f"{args.lang} {args.kind} ({len(ctxs)} accounts, {differ} rendered differently): "
        + ", ".join(f"{name} {ms:.3f}" for name, ms in best.items())
        + f" ms per letter; new/old {best['new'] / best['old']:.2f}"
    )


if __name__ == "__main__":
    main()
