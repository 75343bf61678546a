"""A row's `updated` moves when anything it shows changes, so `?updated_since=` keeps mirrors exact.

Each row shows parts of other records (an event its organizations' names, a person dates derived
from the timeline, every citation its source's title); `detainees.domain.models.touches.SHOWN_IN`
lists them and its triggers move the showing rows' `updated`. These tests change each table
listed there, in SQL as the shell or a script would, and read the rows back.
"""

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from detainees.domain.models import (
    Citation,
    Correction,
    Event,
    EventOrganization,
    FacilityName,
    Organization,
    OrganizationName,
    Person,
    PersonListing,
    PersonName,
    Place,
    PublicationStatus,
    Source,
)
from detainees.domain.models.history import TRACKED_MODELS
from detainees.domain.models.touches import ROWS, TOUCHES, key, table
from detainees.read import listing_store
from tests import factories as f
from tests.test_api_sync import LIST_OF_TYPE, pull, pull_all

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
LIST_OF_ROW = {
    "person": "persons",
    "event": "events",
    "organization": "organizations",
    "place": "places",
    "facility": "facilities",
    "releasebatch": "batches",
    "source": "sources",
    "affiliation": "affiliations",
    "relationship": "relationships",
}
# A change of each table's rows that its rows show (an id, a name, a note).
CHANGE = {
    "personlisting": "sort_name = sort_name || ' (changed)'",
    "correction": "note = note || ' (changed)'",
}
DEFAULT_CHANGE = "public_id = gen_random_uuid()"


def build(tag: str) -> dict[str, list[int]]:
    """A published person with a relative, three events, an affiliation, a batch, a source cited
    for every kind of fact, and the organizations, places and facility these name: the ids of
    every row, per table."""
    o = f.OrganizationFactory(name=f"{tag} Army", status=PUBLISHED)
    o_child = f.OrganizationFactory(name=f"{tag} Army unit", parent=o, status=PUBLISHED)
    province = f.PlaceFactory(name=f"{tag} Province", status=PUBLISHED)
    district = Place.objects.create(
        name=f"{tag} District", kind=Place.Kind.DISTRICT, parent=province, country="AF"
    )
    facility = f.FacilityFactory(name=f"{tag} Prison", place=province, status=PUBLISHED)
    control = f.FacilityControlFactory(facility=facility, controller=o)
    batch = f.ReleaseBatchFactory(title=f"{tag} batch", ordered_by=o, carried_out_by=o)
    subject = f.PersonFactory(name=f"{tag} Subject", status=PUBLISHED, birthplace=province)
    relative = f.PersonFactory(name=f"{tag} Relative", status=PUBLISHED)
    tie = f.RelationshipFactory(person=subject, other=relative)
    capture = f.EventFactory(status=PUBLISHED, place=province, facility=facility)
    release = f.EventFactory(
        status=PUBLISHED, kind=Event.Kind.RELEASE, date="2014-02-03", batch=batch
    )
    transfer = f.EventFactory(status=PUBLISHED, kind=Event.Kind.TRANSFER, from_facility=facility)
    roles = [
        f.EventPersonFactory(event=event, person=subject) for event in (capture, release, transfer)
    ]
    roles.append(f.EventPersonFactory(event=capture, person=relative, role="related"))
    capturing = EventOrganization.objects.create(
        event=capture, organization=o, role=EventOrganization.Role.CAPTURING_FORCE
    )
    nationality = f.NationalityFactory(person=subject)
    affiliation = f.AffiliationFactory(
        person=subject, organization=o, place=province, status=PUBLISHED
    )
    membership = f.BatchMembershipFactory(batch=batch, person=subject)
    source = f.SourceFactory(title=f"{tag} report", publisher=o, status=PUBLISHED)
    name = subject.names.get()
    cited = [
        {"person": subject},
        {"person_name": name},
        {"nationality": nationality},
        {"affiliation": affiliation},
        {"event": capture},
        {"batch_membership": membership},
        {"relationship": tie},
        {"facility_control": control},
        {"batch": batch},
    ]
    citations = [f.CitationFactory(source=source, **{"event": None, **fact}) for fact in cited]
    correction = Correction.objects.create(
        content_type=ContentType.objects.get_for_model(Person),
        object_id=subject.pk,
        note="The capture date was a year off.",
    )
    other_names = [
        OrganizationName.objects.create(organization=o, name=f"{tag} A", kind="alias"),
        FacilityName.objects.create(facility=facility, name=f"{tag} Camp", kind="alias"),
    ]
    batch.status = PUBLISHED
    batch.save()
    rows: dict[str, list[int]] = {}
    for obj in [
        o,
        o_child,
        province,
        district,
        facility,
        control,
        batch,
        subject,
        relative,
        tie,
        capture,
        release,
        transfer,
        *roles,
        capturing,
        nationality,
        affiliation,
        membership,
        source,
        name,
        *citations,
        correction,
        *other_names,
    ]:
        rows.setdefault(obj._meta.model_name, []).append(obj.pk)
    rows["personlisting"] = [subject.pk, relative.pk]
    return rows


