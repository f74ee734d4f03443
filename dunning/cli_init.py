"""``dunning init``: create (or adopt) a database, record its service account and admins.

The service account is the OS user the forced-command SSH set-up runs as
(``command="dunning --as NAME"`` per key): ``--as`` is honoured for it. It is recorded in
the database once; only the database file's owner or root may change it later (audited).
"""

from __future__ import annotations

import argparse
import pwd

from dunning.cli_base import EXIT_USAGE, CliError, Context
from dunning.db.connection import open_db
from dunning.i18n import _
from dunning.queue.audit import set_meta
from dunning.queue.collectors import add_collector, get_collector
from dunning.queue.identity import (
    SERVICE_ACCOUNT_KEY,
    audited,
    owns_database,
    refuse,
    service_account,
)


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "init",
        help="create or adopt a database; record its service account and admins",
        description="Create the database (or bring an existing one up to date), record "
        "the OS account of the forced-command SSH set-up (--as is honoured for it) and add "
        "admins. Run it as the OS user who is to own the file. The service account is "
        "recorded once: only the file's owner or root may change it later.",
    )
    p.add_argument(
        "--service-account",
        metavar="NAME",
        help="the OS user whose SSH keys run `dunning --as NAME` (e.g. dunning)",
    )
    p.add_argument(
        "--admin",
        dest="admins",
        metavar="NAME",
        action="append",
        default=[],
        help="add this collector as an admin (repeatable)",
    )
    p.set_defaults(handler=cmd_init)


def _check_os_user(name: str) -> str:
    name = name.strip()
    try:
        pwd.getpwnam(name)
    except KeyError:
        raise CliError(
            _("--service-account {name!r}: no OS user of that name on this host").format(name=name),
            EXIT_USAGE,
        ) from None
    return name


def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    path = ctx.db_path
    if path.exists() and not path.is_file():
        raise CliError(_("{path} is not a regular file").format(path=path))
    created = not path.exists() or path.stat().st_size == 0
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = open_db(path)
        ctx._conns.append(conn)  # noqa: SLF001 - closed with the context
    else:
        conn = ctx.open(path)  # a dunning database, migrated; another program's is refused
    wanted = _check_os_user(args.service_account) if args.service_account else None
    detail = {"created": created, "service_account": wanted, "admins": list(args.admins)}
    actor = ctx.authorize(conn, "init", target=str(path), detail=detail)
    current = service_account(conn)
    changing = wanted is not None and current is not None and wanted != current
    if changing and not owns_database(conn, actor.uid):
        message = _(
            "the service account is {current!r}; only the database file's owner or root "
            "may change it"
        ).format(current=current)
        refuse(conn, ctx.clock, action="init", message=message,
               collector_id=actor.collector_id, target=str(path), detail=detail)  # fmt: skip
        raise CliError(message)
    added: list[str] = []
    with audited(conn, ctx.clock, actor, "init", target=str(path), detail=detail) as info:
        if wanted is not None and wanted != current:
            set_meta(conn, ctx.clock, SERVICE_ACCOUNT_KEY, wanted)
            info["service_account_was"] = current
        for name in args.admins:
            name = name.strip()
            if get_collector(conn, name) is None:
                add_collector(conn, ctx.clock, username=name, display_name=name, role="admin")
                added.append(name)
        info["admins_added"] = added
    print((_("created {path}") if created else _("{path} is up to date")).format(path=path))
    shown = service_account(conn)
    print(
        _("service account: {name}").format(name=shown)
        if shown
        else _("service account: none (--as only for the file's owner and root)")
    )
    for name in args.admins:
        print(
            (
                _("added admin {name}") if name.strip() in added else _("{name} already exists")
            ).format(name=name.strip())
        )
    return 0
