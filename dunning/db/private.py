"""Private files: everything dunning creates is readable by its owner only.

Collections data is personal and financial. The database, its ``-wal``/``-shm``,
backups, exports, reports and rejects files are created ``0600`` (``0640`` and owned by
the group when ``file_group`` is set in the config file), and the directories dunning
creates ``0700`` (``0750``), whatever the umask:

- a file is created with ``os.open(path, O_CREAT | O_EXCL | O_NOFOLLOW, mode)``, then
  ``fchmod`` (the umask can only remove bits: ``fchmod`` makes the mode exact) and
  ``fchown`` to the group, all before a byte of content is written: no window in which
  the file is readable by others;
- SQLite creates ``-wal``, ``-shm`` and ``-journal`` with the mode (and, as root, the
  owner) of the database file, so a database created here gives them the same mode;
  :func:`settle_db` gives them the configured group too.

An existing database readable or writable by others is not changed behind the owner's
back: :func:`take_warning` returns, once per process, a message with the command that
fixes it; the CLI prints it on stderr, the screen shows it as a notification.
"""

from __future__ import annotations

import contextlib
import grp
import os
import stat
from pathlib import Path

from dunning.i18n import _

SUFFIXES = ("-wal", "-shm", "-journal")  # the files SQLite keeps beside a database

_gid: int | None = None  # the configured group; None: files are private to the owner
_group_name = ""
_warned: set[str] = set()


def group_id(name: str) -> int:
    """The id of group ``name``; ValueError naming the setting when there is none."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise ValueError(
            _("file_group: no group {name!r} on this host (see `getent group`)").format(name=name)
        ) from None


def use_group(name: str | None) -> None:
    """Files created from now on in this process go to group ``name`` (``0640``);
    empty or None: owner only (``0600``)."""
    global _gid, _group_name
    _gid = group_id(name) if name else None
    _group_name = name or ""


def file_mode() -> int:
    return 0o640 if _gid is not None else 0o600


def dir_mode() -> int:
    return 0o750 if _gid is not None else 0o700


def db_mode() -> int:
    """The database and its -wal/-shm: ``0600``; with a group ``0660``, since the team's
    members, logged in with their own accounts, write outcomes into it (reports, exports
    and backups stay ``0640``: the group reads them)."""
    return 0o660 if _gid is not None else 0o600


def db_dir_mode() -> int:
    """A directory made for a database: with a group ``2770`` (members create its -wal and
    -shm; setgid, so what is created there keeps the group); else ``0700``."""
    return 0o2770 if _gid is not None else 0o700


def _own(fd: int, mode: int, shown: Path) -> None:
    """Make an open file's mode exact and give it the group."""
    os.fchmod(fd, mode)
    if _gid is not None and os.fstat(fd).st_gid != _gid:
        try:
            os.fchown(fd, -1, _gid)
        except PermissionError:
            raise PermissionError(
                13,
                _("cannot give the file to group {group!r} (file_group): not a member").format(
                    group=_group_name
                ),
                str(shown),
            ) from None


def create(path: Path, *, exclusive: bool = True, mode: int | None = None) -> int:
    """A new file opened for writing, private before anything is written in it; an open
    descriptor. ``exclusive``: an existing file is an error (FileExistsError); else it
    is truncated and made private too. Never follows a symlink at ``path``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_EXCL if exclusive else os.O_TRUNC
    mode = file_mode() if mode is None else mode
    fd = os.open(path, flags, mode)
    try:
        _own(fd, mode, path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def create_empty(path: Path, *, mode: int | None = None) -> None:
    """Create ``path`` empty and private; an existing file is left as it is (another
    process may have just created it)."""
    try:
        fd = create(path, mode=mode)
    except FileExistsError:
        return
    os.close(fd)


def make_dirs(path: Path, *, mode: int | None = None) -> None:
    """``mkdir -p`` where each directory created is ``0700`` (``0750`` with a group);
    ``mode``: the last one's (a database's directory)."""
    path = Path(path)
    if path.is_dir():
        return
    make_dirs(path.parent)
    mode = dir_mode() if mode is None else mode
    try:
        os.mkdir(path, mode & 0o777)
    except FileExistsError:
        return
    os.chmod(path, mode)  # an empty directory just made: nothing to leak yet
    if _gid is not None:
        os.chown(path, -1, _gid)


def prepare_db(path: Path) -> None:
    """Before SQLite opens ``path`` read-write: create its directory and, when the file
    does not exist, the empty file itself with a private mode (SQLite would create it
    ``0644`` minus the umask, and its ``-wal``/``-shm`` after it)."""
    path = Path(path)
    make_dirs(path.parent, mode=db_dir_mode())
    if not os.path.lexists(path):
        create_empty(path, mode=db_mode())


def settle_db(path: Path) -> None:
    """After opening a database we created: its -wal/-shm carry the configured group
    (SQLite gives them the database's mode; the group only when run as root)."""
    if _gid is None:
        return
    for suffix in SUFFIXES:
        side = Path(f"{path}{suffix}")
        with contextlib.suppress(OSError):
            st = side.lstat()
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and st.st_gid != _gid:
                os.chown(side, -1, _gid, follow_symlinks=False)


def _too_open(st: os.stat_result) -> bool:
    """A database file readable or writable beyond its owner (and the configured group,
    when the file is that group's)."""
    allowed = 0o660 if _gid is not None and st.st_gid == _gid else 0o600
    return bool(stat.S_IMODE(st.st_mode) & 0o666 & ~allowed)


def exposed(path: Path) -> list[Path]:
    """The database file and its -wal/-shm that others can read or write."""
    found = []
    for p in (Path(path), *(Path(f"{path}{s}") for s in SUFFIXES)):
        with contextlib.suppress(OSError):
            st = p.stat()
            if stat.S_ISREG(st.st_mode) and _too_open(st):
                found.append(p)
    return found


def fix_command(path: Path) -> str:
    """``chmod 600 DB DB-wal DB-shm`` (``chgrp G ... && chmod 640 ...`` with a group)."""
    names = " ".join(_quote(p) for p in (Path(path), Path(f"{path}-wal"), Path(f"{path}-shm")))
    if _gid is not None:
        return f"chgrp {_quote(_group_name)} {names} && chmod 660 {names}"
    return f"chmod 600 {names}"


def _quote(p: Path | str) -> str:
    import shlex

    return shlex.quote(str(p))


def take_warning(path: Path) -> str | None:
    """Once per process: a message when the database at ``path`` (or its -wal/-shm) is
    readable or writable by others, with the command that fixes it; None otherwise or
    when already said."""
    if _warned:
        return None
    files = exposed(path)
    if not files:
        return None
    _warned.add(str(path))
    return _(
        "{files}: other users on this machine can read or change the collections data; "
        "fix it with: {command}"
    ).format(files=", ".join(str(f) for f in files), command=fix_command(path))


def reset_for_tests() -> None:
    """Forget the configured group and the warning already given (tests only)."""
    use_group(None)
    _warned.clear()