def age() -> None:
    """Move every row's `updated` a day back (a change of `updated` alone touches nothing), so
    that a touch inside the test's transaction is told from the rows' creation."""
    with connection.cursor() as cursor:
        for name in ROWS:
            cursor.execute(f"UPDATE {table(name)} SET updated = updated - interval '1 day'")  # noqa: S608


def times(*worlds) -> dict[tuple[str, int], object]:
    found = {}
    with connection.cursor() as cursor:
        for world in worlds:
            for name in ROWS:
                cursor.execute(
                    f"SELECT id, updated FROM {table(name)} WHERE id = ANY(%s)",  # noqa: S608
                    [world.get(name, [])],
                )
                found.update({(name, pk): at for pk, at in cursor.fetchall()})
    return found


def pull_everything(client, **params) -> dict[str, dict[str, dict]]:
    """Every list a mirror keeps: the record lists, and the affiliations and relationships."""
    everything = pull_all(client, **params)
    for name in ("affiliations", "relationships"):
        everything[name] = {r["id"]: r for r in pull(client, f"/api/v1/{name}/", **params)}
    return everything


def database_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


def moved(before, after) -> set[tuple[str, int]]:
    return {row for row, at in after.items() if at != before[row]}


def update_pairs():
    return sorted({(name, entry.row) for name, entries in TOUCHES.items() for entry in entries})


def part_pairs():
    return sorted(
        {(name, e.row) for name, entries in TOUCHES.items() for e in entries if e.is_part}
    )


@pytest.fixture
def worlds():
    changed, bystander = build("Changed"), build("Bystander")
    age()
    return changed, bystander


@pytest.mark.parametrize(("name", "row"), update_pairs())
def test_changing_a_shown_record_moves_the_rows_showing_it_and_no_other(client, worlds, name, row):
    changed, bystander = worlds
    # A row moves with its own change anyway: where the table shows its own rows (a parent,
    # a relative), the first is changed and the others must move.
    edited = changed[name][:1] if name == row else changed[name]
    shown = [pk for pk in changed[row] if not (name == row and pk in edited)]
    before, since = times(changed, bystander), database_now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table(name)} SET {CHANGE.get(name, DEFAULT_CHANGE)} "  # noqa: S608
            f"WHERE {key(name)} = ANY(%s)",
            [edited],
        )
        assert cursor.rowcount == len(edited)
    touched = moved(before, times(changed, bystander))

    moved_rows = {pk for kind, pk in touched if kind == row} & set(shown)
    assert moved_rows
    assert not {(kind, pk) for kind, pk in touched if pk in bystander.get(kind, [])}
    # The API list's updated_since= gives the moved rows: what a mirror's next run stores.
    model = {m._meta.model_name: m for m in TRACKED_MODELS}[row]
    published = model.objects.filter(pk__in=moved_rows)
    if hasattr(model, "status"):
        published = published.filter(status=PUBLISHED)
    listed = pull(client, f"/api/v1/{LIST_OF_ROW[row]}/", updated_since=since.isoformat())
    assert {str(r["id"]) for r in listed} >= {
        str(p) for p in published.values_list("public_id", flat=True)
    }


@pytest.mark.parametrize(("name", "row"), part_pairs())
def test_removing_a_part_moves_the_row_it_was_part_of(worlds, name, row):
    changed, bystander = worlds
    before = times(changed, bystander)
    model = {m._meta.model_name: m for m in (*TRACKED_MODELS, PersonListing)}[name]
    model.objects.filter(pk__in=changed[name]).delete()
    touched = moved(before, times(changed, bystander))

    assert {pk for kind, pk in touched if kind == row} & set(changed[row])
    assert not {(kind, pk) for kind, pk in touched if pk in bystander.get(kind, [])}


def test_adding_an_organization_a_name_or_a_citation_moves_the_row(worlds):
    changed, bystander = worlds
    event = Event.objects.get(pk=changed["event"][0])
    person = Person.objects.get(pk=changed["person"][0])
    other = Organization.objects.get(pk=bystander["organization"][0])
    before = times(changed, bystander)
    EventOrganization.objects.create(event=event, organization=other, role="partner_force")
    assert moved(before, times(changed, bystander)) >= {("event", event.pk)}

    # Each step as its own edit: a row changed earlier in a transaction is not touched again.
    age()
    before = times(changed, bystander)
    PersonName.objects.create(person=person, name="A nickname", kind="alias")
    assert ("person", person.pk) in moved(before, times(changed, bystander))

    age()
    before = times(changed, bystander)
    source = Source.objects.get(pk=bystander["source"][0])
    Citation.objects.create(source=source, event=event, quote="seen")
    touched = moved(before, times(changed, bystander))
    # The event shows the citation, the people in it their timeline; the source shows nothing.
    assert ("event", event.pk) in touched and ("person", person.pk) in touched
    assert ("source", source.pk) not in touched


