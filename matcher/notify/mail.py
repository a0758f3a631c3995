"""Transports: SMTP (one connection reused per batch), .eml files, and chat webhooks."""

from __future__ import annotations

import json
import logging
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import Message
from pathlib import Path
from typing import Any, Protocol

from matcher.notify.mime import as_bytes, envelope

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message could not be delivered this time; str() is short and holds no secrets."""


class TransportUnavailable(DeliveryError):
    """The server could not be reached at all: nothing in the batch can go out now."""


class MailTransport(Protocol):
    """Something that delivers an email Message or raises DeliveryError."""

    def send(self, message: Message) -> None: ...

    def close(self) -> None: ...


def mail_transport(config: Mapping[str, Any], instance_path: str | Path) -> MailTransport:
    """SMTP when MAIL_SERVER is set, else .eml files under <instance>/outbox/."""
    if config.get("MAIL_SERVER"):
        return SMTPTransport(config)
    return FileTransport(Path(instance_path) / "outbox")


class FileTransport:
    """Writes each message as an .eml file: the default when no mail server is configured."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: Message) -> None:
        """Write message to <directory>/<message id>.eml."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # The Message-ID is stable per outbox row, so a re-send overwrites rather than adds.
        stem = re.sub(r"[^A-Za-z0-9@._-]", "_", str(message["Message-ID"] or "message").strip("<>"))
        path = self.directory / f"{stem}.eml"
        try:
            path.write_bytes(as_bytes(message, linesep="\n"))
        except OSError as error:
            raise DeliveryError(f"could not write {path.name}: {error.strerror}") from None
        log.info("Mail to %s written to %s: %s", message["To"], path, message["Subject"])

    def close(self) -> None:
        """Nothing to close."""


class SMTPTransport:
    """Sends over SMTP, keeping one connection open for a whole batch."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = config["MAIL_SERVER"]
        self.port = int(config.get("MAIL_PORT") or 25)
        self.use_ssl = bool(config.get("MAIL_USE_SSL"))
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.username = config.get("MAIL_USERNAME")
        self.password = config.get("MAIL_PASSWORD")
        self.timeout = float(config.get("MAIL_TIMEOUT") or 10)
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.use_ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise TransportUnavailable(f"SMTP log-in refused ({error.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as error:
            raise TransportUnavailable(f"mail server unreachable: {_short(error)}") from None
        return smtp

    def send(self, message: Message) -> None:
        """Send one message, reconnecting once if the reused connection was dropped."""
        data = _Outgoing(message)
        reused = self._smtp is not None
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            data.send(self._smtp)
        except smtplib.SMTPServerDisconnected:
            self._drop()
            if not reused:
                raise TransportUnavailable("mail server closed the connection") from None
            # An idle connection the server timed out: the message was never accepted.
            self._smtp = self._connect()
            self._send_on_fresh(data)
        except smtplib.SMTPResponseException as error:
            # The server refused this message (e.g. 451 or 550) but the connection is fine.
            raise DeliveryError(f"SMTP {error.smtp_code}: {_reply(error.smtp_error)}") from None
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted({code for code, _ in error.recipients.values()})
            raise DeliveryError(f"SMTP refused the recipient ({codes})") from None
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            raise TransportUnavailable(f"mail server failed: {_short(error)}") from None

    def _send_on_fresh(self, data: _Outgoing) -> None:
        assert self._smtp is not None
        try:
            data.send(self._smtp)
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"SMTP {error.smtp_code}: {_reply(error.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as error:
            self._drop()
            raise TransportUnavailable(f"mail server failed: {_short(error)}") from None

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    def close(self) -> None:
        """Say QUIT and close the connection, if one is open."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


class _Outgoing:
    """A message flattened once, with its envelope: what smtplib.send_message would send."""

    def __init__(self, message: Message) -> None:
        self.sender, self.recipients = envelope(message)
        self.data = as_bytes(message)
        # Like send_message: an internationalised address needs the SMTPUTF8 extension, and so
        # does one in a header outside the envelope (a partner's address in Reply-To).
        head = self.data.partition(b"\r\n\r\n")[0]
        international = not all(a.isascii() for a in [self.sender, *self.recipients])
        self.options = ("SMTPUTF8", "BODY=8BITMIME") if international or not head.isascii() else ()

    def send(self, smtp: smtplib.SMTP) -> None:
        """Hand the message to smtp (raises what smtplib raises)."""
        smtp.sendmail(self.sender, self.recipients, self.data, self.options)


def post_webhook(url: str, body: dict[str, Any], timeout: float) -> None:
    """POST body as JSON to a Slack-compatible incoming webhook; raise DeliveryError on failure."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    # Errors never quote the URL: webhook URLs carry their secret in the path.
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"chat webhook answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryError(f"chat webhook unreachable: {_short(reason)}") from None


def _reply(raw: bytes | str) -> str:
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:200]


def _short(error: object) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]
