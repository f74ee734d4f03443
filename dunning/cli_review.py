"""The lead's queues on the command line: ``dunning review`` and ``dunning disputes``.

Thin: the rules (rights, what may be decided, one transaction each) are in
dunning/queue/review.py and dunning/queue/disputes.py, which the screens call too.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime

from dunning.cli_base import EXIT_ERROR, EXIT_USAGE, CliError, Context
from dunning.cli_parse import find_customer, parse_account_when
from dunning.clock import from_iso
from dunning.i18n import _
from dunning.money import format_money
from dunning.queue import disputes, disputes_list, review, review_list
from dunning.queue.approvals import ApprovalRefused
from dunning.queue.calendar import account_zones
from dunning.queue.collectors import Collector, get_collector
from dunning.queue.config import ANY_CURRENCY
from dunning.queue.lead_scope import ScopeError
from dunning.textsafe import json_text


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "review",
        help="the lead's review queue: list and decide (leads)",
        description="Accounts a collector refused or escalated to lead review wait in the "
        "review queue until a lead or admin decides: back to a collector's queue (with a "
        "next action), legal, agency, write-off approved or declined; and what the approval "
        "policy ([approvals], `dunning config show`) sent there: a payment plan, a "
        "settlement, a write-off or a credit-hold release, approved (the terms take effect) "
        "or declined (back to the collector). Each decision is recorded with who, when and "
        "why.",
    )
    rsub = p.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    lp = rsub.add_parser("list", help="the accounts in review, oldest first")
    _list_options(lp)
    lp.set_defaults(handler=cmd_review_list)
    dp = rsub.add_parser("decide", help="decide on one account in review")
    dp.add_argument("account", metavar="REF", help="customer reference or id")
    dp.add_argument(
        "--to",
        dest="decision",
        required=True,
        metavar="DECISION",
        help="back | collector:NAME | legal | agency | writeoff-approve | writeoff-decline | "
        "plan-approve | plan-decline | settlement-approve | settlement-decline | "
        "hold-release-approve | hold-release-decline",
    )
    dp.add_argument("--reason", required=True, help="why (kept with the decision)")
    dp.add_argument(
        "--next",
        dest="next_at",
        metavar="WHEN",
        help="back to a queue: when to call, in the CUSTOMER's time (default: now)",
    )
    dp.add_argument("--json", action="store_true")
    dp.set_defaults(handler=cmd_review_decide)

    p = sub.add_parser(
        "disputes",
        help="open disputes: list and resolve (leads)",
        description="Open disputes by department and age in business days of the "
        "customer's calendar; past the service level ([disputes] service_days, 10) they "
        "are overdue. Resolved valid: the invoices stay out of collection until the ERP "
        "brings the credit. Invalid: back into collection, next action set.",
    )
    dsub = p.add_subparsers(dest="disputes_command", metavar="ACTION", required=True)
    lp = dsub.add_parser("list", help="open disputes, oldest first")
    lp.add_argument("--department", metavar="D", help="sales, customer_service, billing, legal")
    lp.add_argument("--overdue", action="store_true", help="only those past the service level")
    _list_options(lp)
    lp.set_defaults(handler=cmd_disputes_list)
    rp = dsub.add_parser("resolve", help="resolve one open dispute")
    rp.add_argument("dispute", metavar="ID|REF", help="dispute id, or a customer with one open")
    how = rp.add_mutually_exclusive_group(required=True)
    how.add_argument("--valid", action="store_true", help="valid: a credit note is expected")
    how.add_argument("--invalid", action="store_true", help="invalid: back into collection")
    rp.add_argument("--reason", required=True, help="why (kept with the decision)")
    rp.add_argument(
        "--next",
        dest="next_at",
        metavar="WHEN",
        help="--invalid: when to call, in the CUSTOMER's time (default: now)",
    )
    rp.add_argument("--json", action="store_true")
    rp.set_defaults(handler=cmd_disputes_resolve)

    p = sub.add_parser(
        "config",
        help="the settings in force (the approval policy among them)",
        description="Every setting in force, from the config file (--config, $DUNNING_CONFIG, "
        "~/.config/dunning/config.toml) or its default: [approvals] says which payment "
        "plans, settlements, write-offs and credit-hold releases wait for a lead.",
    )
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    sp = csub.add_parser("show", help="print the settings in force, as TOML")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(handler=cmd_config_show)


def _list_options(lp: argparse.ArgumentParser) -> None:
    lp.add_argument("--team", metavar="TEAM", help="one team's accounts (an admin; a lead "
                    "with a team sees their own)")  # fmt: skip
    lp.add_argument("--limit", type=_positive, metavar="N", help="at most N rows (the oldest)")
    how = lp.add_mutually_exclusive_group()
    how.add_argument("--json", action="store_true", help="one JSON array, written as it is read")
    how.add_argument("--jsonl", action="store_true", help="one JSON object a line")


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 10**9:
        raise argparse.ArgumentTypeError(
            _("{value!r} is not a whole number from 1 to 1,000,000,000").format(value=text[:40])
        )
    return n


class _Stream:
    """Rows written a page at a time: a JSON array (as ``json.dumps(rows, indent=2)``
    would write it, before the rows are all read), JSON lines, or text."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json, self.jsonl = bool(args.json), bool(args.jsonl)
        self.n = 0

    def row(self, data: dict[str, object]) -> None:
        if self.jsonl:
            print(json_text(data, default=str), flush=False)
        elif self.json:
            body = "\n".join("  " + line for line in json_text(data, indent=2, default=str)
                             .splitlines())  # fmt: skip
            print(("[\n" if self.n == 0 else ",\n") + body, end="")
        self.n += 1

    def end(self) -> None:
        if self.json:
            print("\n]" if self.n else "[]")