def test_the_three_cases_a_client_found():
    org = f.OrganizationFactory(name="Old Name", status=PUBLISHED)
    withdrawn = f.OrganizationFactory(name="To withdraw", status=PUBLISHED)
    person = f.PersonFactory(name="Detainee", status=PUBLISHED)
    capture = f.EventFactory(status=PUBLISHED, date="2011-04-20")
    f.EventPersonFactory(event=capture, person=person)
    for each in (org, withdrawn):
        EventOrganization.objects.create(event=capture, organization=each, role="capturing_force")
    unrelated = f.EventFactory(status=PUBLISHED, summary="Elsewhere")
    age()
    stamps = lambda: dict(Event.objects.values_list("pk", "updated"))  # noqa: E731
    person_stamp = lambda: Person.objects.get(pk=person.pk).updated  # noqa: E731

    before = stamps()
    org.name = "New Name"
    org.save()
    after = stamps()
    assert after[capture.pk] > before[capture.pk]
    assert after[unrelated.pk] == before[unrelated.pk]

    age()
    before = stamps()
    Organization.objects.filter(pk=withdrawn.pk).update(
        status=PublicationStatus.WITHDRAWN, withdrawal_reason="Not a party."
    )
    assert stamps()[capture.pk] > before[capture.pk]

    assert PersonListing.objects.get(pk=person.pk).first_capture_date == "2011-04-20"
    age()
    was = person_stamp()
    capture.date = "2010-03"
    capture.save()
    assert PersonListing.objects.get(pk=person.pk).first_capture_date == "2010-03"
    assert person_stamp() > was


def test_a_touch_records_no_history_and_recomputes_no_list(worlds):
    changed, _ = worlds
    org = Organization.objects.get(pk=changed["organization"][0])
    shown_in = ("EventHistory", "PersonHistory", "FacilityHistory", "ReleaseBatchHistory")
    counts = lambda names: {n: apps.get_model("detainees", n).objects.count() for n in names}  # noqa: E731
    history = counts((*shown_in, "OrganizationHistory"))
    touched = times(changed)
    org.name = "Renamed"
    org.save()
    assert moved(touched, times(changed))  # the rename touched the rows showing the name
    assert counts(shown_in) == {n: history[n] for n in shown_in}
    assert (
        counts(["OrganizationHistory"])["OrganizationHistory"] == history["OrganizationHistory"] + 1
    )
    # Touching people and events leaves their stored list rows alone: deferred, the triggers
    # would note every row they meant to recompute.
    with listing_store.deferred():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE detainees_event SET updated = clock_timestamp()")
            cursor.execute("UPDATE detainees_person SET updated = clock_timestamp()")
            cursor.execute("SELECT count(*) FROM detainees_stalelisting")
            assert cursor.fetchone()[0] == 0
            cursor.execute("SELECT count(*) FROM detainees_staleeventlisting")
            assert cursor.fetchone()[0] == 0
    assert listing_store.is_exact()


def test_an_update_in_sql_moves_the_rows_own_time():
    place = f.PlaceFactory(name="Kunduz", status=PUBLISHED)
    age()
    was = Place.objects.get(pk=place.pk).updated
    Place.objects.filter(pk=place.pk).update(name="Kondoz")
    assert Place.objects.get(pk=place.pk).updated > was
    again = Place.objects.get(pk=place.pk).updated
    Place.objects.filter(pk=place.pk).update(name="Kondoz")  # no change: no move
    assert Place.objects.get(pk=place.pk).updated == again


def test_a_mirror_kept_by_one_sync_equals_a_fresh_pull(client):
    changed = build("Mirrored")
    build("Other")
    extra_org = f.OrganizationFactory(name="Partner", status=PUBLISHED)
    capture = Event.objects.get(pk=changed["event"][0])
    EventOrganization.objects.create(event=capture, organization=extra_org, role="partner_force")
    age()
    since = database_now().isoformat()
    mirror = pull_everything(client)

    org = Organization.objects.get(pk=changed["organization"][0])
    org.name = "Renamed Army"
    org.save()
    Organization.objects.filter(pk=extra_org.pk).update(
        status=PublicationStatus.WITHDRAWN, withdrawal_reason="Not a party after all."
    )
    capture.date = "2010-06"
    capture.save()
    PersonName.objects.filter(person_id=changed["person"][0], is_primary=True).update(
        name="Renamed Subject"
    )
    place = Place.objects.get(pk=changed["place"][0])
    place.name = "Renamed Province"
    place.save()
    Source.objects.filter(pk=changed["source"][0]).update(title="A retitled report")

    for change in pull(client, "/api/v1/changes/", since=since):
        mirror[{**LIST_OF_TYPE, "affiliation": "affiliations"}[change["type"]]].pop(
            change["id"], None
        )
    for name, rows in pull_everything(client, updated_since=since).items():
        mirror[name].update(rows)
    assert mirror == pull_everything(client)
