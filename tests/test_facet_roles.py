"""Every facet counts what its label says, in exactly the role it says.

For each facet of the people list and of the events list (iterating the definitions, so a new
facet without an independent check here fails), the stored list's (record, value) pairs equal
those computed here straight from the events and links tables, on synthetic data in which
partner forces, organizations that carry out releases without ordering them, handovers and
retractions all occur.
"""

from collections import defaultdict

import pytest

from detainees.domain.models import (
    Affiliation,
    Event,
    EventListing,
    EventOrganization,
    EventPerson,
    Facility,
    FacilityControl,
    Nationality,
    Organization,
    Person,
    PersonListing,
    Place,
)
from detainees.read import listing_store
from detainees.read.facets import EVENT_FACETS, FACETS
from detainees.synthetic import generate_dataset
from tests import factories as f

pytestmark = pytest.mark.django_db

P, RETRACTED = "published", "retracted"
STATUS_BY_KIND = {
    "capture": "in_custody",
    "birth_in_captivity": "in_custody",
    "disappearance": "disappeared",
    "transfer": "transferred",
    "release": "released",
    "escape": "escaped",
    "death": "deceased",
    "remains_found": "deceased",
    "remains_identified": "deceased",
    "appropriation": "appropriated",
    "identity_restored": "identity_restored",
}
# Kinds whose undated events come before every dated one; other undated events come last.
BEGINNINGS = {"birth_in_captivity", "capture", "disappearance", "custody", "appropriation"}
STATUS_BY_CUSTODY_END = {
    "": "in_custody",
    "release": "released",
    "escape": "escaped",
    "transfer": "transferred",
    "death": "deceased",
}


class Oracle:
    """The (record id, value) pairs of every facet, from plain queries and Python."""

    def __init__(self):
        self.events = {
            e["pk"]: e
            for e in Event.objects.filter(status=P)
            .exclude(claim_status=RETRACTED)
            .values(
                "pk",
                "kind",
                "claim_status",
                "release_kind",
                "reengagement",
                "custody_end_reason",
                "facility_id",
                "place_id",
                "date_earliest",
                "date_latest",
                "order_hint",
            )
        }
        people = set(Person.objects.filter(status=P).values_list("pk", flat=True))
        self.people = people
        self.subjects = defaultdict(set)  # event -> its public subjects
        for event_id, person_id in EventPerson.objects.filter(role="subject").values_list(
            "event_id", "person_id"
        ):
            if event_id in self.events and person_id in people:
                self.subjects[event_id].add(person_id)
        self.orgs = dict(Organization.objects.filter(status=P).values_list("pk", "slug"))
        self.links = list(
            EventOrganization.objects.values_list("event_id", "organization_id", "role")
        )
        self.places = {
            p["pk"]: p
            for p in Place.objects.values("pk", "slug", "kind", "status", "parent_id", "country")
        }
        self.facilities = {
            pk: (slug, status)
            for pk, slug, status in Facility.objects.values_list("pk", "slug", "status")
        }

    def per_subject(self, pairs_of_event):
        """Each (event, value) pair, spread over the event's public subjects."""
        return {
            (person, value) for event, value in pairs_of_event for person in self.subjects[event]
        }

    def org_roles(self, kinds, roles):
        return {
            (event, self.orgs[org])
            for event, org, role in self.links
            if role in roles
            and event in self.events
            and self.events[event]["kind"] in kinds
            and org in self.orgs
        }

    def provinces(self, place_id):
        found, place = set(), self.places.get(place_id)
        for _ in range(3):
            if place is None:
                break
            if place["kind"] == "province" and place["status"] == P:
                found.add(place["slug"])
            place = self.places.get(place["parent_id"])
        return found

    # --- people ---

    def status(self):
        latest = {}
        for event_id, event in self.events.items():
            if event["kind"] not in (*STATUS_BY_KIND, "custody"):
                continue
            undated = event["date_earliest"] is None and event["date_latest"] is None
            key = (
                (0 if event["kind"] in BEGINNINGS else 2) if undated else 1,
                event["date_earliest"] is not None,
                event["date_earliest"] or 0,
                -(event["date_latest"] is not None),
                event["date_latest"] or 0,
                event["order_hint"],
                event_id,
            )
            if event["kind"] == "custody":
                after = STATUS_BY_CUSTODY_END.get(event["custody_end_reason"], "unknown")
            else:
                after = STATUS_BY_KIND[event["kind"]]
            for person in self.subjects[event_id]:
                if person not in latest or _later(key, latest[person][0]):
                    latest[person] = (key, after)
        return {(p, latest[p][1] if p in latest else "unknown") for p in self.people}

    def nationality(self):
        return {
            (p, str(c))
            for p, c in Nationality.objects.exclude(claim_status=RETRACTED).values_list(
                "person_id", "country"
            )
            if p in self.people
        }

    def organization(self):
        return {
            (p, self.orgs[o])
            for p, o in Affiliation.objects.filter(status=P)
            .exclude(claim_status=RETRACTED)
            .values_list("person_id", "organization_id")
            if p in self.people and o in self.orgs
        }

    def capturing_force(self):
        return self.per_subject(self.org_roles({"capture"}, {"capturing_force"}))

    def release_authority(self):
        return self.per_subject(self.org_roles({"release"}, {"ordered_by"}))

    def custodian(self):
        named = self.org_roles({"custody"}, {"custodian"})
        controls = defaultdict(set)
        for facility, controller in FacilityControl.objects.exclude(
            claim_status=RETRACTED
        ).values_list("facility_id", "controller_id"):
            if controller in self.orgs:
                controls[facility].add(self.orgs[controller])
        via = {
            (e, slug)
            for e, ev in self.events.items()
            if ev["kind"] == "custody"
            and ev["facility_id"]
            and self.facilities[ev["facility_id"]][1] == P
            for slug in controls[ev["facility_id"]]
        }
        return self.per_subject(named | via)

    def facility(self):
        return self.per_subject(
            (e, self.facilities[ev["facility_id"]][0])
            for e, ev in self.events.items()
            if ev["facility_id"] and self.facilities[ev["facility_id"]][1] == P
        )

    def release_kind(self):
        return self.per_subject(
            (e, ev["release_kind"])
            for e, ev in self.events.items()
            if ev["kind"] == "release" and ev["release_kind"]
        )

    def country(self):
        return self.per_subject(
            (e, str(self.places[ev["place_id"]]["country"]))
            for e, ev in self.events.items()
            if ev["place_id"] and self.places[ev["place_id"]]["status"] == P
        )

    def province(self):
        return self.per_subject(self.event_province())

    def reengaged(self):
        return self.per_subject(
            (e, ev["reengagement"]) for e, ev in self.events.items() if ev["kind"] == "reengagement"
        )

    def claim_status(self):
        return self.per_subject((e, ev["claim_status"]) for e, ev in self.events.items())

    # --- events ---

    def event_kind(self):
        return {(e, ev["kind"]) for e, ev in self.events.items()}

    def event_year(self):
        return {
            (e, str(ev["date_earliest"].year))
            for e, ev in self.events.items()
            if ev["date_earliest"]
            and ev["date_latest"]
            and ev["date_earliest"].year == ev["date_latest"].year
        }

    def event_province(self):
        return {
            (e, slug) for e, ev in self.events.items() for slug in self.provinces(ev["place_id"])
        }

    def event_group(self):
        return self.org_roles(set(Event.Kind.values), {"group"})

    def event_force(self):
        return self.org_roles(
            set(Event.Kind.values), {"capturing_force", "partner_force", "carried_out_by"}
        )


