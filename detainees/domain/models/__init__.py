from .common import ClaimStatus, PublicationStatus, Publishable
from .editorial import Correction, ReviewComment
from .events import BatchMembership, Event, EventOrganization, EventPerson, ReleaseBatch
from .imports import ExternalId
from .jobs import ImportJob
from .listing import (
    EventFacetTotal,
    EventListing,
    FacetTotal,
    PersonListing,
    StaleEventListing,
    StaleListing,
)
from .organizations import Organization, OrganizationName
from .people import (
    Affiliation,
    Nationality,
    Person,
    PersonName,
    PersonNameKey,
    PersonRedirect,
    Relationship,
)
from .places import Facility, FacilityControl, FacilityName, Place
from .sources import Citation, Source
from .tombstones import Tombstone

__all__ = [
    "Affiliation",
    "BatchMembership",
    "Citation",
    "ClaimStatus",
    "Correction",
    "Event",
    "EventFacetTotal",
    "EventListing",
    "EventOrganization",
    "EventPerson",
    "ExternalId",
    "FacetTotal",
    "Facility",
    "FacilityControl",
    "FacilityName",
    "ImportJob",
    "Nationality",
    "Organization",
    "OrganizationName",
    "Person",
    "PersonListing",
    "PersonName",
    "PersonNameKey",
    "PersonRedirect",
    "Place",
    "PublicationStatus",
    "Publishable",
    "Relationship",
    "ReleaseBatch",
    "ReviewComment",
    "Source",
    "StaleEventListing",
    "StaleListing",
    "Tombstone",
]

# Imported last: `history` generates the history models of all the above (PersonHistory, ...),
# `touches` the triggers moving a row's `updated` when a record it shows changes.
from . import history, touches  # noqa: E402, F401  (registers the event models)

touches.register(
    [
        Affiliation,
        BatchMembership,
        Citation,
        Correction,
        Event,
        EventOrganization,
        EventPerson,
        Facility,
        FacilityControl,
        FacilityName,
        Nationality,
        Organization,
        OrganizationName,
        Person,
        PersonListing,
        PersonName,
        Place,
        Relationship,
        ReleaseBatch,
        Source,
    ]
)
