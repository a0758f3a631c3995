"""Where a group meets: in person at their shared office, or by video on one member's link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matcher.models import User
from matcher.video_links import safe_video_link


@dataclass(frozen=True)
class Place:
    """How a group meets; every member's email and calendar entry say the same."""

    in_person: bool = False
    office: str | None = None  # in person: the office they all share
    video_link: str | None = None  # by video: the link of one member...
    link_owner: str | None = None  # ...their display name
    link_owner_id: int | None = None

    @property
    def location(self) -> str | None:
        """The calendar entry's LOCATION: the office, or the video link, or nothing."""
        return self.office if self.in_person else self.video_link

    def whose_link(self, viewer_id: int) -> str:
        """'your' or 'Ada Lovelace’s': whose video link it is, as the viewer reads it."""
        return "your" if self.link_owner_id == viewer_id else f"{self.link_owner}\u2019s"

    def sentence(self, viewer_id: int) -> str | None:
        """'In person, at the office you share: Berlin.', 'By video, on Ada’s link: …' or None."""
        if self.in_person:
            return f"In person, at the office you share: {self.office}."
        if self.video_link:
            return f"By video, on {self.whose_link(viewer_id)} link: {self.video_link}"
        return None


def meeting_place(members: Sequence[User]) -> Place:
    """In person when all share an office and nobody wants video only (as the engine scores
    it); else by video on the first member's link (group order, so every copy names the same
    one) when anyone gave a link; else a Place that says nothing."""
    people = [m for m in members if not m.is_deleted]
    profiles = [m.profile for m in people]
    offices = {(p.location or "") if p is not None else "" for p in profiles}
    video_only = any(p is not None and p.meeting_mode == "video" for p in profiles)
    if len(offices) == 1 and "" not in offices and not video_only:
        return Place(in_person=True, office=offices.pop())
    for person in people:
        link = safe_video_link(person.profile.video_link if person.profile else None)
        if link is not None:
            return Place(video_link=link, link_owner=person.display_name, link_owner_id=person.id)
    return Place()
