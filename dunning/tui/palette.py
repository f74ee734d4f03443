"""Every action of the work screen is a command of the palette (ctrl+p): issue 9, item 10.

The commands are the work screen's own bindings (tui/screens/work_keys.py), by binding
id: choosing one runs the same action as its key, through the same ``check_action``, so a
collector is never offered a lead's command (``reassign``) and an outcome is not offered
on an account whose status forbids calls. Each name is translated and carries the words
a user types for it ("voicemail" finds the left message); the key bound now (after the
user's keymap) is shown beside it.

Imported when the palette first opens (DunningApp.COMMANDS holds a function that imports
this module), never before the first account is drawn.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from dunning.i18n import N_, _

# (binding id, action as bound, name, other words that find it)
COMMANDS: list[tuple[str, str, str, str]] = [
    ("outcome.promise_to_pay", "outcome('promise_to_pay')", N_("Promise to pay"), N_("promise")),
    ("outcome.left_message", "outcome('left_message')", N_("Left message"), N_("voicemail")),
    ("outcome.no_answer", "outcome('no_answer')", N_("No answer"), ""),
    ("outcome.busy", "outcome('busy')", N_("Busy"), N_("line busy")),
    ("outcome.wrong_number", "outcome('wrong_number')", N_("Wrong number"), ""),
    ("outcome.dispute", "outcome('dispute')", N_("Dispute"), ""),
    ("outcome.refused", "outcome('refused')", N_("Refused"), ""),
    ("outcome.callback", "outcome('callback')", N_("Callback"), N_("call back")),
    ("outcome.paid", "outcome('paid')", N_("Says paid"), N_("paid")),
    ("outcome.escalated", "outcome('escalated')", N_("Escalate"),
     N_("legal agency hold settlement write-off")),  # fmt: skip
    ("outcome.skip", "outcome('skip')", N_("Skip"), ""),
    ("outcome.payment_plan", "outcome('payment_plan')", N_("Payment plan"), N_("instalments")),
    ("reschedule.left_message", "reschedule('left_message')",
     N_("Left message, then when"), N_("voicemail")),
    ("reschedule.no_answer", "reschedule('no_answer')", N_("No answer, then when"), ""),
    ("reschedule.busy", "reschedule('busy')", N_("Busy, then when"), ""),
    ("note.edit", "edit_note", N_("Write the note"), N_("note")),
    ("note.save", "outcome('note')", N_("Save the note alone"), N_("note")),
    ("search", "search", N_("Search"), N_("find customer")),
    ("lead.reassign", "reassign", N_("Reassign"), N_("give to another collector")),
    ("lead.rebalance", "rebalance", N_("Rebalance"), N_("spread sick day team")),
    ("lead.board", "board", N_("Team board"), N_("board team collectors")),
    ("lead.accounts", "accounts", N_("Accounts"), N_("list filter bulk reassign")),
    ("aging", "aging", N_("Aging"), N_("report")),
    ("compose", "compose", N_("Compose a letter"), N_("compose e-mail letter reminder statement")),
    ("contacts.opt_out", "opt_out", N_("No more e-mail (opt-out)"),
     N_("stop e-mail opt out unsubscribe Regulation F")),
    ("contacts.opt_in", "opt_in", N_("E-mail again (opt-in)"), N_("opt in resume e-mail")),
    ("history", "history", N_("History"), ""),
    ("undo", "undo", N_("Undo"), ""),
    ("reload", "reload", N_("Reload"), ""),
    ("help", "help", N_("Help"), N_("keys")),
    ("quit", "quit", N_("Quit"), ""),
]  # fmt: skip


# the team board's actions (tui/screens/board.py), when it is the screen
BOARD_COMMANDS: list[tuple[str, str, str, str]] = [
    ("board.accounts", "accounts", N_("Collector's accounts"), N_("account list")),
    ("board.open", "open_working", N_("Open the account they are on"), N_("now working")),
    ("board.work", "work", N_("My queue"), N_("work next account")),
    ("board.review", "review_queue", N_("Review queue"), N_("review")),
    ("board.disputes", "disputes", N_("Disputes"), ""),
    ("board.reload", "reload", N_("Reload"), ""),
    ("board.help", "help", N_("Help"), N_("keys")),
    ("board.quit", "quit", N_("Quit"), ""),
]  # fmt: skip


# the account read-only (tui/screens/account_view.py)
LOOK_COMMANDS: list[tuple[str, str, str, str]] = [
    ("look.compose", "compose", N_("Compose a letter"),
     N_("compose e-mail letter reminder statement")),
    ("look.opt_out", "opt_out", N_("No more e-mail (opt-out)"),
     N_("stop e-mail opt out unsubscribe Regulation F")),
    ("look.opt_in", "opt_in", N_("E-mail again (opt-in)"), N_("opt in resume e-mail")),
    ("look.history", "history", N_("History"), ""),
    ("look.reload", "reload", N_("Reload"), ""),
]  # fmt: skip


class WorkCommands(Provider):
    """The work screen's actions, by their translated names."""

    def _commands(self) -> list[tuple[str, str, str, str]]:
        """(name shown, words searched, action, key) of what may run now."""
        from dunning.tui.screens.account_view import AccountViewScreen
        from dunning.tui.screens.board import BoardScreen
        from dunning.tui.screens.help import keys_by_id
        from dunning.tui.screens.work import WorkScreen

        screen = self.screen
        if isinstance(screen, BoardScreen):
            table = BOARD_COMMANDS
        elif isinstance(screen, WorkScreen):
            table = COMMANDS
        elif isinstance(screen, AccountViewScreen):
            table = LOOK_COMMANDS
        else:
            return []
        keys = keys_by_id(screen)
        out = []
        for bid, action, name, words in table:
            verb, _paren, rest = action.partition("(")
            params = tuple(p.strip("')") for p in rest.split(",") if p) if rest else ()
            if screen.check_action(verb, params) is not True:
                continue  # hidden (a lead's command) or off now (an account that forbids it)
            shown = _(name)
            searched = f"{shown} {_(words)}" if words else shown
            out.append((shown, searched, action, keys.get(bid, "")))
        return out

    def _run(self, action: str) -> None:
        self.screen.call_next(self.screen.run_action, action)

    async def discover(self) -> Hits:
        for shown, _searched, action, key in self._commands():
            yield DiscoveryHit(shown, partial(self._run, action), help=key or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for shown, searched, action, key in self._commands():
            score = max(matcher.match(shown), matcher.match(searched) * 0.9)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(shown) if matcher.match(shown) else shown,
                    partial(self._run, action),
                    text=shown,
                    help=key or None,
                )


def provider() -> type[Provider]:
    return WorkCommands
