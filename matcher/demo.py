"""A realistic demo organisation, so a newcomer sees a living app within a minute."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.auth.service import find_user_by_email, hash_password, register_user, set_password
from matcher.models import Programme, Skill, Team, User
from matcher.models.people import utcnow
from matcher.profile.service import ProfileData, Slot, update_profile
from matcher.programmes import catalogue, members

MEMBER_PASSWORD = "coffee-demo-2026"
ADMIN_EMAIL = "admin@example.com"

# Team -> the cross-team projects it works on; shared projects are what matcher looks for.
TEAMS: dict[str, list[str]] = {
    "Payments": ["Checkout v2", "Fraud detection", "Ledger"],
    "Checkout": ["Checkout v2", "Design system"],
    "Search": ["Search relevance", "Observability"],
    "Data Platform": ["Event pipeline", "Search relevance", "Fraud detection"],
    "Mobile": ["Checkout v2", "Design system", "Single sign-on"],
    "Identity": ["Single sign-on", "Kubernetes migration"],
    "Growth": ["Event pipeline", "Design system", "Experiments"],
    "Platform": ["Kubernetes migration", "Event pipeline", "Observability"],
    "SRE": ["Kubernetes migration", "Observability", "Incident tooling"],
}

# Ordered by popularity: people pick early entries far more often (a Zipf-like draw).
INTERESTS = [
    "Coffee",
    "Running",
    "Python",
    "Board games",
    "Cooking",
    "Rust",
    "Climbing",
    "Photography",
    "Kubernetes",
    "Music production",
    "Cycling",
    "Chess",
    "Distributed systems",
    "Gardening",
    "Machine learning",
    "Hiking",
    "Go",
    "Sci-fi",
    "Baking",
    "Type theory",
    "Jazz",
    "Yoga",
    "Functional programming",
    "Woodworking",
    "Security",
    "Podcasts",
    "Bouldering",
    "Databases",
    "Sailing",
    "Mentoring",
    "Accessibility",
    "Home automation",
    "Film",
    "Languages",
    "Knitting",
    "Compilers",
    "Tennis",
    "Open source",
    "Birdwatching",
    "Pottery",
]

# What mentors can help with and mentees want help with (the mentoring vocabulary).
SKILLS = [
    "System design",
    "Kubernetes",
    "Career growth",
    "Public speaking",
    "Code review",
    "Incident response",
    "Data modelling",
    "Writing RFCs",
    "Frontend performance",
    "Rust",
]

# The demo's programmes besides the cross-team coffee (which every database has).
DEMO_PROGRAMMES = [
    catalogue.ProgrammeValues(
        name="New-joiner buddies",
        slug="buddies",
        kind="buddies",
        description="Everyone who joined in the last 8 weeks gets a buddy from another team.",
        joined_within_weeks=8,
        auto_enrol=True,
        pairing_weeks=8,
    ),
    catalogue.ProgrammeValues(
        name="Mentoring",
        slug="mentoring",
        kind="mentoring",
        description="Learn from a colleague who knows what you want to learn; 12-week terms.",
        pairing_weeks=12,
        mentor_capacity=3,
    ),
]

OFFICES = [
    ("Berlin", "Europe/Berlin"),
    ("London", "Europe/London"),
    ("Lisbon", "Europe/Lisbon"),
    ("New York", "America/New_York"),
    (None, "Europe/Warsaw"),  # remote people give no office
]

FIRST = [
    "Ada",
    "Bruno",
    "Chen",
    "Dalia",
    "Emeka",
    "Freya",
    "Goran",
    "Hana",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zofia",
    "Amara",
    "Felix",
    "Ingrid",
    "Luca",
    "Mira",
    "Noor",
]
LAST = [
    "Okafor",
    "Schmidt",
    "Silva",
    "Nakamura",
    "Kowalski",
    "Haddad",
    "Novak",
    "Larsen",
    "Rossi",
    "Fernandes",
    "Ivanova",
    "Moreau",
    "Yilmaz",
    "Patel",
    "Andersen",
    "Costa",
    "Weber",
    "Kim",
    "Dubois",
    "Mensah",
    "Horvat",
    "Lindqvist",
    "Garcia",
    "Sato",
]


@dataclass(frozen=True)
class SeedSummary:
    """What seeding did, for the console."""

    created: int
    total: int
    teams: int
    member_password: str
    admin_email: str
    admin_password: str
    programmes: tuple[str, ...] = ()


def seed_organisation(session: Session, people: int = 64, seed: int = 7) -> SeedSummary:
    """Add `people` demo engineers (skipping existing emails) and an admin; not committed."""
    rng = random.Random(seed)
    member_hash = hash_password(MEMBER_PASSWORD)  # hashed once: scrypt is slow on purpose
    team_names = list(TEAMS)
    coffee = catalogue.default_programme(session)
    buddies, mentoring = (_programme(session, values) for values in DEMO_PROGRAMMES)
    today = utcnow().date()
    created = 0
    for index in range(people):
        first, last = FIRST[index % len(FIRST)], LAST[(index * 7 + index // 24) % len(LAST)]
        email = f"{first}.{last}{index // len(FIRST) or ''}@example.com".lower()
        if find_user_by_email(session, email) is not None:
            continue
        user = User(email=email, display_name=f"{first} {last}", password_hash=member_hash)
        user.email_verified_at = utcnow()  # only confirmed addresses are paired
        # One in eight joined the company in the last weeks: the buddy programme's newcomers.
        new_joiner = index % 8 == 3
        user.joined_on = today - timedelta(
            days=rng.randint(3, 40) if new_joiner else rng.randint(120, 2000)
        )
        session.add(user)
        data = _profile(rng, team_names[index % len(team_names)])
        update_profile(session, user, data)
        session.flush()
        members.join(
            session, coffee, user, members.Choice(coffee.id, None, data.cadence_weeks), today
        )
        _join_others(session, rng, user, index, new_joiner, buddies, mentoring, today)
        created += 1
    admin_password = secrets.token_urlsafe(12)
    admin = find_user_by_email(session, ADMIN_EMAIL)
    if admin is None:
        register_user(session, "Programme Admin", ADMIN_EMAIL, admin_password, None, True)
    else:
        admin.is_admin = True
        set_password(admin, admin_password)
    session.flush()
    total = session.scalar(
        select(func.count()).select_from(User).where(User.email.like("%@example.com"))
    )
    teams = session.scalar(select(func.count()).select_from(Team))
    names = tuple(p.name for p in catalogue.all_programmes(session, include_archived=False))
    return SeedSummary(
        created, total - 1, teams, MEMBER_PASSWORD, ADMIN_EMAIL, admin_password, names
    )


def _programme(session: Session, values: catalogue.ProgrammeValues) -> Programme:
    """The demo programme with that slug, made when missing."""
    return catalogue.by_slug(session, values.slug) or catalogue.create_programme(
        session, values, None
    )


def _skills(session: Session, rng: random.Random, k: int) -> list[Skill]:
    chosen = rng.sample(SKILLS, k=k)
    skills = [Skill.get_or_create(session, name) for name in chosen]
    session.flush()
    return skills


def _join_others(
    session: Session,
    rng: random.Random,
    user: User,
    index: int,
    new_joiner: bool,
    buddies: Programme,
    mentoring: Programme,
    today: date,
) -> None:
    """New joiners get a buddy, some old hands volunteer; some mentor, some want a mentor."""
    if new_joiner:
        members.join(session, buddies, user, members.Choice(buddies.id, "newcomer"), today)
    elif index % 8 in (1, 6):
        members.join(session, buddies, user, members.Choice(buddies.id, "buddy"), today)
    if index % 6 == 0:
        user.can_help = _skills(session, rng, rng.randint(2, 4))
        members.join(session, mentoring, user, members.Choice(mentoring.id, "mentor"), today)
    elif index % 6 in (2, 4) or new_joiner:
        user.wants_help = _skills(session, rng, rng.randint(1, 2))
        members.join(session, mentoring, user, members.Choice(mentoring.id, "mentee"), today)


def _profile(rng: random.Random, team: str) -> ProfileData:
    office, zone = rng.choice(OFFICES)
    projects = rng.sample(TEAMS[team], k=rng.randint(1, min(3, len(TEAMS[team]))))
    weights = [1 / (rank + 1) for rank in range(len(INTERESTS))]
    interests: list[str] = []
    wanted = rng.randint(3, 7)
    while len(interests) < wanted:
        pick = rng.choices(INTERESTS, weights=weights)[0]
        if pick not in interests:
            interests.append(pick)
    start = rng.choice([9, 10, 11]) * 60
    days = sorted(rng.sample(range(5), k=rng.randint(2, 5)))
    return ProfileData(
        team=team,
        projects=tuple(projects),
        interests=tuple(interests),
        location=office,
        timezone=zone,
        cadence_weeks=rng.choices([1, 2, 4], weights=[6, 3, 1])[0],
        meeting_mode=rng.choices(["either", "in_person", "video"], weights=[5, 2, 3])[0],
        availability=tuple(Slot(day, start, start + rng.choice([120, 240, 360])) for day in days),
    )
