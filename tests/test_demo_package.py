"""The demo case as data (`data/demo/`): what loading it must give, fact for fact.

The expected values were read from the database the hand-written loader (a Python module that
entered the case call by call) produced, before the package replaced it; loading the package
gives the same records, the same page and the same status line.
"""

import csv
import json
from collections import Counter

import pytest

from detainees.domain.models import (
    BatchMembership,
    Citation,
    ClaimStatus,
    Event,
    EventOrganization,
    EventPerson,
    FacilityControl,
    Organization,
    Place,
    PublicationStatus,
)
from detainees.read.person import person_page, person_queryset
from detainees.write.demo import PACKAGE, PERSON_SLUG, load_demo
from detainees.write.exports.package import csv_value
from detainees.write.exports.tables import BY_NAME, ID, REF, TABLES
from tests import factories as f

pytestmark = pytest.mark.django_db

ROWS_PER_TABLE = {
    "organizations": 14,
    "organization_names": 13,
    "places": 10,
    "facilities": 1,
    "facility_names": 1,
    "facility_controls": 2,
    "persons": 3,
    "person_names": 5,
    "nationalities": 1,
    "sources": 5,
    "release_batches": 1,
    "events": 8,
    "event_people": 11,
    "event_organizations": 10,
    "affiliations": 5,
    "batch_memberships": 1,
    "relationships": 1,
    "citations": 48,
}

CITED_FACTS = {
    "event": 23,
    "affiliation": 10,
    "person": 5,
    "facility_control": 2,
    "person_name": 2,
    "nationality": 2,
    "batch": 2,
    "batch_membership": 1,
    "relationship": 1,
}

US_FORCES = "United States Forces – Afghanistan"
AFGHAN_GOVERNMENT = "Government of Afghanistan"

# (kind, date, end date, order hint, summary, footnote numbers, custodians with their spans)
TIMELINE = [
    (
        "custody",
        "",
        "2010",
        0,
        "Held in a jail in Pakistan until his escape",
        [12, 13],
        [("Government of Pakistan", "", "2010")],
    ),
    ("escape", "2010", "", 0, "Escaped from a jail in Pakistan", [12, 14, 15], []),
    (
        "capture",
        "2011-04-20",
        "",
        0,
        "Captured by ISAF and Afghan forces in a raid in Khanabad district, Kunduz",
        [16, 17, 18, 5],
        [],
    ),
    (
        "custody",
        "2011-04-20",
        "2011-04-20/2014",
        1,
        "Held at the Parwan Detention Facility",
        [19, 20],
        [(US_FORCES, "2011-04-20", "2013-03"), (AFGHAN_GOVERNMENT, "2013-03", "2013-03/2014")],
    ),
    (
        "release",
        "2011-04-20/2014",
        "",
        1,
        "First release, on President Karzai's orders",
        [21, 22, 23, 20],
        [],
    ),
    ("capture", "2011-04-20/2014", "", 2, "Detained again by the Afghan authorities", [24], []),
    (
        "release",
        "2011-04-20/2014",
        "",
        3,
        "Second release, on President Karzai's orders",
        [21, 22, 23, 20],
        [],
    ),
    (
        "reengagement",
        "2014",
        "",
        0,
        "Leads more than 300 fighters in Kunduz province",
        [6, 25, 7],
        [],
    ),
]

STATUS_LINE = (
    "Released (between 20 April 2011 and 2014, ordered by Hamid Karzai, President of "
    "Afghanistan); re-engaged, confirmed 2014"
)

# (organization, role, start, end, strength, footnote numbers), in the page's order.
AFFILIATIONS = [
    (
        "IMU",
        "top commander of the IMU network in Afghanistan",
        "2010",
        "2011-04-20",
        None,
        [3, 4, 5],
    ),
    ("IMU", "leader commanding fighters in Kunduz province", "2014", "", 300, [6, 7]),
    (
        "IMU",
        "key conduit between the senior IMU leadership in Pakistan and senior Taliban "
        "leadership in Afghanistan",
        "",
        "2011-04-20",
        None,
        [8, 9, 10],
    ),
    ("", "senior al-Qaeda leader", "", "", None, [11]),
]


@pytest.fixture
def page(demo):
    return person_page(person_queryset().get(slug=PERSON_SLUG))


def test_the_demo_fills_every_table_with_the_cases_rows(demo):
    counts = {table.name: table.model._default_manager.count() for table in TABLES}
    assert counts == ROWS_PER_TABLE


