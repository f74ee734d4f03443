"""Where the demo loader's rows come from: this process, or two helper processes.

Big builds run the generator in one process and the queue scorer (derive_state and
priority.score for every account) in another, so that generating, scoring and inserting
share the machine's cores. Each ships marshalled batches through a pipe; a reader
thread here keeps the pipes drained into a bounded queue, so the helpers run ahead of
the inserts instead of waiting for them (the GIL is free while it reads).
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing as mp
import os
import queue
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as mp_wait

from dunning.demo.gen import COLUMNS, GenConfig, Generator
from dunning.demo.history import QueueMaker

Tables = list[tuple[str, list]]  # (table, values row after row) or (extra, rows)
AHEAD = 8  # messages (about a chunk of customers each) buffered before the helpers wait


@dataclass
class Phase:
    name: str
    seconds: float
    rows: int = 0


def chunks(gen: Generator) -> Iterator[Tables]:
    """The generator's batches grouped by chunk of customers."""
    chunk: Tables = []
    for table, rows in gen.batches():
        if table == "":
            yield chunk
            chunk = []
        else:
            chunk.append((table, rows))


def in_process(cfg: GenConfig, phases: list[Phase]) -> Iterator[tuple[str, Tables]]:
    """("chunk", tables) for each chunk of customers, queue rows included."""
    gen = Generator(cfg)
    t = time.perf_counter()
    if cfg.phone_pool:
        gen.warm_pools()
    phases.append(Phase("phone pools", time.perf_counter() - t))
    maker = QueueMaker(cfg.now, cfg.settings)
    for chunk in chunks(gen):
        tables = [(name, rows) for name, rows in chunk if name != "queue_input"]
        tables += [("queue", maker.rows(rows)) for name, rows in chunk if name == "queue_input"]
        yield "chunk", tables


def from_processes(cfg: GenConfig, phases: list[Phase]) -> Iterator[tuple[str, Tables]]:
    """("chunk", tables) per chunk from the generator, ("queue", ...) from the scorer."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    gen_recv, gen_send = ctx.Pipe(duplex=False)
    in_recv, in_send = ctx.Pipe(duplex=False)
    q_recv, q_send = ctx.Pipe(duplex=False)
    procs = [
        ctx.Process(target=_generator_main, args=(cfg, gen_send, in_send), daemon=True),
        ctx.Process(target=_scorer_main, args=(cfg, in_recv, q_send), daemon=True),
    ]
    for p in procs:
        p.start()
    for end in (gen_send, in_send, in_recv, q_send):
        end.close()
    names = {gen_recv: "generator", q_recv: "queue scorer"}
    inbox: queue.Queue[tuple[Connection, bytes | None]] = queue.Queue(AHEAD)
    stop = threading.Event()
    reader = threading.Thread(target=_read, args=(list(names), inbox, stop), daemon=True)
    reader.start()
    running = set(names)
    held: object = None  # the previous message, freed once the next one is decoded
    try:
        while running:
            conn, data = inbox.get()
            if data is None:
                if conn in running:
                    raise RuntimeError(f"the demo {names[conn]} process died")
                continue
            kind, payload = marshal.loads(data)
            if kind == "end":
                phases.extend(Phase(*p) for p in payload)
                running.discard(conn)
            elif kind == "error":
                raise RuntimeError(f"the demo {names[conn]} failed:\n{payload}")
            else:
                yield kind, payload
            held = payload  # noqa: F841 (see Generator.batches: fewer page faults)
    finally:
        stop.set()
        for p in procs:
            if p.is_alive() and running:
                p.kill()
        reader.join(timeout=5)
        for p in procs:
            p.join(timeout=5)
        for conn in names:
            conn.close()


def _read(conns: list[Connection], inbox: queue.Queue, stop: threading.Event) -> None:
    """Move whole messages from the pipes to ``inbox`` until every pipe is closed."""
    open_ = list(conns)
    while open_ and not stop.is_set():
        for conn in mp_wait(open_, timeout=0.5):
            assert isinstance(conn, Connection)
            try:
                data: bytes | None = conn.recv_bytes()
            except (EOFError, OSError):
                data = None
                open_.remove(conn)
            while not stop.is_set():
                try:
                    inbox.put((conn, data), timeout=0.5)
                    break
                except queue.Full:
                    continue


def _generator_main(cfg: GenConfig, send: Connection, to_scorer: Connection) -> None:
    gc.disable()  # no reference cycles here; collections would only cost time
    try:
        gen = Generator(cfg)
        t = time.perf_counter()
        if cfg.phone_pool:
            gen.warm_pools()
        pools = time.perf_counter() - t
        busy, rows = 0.0, 0
        t = time.perf_counter()
        for chunk in chunks(gen):
            tables = [(name, r) for name, r in chunk if name != "queue_input"]
            inputs = [r for name, r in chunk if name == "queue_input"]
            busy += time.perf_counter() - t
            rows += sum(len(r) // len(COLUMNS[name]) for name, r in tables if name in COLUMNS)
            send.send_bytes(marshal.dumps(("chunk", tables)))
            to_scorer.send_bytes(marshal.dumps(inputs[0] if inputs else []))
            t = time.perf_counter()
        to_scorer.send_bytes(marshal.dumps(None))
        stats = [
            ("phone pools (generator process)", pools, 0),
            ("generate rows (generator process, in parallel)", busy, rows),
        ]
        send.send_bytes(marshal.dumps(("end", stats)))
    except BaseException:
        send.send_bytes(marshal.dumps(("error", traceback.format_exc())))
    finally:
        send.close()
        to_scorer.close()


def _scorer_main(cfg: GenConfig, recv: Connection, send: Connection) -> None:
    """Queue rows for the generator's queue inputs, at a lower priority.

    The generator is the long pole of a big build; scoring is lighter and can trail it,
    so this process yields the CPU (nice +10) and a thread drains its input pipe so the
    generator never waits for it."""
    gc.disable()
    try:
        if hasattr(os, "nice"):
            os.nice(10)
        maker = QueueMaker(cfg.now, cfg.settings)
        inputs_q: queue.Queue[bytes | None] = queue.Queue()
        drain = threading.Thread(target=_drain, args=(recv, inputs_q), daemon=True)
        drain.start()
        busy, rows = 0.0, 0
        held: object = None
        while (data := inputs_q.get()) is not None:
            inputs = marshal.loads(data)
            if inputs is None:
                break
            t = time.perf_counter()
            out = maker.rows(inputs)
            held = (inputs, out)  # noqa: F841 (see Generator.batches)
            busy += time.perf_counter() - t
            rows += len(inputs)
            send.send_bytes(marshal.dumps(("queue", [("queue", out)])))
        else:
            raise RuntimeError("the generator stopped before the end")
        stats = [("score queue rows (scorer process, in parallel)", busy, rows)]
        send.send_bytes(marshal.dumps(("end", stats)))
    except BaseException:
        send.send_bytes(marshal.dumps(("error", traceback.format_exc())))
    finally:
        send.close()


def _drain(recv: Connection, inbox: queue.Queue) -> None:
    """Read every message from ``recv`` into ``inbox``; None at the end of the pipe."""
    try:
        while True:
            inbox.put(recv.recv_bytes())
    except (EOFError, OSError):
        inbox.put(None)
