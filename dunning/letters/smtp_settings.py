"""[smtp] in the configuration: the relay e-mails go through (dunning/queue/sending.py).

A leaf module (standard library only): dunning/queue/config.py reads the table through
:func:`smtp_from_table`. The password is never in the file: ``password_env`` names the
environment variable that holds it, read when a message is sent.

```toml
[smtp]
host = "smtp.example.com"
port = 587                 # 1-65535
starttls = true            # upgrade the connection (port 587)
ssl = false                # TLS from the first byte (port 465); not with starttls
username = "ar@example.com"
password_env = "DUNNING_SMTP_PASSWORD"
from = "Northwind Receivables <ar@northwind.example>"
timeout = 30               # seconds, 1-120
cafile = "/etc/ssl/certs/our-ca.pem"   # optional: the CA(s) the relay's certificate is
                                       # checked against (a private CA); default: the system's
```

The relay's certificate is always checked (``ssl.create_default_context``: the chain and
the host name), against the system's certificate authorities or ``cafile``'s.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from email.utils import parseaddr
from typing import Any

TEXT_MAX = 254  # characters of a host name, a user name or an address
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9.-]{1,253}")
_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]{1,253}")


@dataclass(frozen=True)
class SmtpSettings:
    """The relay: ``host``, ``port``, ``starttls`` / ``ssl``, ``username`` and the NAME of
    the environment variable holding its password (``password_env``), the sender
    (``sender``: ``from`` in the file, an address with an optional display name) and the
    ``timeout`` of each network step in seconds."""

    host: str = ""
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str = ""
    password_env: str = ""
    sender: str = ""
    timeout: int = 30
    cafile: str = ""  # a PEM file of CA certificates; "": the system's

    @property
    def relay(self) -> str:
        """``host:port``, as messages name the relay."""
        return f"{self.host}:{self.port}"


def valid_address(text: str) -> bool:
    """A single plain address (``name@domain``): no display name, no second address,
    no control character, at most 254 characters."""
    return len(text) <= TEXT_MAX and _ADDRESS.fullmatch(text) is not None


def sender_address(sender: str) -> tuple[str, str]:
    """``(display name, address)`` of a ``from`` value; the address '' when it is not one."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in sender):
        return "", ""
    name, addr = parseaddr(sender)
    return (name, addr) if valid_address(addr) else ("", "")


def _has_control(value: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


def smtp_from_table(source: str, table: dict[str, Any]) -> SmtpSettings:
    """[smtp] checked: ValueError names the file and the key."""
    out = SmtpSettings()
    for key, value in table.items():
        name = f"[smtp] {key}"
        if key in ("host", "username", "password_env", "from"):
            if not isinstance(value, str) or len(value) > TEXT_MAX:
                raise ValueError(f"{source}: {name} must be text of at most {TEXT_MAX} characters")
            if key == "host" and not _HOST.fullmatch(value):
                raise ValueError(f"{source}: {name} must be a host name or address, got {value!r}")
            if key == "password_env" and value and not _ENV_NAME.fullmatch(value):
                raise ValueError(
                    f"{source}: {name} must be the NAME of an environment variable "
                    f"(DUNNING_SMTP_PASSWORD), never the password itself"
                )
            if key == "username" and _has_control(value):
                raise ValueError(f"{source}: {name} must not hold control characters")
            if key == "from":
                if not sender_address(value)[1]:
                    raise ValueError(
                        f"{source}: {name} must be an address, optionally with a display "
                        f'name ("Receivables <ar@example.com>"), got {value[:80]!r}'
                    )
                out = replace(out, sender=value)
                continue
            out = replace(out, **{key: value})
        elif key in ("starttls", "ssl"):
            if type(value) is not bool:
                raise ValueError(f"{source}: {name} must be true or false")
            out = replace(out, **{key: value})
        elif key == "port":
            if type(value) is not int or not 1 <= value <= 65535:
                raise ValueError(f"{source}: {name} must be a whole number from 1 to 65535")
            out = replace(out, port=value)
        elif key == "cafile":
            if not isinstance(value, str) or len(value) > 4096 or _has_control(value):
                raise ValueError(f"{source}: {name} must be the path of a PEM file")
            path = os.path.expanduser(value)
            if value and not os.path.isfile(path):
                raise ValueError(f"{source}: {name}: no such file: {value!r}")
            out = replace(out, cafile=path)
        elif key == "timeout":
            if type(value) is not int or not 1 <= value <= 120:
                raise ValueError(f"{source}: {name} must be a whole number of seconds, 1 to 120")
            out = replace(out, timeout=value)
        else:
            raise ValueError(f"{source}: [smtp] unknown key {key!r}")
    if not out.host:
        raise ValueError(f"{source}: [smtp] host is missing")
    if not out.sender:
        raise ValueError(f"{source}: [smtp] from is missing (the sender's address)")
    if out.ssl and out.starttls and "starttls" in table:
        raise ValueError(f"{source}: [smtp] ssl and starttls cannot both be true")
    if out.ssl:
        out = replace(out, starttls=False)
    return out
