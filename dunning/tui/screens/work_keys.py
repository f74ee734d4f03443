"""The work screen's keys: outcome keys, shift + key to pick the next action, the rest.

Every key has a binding id, so the user's keymap (settings ``keys``, App.set_keymap) can
move it and the help screen finds it where it is bound now (help.keys_by_id).
"""

from __future__ import annotations

from textual.binding import Binding

from dunning.i18n import N_

# The footer shows the outcome keys used most; every key is in the help (?).
# "?" and "q" have a corner of their own, so they show in any language at 80 columns.
FOOTER_OUTCOMES = frozenset({"promise_to_pay", "left_message", "no_answer", "callback"})
CORNER_IDS = ("help", "quit")

OUTCOME_KEYS: list[tuple[str, str, str]] = [
    ("p", "promise_to_pay", N_("Promise")),
    ("l", "left_message", N_("Message")),
    ("n", "no_answer", N_("No answer")),
    ("b", "busy", N_("Busy")),
    ("w", "wrong_number", N_("Wrong #")),
    ("d", "dispute", N_("Dispute")),
    ("r", "refused", N_("Refused")),
    ("c", "callback", N_("Callback")),
    ("x", "paid", N_("Paid")),
    ("e", "escalated", N_("Escalate")),
    ("P", "payment_plan", N_("Payment plan")),
    ("s", "skip", N_("Skip")),
]
# shift + key: the same outcome, with a next action the collector picks
RESCHEDULE_KEYS = [("L", "left_message"), ("N", "no_answer"), ("B", "busy")]


def work_bindings() -> list[Binding]:
    """Every key of this screen is a priority binding: it is acted on as it is read, before
    the keys typed behind it are routed (see dunning/tui/typeahead.py). While the note is
    being written, check_action turns them off and they are text."""
    out = [
        Binding(
            key,
            f"outcome('{code}')",
            label,
            id=f"outcome.{code}",
            show=code in FOOTER_OUTCOMES,
            priority=True,
        )
        for key, code, label in OUTCOME_KEYS
    ]
    out += [
        Binding(
            key,
            f"reschedule('{code}')",
            N_("…then when"),
            id=f"reschedule.{code}",
            show=False,
            priority=True,
        )
        for key, code in RESCHEDULE_KEYS
    ]
    out += [
        # the note's keys are written above it: "Note · tab/i · esc"
        Binding("tab,i", "edit_note", N_("Note"), id="note.edit", show=False, priority=True),
        # the note alone, no call: what an account whose status forbids calls still takes
        Binding(
            "ctrl+s", "outcome('note')", N_("Save note"), id="note.save", show=False, priority=True
        ),
        Binding(
            "escape", "leave_note", N_("Leave note"), id="note.leave", show=False, priority=True
        ),
        Binding("slash", "search", N_("Search"), id="search", show=False, priority=True),
        Binding("a", "reassign", N_("Reassign"), id="lead.reassign", show=False, priority=True),
        Binding("A", "aging", N_("Aging"), id="aging", show=False, priority=True),
        Binding("R", "review_queue", N_("Review"), id="lead.review", show=False, priority=True),
        Binding("D", "disputes", N_("Disputes"), id="lead.disputes", show=False, priority=True),
        Binding("M", "rebalance", N_("Rebalance"), id="lead.rebalance", show=False, priority=True),
        Binding("T", "board", N_("Board"), id="lead.board", show=False, priority=True),
        Binding("F", "accounts", N_("Accounts"), id="lead.accounts", show=False, priority=True),
        Binding("h", "history", N_("History"), id="history", show=False, priority=True),
        Binding("m", "compose", N_("Compose"), id="compose", show=False, priority=True),
        # the customer says "stop e-mailing me" (or asks for e-mail again): opt_out.py
        Binding("o", "opt_out", N_("No e-mail"), id="contacts.opt_out", show=False, priority=True),
        Binding("O", "opt_in", N_("E-mail again"), id="contacts.opt_in", show=False, priority=True),
        # shown in the status line while it can act (a countdown), not in the footer
        Binding("u", "undo", N_("Undo"), id="undo", show=False, priority=True),
        Binding("question_mark", "help", N_("Help"), id="help", show=False, priority=True),
        Binding("q", "quit", N_("Quit"), id="quit", show=False, priority=True),
        Binding("ctrl+r", "reload", N_("Reload"), id="reload", show=False, priority=True),
    ]
    return out


# what stays on while the note is being written: keys that cannot be text
NOTE_ACTIONS = frozenset({"leave_note", "reload"})
