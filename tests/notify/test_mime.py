"""The fast (compat32) email builder: what it writes must read back right with policy.default."""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from email.utils import getaddresses

from matcher.notify.mime import (
    as_bytes,
    build_email,
    calendar_part,
    envelope,
    header_text,
    mailbox,
    mailbox_list,
)

HOSTILE = '<script>alert("x")</script>, O\'Brien; "Bobby" \\ =?utf-8?q?Boss?=\nBcc: v@example.com'


def decoded(value: str) -> str:
    return str(make_header(decode_header(value)))


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def mail(to_name: str, subject: str, text: str = "Hello\n", invitation: bytes | None = None):
    headers = [
        ("Subject", header_text(subject)),
        ("From", mailbox("matcher", "matcher@localhost")),
        ("To", mailbox(to_name, "bob@example.com")),
        ("Message-ID", "<outbox-1@localhost>"),
    ]
    attachment = calendar_part(invitation) if invitation is not None else None
    return build_email(headers, text, "<p>Hello</p>\n", attachment)


def test_ascii_header_text_takes_no_encoding_path():
    assert header_text("Your coffee pairing for 2026-W49: Bob") == (
        "Your coffee pairing for 2026-W49: Bob"
    )
    assert mailbox("Bob Builder", "bob@example.com") == "Bob Builder <bob@example.com>"
    raw = as_bytes(mail("Bob", "Plain subject"))
    assert b"\r\nSubject: Plain subject\r\n" in b"\r\n" + raw and b"=?" not in raw


def test_hostile_and_non_ascii_names_round_trip_without_injection():
    for name in (HOSTILE, "Zoë Ünïcödé " * 8 + HOSTILE):
        raw = as_bytes(mail(name, f"Coffee with {name}"))
        message = parse(raw)
        collapsed = " ".join(name.split())
        (address,) = message["To"].addresses
        assert address.addr_spec == "bob@example.com"
        assert message["Bcc"] is None and message.defects == []
        # Decoded by RFC 2047's rules (policy.default adds a space between adjacent encoded
        # words in a display name, and did so with the EmailMessage this builder replaced).
        legacy = email.message_from_bytes(raw)
        assert decoded(legacy["Subject"]) == f"Coffee with {collapsed}"
        ((encoded_name, addr_spec),) = getaddresses([legacy["To"]])
        assert (decoded(encoded_name), addr_spec) == (collapsed, "bob@example.com")
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
        # The envelope is read from the encoded header: a comma in a name is no recipient.
        assert envelope(mail(name, "x")) == ("matcher@localhost", ["bob@example.com"])


def test_structure_bodies_and_invitation():
    ics = "BEGIN:VCALENDAR\r\nX-NAME:Zoë\r\nEND:VCALENDAR\r\n".encode()
    text = "Hello Zoë \u2013 see you\nFrom the team\n" + "x" * 1200 + "\n"
    message = parse(as_bytes(mail("Zoë", "Ünïcode", text=text, invitation=ics)))
    assert message.get_content_type() == "multipart/mixed"
    alternative, invitation = message.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    plain = message.get_body(preferencelist=("plain",)).get_content()
    assert plain.replace("\r\n", "\n") == text  # not ">From", long line intact (base64)
    assert invitation.get_content_type() == "text/calendar"
    assert invitation.get_param("method") == "PUBLISH"
    assert invitation.get_filename() == "coffee.ics"
    assert invitation.get_content() == ics.decode()
    assert message["MIME-Version"] == "1.0"
    assert all(part["MIME-Version"] is None for part in message.walk() if part is not message)


def test_without_invitation_the_message_is_multipart_alternative():
    message = parse(as_bytes(mail("Bob", "Hi")))
    assert message.get_content_type() == "multipart/alternative"
    assert message.get_body(preferencelist=("html",)).get_content().strip() == "<p>Hello</p>"


def test_internationalised_address_is_written_raw_for_smtputf8():
    built = build_email(
        [("From", "a@example.com"), ("To", mailbox("Zoë", "zoë@exämple.com"))], "a", "b"
    )
    assert envelope(built) == ("a@example.com", ["zoë@exämple.com"])
    assert "To: Zoë <zoë@exämple.com>\r\n".encode() in as_bytes(built)


REPLY_TO = [
    (HOSTILE, "eve@example.com"),
    ("Zoë Ünïcödé", "zoe@example.com"),
    ("Plain Bob", "bob@example.com"),
    ("O'Brien, Dee", "dee@example.com"),
]


def test_reply_to_list_keeps_every_mailbox_whole_and_adds_no_recipient():
    for chosen in (REPLY_TO[2:3], REPLY_TO[3:], REPLY_TO[:1], REPLY_TO):
        headers = [("From", "a@example.com"), ("To", "to@example.com")]
        built = build_email([*headers, ("Reply-To", mailbox_list(chosen))], "a", "b")
        raw = as_bytes(built)
        message = parse(raw)
        assert [a.addr_spec for a in message["Reply-To"].addresses] == [e for _, e in chosen]
        assert message["Bcc"] is None and message.defects == []
        legacy = email.message_from_bytes(raw)
        names = [decoded(name) for name, _ in getaddresses([legacy["Reply-To"]])]
        assert names == [" ".join(name.split()) for name, _ in chosen]
        assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
        # Reply-To is read by the recipient's client only: the envelope is unchanged.
        assert envelope(built) == ("a@example.com", ["to@example.com"])


def test_reply_to_an_internationalised_address_asks_for_smtputf8():
    from matcher.notify.mail import _Outgoing

    reply_to = mailbox_list([("Zoë", "zoë@exämple.com"), ("Bob", "bob@example.com")])
    built = build_email([("From", "a@example.com"), ("To", "to@example.com")], "a", "b")
    assert _Outgoing(built).options == ()
    built = build_email(
        [("From", "a@example.com"), ("To", "to@example.com"), ("Reply-To", reply_to)], "a", "b"
    )
    assert "Reply-To: Zoë <zoë@exämple.com>, Bob <bob@example.com>\r\n".encode() in as_bytes(built)
    assert _Outgoing(built).options == ("SMTPUTF8", "BODY=8BITMIME")
