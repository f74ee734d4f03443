"""The registry of the schema's migrations (db/schema.py), sqlite-utils imported late."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils.migrations import Migrations


class LazyMigrations:
    """sqlite-utils' ``Migrations`` registered as it is (``@migrations()``), but sqlite-utils
    (and click, which it imports: ~0.1 s of a start) is imported only when a migration must
    run or a caller asks for it (``pending``, ``applied``, ``apply``). Opening an up-to-date
    database compares the names applied with :attr:`names` in plain sqlite3
    (:func:`pending_names`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._registered: list[tuple[str, Callable[..., None], bool]] = []
        self._real: Migrations | None = None

    def __call__(
        self, *, name: str | None = None, transactional: bool = True
    ) -> Callable[[Callable[..., None]], Callable[..., None]]:
        def inner(func: Callable[..., None]) -> Callable[..., None]:
            migration_name = name or func.__name__
            if migration_name in self.names:
                raise ValueError(f"Migration '{migration_name}' is already registered")
            self._registered.append((migration_name, func, transactional))
            if self._real is not None:
                self._real(name=migration_name, transactional=transactional)(func)
            return func

        return inner

    @property
    def names(self) -> list[str]:
        return [name for name, _fn, _tx in self._registered]

    def real(self) -> Migrations:
        if self._real is None:
            from sqlite_utils.migrations import Migrations

            real = Migrations(self.name)
            for name, fn, transactional in self._registered:
                real(name=name, transactional=transactional)(fn)
            self._real = real
        return self._real

    def __getattr__(self, attr: str) -> Any:  # pending, applied, apply, ...
        return getattr(self.real(), attr)
