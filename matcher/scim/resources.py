"""What matcher serves over SCIM, as scim2-models classes: the schemas /Schemas publishes,
the resource types, the service provider configuration, and what requests are read with.

Only attributes matcher keeps are published, so a client reads back what it wrote. Values
matcher takes but a person may change afterwards (their name's parts, time zone, office)
are write-only: accepted, never returned.
"""

from typing import Annotated, Any

from flask import Flask
from pydantic import Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Extension,
    Filter,
    Meta,
    Mutability,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    Returned,
    SchemaExtension,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)

from matcher.links import public_url

PREFIX = "/scim/v2"
MEDIA_TYPE = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
# The largest page a list answers (a larger `count` gets this many).
MAX_RESULTS = 200
# Suggested time zones in the schema (any IANA name is accepted).
TIME_ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)
KINDS = ("work", "home", "other")


def _ref(**kwargs: Any) -> Any:
    return Field(None, serialization_alias="$ref", validation_alias="$ref", **kwargs)


class Name(ComplexAttribute):
    """The parts of a person's name; they make the display name when none is sent."""

    formatted: Annotated[str | None, Mutability.write_only, Returned.never] = None
    family_name: Annotated[str | None, Mutability.write_only, Returned.never] = None
    given_name: Annotated[str | None, Mutability.write_only, Returned.never] = None


class Email(ComplexAttribute):
    """An address. matcher keeps one, the work one (else the first), as the only (primary)
    address: `primary` is not kept."""

    value: Annotated[str | None, Required.true] = None
    type: str | None = Field(None, examples=list(KINDS))


class Address(ComplexAttribute):
    """A postal address; the work (or primary) one's locality is the person's office."""

    locality: Annotated[str | None, Mutability.write_only, Returned.never] = None
    type: Annotated[str | None, Mutability.write_only, Returned.never] = Field(
        None, examples=list(KINDS)
    )
    primary: Annotated[bool | None, Mutability.write_only, Returned.never] = None


class TeamMembership(ComplexAttribute):
    """The person's team, as a Group."""

    value: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    ref: Annotated[Reference["Group"] | None, Mutability.read_only] = _ref()
    display: Annotated[str | None, Mutability.read_only] = None


class User(Resource[Any]):
    """A person in matcher."""

    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = Field(
        None,
        description="The person's sign-in name at the identity provider; their email "
        "address unless emails says otherwise.",
    )
    name: Annotated[Name | None, Mutability.write_only, Returned.never] = Field(
        None, description="Makes the display name when displayName is not sent."
    )
    display_name: Annotated[str | None, Required.true] = Field(
        None, description="The name other people see (80 characters at most)."
    )
    timezone: Annotated[str | None, Mutability.write_only, Returned.never] = Field(
        None,
        examples=list(TIME_ZONES),
        description="An IANA time zone for the person's free hours; they may change it.",
    )
    active: Annotated[bool | None, Required.true] = Field(
        None,
        description="false pauses the person in every programme (their history is kept); "
        "true resumes them.",
    )
    emails: Annotated[list[Email] | None, Required.true] = Field(
        None,
        description="matcher keeps one address, where it writes: the work one, else the "
        "first; userName when it is an email address and no email is sent.",
    )
    addresses: Annotated[list[Address] | None, Mutability.write_only, Returned.never] = Field(
        None, description="The work (or primary) address's locality is the person's office."
    )
    groups: Annotated[list[TeamMembership] | None, Mutability.read_only] = Field(
        None, description="The person's team."
    )


class Manager(ComplexAttribute):
    """The person's manager: another User's id."""

    value: Annotated[str | None, Required.true, CaseExact.true] = None
    ref: Reference["User"] | None = _ref()


class EnterpriseUser(Extension):
    """The person's team (department) and manager."""

    __schema__ = URN(ENTERPRISE_SCHEMA)

    department: str | None = Field(
        None, description="The person's team in matcher (made when new)."
    )
    manager: Manager | None = Field(
        None, description="Never paired with their manager or their own reports."
    )


class Member(ComplexAttribute):
    """A person in the team."""

    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    ref: Annotated[Reference["User"] | None, Mutability.immutable] = _ref()
    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])


class Group(Resource[Any]):
    """A team in matcher; its members are the people in it."""

    __schema__ = URN(GROUP_SCHEMA)

    # Teams have no identity-provider id: accepted from nobody, never returned.
    external_id: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    display_name: Annotated[str | None, Required.true] = Field(
        None, description="The team's name (80 characters at most)."
    )
    members: list[Member] | None = Field(
        None,
        description="Adding a person moves them into this team; removing one leaves "
        "them without a team.",
    )


UserResource = User[EnterpriseUser]
# Okta and Entra send attributes matcher does not keep (title, phone numbers, a password),
# Entra removes members by value and writes into entries that are not there yet: take them.
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)
RESOURCE_TYPES = (
    ResourceType(
        id="User",
        name="User",
        description="People",
        endpoint="/Users",
        schema_=URN(USER_SCHEMA),
        schema_extensions=[SchemaExtension(schema_=URN(ENTERPRISE_SCHEMA), required=False)],
    ),
    ResourceType(
        id="Group",
        name="Group",
        description="Teams",
        endpoint="/Groups",
        schema_=URN(GROUP_SCHEMA),
    ),
)
PROVIDER = ScimProvider(
    models=[User, EnterpriseUser, Group], resource_types=RESOURCE_TYPES, policy=POLICY
)


def location(app_config: Any, path: str) -> str:
    """The absolute address of a SCIM path ("/Users/3") on BASE_URL."""
    return public_url(app_config, PREFIX + path)


def service_provider_config(app: Flask) -> ServiceProviderConfig:
    """What the service supports: PATCH and filters; no bulk, sorting, ETags or passwords."""
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A token made with `flask scim token create NAME`, sent as "
                "Authorization: Bearer TOKEN.",
                primary=True,
            )
        ],
        meta=Meta(
            resource_type="ServiceProviderConfig",
            location=location(app.config, "/ServiceProviderConfig"),
        ),
    )