def test_every_demo_record_is_published(demo):
    for table in TABLES:
        if table.publishable:
            statuses = set(table.model._default_manager.values_list("status", flat=True))
            assert statuses == {PublicationStatus.PUBLISHED}, table.name


def test_citations_cover_people_names_nationalities_affiliations_and_events(demo):
    cited = Counter()
    for citation in Citation.objects.all():
        cited.update(name for name in CITED_FACTS if getattr(citation, f"{name}_id"))
    assert dict(cited) == CITED_FACTS


def test_the_private_notes_come_with_the_case(demo):
    secondhand = Citation.objects.exclude(internal_notes="")
    assert secondhand.count() == 25
    assert set(secondhand.values_list("internal_notes", flat=True)) == {
        "Quoted from the 2014 LWJ article; not yet checked against the original."
    }
    assert sorted(
        person_queryset(published_only=False)
        .get(slug=PERSON_SLUG)
        .affiliations.exclude(internal_notes="")
        .values_list("role", flat=True)
    ) == ["senior al-Qaeda leader", "top commander of the IMU network in Afghanistan"]


def test_qari_bilals_timeline_has_every_event_with_its_footnotes_and_custodians(page):
    timeline = [
        (
            fact.obj.kind,
            fact.obj.date,
            fact.obj.end_date,
            fact.obj.order_hint,
            fact.obj.summary,
            fact.notes,
            [(c.organization.name, c.start, c.end) for c in fact.custodians],
        )
        for fact in page["timeline"]
    ]
    assert timeline == TIMELINE


def test_qari_bilals_status_line_and_footnotes(page):
    assert page["status_line"] == STATUS_LINE
    # One note per passage: the 41 citations on the page quote 32 passages.
    assert len(page["footnotes"]) == 32
    assert [n.name for n in page["names"]] == ["Qari Bilal", "Bilal", "Qari Belal"]
    assert [(str(f.obj.country), f.notes) for f in page["nationalities"]] == [("UZ", [1, 2])]
    # After the timeline and the batch: the tie to Qari Sibghatullah, the names, the person.
    assert [(t.label, t.other.display_name, t.notes) for t in page["relationships"]] == [
        ("associate of", "Qari Sibghatullah", [27])
    ]
    assert [(f.obj.name, f.notes) for f in page["name_sources"]] == [
        ("Qari Bilal", [28]),
        ("Bilal", [29]),
        ("Qari Belal", []),
    ]
    assert page["person_notes"] == [30, 31, 32]


def test_qari_bilals_affiliations_keep_role_dates_strength_and_citations(page):
    affiliations = [
        (
            f.obj.organization.abbreviation,
            f.obj.role,
            f.obj.start,
            f.obj.end,
            f.obj.strength_estimate,
            f.notes,
        )
        for f in page["affiliations"]
    ]
    assert affiliations == AFFILIATIONS


def test_the_parwan_handover_is_two_control_periods_each_cited(demo):
    periods = [
        (c.facility.name, c.controller.name, c.start, c.end, c.claim_status, c.citations.count())
        for c in FacilityControl.objects.order_by("start")
    ]
    assert periods == [
        ("Parwan Detention Facility", US_FORCES, "2009/2010", "2013-03", "confirmed", 1),
        ("Parwan Detention Facility", AFGHAN_GOVERNMENT, "2013-03", "", "confirmed", 1),
    ]


def test_the_batch_declares_its_totals_and_includes_him_with_inclusion_unknown(demo):
    membership = BatchMembership.objects.select_related("batch", "person").get()
    batch = membership.batch
    assert (batch.title, batch.date) == (
        "Release of 65 of 88 detainees the US called dangerous",
        "2014-02",
    )
    assert (batch.declared_considered, batch.declared_released) == (88, 65)
    assert (batch.ordered_by.name, batch.carried_out_by.name) == (AFGHAN_GOVERNMENT,) * 2
    assert (membership.person.slug, membership.inclusion, membership.claim_status) == (
        PERSON_SLUG,
        BatchMembership.Inclusion.UNKNOWN,
        ClaimStatus.REPORTED,
    )
    assert batch.citations.count() == 2 and membership.citations.count() == 1


