"""The pairing email as received by a real SMTP server: content, time zones, invitation."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from icalendar import Calendar

from matcher.extensions import db
from matcher.models import MatchGroup, Profile, User
from matcher.reasons import reasons_for
from tests.notify.support import (
    body_text,
    calendar_part,
    outbox_rows,
    queue_round,
    send,
    smtp_server,
)
from tests.support import coffee_member


def by_recipient(messages) -> dict[str, object]:
    return {m["To"].addresses[0].addr_spec: m for m in messages}


def test_berlin_and_new_york_get_their_own_local_time(app, make_user, make_round):
    ada = make_user(
        email="ada@example.com", timezone="Europe/Berlin", location="Berlin", team="Payments"
    )
    bob = make_user(
        email="bob@example.com",
        name="Bob Builder",
        team="Search",
        timezone="America/New_York",
        projects=("Indexer",),
        interests=("Sailing",),
    )
    round_id, (group_id,) = make_round([[ada, bob]])
    # What the engine says about them (they share nothing but a first meeting), to each reader.
    with app.app_context():
        group = db.session.get(MatchGroup, group_id)
        said = {reader: reasons_for(group, reader=reader) for reader in (ada, bob)}
    assert (
        said[ada]
        == said[bob]
        == ["from different teams: Payments and Search", "first time you meet"]
    )
    queue_round(app, round_id)
    with smtp_server() as smtp:
        report = send(app, **smtp.config)
        messages = by_recipient(smtp.messages)
    assert (report.sent, report.retried, report.gave_up) == (2, 0, 0)
    assert set(messages) == {"ada@example.com", "bob@example.com"}

    to_ada, to_bob = messages["ada@example.com"], messages["bob@example.com"]
    assert to_ada["Subject"] == (
        "Cross-team coffee: your pairing for the week of 30 November with Bob Builder"
    )
    assert to_bob["Subject"] == (
        "Cross-team coffee: your pairing for the week of 30 November with Ada Lovelace"
    )
    rows = {r["user_id"]: r for r in outbox_rows(app)}
    assert to_ada["Message-ID"] == f"<outbox-{rows[ada]['id']}@localhost>"
    assert all(r["sent_at"] is not None and r["claim_token"] is None for r in rows.values())

    # 2026-12-01 14:00 UTC is 15:00 in Berlin (CET) and 09:00 in New York (EST).
    for part in ("plain", "html"):
        ada_text, bob_text = body_text(to_ada, part), body_text(to_bob, part)
        assert "Bob Builder" in ada_text and "Search" in ada_text
        assert "Indexer" in ada_text and "Sailing" in ada_text
        assert "Ada Lovelace" in bob_text and "Payments" in bob_text and "Berlin" in bob_text
        assert all(reason in ada_text for reason in said[ada])
        assert all(reason in bob_text for reason in said[bob])
        assert "Tuesday 1 December 2026, 15:00" in ada_text and "Europe/Berlin" in ada_text
        assert "Tuesday 1 December 2026, 09:00" in bob_text and "America/New_York" in bob_text
        assert "http://127.0.0.1:5000/dashboard" in ada_text

    for message, reader, zone, hour in (
        (to_ada, ada, "Europe/Berlin", 15),
        (to_bob, bob, "America/New_York", 9),
    ):
        part = calendar_part(message)
        assert part is not None
        assert part.get_param("method") == "PUBLISH"
        calendar = Calendar.from_ical(part.get_content())
        assert str(calendar["method"]) == "PUBLISH"
        event = calendar.walk("VEVENT")[0]
        assert str(event["uid"]) == f"pairing-2026-W49-{group_id}@matcher"
        start = event.decoded("dtstart")
        assert start.astimezone(UTC) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
        assert (start.hour, str(start.tzinfo)) == (hour, zone)
        assert (event.decoded("dtend") - start).total_seconds() == 30 * 60
        assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == [zone]
        # An entry for the recipient's own calendar: nobody is asked to reply to anyone.
        own = message["To"].addresses[0]
        assert str(event["organizer"]) == f"mailto:{own.addr_spec}"
        assert str(event["organizer"].params["CN"]) == own.display_name
        assert "attendee" not in event and "matcher@localhost" not in part.get_content()
        assert str(event["summary"]).startswith("Cross-team coffee: coffee with ")
        assert all(reason in str(event["description"]) for reason in said[reader])


def test_hostile_names_are_escaped_in_html_and_survive_in_the_invitation(
    app, make_user, make_round
):
    evil = '<script>alert("x")</script>, O\'Brien; "Bobby"'
    # A hostile interest both share: the engine's own reason repeats it.
    hostile = "<img src=x onerror=alert(1)>"
    ada = make_user(email="ada@example.com", interests=(hostile,))
    bob = make_user(email="bob@example.com", name=evil, team="<b>Team</b>", interests=(hostile,))
    round_id, _ = make_round([[ada, bob]])
    with app.app_context():
        # Sign-up collapses white space; set a raw newline directly to test the worst case.
        db.session.get(User, bob).display_name = evil + "\nBcc: victim@example.com"
        db.session.commit()
    queue_round(app, round_id)
    with smtp_server() as smtp:
        assert send(app, **smtp.config).sent == 2
        messages = by_recipient(smtp.messages)
    to_ada, to_bob = messages["ada@example.com"], messages["bob@example.com"]
    html = body_text(to_ada, "html")
    assert "<script>" not in html and "<img" not in html and "<b>Team" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Team" in html
    assert "you are both into &lt;img src=x onerror=alert(1)&gt;" in html
    text = body_text(to_ada, "plain")
    assert evil in text and f"you are both into {hostile}" in text  # plain text is not escaped
    # The newline did not become a header of its own.
    assert to_bob["Bcc"] is None and "\n" not in str(to_bob["To"])
    assert "<script>" in to_ada["Subject"]
    calendar = Calendar.from_ical(calendar_part(to_bob).get_content())
    (event,) = calendar.walk("VEVENT")
    assert str(event["organizer"].params["CN"]) == evil + "\nBcc: victim@example.com"
    calendar = Calendar.from_ical(calendar_part(to_ada).get_content())
    (event,) = calendar.walk("VEVENT")
    assert evil in str(event["summary"]) and evil in str(event["description"])
    # Replies go to the partner, whose hostile name stays one display name of one address.
    (partner,) = to_ada["Reply-To"].addresses
    assert partner.addr_spec == "bob@example.com"
    assert partner.display_name == evil + " Bcc: victim@example.com"


def test_no_common_time_means_no_invitation_and_a_plain_note(app, make_user, make_round):
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob")
    round_id, _ = make_round([[ada, bob]], meeting_at=None)
    queue_round(app, round_id)
    with smtp_server() as smtp:
        send(app, **smtp.config)
        message = smtp.messages[0]
    assert calendar_part(message) is None
    for part in ("plain", "html"):
        text = body_text(message, part)
        assert "no time when you are both free" in text
        assert "agree a time" in text
        assert "Suggested time" not in text


def test_group_of_three_names_both_partners(app, make_user, make_round):
    ids = [
        make_user(email=f"{n}@example.com", name=n.title(), team=t)
        for n, t in (("ada", "A"), ("bob", "B"), ("cy", "C"))
    ]
    round_id, _ = make_round([ids])
    queue_round(app, round_id)
    with smtp_server() as smtp:
        send(app, **smtp.config)
        messages = by_recipient(smtp.messages)
    assert messages["ada@example.com"]["Subject"].endswith(" with Bob, Cy")
    event = Calendar.from_ical(calendar_part(messages["cy@example.com"]).get_content()).walk(
        "VEVENT"
    )[0]
    assert "attendee" not in event
    assert "Ada <ada@example.com>" in str(event["description"])
    assert "Bob <bob@example.com>" in str(event["description"])


def test_deleted_recipient_is_dropped_not_crashed(app, make_user, make_round):
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob")
    round_id, _ = make_round([[ada, bob]])
    queue_round(app, round_id)
    with app.app_context():
        db.session.get(User, bob).deleted_at = datetime(2026, 11, 30)
        db.session.commit()
    with smtp_server() as smtp:
        report = send(app, **smtp.config)
        assert smtp.messages == []  # ada's only partner is gone too: nothing to announce
    assert (report.sent, report.gave_up) == (0, 2)
    rows = {r["user_id"]: r for r in outbox_rows(app)}
    assert rows[bob]["last_error"] == "recipient deleted"
    assert rows[ada]["last_error"] == "no partner left in the group"
    assert all(r["gave_up_at"] is not None for r in rows.values())


def sent_to_everyone(app, make_round, groups, **round_options):
    """Publish groups (lists of user ids), send through a real SMTP server; mail by address."""
    round_id, _ = make_round(groups, **round_options)
    queue_round(app, round_id)
    with smtp_server() as smtp:
        send(app, **smtp.config)
        return by_recipient(smtp.messages), smtp.handler.envelopes


def test_a_group_of_four_replies_to_all_three_partners_and_is_addressed_as_four(
    app, make_user, make_round
):
    people = [
        ("ada@example.com", "Ada Lovelace"),
        ("bob@example.com", 'Bob "The Builder", Jr.'),
        ("zoe@example.com", "Zoë Ünïcödé"),
        ("dee@example.com", "Dee =?utf-8?q?Boss?= O'Brien"),
    ]
    ids = [make_user(email=e, name=n, team=f"T{i}") for i, (e, n) in enumerate(people)]
    messages, envelopes = sent_to_everyone(app, make_round, [ids])
    assert len(messages) == 4
    for address, _ in people:
        message = messages[address]
        others = [(n, e) for e, n in people if e != address]
        replies = [(a.display_name, a.addr_spec) for a in message["Reply-To"].addresses]
        assert replies == others
        assert message["Bcc"] is None and message["Cc"] is None
        for part in ("plain", "html"):
            text = body_text(message, part)
            assert "all four of you" in text and "you both" not in text
    # Reply-To changes no envelope: each message went to its one recipient only.
    assert sorted(rcpt for e in envelopes for rcpt in e.rcpt_tos) == sorted(e for e, _ in people)


def test_a_pair_is_you_both_and_a_trio_all_three(app, make_user, make_round):
    ada, bob = make_user(email="ada@example.com"), make_user(email="bob@example.com", team="B")
    trio = [make_user(email=f"{n}@example.com", name=n, team=n) for n in ("cy", "dee", "eve")]
    messages, _ = sent_to_everyone(app, make_round, [[ada, bob], trio])
    for part in ("plain", "html"):
        pair_text = body_text(messages["ada@example.com"], part)
        assert "does not suit you both" in " ".join(pair_text.split())
        trio_text = " ".join(body_text(messages["cy@example.com"], part).split())
        assert "does not suit all three of you" in trio_text
        assert "you both" not in trio_text
        assert "write to dee and eve" in trio_text


def test_a_group_sharing_an_office_meets_there(app, make_user, make_round):
    ada = make_user(email="ada@example.com", location="Berlin Mitte", video_link=VIDEO["ada"])
    bob = make_user(email="bob@example.com", team="B", location="Berlin Mitte")
    messages, _ = sent_to_everyone(app, make_round, [[ada, bob]])
    for address in ("ada@example.com", "bob@example.com"):
        message = messages[address]
        (event,) = Calendar.from_ical(calendar_part(message).get_content()).walk("VEVENT")
        assert str(event["location"]) == "Berlin Mitte"
        assert "conference" not in event  # in person: no video link, though Ada has one
        for part in ("plain", "html"):
            text = " ".join(body_text(message, part).split())
            assert "in person, at the office you share" in text.lower()
            assert "Berlin Mitte" in text and VIDEO["ada"] not in text


VIDEO = {
    "ada": "https://meet.example.com/ada-room",
    "bob": "https://video.example.org/j/123?pwd=x&y=1",
}


def test_a_video_group_meets_on_the_first_members_link_and_says_whose(app, make_user, make_round):
    # Different offices (and Bob wants video only): by video. Both have a link: Ada's, the
    # first member's, in every copy.
    ada = make_user(email="ada@example.com", location="Berlin", video_link=VIDEO["ada"])
    bob = make_user(
        email="bob@example.com",
        name="Bob Builder",
        team="B",
        location="Berlin",
        meeting_mode="video",
        video_link=VIDEO["bob"],
    )
    messages, _ = sent_to_everyone(app, make_round, [[ada, bob]])
    for address, whose in (("ada@example.com", "your"), ("bob@example.com", "Ada Lovelace’s")):
        message = messages[address]
        (event,) = Calendar.from_ical(calendar_part(message).get_content()).walk("VEVENT")
        assert str(event["location"]) == VIDEO["ada"]
        assert str(event["conference"]) == VIDEO["ada"]
        assert str(event["conference"].params["LABEL"]) == "Video call (Ada Lovelace)"
        assert f"on {whose} link: {VIDEO['ada']}" in str(event["description"])
        for part in ("plain", "html"):
            text = body_text(message, part)
            assert f"on {whose} link" in text and VIDEO["bob"] not in text
        assert f'href="{VIDEO["ada"]}"' in body_text(message, "html")
    # Without a link of her own, Bob's is the one.
    with app.app_context():
        db.session.get(Profile, ada).video_link = None
        db.session.commit()
    messages, _ = sent_to_everyone(app, make_round, [[ada, bob]], week="2026-W50")
    (event,) = Calendar.from_ical(calendar_part(messages["ada@example.com"]).get_content()).walk(
        "VEVENT"
    )
    assert str(event["location"]) == VIDEO["bob"]
    assert "on Bob Builder’s link" in body_text(messages["ada@example.com"], "plain")


def test_a_stored_link_that_is_not_https_is_never_put_in_mail(app, make_user, make_round):
    ada = make_user(email="ada@example.com", location="Berlin")
    bob = make_user(email="bob@example.com", team="B", location="Lisbon")
    with app.app_context():
        # An old import or a direct write: the form would refuse it.
        db.session.get(Profile, ada).video_link = "javascript:alert(1)//https://x.example"
        db.session.commit()
    messages, _ = sent_to_everyone(app, make_round, [[ada, bob]])
    message = messages["bob@example.com"]
    (event,) = Calendar.from_ical(calendar_part(message).get_content()).walk("VEVENT")
    assert "location" not in event and "conference" not in event
    for part in ("plain", "html"):
        assert "javascript:" not in body_text(message, part)


def test_html_is_styled_inline_for_a_phone_and_the_text_part_says_everything(
    app, make_user, make_round
):
    ada = make_user(email="ada@example.com", location="Berlin", video_link=VIDEO["ada"])
    bob = make_user(email="bob@example.com", name="Bob", team="B", location="Lisbon")
    messages, _ = sent_to_everyone(app, make_round, [[ada, bob]])
    message = messages["bob@example.com"]
    html, text = body_text(message, "html"), body_text(message, "plain")
    # Mail clients drop <style> and classes: every style is inline, one column at most
    # 560 px wide that shrinks to a phone's width.
    assert "<style" not in html and "class=" not in html
    assert 'width="100%"' in html and "max-width: 560px" in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'style="' in re.search(r"<a href=\"http[^>]*feedback[^>]*>", html).group(0)
    links = {urlsplit(u).path.split("/")[1] for u in re.findall(r"https?://\S+", text)}
    assert {"feedback", "dashboard", "skip"} <= links
    for url in re.findall(r"http://127\.0\.0\.1:5000/\S+", text):
        assert f'href="{url}"' in html  # every link of the text part is in the HTML too
    why = "you both work on Checkout, from Payments and B"  # the engine's first reason
    for needed in ("Ada Lovelace", "Why you were matched", why, "When:", "Where:"):
        assert needed in text
    assert "Reply to this email to write to Ada Lovelace." in text


def test_the_emails_skip_link_opens_a_confirm_page_for_its_recipient(
    app, client, make_user, make_round
):
    ada = make_user(email="ada@example.com")
    bob = make_user(email="bob@example.com", name="Bob Builder", team="B")
    messages, _ = sent_to_everyone(app, make_round, [[ada, bob]])
    for address, user_id, name in (
        ("ada@example.com", ada, "Ada"),
        ("bob@example.com", bob, "Bob"),
    ):
        text = body_text(messages[address], "plain")
        (url,) = re.findall(r"http://127\.0\.0\.1:5000(/skip/\S+)", text)
        assert f"http://127.0.0.1:5000{url}" in body_text(messages[address], "html")
        page = client.get(url)
        assert page.status_code == 200 and f"{name}" in page.get_data(as_text=True)
        assert "Skip my next round" in page.get_data(as_text=True)
        with app.app_context():
            assert coffee_member(db.session, user_id).snoozed_until is None  # GET: nothing yet
        assert client.post(url).status_code == 302
        with app.app_context():
            assert coffee_member(db.session, user_id).snoozed_until is not None
