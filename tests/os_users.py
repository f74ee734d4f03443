"""Real OS users for the tests where identity is the point (issue 7): run as root, a team
of users is created with ``useradd`` (unique names, removed after) in one group sharing a
setgid directory, and ``dunning`` runs as each of them.

Each run forks, drops to the user (setgroups/setgid/setuid: ``os.getuid()`` is really
theirs) and calls ``dunning.cli.main``. A fork and not a new interpreter: on this kind of
host the interpreter lives under root's 0700 home, where another user cannot execute it;
so every module the commands import lazily is loaded once beforehand, as root
(:func:`warm_up`).
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import importlib
import io
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from dunning.cli import main

Users = dict[str, tuple[str, int]]  # role in the test -> (OS name, uid)

needs_root = pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0 or shutil.which("useradd") is None,
    reason="needs root and useradd to create real OS users",
)


def run_as(
    uid: int,
    gid: int,
    name: str,
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    umask: int = 0o007,
) -> tuple[int, str, str]:
    """``dunning ARGV`` as the OS user (uid, gid); (exit code, stdout, stderr)."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - shared with the forked child
    err = tempfile.TemporaryFile()  # noqa: SIM115
    pid = os.fork()
    if pid == 0:  # the child: become the user, run dunning, exit with its code
        code = 70
        try:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
            sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
            os.setgroups([gid])
            os.setgid(gid)
            os.setuid(uid)
            os.umask(umask)
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(
                {"HOME": str(cwd), "LOGNAME": name, "USER": name, "PATH": "/usr/bin:/bin"}
            )
            os.environ.update(env)
            code = main(argv)
        except BaseException as exc:  # noqa: BLE001 - report it, never return into pytest
            with contextlib.suppress(Exception):
                print(f"CHILD {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    texts = []
    for f in (out, err):
        f.seek(0)
        texts.append(f.read().decode("utf-8", "replace"))
        f.close()
    return os.waitstatus_to_exitcode(status), texts[0], texts[1]


def warm_up(db: Path, commands: Iterable[list[str]]) -> None:
    """Load, as root, every module ``commands`` import lazily (run on a scratch ``db``),
    and the standard modules they pull in late, before any fork."""
    for mod in ("importlib.metadata", "importlib.readers", "importlib.resources", "email.parser"):
        importlib.import_module(mod)
    for argv in commands:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            main(["--db", str(db), *argv])


@contextlib.contextmanager
def _accounts_lock() -> Iterator[None]:
    """One change to /etc/passwd and /etc/group at a time across the suite's worker
    processes (pytest-xdist): two ``useradd`` at once may fail to lock the files."""
    with open(Path(tempfile.gettempdir()) / "dunning-tests-useradd.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def team(prefix: str, roles: Iterable[str]) -> Iterator[tuple[Path, int, Users]]:
    """A new group, one user per role (``{role: (OS name, uid)}``) and a setgid ``2770``
    directory of that group; all removed afterwards. Yields (directory, gid, users)."""
    tag = secrets.token_hex(3)
    group = f"{prefix}g{tag}"
    users: dict[str, tuple[str, int]] = {}
    base = Path(tempfile.mkdtemp(prefix="dunning-os-", dir="/tmp"))
    try:
        with _accounts_lock():
            subprocess.run(["groupadd", group], check=True, capture_output=True)
            gid = grp.getgrnam(group).gr_gid
            for role in roles:
                name = f"{prefix}{tag}{role}"
                subprocess.run(
                    ["useradd", "-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", name],
                    check=True,
                    capture_output=True,
                )
                users[role] = (name, pwd.getpwnam(name).pw_uid)
        os.chown(base, 0, gid)
        os.chmod(base, 0o2770)  # the team's directory: group members only
        yield base, gid, users
    finally:
        shutil.rmtree(base, ignore_errors=True)
        with _accounts_lock():
            for name, _uid in users.values():
                subprocess.run(["userdel", name], check=False, capture_output=True)
            subprocess.run(["groupdel", group], check=False, capture_output=True)


def share(path: Path, gid: int) -> None:
    """A file the team's members read (root's, ``0640`` in their group)."""
    os.chown(path, 0, gid)
    os.chmod(path, 0o640)