def _lead(ctx: Context, conn: object, action: str, target: str) -> Collector:
    actor = ctx.authorize(conn, action, target=target)  # type: ignore[arg-type]
    if actor.collector is None:
        raise CliError(
            _("the OS user {who!r} is not a collector: decide with --as NAME (a lead)").format(
                who=actor.os_name
            )
        )
    return actor.collector


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except (review.ReviewRefused, disputes.DisputeRefused, ApprovalRefused, ScopeError) as exc:
        raise CliError(str(exc), EXIT_ERROR) from None
    except (review.ReviewError, disputes.DisputeError) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def _local(iso: str) -> str:
    return from_iso(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def _emit(data: object) -> None:
    print(json_text(data, indent=2, default=str))


def cmd_review_list(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    lead = _lead(ctx, conn, "review", "list")
    out, left = _Stream(args), args.limit
    with _refusals():
        page = review_list.review_page(
            conn,
            ctx.clock,
            lead,
            team=args.team,
            size=min(review_list.PAGE, left or review_list.PAGE),
        )
    while True:  # a page at a time: the first rows are out before the rest is read
        for i in page.rows[:left]:
            if args.json or args.jsonl:
                out.row(i.as_json())
                continue
            out.n += 1
            owed = format_money(i.owed_minor, i.currency, lead.locale)
            note = i.note.replace("\n", " ")
            print(
                f"{_local(i.since)}  {i.ref:<10} {i.collector or '-':<10} "
                f"{i.came_for_text:<26} {owed:>14}  {i.name}" + (f"  | {note}" if note else "")
            )
            if i.terms:  # what a collector proposed (queue/approvals.py)
                print(f"    {i.terms}")
        if left is not None:
            left -= min(left, len(page.rows))
        if not page.more_after or left == 0:
            break
        page = review_list.review_page(
            conn,
            ctx.clock,
            lead,
            after=page.last,
            team=args.team,
            size=min(review_list.PAGE, left or review_list.PAGE),
        )
    out.end()
    if args.json or args.jsonl:
        return 0
    total = review_list.review_count(conn, ctx.clock, lead, team=args.team)
    if not total:
        print(_("no account is waiting for review"))
        return 0
    if out.n < total:
        print(_("the oldest {shown} of {n} account(s) in review").format(shown=out.n, n=total))
    else:
        print(_("{n} account(s) in review").format(n=total))
    return 0


def _next(
    ctx: Context, conn: object, customer: object, text: str | None, me: Collector
) -> datetime | None:
    if text is None:
        return None
    c = customer
    zones = account_zones(conn, c["id"], c["country"], c["subdivision"])  # type: ignore[arg-type,index]
    return parse_account_when("--next", text, ctx, zones, me.zone)


def cmd_review_decide(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    with _refusals():
        decision, name = review.parse_decision(args.decision)
    customer = find_customer(conn, args.account)
    lead = _lead(ctx, conn, "review", customer["external_ref"])
    to = None
    if name is not None:
        to = get_collector(conn, name)
        if to is None:
            raise CliError(
                _("unknown collector {name!r} (see `dunning collectors list`)").format(name=name),
                EXIT_USAGE,
            )
    next_at = _next(ctx, conn, customer, args.next_at, lead)
    with _refusals():
        done = review.decide(conn, ctx.clock, ctx.settings(), lead, int(customer["id"]),
                             decision, args.reason, to=to, next_at=next_at)  # fmt: skip
    if args.json:
        _emit(
            {"ref": done.ref, "decision": done.decision, "to": done.to,
             "status": done.status_after, "next_action_at": done.next_action_at}
        )  # fmt: skip
    else:
        print(done.text())
    return 0


def cmd_disputes_list(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    with _refusals():
        disputes.check_department(args.department)
    lead = _lead(ctx, conn, "disputes", "list")
    settings = ctx.settings()
    with _refusals():
        lst = disputes_list.listing(conn, ctx.clock, lead, department=args.department,
                                    overdue_only=args.overdue, team=args.team)  # fmt: skip
    out, left = _Stream(args), args.limit
    days = settings.disputes.service_days
    size = disputes_list.PAGE
    page = disputes_list.disputes_page(conn, ctx.clock, settings, lst, size=min(size, left or size))
    while True:  # a page at a time: the first rows are out before the rest is read
        for i in page.rows[:left]:
            if args.json or args.jsonl:
                out.row(i.as_json())
                continue
            out.n += 1
            mark = _("OVERDUE") if i.overdue else ""
            amount = format_money(i.amount_minor, i.currency, lead.locale)
            print(
                f"{i.id:>6}  {i.ref:<10} {_(disputes.DEPARTMENT_NAMES[i.department]):<17} "
                f"{i.age_days:>3}/{days} {mark:<8} {amount:>14}  {i.reason:<13} "
                f"{','.join(i.invoices)}  {i.name}"
            )
        if left is not None:
            left -= min(left, len(page.rows))
        if not page.more_after or left == 0:
            break
        page = disputes_list.disputes_page(conn, ctx.clock, settings, lst, after=page.last,
                                           size=min(size, left or size))  # fmt: skip
    out.end()
    if args.json or args.jsonl:
        return 0
    n, overdue = disputes_list.disputes_count(conn, ctx.clock, settings, lst)
    if args.overdue:
        n = overdue
    if not n:
        print(_("no open dispute"))
        return 0
    if out.n < n:
        print(_("the oldest {shown} of {n} open dispute(s), {overdue} overdue").format(
            shown=out.n, n=n, overdue=overdue))  # fmt: skip
    else:
        print(_("{n} open dispute(s), {overdue} overdue").format(n=n, overdue=overdue))
    return 0


def cmd_disputes_resolve(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    with _refusals():
        dispute_id = disputes.find_dispute(conn, args.dispute)
    row = conn.execute(
        """SELECT c.* FROM disputes d JOIN customers c ON c.id = d.customer_id
           WHERE d.id = ?""",
        (dispute_id,),
    ).fetchone()
    lead = _lead(ctx, conn, "disputes", row["external_ref"])
    next_at = _next(ctx, conn, row, args.next_at, lead)
    with _refusals():
        done = disputes.resolve_dispute(
            conn, ctx.clock, ctx.settings(), lead, dispute_id, valid=args.valid,
            reason=args.reason, next_at=next_at,
        )  # fmt: skip
    if args.json:
        _emit(
            {"dispute": done.dispute_id, "ref": done.ref, "valid": done.valid,
             "invoices_back": done.invoices_back, "next_action_at": done.next_action_at}
        )  # fmt: skip
    else:
        print(done.text())
    return 0


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json_text(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def _key(k: str) -> str:
    return k if k.isidentifier() else json_text(k)


def _print_table(name: str, table: dict[str, object]) -> None:
    """One TOML table, its plain keys first, then its sub-tables (``[a.b.c]``). The
    write-off limits of every other currency (``*``) are role keys of the table itself."""
    plain = {k: v for k, v in table.items() if not isinstance(v, dict)}
    any_currency = table.get(ANY_CURRENCY) if name.endswith("writeoff_limit") else None
    if isinstance(any_currency, dict):
        plain.update(any_currency)
    print(f"\n[{name}]")
    for k, v in plain.items():
        print(f"{_key(k)} = {_toml(v)}")
    for k, v in table.items():
        if isinstance(v, dict) and v is not any_currency:
            _print_table(f"{name}.{_key(k)}", v)


def cmd_config_show(args: argparse.Namespace, ctx: Context) -> int:
    """The settings in force as TOML a config file would take (tables last)."""
    data = asdict(ctx.settings())
    data["approvals"].pop("source", None)  # where it was read from, not a setting
    if args.json:
        _emit(data)
        return 0
    for key, value in data.items():
        if not isinstance(value, dict):
            print(f"{key} = {_toml(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            _print_table(key, value)
    if ctx.settings().approvals.writeoff_limit:
        print(
            "\n# "
            + _(
                "writeoff_limit: whole units of each currency ([approvals.writeoff_limit.USD]; "
                "the keys directly under [approvals.writeoff_limit]: every other currency); "
                "-1 no limit, 0 never alone"
            )
        )
    return 0
