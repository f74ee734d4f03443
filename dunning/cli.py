"""The ``dunning`` command: argument parsing and subcommands. Thin: it calls the layers.

``dunning`` alone opens the app; subcommands script the same functions the screen uses
(claim, log, history...). Textual is imported only when the app opens, so scripted
subcommands start fast.

Subcommand handlers are set with ``parser.set_defaults(handler=fn)`` and called as
``fn(args, ctx) -> int`` (:class:`Context` gives the database, settings, identity and
clock). Modules that register their own subcommands (``dunning.ledger_cli``) may instead
set ``func=fn`` called as ``fn(args) -> int | None``; ``args.db_path`` then holds the
resolved database path and ``args.clock`` the clock. The global options (--db, --config,
--as) are accepted both before and after the subcommand name.

Every expected error ends as ``dunning: <message>`` on stderr and a non-zero exit code
(see EXIT_CODES), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from dunning import __version__, startup
from dunning.bounds import QUOTE_CHARS, clip
from dunning.cli_base import (
    EXIT_CODES,
    EXIT_ERROR,
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    Context,
    StderrWait,
)
from dunning.clock import Clock, SystemClock
from dunning.db import private
from dunning.db.connection import DatabaseError
from dunning.db.lockwait import lock_wait_seconds, set_reporter
from dunning.i18n import _, set_language
from dunning.queue.claim import ClaimError
from dunning.queue.collectors import IdentityError
from dunning.queue.rights import RightsError
from dunning.queue.status_rules import StatusRefused
from dunning.textsafe import guarded_output

__all__ = ["EXIT_ERROR", "EXIT_NOTHING", "EXIT_OK", "EXIT_USAGE", "CliError", "Context", "main"]


def _add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--db/--config/--as: on the top parser with defaults, on subcommands suppressed so
    that an option given before the subcommand is not reset after it."""
    default: Any = None if top else argparse.SUPPRESS
    taken = parser._option_string_actions  # noqa: SLF001 - stable argparse internals
    if "--db" not in taken:
        parser.add_argument(
            "--db",
            metavar="PATH",
            default=default,
            help="database file (default: $DUNNING_DB, else the per-user data directory)",
        )
    if "--config" not in taken:
        parser.add_argument(
            "--config",
            metavar="PATH",
            default=default,
            help="settings file (default: $DUNNING_CONFIG, else ~/.config/dunning/config.toml)",
        )
    if "--as" not in taken:
        parser.add_argument(
            "--as",
            dest="as_name",
            metavar="NAME",
            default=default,
            help="work as this collector (honoured only for root, the database file's "
            "owner, or the service account recorded by `dunning init`)",
        )


def _adopt_common(parser: argparse.ArgumentParser) -> None:
    """Give every subcommand parser, however deep, the global options."""
    for action in parser._actions:  # noqa: SLF001
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for sub in action.choices.values():
                _add_common(sub, top=False)
                _adopt_common(sub)


