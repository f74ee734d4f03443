"""One demo customer account: its ledger, contacts, phones, history and queue row.

Called by ``demo_gen.Generator`` once per customer, in id order. Dates are day ordinals
(``g.t`` is today); every random draw comes from ``g.rng`` so the output depends only on
the seed and the clock. The history is built to agree with the rules in queue/: promise
statuses follow from the payments (DOMAIN.md), next actions follow
``outcomes.default_next_action``, a wrong number marks the phone bad.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING

from dunning.demo import data as D
from dunning.demo.addresses import address
from dunning.demo.history import (
    AMOUNT,
    FLAGS,
    ID,
    ISSUE,
    OPEN,
    PAID,
    PAID_DAY,
    STATUS,
    emit_ledger,
    event,
    queue_input,
)

if TYPE_CHECKING:
    from dunning.demo.gen import Generator

# days before today of each scenario's main event: (lowest, highest)
EVENT_DAYS = {
    "callback": (1, 5), "ptp_pending": (1, 12), "ptp_kept": (17, 85),
    "ptp_broken": (8, 60), "ptp_partial": (8, 60), "plan": (1, 10), "paid_claim": (1, 8),
    "dispute": (2, 60), "dispute_all": (2, 10), "refused": (1, 15), "credit_hold": (5, 60),
    "legal": (5, 60), "agency": (5, 60), "cease": (5, 60),
}  # fmt: skip
PROMISES = ("ptp_pending", "ptp_kept", "ptp_broken", "ptp_partial", "plan")
# scenarios whose event is about an invoice that was already past due at the time
TARGETED = (*PROMISES, "paid_claim", "dispute", "dispute_all", "refused")
PLAIN_ATTEMPTS = (0,) * 5 + (1,) * 20 + (2,) * 25 + (3,) * 22 + (4,) * 15 + (5,) * 8 + (6,) * 5
B2B_INVOICES = (2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9, 9, 10)
CONSUMER_INVOICES = (1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6)
B2B_OPEN = (1, 2, 2, 3, 3, 3, 4, 4, 5, 6)


HISTORY_DAYS = 88  # collector activity happens 1..88 days before today


def make_customer(g: Generator, cid: int) -> None:
    """Append one account's rows to ``g.out``, top to bottom."""
    rng = g.rng
    rr = rng.random
    out = g.out
    t = g.t
    o0 = g.o0
    n = g.n

    # ---------------------------------------------------------------- who
    region = g.regions[int(rr() * len(g.regions))]
    lang = g.region_langs[region.key][int(rr() * 100)]
    L = g.langs[lang]
    consumer = rr() < 0.25
    cur = region.currency
    x = rr()
    status = "active"
    if x < 0.024:  # a few accounts on hold or worse
        status = "credit_hold" if x < 0.01 else "legal" if x < 0.015 else "agency"
        if x >= 0.02:
            status = "cease"
    risk = int((rr() + rr()) * 50.5)
    coll = g.assign[lang][int(rr() * 100)]
    scen = g.scenarios[int(rr() * 1000)] if status == "active" else status
    lo_hi = EVENT_DAYS.get(scen)
    ago = lo_hi[0] + int(rr() * (lo_hi[1] - lo_hi[0] + 1)) if lo_hi else 0
    ev = t - ago
    promise = scen in PROMISES
    pay_before = ev if promise else t  # other payments fall before a promise's window

    # ---------------------------------------------------------------- call attempts
    if scen == "fresh":
        k = 0
    elif scen == "plain":
        k = PLAIN_ATTEMPTS[int(rr() * 100)]
    else:
        k = int(rr() * 4)
    span = HISTORY_DAYS - ago
    k = min(k, span)
    picked: set[int] = set()
    while len(picked) < k:  # k distinct days in (ago, HISTORY_DAYS]
        picked.add(ev - 1 - int(rr() * span))
    days = sorted(picked)
    attempts = g.attempts
    outcomes = [attempts[int(rr() * 100)] for _ in days]
    wrong = bool(days) and rr() < 0.06
    if wrong:
        outcomes[0] = "wrong_number"

    # ---------------------------------------------------------------- ledger
    fx = g.fx[cur]
    logn = g.logn
    if consumer:
        terms = (15, 30, 30, 30)[int(rr() * 4)]
        base = 250 * logn[int(rr() * 4096)] * fx
        n_total = CONSUMER_INVOICES[int(rr() * 20)]
        n_open = (1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3)[int(rr() * 20)]
    else:
        terms = (30, 30, 30, 30, 30, 30, 45, 45, 60, 15)[int(rr() * 10)]
        base = 1800 * logn[int(rr() * 4096)] * logn[int(rr() * 4096)] * fx
        n_total = B2B_INVOICES[int(rr() * 20)]
        n_open = B2B_OPEN[int(rr() * 10)]
    n_open = 0 if scen == "settled" else min(n_open, n_total)
    targeted = scen in TARGETED
    aging = g.aging
    inv: list[list] = []
    for j in range(n_open):
        if j == 0 and targeted:
            dpd = ago + 1 + int(rr() * 90)
        else:
            lo, hi = aging[int(rr() * 100)]
            dpd = -int(rr() * terms) if lo is None else lo + int(rr() * (hi - lo + 1))
            if scen == "dispute_all" and dpd <= ago:
                dpd = ago + 1 + int(rr() * 30)
        due = t - dpd
        amount = int(base * logn[int(rr() * 4096)]) + 500
        inv.append([due - terms, due, amount, amount, "open", 0, 0, 0, 0, 0])
    target = inv[0] if inv else None
    for _ in range(n_total - n_open):
        due = t - 140 - int(rr() * 560)
        amount = int(base * logn[int(rr() * 4096)]) + 500
        paid_day = max(due - 12 + int(rr() * 58), due - terms + 1)
        if rr() < 0.92:
            inv.append([due - terms, due, amount, 0, "paid", 0, paid_day, amount, 0, 0])
        else:  # short-paid, the rest closed
            short = int(amount * (0.85 + rr() * 0.14))
            inv.append([due - terms, due, amount, 0, "closed", 0, paid_day, short, 0, 0])
    kept = None
    if scen == "ptp_kept":  # the invoice the kept promise paid
        p_due = ev + 3 + int(rr() * 12)
        p_day = ev + int(rr() * (p_due - ev + 1))
        issue = ev - terms - 5 - int(rr() * 60)
        amount = int(base * logn[int(rr() * 4096)]) + 500
        kept = [issue, issue + terms, amount, 0, "paid", 0, p_day, amount, 0, p_due]
        inv.append(kept)
    # partial payments on open invoices, before any promise window
    last_pay = min(t, pay_before) - 1
    for x in inv:
        if x[STATUS] == "open" and rr() < 0.12 and x[ISSUE] < last_pay:
            if scen == "ptp_partial" and x is target:
                continue
            x[PAID_DAY] = x[ISSUE] + 1 + int(rr() * (last_pay - x[ISSUE]))
            x[PAID] = int(x[AMOUNT] * (0.2 + rr() * 0.6))
            x[OPEN] = x[AMOUNT] - x[PAID]
    inv.sort(key=_BY_ISSUE)
    last_id = n["invoice"]
    for x in inv:
        last_id += 1
        x[ID] = last_id
    n["invoice"] = last_id
    created_day = min(t - 100 - int(rr() * 400), inv[0][ISSUE] - int(rr() * 30))
    cts = g.ts(created_day, 14 * 3600 + int(rr() * 7200))

    # ---------------------------------------------------------------- contacts, phones
    first, last, first_a, last_a = L.first, L.last, L.first_a, L.last_a
    nf, nl = len(first), len(last)
    contacts = out["contacts"]
    if consumer:
        fi, li = int(rr() * nf), int(rr() * nl)
        name = f"{first[fi]} {last[li]}"
        if lang == "es" and rr() < 0.5:
            name = f"{name} {last[int(rr() * nl)]}"
        domain = D.CONSUMER_DOMAINS[int(rr() * 3)]
        n["contact"] += 1
        people = [n["contact"]]
        email = f"{first_a[fi]}.{last_a[li]}{int(rr() * 90) + 10}@{domain}"
        contacts.extend((n["contact"], cid, name, None, lang, email, 1, cts))
        if rr() < 0.12:
            n["contact"] += 1
            people.append(n["contact"])
            other = f"{first[int(rr() * nf)]} {last[li]}"
            contacts.extend((n["contact"], cid, other, L.relative, lang, None, 0, cts))
    else:
        name, slug = _company(g, region, lang)
        people = []
        for j in range((1, 1, 1, 2, 2, 3)[int(rr() * 6)]):
            fi, li = int(rr() * nf), int(rr() * nl)
            n["contact"] += 1
            people.append(n["contact"])
            if j == 0:
                title = L.titles[0] if rr() < 0.6 else L.titles[1 + int(rr() * 3)]
                box = L.ap if rr() < 0.5 else f"{first_a[fi]}.{last_a[li]}"
            else:
                title = L.titles[int(rr() * len(L.titles))]
                box = f"{first_a[fi]}.{last_a[li]}"
            person = f"{first[fi]} {last[li]}"
            email = f"{box}@{slug}.example"
            contacts.extend((n["contact"], cid, person, title, lang, email, int(j == 0), cts))
    # kinds of line: 0 fixed, 1 mobile, 2 toll-free (see Generator.number)
    lines: list[tuple[int | None, int]] = []
    if rr() >= 0.012:  # a few accounts have no number at all
        for j, person in enumerate(people):
            if j == 0 or rr() < 0.5:
                lines.append((person, 1 if consumer else 0))
            if j == 0 and rr() < 0.15:
                lines.append((person, 0 if consumer else 1))
        if not consumer and rr() < 0.25:
            lines.append((None, 2 if region.toll_free and rr() < 0.4 else 0))
    number = g.number
    pools = g.pools.get(region.key) if g.cfg.phone_pool else None
    phone_rows = out["phones"]
    usable: list[int] = []
    for person, kind in lines:
        n["phone"] += 1
        if pools:  # Generator.number's pool path, inline (the same draw)
            pool = pools[kind]
            e164, line_type = pool[int(rr() * len(pool))]
        else:
            e164, line_type = number(region, kind)
        dnc = int(rr() < 0.03)
        phone_rows.extend((n["phone"], cid, person, e164, line_type, dnc, 0, None, None, cts))
        if not dnc:
            usable.append(n["phone"])
    bad_pid = bad_phone = None
    if wrong:  # an old number of the main contact; a collector found it wrong
        n["phone"] += 1
        bad_pid = n["phone"]
        bad_phone = (bad_pid, cid, people[0], *number(region, 1))

    # ---------------------------------------------------------------- history
    h = _History(cts)
    acts = out["activities"]
    notes = L.notes
    iso, hms, bd1, bd2 = g.iso, g.hms, g.bd1, g.bd2
    hours = 25200 if region.europe else 46800  # business hours start, in UTC seconds
    for day, oc in zip(days, outcomes, strict=True):
        sec = hours + int(rr() * 32400)
        d = day - o0
        at = iso[d] + hms[sec]
        if oc == "wrong_number":
            phone = bad_pid
        else:
            phone = usable[int(rr() * len(usable))] if usable else None
        if phone is None:
            oc = "note"
        details = None
        if oc == "no_answer":
            h.na, h.nat = "call", iso[bd1[d]] + hms[sec]
        elif oc == "left_message":
            h.na, h.nat = "call", iso[bd2[d]] + hms[sec]
        elif oc == "busy":
            h.na, h.nat = "call", g.ts(day, sec + 7200)
        elif oc == "callback":
            h.na, h.nat = "callback", g.ts(day + 1 + int(rr() * 2), hours + int(rr() * 32400))
            details = f'{{"callback_at": "{h.nat}"}}'  # json.dumps' text, made directly
        elif oc == "wrong_number":
            h.na, h.nat = "call", at
            assert bad_phone is not None
            phone_rows.extend((*bad_phone, 0, 1, at, coll, cts))
        f = FLAGS[oc]
        n["activity"] += 1
        texts = notes[oc]
        acts.extend(
            (n["activity"], cid, coll, at, oc, f[0], f[1], f[2], f[3], phone,
             texts[int(rr() * len(texts))], h.na, h.nat, details)
        )  # fmt: skip
        if f[0]:
            h.last_attempt = at
        if f[1]:
            h.last_contact, h.contact_day = at, day
    if lo_hi is not None:
        event(g, h, cid, scen, ev, ago, region, lang, cur, coll, inv, target, usable, kept)
    credits = emit_ledger(g, cid, cur, inv, base, created_day, pay_before)
    credit_limit = None if consumer else max(100_000, int(base * 8) // 100_000 * 100_000)
    portfolio = "consumer" if consumer else "b2b"
    ref = "C%07d" % cid  # noqa: UP031 (printf-style: half the CPU of an f-string's {:07d})
    out["customers"].extend(
        (cid, ref, name, region.country, region.subdivision, lang, cur, portfolio,
         status, risk, credit_limit, cts, cts, *address(region.key, cid))
    )  # fmt: skip
    n["assignment"] += 1
    out["assignments"].extend((n["assignment"], cid, coll, cts, None, "demo"))
    queue_input(g, h, cid, coll, status, cur, risk, inv, credits, len(usable))


class _History:
    """The queue fields that the account's history moves, as it is written."""

    __slots__ = ("na", "nat", "last_attempt", "last_contact", "contact_day", "broken")

    def __init__(self, created: str) -> None:
        self.na, self.nat = "call", created
        self.last_attempt: str | None = None
        self.last_contact: str | None = None
        self.contact_day = 0
        self.broken = 0

    def saw(self, flags: tuple[int, int, int, int], at: str, day: int) -> None:
        if flags[0]:
            self.last_attempt = at
        if flags[1]:
            self.last_contact, self.contact_day = at, day


_BY_ISSUE = itemgetter(ISSUE)  # a C key function: the same order as a lambda, faster


def _company(g: Generator, region: D.Region, lang: str) -> tuple[str, str]:
    """A plausible company name for the region and language, and a slug for e-mail."""
    rr = g.rng.random
    L = g.langs[lang]
    li, ii = int(rr() * len(L.last)), int(rr() * len(L.industry))
    last, ind = L.last[li], L.industry[ii]
    slug = f"{L.last_a[li]}-{L.industry_a[ii]}"
    c = region.country
    p = int(rr() * 4)
    if lang == "en":
        sufs = D.SUFFIX[c if c in ("US", "GB") else "CA-en"]
        suf = sufs[int(rr() * len(sufs))]
        if p in (1, 3):
            pi = int(rr() * len(D.PREFIX_EN))
            slug = f"{g.prefix_a[pi]}-{L.industry_a[ii]}"
            return f"{D.PREFIX_EN[pi]} {ind} {suf}", slug
        if p == 2:
            other = L.last[int(rr() * len(L.last))]
            return (f"{last} & Sons Ltd" if c == "GB" else f"{last} & {other} {suf}"), slug
        return f"{last} {ind} {suf}", slug
    if lang == "fr":
        sufs = D.SUFFIX["FR" if c == "FR" else "CA-fr"]
        suf = sufs[int(rr() * len(sufs))]
        if c == "FR":
            pattern = ("{i} {l} {s}", "{l} et Fils {s}", "Groupe {l} {s}", "{i} {l} et Associés")
        else:
            pattern = ("{l} {i} {s}", "{i} {l} {s}", "Les Entreprises {l} {s}", "Groupe {l} {s}")
        return pattern[p].format(i=ind, l=last, s=suf), slug
    sufs = D.SUFFIX[c if c in ("MX", "ES") else "US"]
    suf = sufs[int(rr() * len(sufs))]
    if p == 1:
        return f"{ind} {D.PLACE_ES[int(rr() * len(D.PLACE_ES))]} {suf}", slug
    if p == 2:
        return f"Grupo {last} {suf}", slug
    if p == 3 and c == "ES":
        return f"{last} e Hijos {suf}", slug
    return f"{ind} {last} {suf}", slug