def _later(a, b) -> bool:
    """Whether timeline key `a` comes after `b` (undated beginnings first, then by dates, hint,
    id, other undated events last)."""
    return a > b


PERSON_CHECKS = {name: name for name in FACETS}
EVENT_CHECKS = {name: f"event_{name}" for name in EVENT_FACETS}


def stored(model, key) -> dict[str, set]:
    pairs = defaultdict(set)
    for record, tokens in model.objects.values_list(key, "facets"):
        for token in tokens:
            name, _, value = token.partition("=")
            pairs[name].add((record, value))
    return pairs


def compare(facets, checks, oracle, found):
    wrong = {}
    for name, facet in facets.items():
        method = getattr(oracle, checks[name], None)
        assert method, f"facet {name} ({facet.label!r}) has no independent check here"
        expected = method()
        if found[name] != expected:
            wrong[name] = (
                sorted(found[name] - expected)[:5],  # counted without the property
                sorted(expected - found[name])[:5],  # has it, not counted
            )
    assert not wrong, f"facets counting something other than their label: {wrong}"


@pytest.fixture(scope="module")
def synthetic(module_data):
    module_data(generate_dataset, persons=150, events=1500, seed=7)


def test_every_person_facet_counts_exactly_its_role(synthetic):
    oracle = Oracle()
    # The data has what the roles are about: partner forces on captures that another force
    # made, and release organizations that did not order the release.
    partner_only = (
        oracle.per_subject(oracle.org_roles({"capture"}, {"partner_force"}))
        - oracle.capturing_force()
    )
    not_ordering = (
        oracle.per_subject(oracle.org_roles({"release"}, {"carried_out_by"}))
        - oracle.release_authority()
    )
    assert partner_only and not_ordering
    compare(FACETS, PERSON_CHECKS, oracle, stored(PersonListing, "person_id"))


def test_every_event_facet_counts_exactly_its_role(synthetic):
    compare(EVENT_FACETS, EVENT_CHECKS, Oracle(), stored(EventListing, "event_id"))


def test_a_partner_force_alone_does_not_make_a_capturing_force(client):
    anp = f.OrganizationFactory(name="ANP", status=P)
    isaf = f.OrganizationFactory(name="ISAF", status=P)
    partnered, captured = (f.PersonFactory(status=P) for _ in range(2))
    for person, role in ((partnered, "partner_force"), (captured, "capturing_force")):
        event = f.EventFactory(status=P)
        EventPerson.objects.create(event=event, person=person)
        EventOrganization.objects.create(event=event, organization=isaf, role="capturing_force")
        EventOrganization.objects.create(event=event, organization=anp, role=role)
    release = f.EventFactory(status=P, kind="release", date="2013")
    EventPerson.objects.create(event=release, person=partnered)
    EventOrganization.objects.create(event=release, organization=anp, role="carried_out_by")

    def listed(**params):
        rows = client.get("/api/v1/persons/", params).json()["results"]
        return {r["id"] for r in rows}

    assert listed(capturing_force=anp.slug) == {str(captured.public_id)}
    assert listed(capturing_force=isaf.slug) == {str(captured.public_id), str(partnered.public_id)}
    assert listed(release_authority=anp.slug) == set()
    counts = client.get("/api/v1/persons/facets/").json()["facets"]
    assert {r["value"]: r["count"] for r in counts["capturing_force"]} == {
        isaf.slug: 2,
        anp.slug: 1,
    }
    assert counts["release_authority"] == []
    # An unchanged definition: the stored list is what the definitions compute.
    assert listing_store.is_exact()


def test_values_read_through_one_link_row():
    """The stored SQL joins each organization role once (the role and the slug it counts come
    from the same link)."""
    sql = str(FACETS["capturing_force"].pair_querysets()[0].query)
    assert (
        sql.count('JOIN "detainees_eventorganization"')
        + sql.count('FROM "detainees_eventorganization"')
        == 1
    ), sql