def _register_ledger(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    """Import/report commands live in dunning.ledger_cli when it exists."""
    if importlib.util.find_spec("dunning.ledger_cli") is None:
        return
    try:
        ledger_cli = importlib.import_module("dunning.ledger_cli")
        ledger_cli.register(sub)
    except Exception as exc:  # noqa: BLE001 - the other commands must keep working
        _say(f"ledger commands unavailable: {type(exc).__name__}: {exc}")


class Parser(argparse.ArgumentParser):
    """Usage errors as one line, like every other error (subcommands inherit the class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"dunning: {message} (see `{self.prog} --help`)\n")


def _top_parser() -> argparse.ArgumentParser:
    from dunning import cli_open

    parser = Parser(
        prog="dunning",
        description="A keyboard-driven call queue for collections teams. Without a "
        "command, opens the app on the next account to call.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(parser, top=True)
    parser.add_argument("--version", action="version", version=f"dunning {__version__}")
    parser.set_defaults(handler=cli_open.cmd_open)
    return parser


def build_parser() -> argparse.ArgumentParser:
    from dunning import (
        cli_admin,
        cli_board,
        cli_email,
        cli_init,
        cli_letters,
        cli_rebalance,
        cli_review,
        cli_statement,
        cli_templates,
        cli_work,
    )

    parser = _top_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli_admin.register_demo(sub)
    cli_work.register(sub)
    cli_admin.register(sub)
    cli_init.register(sub)
    cli_review.register(sub)
    cli_rebalance.register(sub)
    cli_board.register(sub)
    cli_templates.register(sub)
    cli_letters.register(sub)
    cli_email.register(sub)
    cli_statement.register(sub)
    _register_ledger(sub)
    _adopt_common(parser)
    return parser


def _say(message: str) -> None:
    """One line on stderr; a message quoting a huge value is cut (bounds.clip)."""
    with contextlib.suppress(BrokenPipeError, OSError):
        print(f"dunning: {clip(message, 4 * QUOTE_CHARS)}", file=sys.stderr)


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return EXIT_OK
    if isinstance(exc.code, int):
        return exc.code
    _say(str(exc.code))
    return EXIT_ERROR


def _dispatch(args: argparse.Namespace, ctx: Context) -> int:
    handler: Callable[[argparse.Namespace, Context], int] | None = getattr(args, "handler", None)
    func: Callable[[argparse.Namespace], int | None] | None = getattr(args, "func", None)
    private.use_group(ctx.settings().file_group)  # files created from here on
    try:
        lock_wait_seconds()  # a bad value said now, not first when a write must wait
    except DatabaseError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if func is not None and getattr(args, "command", None) is not None:
        args.db_path = ctx.db_path
        args.clock = ctx.clock
        result = func(args)
        return EXIT_OK if result is None else int(result)
    if handler is None:
        raise CliError("no command given; see dunning --help", EXIT_USAGE)
    return handler(args, ctx)


# options whose value may start with '-': a date or time before now ('-1d', '-2h')
_DASHED_VALUE = re.compile(r"-\d+[a-z]*")


def _glue_dashed_values(argv: list[str]) -> list[str]:
    """`--date -1d` -> `--date=-1d`: argparse would take '-1d' for an unknown option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if (
            tok.startswith("--")
            and "=" not in tok
            and i + 1 < len(argv)
            and _DASHED_VALUE.fullmatch(argv[i + 1])
        ):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Entry point of ``dunning`` and ``python -m dunning``; returns the exit code.

    ``clock``: for tests and benchmarks that travel in time (default: the system clock).

    Everything printed, on standard output and error, goes through
    :class:`dunning.textsafe.SafeStream`: a control character from the data (a note, a
    customer name) is shown, never sent to the terminal (`--json` is exact and safe too).
    """
    try:
        with guarded_output():
            return _main(argv, clock)
    finally:
        startup.resume_collections()


_GLOBAL_OPTIONS = frozenset({"--db", "--config", "--as"})


def _opens_app(argv: list[str]) -> bool:
    """True when ``argv`` holds nothing but the global options, each with its value
    (``--db PATH``, ``--as=NAME``...): ``dunning`` opens the app, and the parsers of every
    subcommand (and the modules that define them: ~0.1 s of a start) are not needed. Any
    other word (a command, --help, an abbreviation, a value missing or looking like an
    option) goes to the whole parser, which answers exactly as before."""
    i = 0
    while i < len(argv):
        name, eq, _value = argv[i].partition("=")
        if name not in _GLOBAL_OPTIONS:
            return False
        if eq:
            i += 1
            continue
        if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
            return False
        i += 2
    return True


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line, parsed as :func:`build_parser` parses it. Opening the app defers
    garbage collections until its first account is drawn (dunning/startup.py); any other
    command runs with the usual thresholds."""
    argv = _glue_dashed_values(argv)
    if _opens_app(argv):
        startup.defer_collections()
        top = _top_parser()
        top.set_defaults(command=None)  # as the subparsers' dest would
        return top.parse_args(argv)
    startup.resume_collections()
    return build_parser().parse_args(argv)


def _main(argv: Sequence[str] | None, clock: Clock | None) -> int:
    try:
        args = parse_args(list(argv) if argv is not None else sys.argv[1:])
    except SystemExit as exc:  # --help, --version, usage errors (already printed)
        return _exit_code(exc)
    ctx = Context(args, clock or SystemClock())
    set_reporter(StderrWait())
    try:
        return _dispatch(args, ctx)
    except _loaded(("dunning.queue.bulk", "Interrupted")) as exc:  # a bulk change stopped
        _say(str(exc))  # part-way: what moved, how to finish
        return 130
    except CliError as exc:
        _say(str(exc))
        return exc.code
    except (
        IdentityError,
        RightsError,
        ClaimError,
        *_loaded(("dunning.queue.assign", "AssignError"), ("dunning.queue.void", "VoidRefused")),
        DatabaseError,
        StatusRefused,
    ) as exc:
        _say(str(exc))
        return EXIT_ERROR
    except ValueError as exc:  # OutcomeError, amounts, dates, config values
        _say(clip(exc, 2 * QUOTE_CHARS))
        return EXIT_USAGE
    except OverflowError as exc:  # a number past what SQLite or a date holds (2**63)
        _say(_("a number is too large ({error})").format(error=clip(exc, 80)))
        return EXIT_USAGE
    except MemoryError:
        _say(_("out of memory: nothing was changed"))
        return EXIT_ERROR
    except sqlite3.Error as exc:
        _say(f"database error ({ctx.db_path}): {exc}")
        return EXIT_ERROR
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_ERROR
    except OSError as exc:
        _say(str(exc))
        return EXIT_ERROR
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except SystemExit as exc:
        return _exit_code(exc)
    finally:
        ctx.close()
        set_reporter(None)
        set_language("en")  # main() may run again in this process (tests, benchmarks)


def _loaded(*names: tuple[str, str]) -> tuple[type[BaseException], ...]:
    """The exception classes named (module, class) whose module is imported: a class whose
    module was never imported cannot have been raised. So opening the app does not import
    the modules of the commands it does not run (assign, void, bulk) for their errors."""
    found = []
    for module, name in names:
        mod = sys.modules.get(module)
        if mod is not None:
            found.append(getattr(mod, name))
    return tuple(found)


def _quiet_stdout() -> None:
    """After a closed pipe (`dunning history X | head`), don't fail again on exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
