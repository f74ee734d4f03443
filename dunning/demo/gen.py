"""Row generator for the demo portfolio (see demo/build.py for the API and the loader).

One ``random.Random`` stream walks the customers in id order and yields rows in batches,
so the same seed and clock give the same rows whatever the batch size or the process
that runs it. Days are handled as ordinals and turned into text through tables built
once, which keeps the per-row cost low enough for a million customers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from dunning.clock import to_iso
from dunning.demo import data as D
from dunning.demo.account import make_customer
from dunning.money import minor_digits
from dunning.queue.config import Settings

Row = tuple[object, ...]

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("id", "external_ref", "name", "country", "subdivision", "language",
                  "currency", "portfolio", "status", "risk_score", "credit_limit_minor",
                  "created_at", "updated_at", "address_line1", "address_line2", "city",
                  "postal_code"),
    "contacts": ("id", "customer_id", "name", "title", "language", "email", "is_primary",
                 "created_at"),
    "phones": ("id", "customer_id", "contact_id", "e164", "type", "do_not_call", "bad",
               "bad_at", "bad_by", "created_at"),
    "invoices": ("id", "customer_id", "number", "issue_date", "due_date", "amount_minor",
                 "open_minor", "currency", "status", "disputed", "created_at", "updated_at"),
    "payments": ("id", "customer_id", "invoice_id", "external_ref", "amount_minor",
                 "currency", "paid_on", "reference", "created_at"),
    "activities": ("id", "customer_id", "collector_id", "at", "outcome", "attempt",
                   "contact", "rpc", "worked", "phone_id", "note", "next_action",
                   "next_action_at", "details"),
    "promises": ("id", "customer_id", "activity_id", "plan_ref", "instalment",
                 "amount_minor", "currency", "promised_on", "due_date", "grace_days",
                 "status", "paid_minor", "decided_at", "created_at", "created_by",
                 "decide_at"),
    "disputes": ("id", "customer_id", "activity_id", "reason", "department", "amount_minor",
                 "currency", "status", "created_at", "created_by", "resolved_at",
                 "resolved_by"),
    "dispute_invoices": ("dispute_id", "invoice_id"),
    "payment_reports": ("id", "customer_id", "activity_id", "amount_minor", "currency",
                        "paid_on", "reference", "created_at", "created_by"),
    "assignments": ("id", "customer_id", "collector_id", "assigned_at", "assigned_by",
                    "reason"),
    "queue": ("customer_id", "collector_id", "state", "priority", "reasons", "next_action",
              "next_action_at", "open_minor", "disputed_minor", "unapplied_minor",
              "oldest_due", "last_contact_at", "last_attempt_at", "broken_promise",
              "claimed_by", "claim_expires_at", "updated_at", "pclass", "pkey", "restand_on"),
}  # fmt: skip
# batches that are not a table's rows: the queue's inputs (direct path: see QueueMaker)
# or seeds (slow path: the values history implies, written before refresh_accounts)
EXTRA = ("queue_input", "queue_seed")
QUEUE_SEED = ("customer_id", "collector_id", "last_contact_at", "last_attempt_at",
              "next_action", "next_action_at", "broken_promise")  # fmt: skip

POOL = 1000  # numbers per (region, kind of line) on the phone-pool path
PAST = 1500  # day tables reach this far back and FUTURE days ahead
FUTURE = 120
# per thousand active customers: what their recent history looks like
SCENARIOS = (("fresh", 110), ("plain", 520), ("callback", 70), ("ptp_pending", 50),
             ("ptp_kept", 60), ("ptp_broken", 50), ("ptp_partial", 10), ("plan", 15),
             ("paid_claim", 30), ("dispute", 45), ("dispute_all", 5), ("refused", 10),
             ("settled", 25))  # fmt: skip
ATTEMPTS = (("no_answer", 45), ("left_message", 35), ("busy", 7), ("callback", 5), ("note", 8))
# days past due of open invoices, by bucket: (weight, lowest, highest); current is 0..-terms
AGING = ((25, None, 0), (25, 1, 30), (17, 31, 60), (12, 61, 90), (8, 91, 120), (13, 121, 540))


def table(pairs: tuple[tuple[object, int], ...]) -> list[object]:
    """Expand (value, weight) pairs into a list that a uniform index picks from."""
    return [v for v, w in pairs for _ in range(w)]


@dataclass(frozen=True)
class GenConfig:
    customers: int
    seed: int
    now: datetime
    collector_ids: dict[str, int]
    phone_pool: bool = False  # reuse precomputed numbers instead of checking each one
    direct_queue: bool = False  # compute queue rows here (else yield 'queue_seed' rows)
    chunk: int = 10_000
    settings: Settings = field(default_factory=Settings)


class _Lang:
    def __init__(self, lang: str) -> None:
        self.first = D.FIRST[lang]
        self.last = D.LAST[lang]
        self.first_a = [D.ascii_slug(x) for x in self.first]
        self.last_a = [D.ascii_slug(x) for x in self.last]
        self.titles = D.TITLES[lang]
        self.notes = D.NOTES[lang]
        self.industry = D.INDUSTRY[lang]
        self.industry_a = [D.ascii_slug(x) for x in self.industry]
        self.ap = D.AP_MAILBOX[lang]
        self.relative = D.RELATIVE[lang]
        self.refs = D.PAY_REFS[lang]


class Generator:
    """Yields ``(table, values)`` batches: a table's rows flat (row after row, in COLUMNS
    order), or EXTRA rows as tuples. Ids are global and assigned in order."""

    def __init__(self, cfg: GenConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(f"dunning-demo:{cfg.seed}")
        now = cfg.now
        self.now_iso = to_iso(now)
        self.today = now.date()
        self.t = self.today.toordinal()
        self.o0 = self.t - PAST
        days = [date.fromordinal(self.o0 + i) for i in range(PAST + FUTURE)]
        self.iso = [d.isoformat() for d in days]
        self.ts0 = [f"{d}T00:00:00Z" for d in self.iso]
        self.ts5 = [f"{d}T05:00:00Z" for d in self.iso]
        self.ts6 = [f"{d}T06:00:00Z" for d in self.iso]
        # the day index 1 and 2 business days after each day
        self.bd1 = [self.add_business_days(self.o0 + i, 1) - self.o0 for i in range(len(days))]
        self.bd2 = [self.add_business_days(self.o0 + i, 2) - self.o0 for i in range(len(days))]
        self.hms = [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(86400)]
        self.langs = {k: _Lang(k) for k in D.FIRST}
        self.prefix_a = [D.ascii_slug(x) for x in D.PREFIX_EN]
        self.regions = table(tuple((r, r.weight) for r in D.REGIONS))
        self.region_langs = {r.key: table(r.languages) for r in D.REGIONS}
        ids = cfg.collector_ids
        self.assign = {k: [ids[u] for u in table(v)] for k, v in D.ASSIGN.items()}
        self.scenarios = table(SCENARIOS)
        self.attempts = table(ATTEMPTS)
        self.aging = table(tuple(((lo, hi), w) for w, lo, hi in AGING))
        self.digits = {c: minor_digits(c) for c in D.FX_PER_USD}
        # minor units per US dollar, by currency (the same product account.py made per row)
        self.fx = {c: D.FX_PER_USD[c] * 10 ** self.digits[c] for c in D.FX_PER_USD}
        rng = random.Random(f"dunning-demo-amounts:{cfg.seed}")
        self.logn = sorted(rng.lognormvariate(0, 0.6) for _ in range(4096))
        self.pools: dict[str, tuple[tuple[tuple[str, str], ...], ...]] = {}
        self.n = dict.fromkeys(
            ("contact", "phone", "invoice", "payment", "activity", "promise", "dispute",
             "report", "assignment"), 0)  # fmt: skip

    # ------------------------------------------------------------ helpers
    def ts(self, day: int, sec: int) -> str:
        if sec >= 86400:
            day, sec = day + sec // 86400, sec % 86400
        return self.iso[day - self.o0] + self.hms[sec]

    def add_business_days(self, day: int, n: int) -> int:
        while n:
            day += 1
            if (day - 1) % 7 < 5:  # ordinal 1 (0001-01-01) was a Monday
                n -= 1
        return day

    def call_second(self, region: D.Region) -> int:
        """A second of the day inside the customer's business hours, in UTC."""
        base = 7 * 3600 if region.europe else 13 * 3600
        return base + int(self.rng.random() * 9 * 3600)

    def number(self, region: D.Region, kind: int) -> tuple[str, str]:
        """(e164, type) of a line of ``kind`` (0 fixed, 1 mobile, 2 toll-free)."""
        if self.cfg.phone_pool:
            if not self.pools:
                self.warm_pools()
            pool = self.pools[region.key][kind]
            return pool[int(self.rng.random() * len(pool))]
        prefixes = (region.fixed, region.mobile, D.TOLL_FREE)[kind]
        return D.draw_number(self.rng, prefixes, region.country)

    def warm_pools(self) -> None:
        """Check the numbers of every region up front (big builds draw from these)."""
        self.pools = {
            r.key: tuple(
                D.number_pool(prefixes, r.country, POOL) if prefixes else ()
                for prefixes in (r.fixed, r.mobile, D.TOLL_FREE if r.toll_free else ())
            )
            for r in D.REGIONS
        }

    # ------------------------------------------------------------ batches
    def batches(self) -> Iterator[tuple[str, list]]:
        total = self.cfg.customers
        step = self.cfg.chunk
        self.out: dict[str, list] = {}
        for start in range(1, total + 1, step):
            # The previous chunk's rows stay alive until this one is made: freeing them
            # first would hand their memory back to the OS, and taking it again costs
            # page faults (4.5 us each here), a quarter of the time of decoding a chunk.
            held = self.out  # noqa: F841
            self.out = {t: [] for t in (*COLUMNS, *EXTRA)}
            for cid in range(start, min(start + step, total + 1)):
                make_customer(self, cid)
            del held
            for name, rows in self.out.items():
                if rows:
                    yield name, rows
            yield "", []  # end of chunk
