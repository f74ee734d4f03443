"""Delivering a built message: through the SMTP relay of ``[smtp]`` (smtplib), or any
object with the same ``send`` (a test's, a letter run's kept connection).

Every failure (refused connection, TLS, authentication, a recipient or the sender
refused, a time-out) is a :class:`SendFailed` whose message is translated and names the
relay (``smtp.example.com:587``), never a traceback. The password is read from the
environment variable ``[smtp] password_env`` names, when the message is sent.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from types import TracebackType
from typing import Protocol

from dunning.i18n import _
from dunning.letters.message import Mail
from dunning.letters.smtp_settings import SmtpSettings
from dunning.textsafe import clean


class SendFailed(Exception):
    """The message was not delivered; the text says why, naming the relay."""


class Transport(Protocol):
    def send(self, message: Mail, sender: str, recipients: list[str]) -> None:
        """Deliver ``message`` from ``sender`` (the envelope) to ``recipients``; raise
        SendFailed when it was not accepted."""
        ...


def _said(value: object) -> str:
    """A server's reply or an error, one safe line of at most 200 characters."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(clean(str(value))[0].split())[:200]


class SmtpTransport:
    """One connection to the relay, opened on the first message and kept for the next
    ones until :meth:`close` (a letter run sends many through one)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        relay = s.relay
        password = ""
        if s.username and s.password_env:
            password = os.environ.get(s.password_env, "")
            if not password:
                raise SendFailed(
                    _("{relay}: the environment variable {name} ([smtp] password_env) is not set")
                    .format(relay=relay, name=s.password_env)
                )  # fmt: skip
        try:
            if s.ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=_tls(s)
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                if s.starttls:
                    smtp.starttls(context=_tls(s))
                if s.username:
                    smtp.login(s.username, password)
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailed(
                _("{relay}: authentication refused for {user}: {reply}").format(
                    relay=relay,
                    user=_said(s.username),
                    reply=f"{exc.smtp_code} {_said(exc.smtp_error)}",
                )
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise SendFailed(
                _("{relay}: the relay does not offer STARTTLS ([smtp] starttls)").format(
                    relay=relay
                )
            ) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise SendFailed(_connect_failed(relay, exc)) from None
        self._smtp = smtp
        return smtp

    def send(self, message: Mail, sender: str, recipients: list[str]) -> None:
        relay = self.settings.relay
        smtp = self._smtp or self._connect()
        try:
            # an address that is not ASCII needs the relay's SMTPUTF8 (smtplib refuses,
            # naming it, when the relay does not offer it)
            international = not (sender.isascii() and all(r.isascii() for r in recipients))
            options = ("SMTPUTF8", "BODY=8BITMIME") if international else ()
            refused = smtp.sendmail(sender, recipients, message.as_bytes("\r\n"), options)
        except smtplib.SMTPRecipientsRefused as exc:
            who = ", ".join(_said(r) for r in exc.recipients)
            replies = "; ".join(f"{code} {_said(msg)}" for code, msg in exc.recipients.values())
            raise SendFailed(
                _("{relay}: recipient refused ({who}): {reply}").format(
                    relay=relay, who=who, reply=replies
                )
            ) from None
        except smtplib.SMTPSenderRefused as exc:
            raise SendFailed(
                _("{relay}: sender refused ({who}): {reply}").format(
                    relay=relay, who=_said(exc.sender), reply=_said(exc.smtp_error)
                )
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendFailed(
                _("{relay}: the message was not accepted: {error}").format(
                    relay=relay, error=_said(exc)
                )
            ) from None
        if refused:  # some recipients refused: with one recipient, it was not delivered
            who = ", ".join(_said(r) for r in refused)
            raise SendFailed(
                _("{relay}: recipient refused ({who}): {reply}").format(
                    relay=relay,
                    who=who,
                    reply="; ".join(f"{c} {_said(m)}" for c, m in refused.values()),
                )
            )

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _tls(s: SmtpSettings) -> ssl.SSLContext:
    """The relay's certificate checked (chain and host name) against the system's
    certificate authorities, or those of ``[smtp] cafile``."""
    return ssl.create_default_context(cafile=s.cafile or None)


def _connect_failed(relay: str, exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _(
            "{relay}: the relay's certificate is not trusted ({reason}); a private "
            "certificate authority goes in [smtp] cafile"
        ).format(relay=relay, reason=_said(exc.verify_message or exc))
    if isinstance(exc, ConnectionRefusedError):
        return _("{relay}: connection refused (is the relay running?)").format(relay=relay)
    if isinstance(exc, socket.timeout | TimeoutError):
        return _("{relay}: no answer in time ([smtp] timeout)").format(relay=relay)
    if isinstance(exc, socket.gaierror):
        return _("{relay}: unknown host").format(relay=relay)
    return _("{relay}: cannot connect: {error}").format(relay=relay, error=_said(exc))
