"""The first account in the screen's first frame (issue 8: start -> first account).

`dunning` claims the first account in a thread while Textual imports
(WorkSession.prefetch_first). It is done by the time the screen mounts on every start
measured, yet the screen used to draw "Loading…" first, then the account in a second
frame: two full-screen renders, and the footer composed twice (the outcome keys come with
the account). When the claim is already done, the screen takes its account at mount and
its first frame is the account. When it is not (a slow disk, a lock to wait for) or it
failed, nothing changes: "Loading…", and a worker takes it as before (its error shown as
every worker's is).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dunning.queue.account_view import AccountView
    from dunning.queue.session import WorkSession


def first_if_done(session: WorkSession) -> tuple[bool, AccountView | None]:
    """(True, the first account or None when nothing can be called) when the claim made
    ahead is done and did not fail; (False, None) when a worker must take it."""
    return session.first_if_done()
