"""A DataTable that holds one page of a long list (a lead's accounts: 100,000 rows in a
DataTable take ~20 s and +90 MB; a page of 100 a few ms).

The list itself is read by the screen (a ``fetch`` function run in a thread worker: the
widget runs no SQL); the widget keeps the page on screen and its cursors, and moves by
keyset: down (or PgDn) on the last row reads the next page, up (or PgUp) on the first the
previous one, Home the first page, End the last. ``]`` / ``[`` turn a whole page.

``fetch(where, cursor)``: ``where`` is "first", "after", "before" or "last", ``cursor``
the key of the row to read from (the page's last or first); it returns a page object with
``rows``, ``more_after``, ``more_before``, ``first`` and ``last`` (queue/account_list.py
``Page``). ``reread()`` reads the page shown again from where it was read (after a
decision on one of its rows: the cursor stays on its row number). ``render(row)`` gives a
row's cells; ``row_key(row)`` its identity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable


class PageLike(Protocol):
    rows: Sequence[Any]
    more_after: bool
    more_before: bool

    @property
    def first(self) -> object: ...

    @property
    def last(self) -> object: ...


Fetch = Callable[[str, object], PageLike]


class PagedList(DataTable):  # type: ignore[type-arg]
    BINDINGS = [
        Binding("down,j", "down", show=False),
        Binding("up,k", "up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("home,g", "first_page", show=False),
        Binding("end,G", "last_page", show=False),
        Binding("right_square_bracket", "turn('after')", show=False),
        Binding("left_square_bracket", "turn('before')", show=False),
    ]

    class Loaded(Message):
        """A page is on screen (``where`` it came from), or reading it failed (``error``)."""

        def __init__(self, table: PagedList, where: str, error: str = "") -> None:
            super().__init__()
            self.table = table
            self.where = where
            self.error = error

    def __init__(
        self,
        fetch: Fetch,
        render: Callable[[Any], Sequence[object]],
        row_key: Callable[[Any], object],
        **kwargs: Any,
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.fetch = fetch
        self.render_row = render
        self.row_key = row_key
        self.page: PageLike | None = None
        self.start = 0  # the page's first row's position in the list (0-based), if known
        self.known = True  # start is known (not after End)
        self.busy = False
        self.came: tuple[str, object] = ("first", None)  # how the page shown was read

    @property
    def rows_shown(self) -> Sequence[Any]:
        return self.page.rows if self.page is not None else ()

    def current(self) -> Any | None:
        rows = self.rows_shown
        if not rows or not 0 <= self.cursor_row < len(rows):
            return None
        return rows[self.cursor_row]

    def load(
        self, where: str = "first", cursor: object = None, *, at: str = "top", again: bool = False
    ) -> None:
        """Read a page in a worker and show it; ``at``: where the cursor lands (top,
        bottom, or "keep" the row it was on); ``again``: the page shown, read again."""
        if self.busy:
            return
        self.busy = True
        fetch = self.fetch

        def job() -> None:
            try:
                page = fetch(where, cursor)
            except Exception as exc:  # noqa: BLE001 - shown, never a crash
                self.app.call_from_thread(self._failed, where, str(exc))
                return
            self.app.call_from_thread(self._show, page, where, at, cursor, again)

        self.run_worker(job, thread=True, group="paged-list", exit_on_error=False)

    def _failed(self, where: str, message: str) -> None:
        self.busy = False
        self.post_message(self.Loaded(self, where, message))

    def _show(
        self, page: PageLike, where: str, at: str, cursor: object = None, again: bool = False
    ) -> None:
        self.busy = False
        old = self.page
        if again and not page.rows and where != "first":
            self.load("last", at="bottom")  # its rows are all gone: the one before it
            return
        if where != "first" and not page.rows and old is not None:
            return  # nothing that way (the list changed): stay
        self.came = (where, cursor)
        if again:
            if where == "last" and not page.more_before:
                self.start, self.known = 0, True
        elif where == "first":
            self.start, self.known = 0, True
        elif where == "last":
            self.known = False
        elif where == "after" and old is not None:
            self.start += len(old.rows)
        elif where == "before":
            self.start = max(0, self.start - len(page.rows))
        if where == "before" and not page.more_before:
            self.start, self.known = 0, True
        self.page = page
        self.refill(at)
        self.post_message(self.Loaded(self, where))

    def refill(self, at: str = "keep") -> None:
        """Draw the page again (after a selection changed, say)."""
        row = self.cursor_row
        self.clear()
        for item in self.rows_shown:
            self.add_row(*self.render_row(item), key=str(self.row_key(item)))
        n = len(self.rows_shown)
        if n:
            target = {"top": 0, "bottom": n - 1}.get(at, min(max(row, 0), n - 1))
            self.move_cursor(row=target)

    def reload(self) -> None:
        """The same list from the top (a new filter or sort, or after a change)."""
        self.load("first")

    def reread(self) -> None:
        """The page shown read again from where it was read (after a row of it changed or
        left the list), the cursor kept on its row number; when none of its rows is left,
        the page before it."""
        where, cursor = self.came
        self.load(where, cursor, at="keep", again=True)

    def action_down(self) -> None:
        page = self.page
        if page is not None and self.cursor_row >= len(page.rows) - 1 and page.more_after:
            self.load("after", page.last, at="top")
            return
        self.action_cursor_down()

    def action_up(self) -> None:
        page = self.page
        if page is not None and self.cursor_row <= 0 and page.more_before:
            self.load("before", page.first, at="bottom")
            return
        self.action_cursor_up()

    def action_page_down(self) -> None:
        page = self.page
        if page is not None and self.cursor_row >= len(page.rows) - 1 and page.more_after:
            self.load("after", page.last, at="top")
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        page = self.page
        if page is not None and self.cursor_row <= 0 and page.more_before:
            self.load("before", page.first, at="bottom")
            return
        super().action_page_up()

    def action_turn(self, where: str) -> None:
        page = self.page
        if page is None:
            return
        if where == "after" and page.more_after:
            self.load("after", page.last, at="top")
        elif where == "before" and page.more_before:
            self.load("before", page.first, at="top")

    def action_first_page(self) -> None:
        if self.page is not None and not self.page.more_before:
            self.move_cursor(row=0)
            return
        self.load("first", at="top")

    def action_last_page(self) -> None:
        if self.page is not None and not self.page.more_after:
            self.move_cursor(row=max(0, len(self.page.rows) - 1))
            return
        self.load("last", at="bottom")
