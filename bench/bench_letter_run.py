"""The nightly letter run (issue 10 item 5) over the 1M database copy: ``dunning letters
run --dry-run --limit N`` as the host runs it (goal: 100,000 e-mails rendered and written
as .eml in <= 60 s on 2 cores).

    python bench/bench_letter_run.py --db COPY.db [--limit 100000] [--jobs 2]
                                     [--out DIR] [--profile 2000]

The copy is migrated first (untimed: m036-m038 on a file built before them). Then, timed:
the dry run as the CLI makes it (queue/letter_run_jobs.py: this process plans chunk by
chunk, what would go to whom, while --jobs processes write each planned chunk's .eml
through queue/sending.send_letter, the same call the real run makes). Prints letters per
second and the peak resident memory of the parent and of the largest worker; beside it,
in the same run, the disk's own floor: the cost of creating an empty file there (10,000
made before the run, one process), times the letters. Creating a file costs this
machine's ext4 0.02-0.7 ms of kernel CPU: for ~5 minutes after many files were deleted
in the folder's block group, the kernel skips each recently deleted inode in turn when
it allocates one (``recently_deleted`` in ``find_inode_bit``, seen with ``perf``), so the
bench deletes its files only at the end and a second run must wait. ``--profile N``: N
letters in this process with each step of send_letter timed (rules, context, render,
message, file), to say where a letter's time goes.

Nothing is recorded in the database (a dry run); the .eml files are deleted afterwards
unless --keep. They go beside the database copy unless --out says where.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table  # noqa: E402

from dunning.clock import FixedClock  # noqa: E402
from dunning.db.connection import connect, open_db  # noqa: E402
from dunning.letters.settings import LetterSettings  # noqa: E402
from dunning.queue import letter_run, sending  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402
from dunning.queue.letter_run_jobs import dry_run  # noqa: E402

# 13:00 in New York, 10:00 in Los Angeles: every consumer zone of the demo is in its window
AT = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
FLOOR_FILES = 10_000  # empty files created before the run: the disk's cost of a file
SETTINGS = Settings(
    letters=LetterSettings(
        company_name="Northwind Supply Co.",
        address="100 King Street West\nToronto ON  M5X 1A9",
        phone="+1 416 555 0100",
        email="ar@northwind.example",
        payment_instructions="Bank transfer: account 0012-3456789",
    )
)


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def profile(db: Path, n: int, out_dir: Path) -> list[tuple[str, str]]:
    """n letters in this process, each step of send_letter timed by wrapping its parts."""
    spent: dict[str, float] = defaultdict(float)

    def timed(name: str, fn):  # noqa: ANN001, ANN202
        def wrapper(*a, **k):  # noqa: ANN002, ANN003, ANN202
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.perf_counter() - t0

        return wrapper

    import dunning.queue.sending as s  # noqa: PLC0415

    patches = {
        "_check_rules": "writing rules",
        "build_context": "context (database)",
        "render": "render (Jinja2, 3 parts)",
        "build_message": "message (built, wire form)",
        "_deliver": "file written",
    }
    saved = {k: getattr(s, k) for k in patches}
    for k, label in patches.items():
        setattr(s, k, timed(label, saved[k]))
    conn = connect(db, readonly=True)
    clock = FixedClock(AT)
    t0 = time.perf_counter()
    done = letter_run.run(conn, clock, SETTINGS, limit=n, dry_run=True, out_dir=out_dir)
    total = time.perf_counter() - t0
    for k in patches:
        setattr(s, k, saved[k])
    conn.close()
    # message and render are called inside render_message, the file inside _deliver
    letters = max(1, done.total)
    rows = [(label, f"{spent[label] / letters * 1000:.3f} ms") for label in patches.values()]
    rows.append(("whole letter (run, one process)", f"{total / letters * 1000:.3f} ms"))
    return rows


def files_floor(folder: Path, n: int) -> float:
    """Seconds to create ``n`` empty private files in ``folder`` (kept until the end: a
    file deleted makes the next creations slower for minutes, see the module doc)."""
    t0 = time.perf_counter()
    for k in range(n):
        os.close(os.open(folder / f"{k}.eml", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True, help="a COPY of the 1M database")
    ap.add_argument("--limit", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, help="where the .eml go (default: a temporary folder)")
    ap.add_argument("--profile", type=int, default=0, help="letters profiled in one process")
    ap.add_argument("--keep", action="store_true", help="keep the .eml files")
    args = ap.parse_args()
    if "benchdb/final.db" in str(args.db.resolve()) or "r8.db" in str(args.db):
        sys.exit("use a copy: the bench migrates the file")
    t0 = time.perf_counter()
    conn = open_db(args.db)  # migrations m036-m038 if the file predates them
    print(f"migrated in {time.perf_counter() - t0:.1f} s (untimed)")
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="letter-run-", dir=args.db.parent))
    clock = FixedClock(AT)
    floor_dir = Path(tempfile.mkdtemp(prefix="files-floor-", dir=out_dir.parent))
    t_files = files_floor(floor_dir, FLOOR_FILES) / FLOOR_FILES  # before the run's files
    t0 = time.perf_counter()
    planned, done = dry_run(
        conn, args.db, clock, SETTINGS, out_dir, limit=args.limit, jobs=args.jobs
    )
    t_write = time.perf_counter() - t0
    conn.close()
    files = sum(1 for _ in out_dir.glob("*.eml"))
    size = sum(f.stat().st_size for f in out_dir.glob("*.eml"))
    rows = [
        (f"planned and written at once ({args.jobs} processes)", f"{t_write:.1f} s",
         f"{done.total / t_write:,.0f}/s"),
    ]  # fmt: skip
    rows.append(
        (f"reference: {done.files:,} empty files created in one folder (1 process)",
         f"{t_files * done.files:.1f} s", f"{1 / t_files:,.0f}/s"),
    )  # fmt: skip
    print(table(("phase", "wall", "letters/s"), rows))
    print(
        f"letters planned {planned.total:,}, written {done.total:,}, .eml files {files:,} "
        f"({size / files / 1024 if files else 0:.1f} KiB each), invoices {done.invoices:,}"
    )
    print("skipped:", dict(sorted(planned.skipped.items())))
    print(
        f"peak memory: parent {peak_mb():.0f} MB, largest worker "
        f"{peak_mb(resource.RUSAGE_CHILDREN):.0f} MB"
    )
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="letter-profile-", dir=args.db.parent) as tmp:
            print(
                table(
                    ("step of send_letter", "per letter"), profile(args.db, args.profile, Path(tmp))
                )
            )
    shutil.rmtree(floor_dir)
    if not args.keep and args.out is None:
        shutil.rmtree(out_dir)
        print(
            "the .eml files were deleted: for the next 5 minutes this disk creates files "
            "slower (ext4 skips recently deleted inodes): wait before running it again"
        )
    _ = sending  # the API the run goes through (imported for the profile's patching)


if __name__ == "__main__":
    main()
