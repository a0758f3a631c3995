"""Build outgoing emails with the legacy (compat32) MIME classes: several times cheaper.

The modern API (EmailMessage with email.policy.default) parses and refolds every header it
is given; for a 10,000-mail round that was the biggest single cost of sending. Here headers
are made safe and encoded once, by hand, and the compat32 generator writes them as they are.
The output stays standards-correct: tests read it back with email.policy.default.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Sequence
from email.charset import Charset
from email.encoders import encode_base64
from email.generator import BytesGenerator
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import getaddresses, quote
from typing import Any

# RFC 5322 limit for a line, CRLF excluded; a longer body line needs base64.
MAX_LINE = 998


class _Policy(Compat32):
    """compat32, but a short ASCII header is written as it is, skipping email.header."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + 2 + len(value) <= (self.max_line_length or MAX_LINE)
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


# compat32 writes "From " body lines as ">From " (an mbox habit): not wanted in mail.
_SMTP_POLICY = _Policy(linesep="\r\n", mangle_from_=False)
_FILE_POLICY = _Policy(mangle_from_=False)
# UTF-8 bodies sent as 8bit (as email.policy.default chose before) rather than base64.
_UTF8_8BIT = Charset("utf-8")
_UTF8_8BIT.body_encoding = None
# What makes a display name need quotes (RFC 5322 specials), as email.utils.formataddr has it.
_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def one_line(text: str) -> str:
    """Collapse white space, newlines included, so text is safe in a header."""
    return " ".join(str(text).split())


def _needs_encoding(text: str) -> bool:
    # "=?" in plain text would be decoded as an encoded word by the reader: encode it too,
    # so a name such as "=?utf-8?q?Boss?=" arrives exactly as typed.
    return not text.isascii() or "=?" in text


def header_text(text: str) -> str | Header:
    """Text for an unstructured header on one line; a Header (RFC 2047) only when needed."""
    text = one_line(text)
    if not _needs_encoding(text):
        return text  # the common case: ASCII goes out as it is, no encoding machinery
    return Header(text, "utf-8")


def mailbox(name: str, address: str) -> str | Header:
    """'Name <address>' for From/To: the name on one line, quoted or encoded as needed."""
    name = one_line(name)
    if not address.isascii():
        # An internationalised address (RFC 6531) goes out as raw UTF-8, name included (the
        # transport then asks for SMTPUTF8); surrogate-escaped, compat32 writes it as is.
        value = f"{_quoted(name)} <{address}>" if name else address
        return value.encode().decode("ascii", "surrogateescape")
    if not name:
        return address
    if not _needs_encoding(name):
        return f"{_quoted(name)} <{address}>"
    header = Header(name, "utf-8")
    header.append(f"<{address}>", "us-ascii")  # us-ascii: the address itself stays readable
    return header


def mailbox_list(mailboxes: Sequence[tuple[str, str]]) -> str:
    """'A <a@x>, "B, Jr." <b@x>' (for Reply-To): each (name, address) written as mailbox() does."""
    if not all(address.isascii() for _, address in mailboxes):
        # As in mailbox(): raw UTF-8, names included (the transport then asks for SMTPUTF8).
        raw = ", ".join(_raw_mailbox(one_line(name), address) for name, address in mailboxes)
        return raw.encode().decode("ascii", "surrogateescape")
    boxes = [mailbox(name, address) for name, address in mailboxes]
    if all(isinstance(box, str) for box in boxes):
        return ", ".join(boxes)  # type: ignore[arg-type]
    # Each name encoded on its own, one mailbox a line: one Header holding them all splits a
    # name into two encoded words at a fold, and policy.default reads a space into it.
    return ",\r\n ".join(
        box if isinstance(box, str) else box.encode(linesep="\r\n") for box in boxes
    )


def _raw_mailbox(name: str, address: str) -> str:
    return f"{_quoted(name)} <{address}>" if name else address


def _quoted(name: str) -> str:
    # Quotes keep a name holding , ; < > " and the like one name, as formataddr does.
    return f'"{quote(name)}"' if _SPECIALS.search(name) else name


def text_part(text: str, subtype: str) -> MIMENonMultipart:
    """A text/<subtype> part: 7bit for ASCII, 8bit UTF-8 otherwise, base64 for long lines."""
    body = "\n".join(text.splitlines()) + "\n"
    part = MIMENonMultipart("text", subtype)
    too_long = any(len(line) > MAX_LINE for line in body.encode().splitlines())
    if body.isascii() and not too_long:
        part.set_payload(body, "us-ascii")
    elif not too_long:
        part.set_payload(body, _UTF8_8BIT)
    else:
        part.set_payload(body, "utf-8")  # the utf-8 charset defaults to base64
    del part["MIME-Version"]  # only the top-level message carries it
    return part


def calendar_part(ics: bytes, method: str = "PUBLISH", filename: str = "coffee.ics") -> MIMEBase:
    """A text/calendar attachment, base64 encoded; method matches the calendar's METHOD."""
    part = MIMEBase("text", "calendar", method=method, charset="utf-8")
    del part["MIME-Version"]
    part.set_payload(ics)
    encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def build_email(
    headers: list[tuple[str, str | Header]],
    text: str,
    html: str,
    attachment: MIMEBase | None = None,
) -> Message:
    """multipart/alternative (text, html), wrapped in multipart/mixed with an attachment.

    headers must already be safe (see header_text and mailbox): they are written as given.
    """
    alternative = MIMEMultipart(
        "alternative", boundary=_boundary(), _subparts=[text_part(text, "plain")]
    )
    alternative.attach(text_part(html, "html"))
    if attachment is None:
        mail = alternative
    else:
        del alternative["MIME-Version"]
        mail = MIMEMultipart("mixed", boundary=_boundary(), _subparts=[alternative, attachment])
    # The caller's headers go first, as mail clients show them; MIME-Version after them.
    mime_version = mail["MIME-Version"]
    del mail["MIME-Version"]
    content_type = mail["Content-Type"]
    del mail["Content-Type"]
    for name, value in headers:
        mail[name] = value
    mail["MIME-Version"] = mime_version
    mail["Content-Type"] = content_type
    return mail


def _boundary() -> str:
    # Random, so no body can hold it by chance or design; set here, the generator need not
    # search the whole text for a boundary it could use (a fresh regex per message).
    return f"=_{secrets.token_hex(12)}"


def envelope(mail: Message) -> tuple[str, list[str]]:
    """(sender, recipients) from the From and To/Cc headers, as smtplib would take them."""
    # raw_items: the values as set (encoded words stay encoded, so a comma in a display name
    # cannot split it into two addresses).
    raw: dict[str, list[str]] = {"from": [], "to": [], "cc": []}
    for name, value in mail.raw_items():
        if name.lower() in raw:
            text = value.encode() if isinstance(value, Header) else value
            raw[name.lower()].append(text.encode("ascii", "surrogateescape").decode())
    sender = getaddresses(raw["from"])[0][1] if raw["from"] else ""
    recipients = [address for _, address in getaddresses(raw["to"] + raw["cc"]) if address]
    return sender, recipients


def as_bytes(mail: Message, linesep: str = "\r\n") -> bytes:
    """The message as bytes, lines ending in linesep (CRLF for SMTP), no ">From" mangling."""
    buffer = io.BytesIO()
    generator = BytesGenerator(
        buffer, policy=_SMTP_POLICY if linesep == "\r\n" else _FILE_POLICY.clone(linesep=linesep)
    )
    generator.flatten(mail)
    return buffer.getvalue()
