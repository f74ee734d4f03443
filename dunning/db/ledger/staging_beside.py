"""A big invoice file read, cleaned and parsed by a reader process while the import's
writer inserts the rows it has parsed into the staging table (issue 8: of a 1M-row
import's ~12 s of staging, ~5.5 s is reading and parsing and ~4.5 s the staging inserts,
one after the other on one core).

The reader is a fork of the writer taken just before the loop (staging.py ``_loop``): it
has the opened file, the preloaded customers, the parser and its caches, and runs the
very loop the writer would, with a sink that sends each batch of staged rows, with the
refusals met since, down a pipe (marshal). The writer inserts them in order; at the end
the reader sends the loop's counters, what it noted (refused numbers, Xero groups) and
what the cleaning of the cells counted, and exits. The cross-row checks then run in the
writer as before. Nothing the reader does touches the database: only when the ledger's
customers were read whole beforehand (no look-up through the writer's connection), for
invoices (their rows do not depend on the database otherwise), from a file big enough to
pay for the fork, with a second core, and from a process with one thread (a fork copies
the calling thread only).

A refusal the reader meets is the same refusal (the same tuple, clipped as staging.py
clips it); an error reading the file (SourceError) is raised in the writer with its
message; a Ctrl-C reaches both (the reader ignores it; the writer stops it).
"""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from dunning.bounds import QUOTE_CHARS, clip
from dunning.db.ledger.cleaning import Cleaned
from dunning.db.ledger.rows import Context
from dunning.db.ledger.sources import SourceError, Table

if TYPE_CHECKING:
    from dunning.db.ledger.importer import ImportResult, Progress
    from dunning.db.ledger.staging import Sink, Staged

MIN_BYTES = 8 * 2**20  # a CSV from which the reader is worth its fork (~100,000 rows)


def wanted(kind: str, ctx: Context, table: Table) -> bool:
    """Whether this file is staged with a reader process (see the module's text)."""
    return (
        kind == "invoices"
        and ctx._complete
        and table.delimiter is not None  # a CSV (its total is its size in bytes)
        and table.total >= MIN_BYTES
        and (os.cpu_count() or 1) > 1
        and "fork" in mp.get_all_start_methods()
        and threading.active_count() == 1
    )


class _PipeSink:
    """The reader's sink: batches and the refusals met since, down the pipe."""

    def __init__(self, send: Connection) -> None:
        self._send = send
        self._refused: list[tuple[object, ...]] = []

    def refuse(self, line: int, fld: str, value: str, reason: str, warning: bool = False) -> None:
        # as staging.refuser writes it
        self._refused.append(
            (line, clip(fld, 80), clip(value), clip(reason, 2 * QUOTE_CHARS), int(warning))
        )

    def rows(self, batch: list[tuple[object, ...]]) -> None:
        self._send.send_bytes(marshal.dumps(("b", batch, self._refused)))
        self._refused = []

    def flush(self) -> list[tuple[object, ...]]:
        left, self._refused = self._refused, []
        return left


def _reader(
    loop: Callable[[Sink, Progress | None], Staged],
    result: ImportResult,
    tally: Cleaned | None,
    progress: bool,
    send: Connection,
) -> None:
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writer's to handle
    try:
        sink = _PipeSink(send)

        def told(position: int, total: int) -> None:
            send.send_bytes(marshal.dumps(("p", position, total)))

        out = loop(sink, told if progress else None)  # type: ignore[arg-type]
        t = tally or Cleaned()
        send.send_bytes(
            marshal.dumps(
                (
                    "end",
                    sink.flush(),
                    (result.rows, result.ignored, result.skipped),
                    (out.unknown_numbers, out.refused_numbers, out.groups),
                    (t.chars, t.cells, t.first_line, t.first_column),
                )
            )
        )
    except SourceError as exc:
        with contextlib.suppress(OSError):
            send.send_bytes(marshal.dumps(("source", str(exc))))
    except BaseException:
        with contextlib.suppress(OSError):
            send.send_bytes(marshal.dumps(("error", traceback.format_exc())))
    finally:
        send.close()


def run(
    loop: Callable[[Sink, Progress | None], Staged],
    sink: Sink,
    result: ImportResult,
    tally: Cleaned | None,
    progress: Progress | None,
) -> Staged:
    """The loop run by a reader process, its rows and refusals written here."""
    from dunning.db.ledger.staging import Staged

    ctx = mp.get_context("fork")
    answers, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_reader, args=(loop, result, tally, progress is not None, send), daemon=True
    )
    proc.start()
    send.close()
    try:
        while True:
            try:
                msg = marshal.loads(answers.recv_bytes())
            except EOFError:
                raise RuntimeError("the import's reader process died") from None
            tag = msg[0]
            if tag == "b":
                _refused(sink, msg[2])
                sink.rows(msg[1])
            elif tag == "p":
                if progress is not None:
                    progress(msg[1], msg[2])
            elif tag == "end":
                _refused(sink, msg[1])
                result.rows, result.ignored, result.skipped = msg[2]
                unknown, numbers, groups = msg[3]
                if tally is not None:
                    tally.chars, tally.cells, tally.first_line, tally.first_column = msg[4]
                return Staged(unknown, list(numbers), [tuple(g) for g in groups])
            elif tag == "source":
                raise SourceError(msg[1])
            else:
                raise RuntimeError(f"the import's reader process failed:\n{msg[1]}")
    finally:
        answers.close()
        proc.join(timeout=1)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)


def _refused(sink: Sink, refused: list[tuple[object, ...]]) -> None:
    if refused:  # clipped by the reader already, as the writer's refuser clips them
        sink.refused(refused)
