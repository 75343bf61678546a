"""The parts of a page of the events list (subjects, organizations, sources), read as tuples.

`events_for_listing()` prefetches them as models: for a page of 50 events, some 600 model
instances, a queryset cloned per event and relation, and most of the page's time, though the
rows show a handful of columns of each. Here the page's events (read without the prefetch) get
the same parts from four queries of plain columns, the prefetch's four: each event's public
subjects (`public_subjects`, in the order entered), their display names, its public
organizations (`listed_organizations`) and its citations of public sources by source
(`listed_citations`), as light objects with the attributes and methods the row
(`detainees.templatetags.rows.event_list_rows`) and `describe_people_in` read.
tests/test_fast_html.py draws the rows both ways, over events of every kind, and compares them.
"""

from collections import defaultdict

from detainees.domain.links import UUID, record_url
from detainees.domain.models import (
    Citation,
    EventOrganization,
    EventPerson,
    Organization,
    Person,
    Source,
)
from detainees.read.event_lines import display_names
from detainees.read.event_lines import unnamed as unnamed_name

ORGANIZATIONS = "listed_organizations"
CITATIONS = "listed_citations"


class ListedPerson:
    """A subject as a row and `describe_unnamed` read it."""

    __slots__ = ("pk", "slug", "withheld", "unnamed", "display_name", "described_as")

    def __init__(self, pk, slug, withheld, unnamed, display_name):
        self.pk = pk
        self.slug = slug
        self.withheld = withheld
        self.unnamed = unnamed  # what `detainees.read.unnamed.is_unnamed` reads first
        self.display_name = display_name
        self.described_as = ""

    def get_absolute_url(self):
        return record_url("detainees:person-detail", self.slug)


class ListedRole:
    __slots__ = ("person",)

    def __init__(self, person):
        self.person = person


class ListedOrganization:
    __slots__ = ("slug", "name")

    def __init__(self, slug, name):
        self.slug = slug
        self.name = name

    def get_absolute_url(self):
        return record_url("detainees:organization-detail", self.slug)


ROLE_LABELS = dict(EventOrganization._meta.get_field("role").flatchoices)


class ListedLink:
    __slots__ = ("role", "organization")

    def __init__(self, role, organization):
        self.role = role
        self.organization = organization

    def get_role_display(self):
        return ROLE_LABELS.get(self.role, self.role)


class ListedSource:
    __slots__ = ("public_id", "reference_number", "title")

    def __init__(self, public_id, reference_number, title):
        self.public_id = public_id
        self.reference_number = reference_number
        self.title = title

    def get_absolute_url(self):
        return record_url("detainees:source-detail", self.public_id, UUID)


class ListedCitation:
    __slots__ = ("source_id", "source")

    def __init__(self, source_id, source):
        self.source_id = source_id
        self.source = source


def with_listed_parts(events: list) -> list:
    """Give each of `events` (a page read without the prefetch) its subjects, organizations and
    citations; no query for an empty page."""
    if not events:
        return events
    ids = [event.pk for event in events]
    subjects = list(
        EventPerson.objects.filter(
            Person.public_q("person__"), role=EventPerson.Role.SUBJECT, event_id__in=ids
        )
        .order_by("pk")
        .values_list(
            "event_id",
            "person_id",
            "person__slug",
            "person__public_id",
            "person__is_placeholder",
            "person__withheld",
        )
    )
    names = display_names(list({row[1] for row in subjects})) if subjects else {}
    people: dict[int, list] = defaultdict(list)
    for event_id, person_id, slug, public_id, is_placeholder, withheld in subjects:
        name = names.get(person_id)
        shown = unnamed_name(str(public_id), withheld) if name is None else name
        person = ListedPerson(person_id, slug, withheld, is_placeholder or name is None, shown)
        people[event_id].append(ListedRole(person))
    organizations: dict[int, list] = defaultdict(list)
    for event_id, role, slug, name in (
        EventOrganization.objects.filter(Organization.public_q("organization__"), event_id__in=ids)
        .order_by("pk")
        .values_list("event_id", "role", "organization__slug", "organization__name")
    ):
        organizations[event_id].append(ListedLink(role, ListedOrganization(slug, name)))
    citations: dict[int, list] = defaultdict(list)
    sources: dict[int, ListedSource] = {}
    for event_id, source_id, public_id, reference_number, title in (
        Citation.objects.filter(source__in=Source.objects.public(), event_id__in=ids)
        .order_by("source_id", "pk")
        .values_list(
            "event_id",
            "source_id",
            "source__public_id",
            "source__reference_number",
            "source__title",
        )
    ):
        source = sources.get(source_id)
        if source is None:
            source = sources[source_id] = ListedSource(public_id, reference_number, title)
        citations[event_id].append(ListedCitation(source_id, source))
    for event in events:
        event.public_subjects = people.get(event.pk, [])
        setattr(event, ORGANIZATIONS, organizations.get(event.pk, []))
        setattr(event, CITATIONS, citations.get(event.pk, []))
    return events