def test_the_events_keep_their_people_and_organizations_in_order(demo):
    links = [
        (link.event.summary, link.person.display_name, link.role, link.capacity, link.note)
        for link in EventPerson.objects.exclude(role=EventPerson.Role.SUBJECT).order_by("pk")
    ]
    assert links == [
        (
            "Captured by ISAF and Afghan forces in a raid in Khanabad district, Kunduz",
            "Qari Sibghatullah",
            "related",
            "",
            "seized at his home",
        ),
        (
            "First release, on President Karzai's orders",
            "Hamid Karzai",
            "ordered_by",
            "President of Afghanistan",
            "",
        ),
        (
            "Second release, on President Karzai's orders",
            "Hamid Karzai",
            "ordered_by",
            "President of Afghanistan",
            "",
        ),
    ]


def package_tables() -> dict[str, list[list[str]]]:
    """{table: rows, header first} of every CSV the package lists."""
    descriptor = json.loads(PACKAGE.read_text(encoding="utf-8"))
    tables = {}
    for resource in descriptor["resources"]:
        with (PACKAGE.parent / resource["path"]).open(encoding="utf-8", newline="") as file:
            tables[resource["name"]] = list(csv.reader(file))
    return tables


def database_rows(table, header: list[str]) -> list[list[str]]:
    """The table's `header` columns as the package writes them, in the order rows were inserted."""
    columns = [table.column(name) for name in header]
    lookups = [
        "public_id" if c.type == ID else f"{c.name}__public_id" if c.type == REF else c.field
        for c in columns
    ]
    rows = table.model._default_manager.order_by("pk").values_list(*lookups)
    return [[csv_value(c, v) for c, v in zip(columns, row, strict=True)] for row in rows]


def test_the_package_has_every_table_in_the_importers_columns():
    tables = package_tables()
    assert list(tables) == [t.name for t in TABLES]
    for name, rows in tables.items():
        table = BY_NAME[name]
        header = rows[0]
        # A column empty in every row is left out: loading never blanks what another way of
        # entering a record (the synthetic data's notes) put there.
        assert header[0] == "id" and header == [c.name for c in table.columns if c.name in header]
        assert {c.name for c in table.columns if c.required} <= set(header), name
        assert all(any(row[i] for row in rows[1:]) for i in range(len(header))), name
        assert len(rows) - 1 == ROWS_PER_TABLE[name], name


def test_every_cell_of_the_package_reaches_the_database(demo):
    for name, rows in package_tables().items():
        table = BY_NAME[name]
        loaded = database_rows(table, rows[0])
        assert {r[0]: r for r in loaded} == {r[0]: r for r in rows[1:]}, name
        if not any(c.ref == name for c in table.refs()):
            # Linked rows keep the package's order (pages list them in it); places and
            # organizations are inserted parents first.
            assert [r[0] for r in loaded] == [r[0] for r in rows[1:]], name


def test_qari_bilal_keeps_the_public_id_the_package_gives_him(client, demo):
    bilal = person_queryset().get(slug=PERSON_SLUG)
    ids = [row[0] for row in package_tables()["persons"][1:]]
    assert str(bilal.public_id) == ids[0]
    response = client.get(f"/id/{ids[0]}/")
    assert (response.status_code, response["Location"]) == (301, f"/people/{PERSON_SLUG}/")


def test_the_case_takes_the_organizations_and_places_already_there():
    """Entered another way first (a synthetic dataset, the ISAF import): taken, not doubled."""
    isaf = f.OrganizationFactory(
        name="International Security Assistance Force", kind=Organization.Kind.MILITARY_FORCE
    )
    afghanistan = f.CountryFactory(name="Afghanistan", country="AF")
    kunduz = f.PlaceFactory(name="Kunduz", parent=afghanistan)

    report = load_demo()

    assert Organization.objects.get(name=isaf.name).pk == isaf.pk
    isaf.refresh_from_db()
    assert (isaf.abbreviation, isaf.parent.abbreviation) == ("ISAF", "NATO")
    assert Place.objects.filter(name="Afghanistan").get().pk == afghanistan.pk
    assert Place.objects.get(name="Khanabad").parent_id == kunduz.pk
    assert Place.objects.count() == ROWS_PER_TABLE["places"]
    capture = Event.objects.get(date="2011-04-20", kind=Event.Kind.CAPTURE)
    assert capture.organizations_in(EventOrganization.Role.CAPTURING_FORCE) == [isaf]
    assert (report.created, report.updated) == (137, 3)
    assert (load_demo().created, load_demo().updated) == (0, 0)
