"""What each role may do: the one table every command and screen asks (issue 7).

Rights are checked here, in queue/, so the CLI and the screen obey the same rules.
``require`` raises :class:`RightsError` with one translated line naming who, what and
which role it needs. The host's operator (root, the database file's owner, or the
service account recorded in the database, running without ``--as``) counts as admin.
"""

from __future__ import annotations

from dunning.i18n import N_, _

ROLES = ("collector", "lead", "admin")
ROLE_NAMES: dict[str, str] = {
    "collector": N_("collector"),
    "lead": N_("lead"),
    "admin": N_("admin"),
}

# action -> roles allowed. Keep in step with README's security section.
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "work": ("collector", "lead", "admin"),  # claim, log, notes on one's own accounts
    "read": ("collector", "lead", "admin"),  # history, search, next
    "act_on_any": ("lead", "admin"),  # log or change another collector's account
    "assign": ("lead", "admin"),
    "collectors.add": ("lead", "admin"),  # an admin only to add an admin
    "collectors.change": ("lead", "admin"),  # one's own time zone: anyone
    "claims": ("lead", "admin"),  # see who holds what, release a claim (issue 9)
    "report": ("lead", "admin"),
    "export": ("lead", "admin"),
    "export.audit": ("admin",),
    "import": ("admin",),
    "import.assign": ("admin",),  # an assignment column in an import
    "backup": ("admin",),
    "queue.refresh": ("admin",),
    "init": ("admin",),
    "review": ("lead", "admin"),  # the review queue: list and decide (queue/review.py)
    "disputes": ("lead", "admin"),  # open disputes: list and resolve (queue/disputes.py)
    "rebalance": ("lead", "admin"),  # spread a book, lend it until a date (queue/rebalance.py)
    "routing": ("lead", "admin"),  # who can serve which language (queue/routing.py)
    "board": ("lead", "admin"),  # the team board (queue/board.py)
    "accounts": ("lead", "admin"),  # account lists by filter (queue/filters.py, issue 9)
    "letters.run": ("admin",),  # the nightly letter run (queue/letter_run.py, issue 10)
}

# what the action is, as a person reads it ("alice (collector) may not <import ledgers>")
ACTION_NAMES: dict[str, str] = {
    "work": N_("work accounts"),
    "read": N_("read accounts"),
    "act_on_any": N_("act on another collector's account"),
    "assign": N_("reassign accounts"),
    "collectors.add": N_("add collectors"),
    "collectors.change": N_("change another collector"),
    "claims": N_("see and release claims"),
    "report": N_("run reports"),
    "export": N_("export history"),
    "export.audit": N_("export the audit log"),
    "import": N_("import ledgers"),
    "import.assign": N_("assign accounts through an import"),
    "backup": N_("back up the database"),
    "queue.refresh": N_("refresh the queue"),
    "init": N_("set up the database"),
    "review": N_("decide accounts in review"),
    "disputes": N_("resolve disputes"),
    "rebalance": N_("rebalance accounts"),
    "routing": N_("check routing by language"),
    "board": N_("see the team board"),
    "accounts": N_("list the team's accounts"),
    "letters.run": N_("run the dunning letters"),
}


class RightsError(Exception):
    """Refused for want of a role: one line, translated."""


def allowed(role: str, action: str) -> bool:
    return role in ACTION_ROLES[action]


def require(role: str, action: str, *, who: str) -> None:
    """Refuse unless ``role`` may do ``action``; ``who`` names the person in the message."""
    if allowed(role, action):
        return
    need = _(" or ").join(_(ROLE_NAMES[r]) for r in ACTION_ROLES[action])
    raise RightsError(
        _("{who} ({role}) may not {action}: that needs the {need} role").format(
            who=who, role=_(ROLE_NAMES.get(role, role)), action=_(ACTION_NAMES[action]), need=need
        )
    )
