"""What an account owes: one definition for the screen, the CLI, the promise dialog and the
aging reports. A leaf module (no import from db/, queue/ or tui/).

For one account, in one currency, on a date (days past due = date - due date):

- ``current``: open, positive, undisputed invoices not yet due (days <= 0);
- the overdue buckets ``1-30`` .. ``120+``: open, positive, undisputed invoices past due;
  ``overdue`` is their sum;
- ``credits`` (<= 0): open credit notes, whatever their due date, and unapplied cash.
  Never in an aging bucket: they reduce what is owed, they are not late;
- ``disputed``: the open amount of disputed invoices (they leave collection, DOMAIN.md);
- ``net`` = current + overdue + credits: what the customer owes, disputes aside (the
  screen's "Owed"); it can be negative (the customer is in credit);
- ``due_now`` = max(overdue + credits, 0): what is past due once credits are taken off,
  what a promise to pay proposes by default;
- ``total`` = net + disputed: the open ledger (the aging report's ``total``, which sums to
  the ledger to the cent).

The buckets are summed in SQL (``dunning.db.reports_parallel.BUCKET_SUMS``) for the reports
and for one account alike; this module names the figures and derives the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from dunning.aging import BUCKETS

# the names of the figures, as the CLI's JSON (``*_minor``) and the aging report use them
FIELDS: tuple[str, ...] = (*BUCKETS, "credits", "net", "disputed", "total")


@dataclass(frozen=True, slots=True)
class Owed:
    currency: str
    buckets: tuple[int, ...] = (0,) * len(BUCKETS)  # BUCKETS order, undisputed, > 0
    credits: int = 0  # credit notes + unapplied cash, <= 0
    disputed: int = 0

    @property
    def current(self) -> int:
        return self.buckets[0]

    @property
    def overdue(self) -> int:
        return sum(self.buckets[1:])

    @property
    def net(self) -> int:
        return sum(self.buckets) + self.credits

    @property
    def due_now(self) -> int:
        return max(self.overdue + self.credits, 0)

    @property
    def total(self) -> int:
        return self.net + self.disputed

    def by_bucket(self) -> dict[str, int]:
        return dict(zip(BUCKETS, self.buckets, strict=True))

    def figures(self) -> dict[str, int]:
        """Every figure by its name (FIELDS, then ``overdue`` and ``due_now``)."""
        return self.by_bucket() | {
            "credits": self.credits,
            "net": self.net,
            "disputed": self.disputed,
            "total": self.total,
            "overdue": self.overdue,
            "due_now": self.due_now,
        }

    def as_json(self) -> dict[str, object]:
        """``{"currency": ..., "current_minor": ..., "1-30_minor": ..., ...}``: the aging
        report's JSON names, plus ``overdue_minor`` and ``due_now_minor``."""
        out: dict[str, object] = {"currency": self.currency}
        out |= {f"{k}_minor": v for k, v in self.figures().items()}
        return out
