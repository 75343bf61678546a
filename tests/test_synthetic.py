"""generate_dataset at small size: deterministic, complete, private where it must be, and
refusing to touch a database with records of its own."""

import re
import uuid
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from detainees.domain.fuzzydates import FuzzyDate
from detainees.domain.models import (
    BatchMembership,
    ClaimStatus,
    Event,
    EventPerson,
    Facility,
    FacilityControl,
    Organization,
    Person,
    PersonName,
    Place,
    PublicationStatus,
    ReleaseBatch,
    Source,
    Tombstone,
)
from detainees.read.search import name_key
from detainees.synthetic import MARKER, RealDataPresent, generate_dataset
from detainees.synthetic.dates import PRECISIONS
from detainees.synthetic.loader import LOAD_ORDER, publishable_models, replace_all
from tests import factories as f

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED
SEED = 7

# The precision of an EDTF text, in the words of detainees.synthetic.dates.PRECISIONS.
PRECISION_PATTERNS = (
    ("day", r"\d{4}-\d{2}-\d{2}"),
    ("month", r"\d{4}-(0[1-9]|1[0-2])"),
    ("season", r"\d{4}-2[1-4]"),
    ("year", r"\d{4}"),
    ("approximate", r"\d{4}~"),
    ("between", r"\d{4}-\d{2}/\d{4}-\d{2}"),
    ("before", r"\.\./\d{4}-\d{2}"),
    ("after", r"\d{4}-\d{2}/\.\."),
    ("unknown", r""),
)


def precision(edtf: str) -> str:
    for name, pattern in PRECISION_PATTERNS:
        if re.fullmatch(pattern, edtf):
            return name
    raise AssertionError(f"unexpected EDTF {edtf!r}")


@pytest.fixture(scope="module")
def dataset(django_db_setup, django_db_blocker):
    """200 people and 2,000 events, committed once for the module and emptied after it."""
    with django_db_blocker.unblock():
        report = generate_dataset(persons=200, events=2000, seed=SEED)
        yield report
        with connection.cursor() as cursor:
            replace_all(cursor)


def snapshot() -> dict[str, list[dict]]:
    """Every row the generator writes, without the times it was written at."""
    return {
        model._meta.label: [
            {k: v for k, v in row.items() if k not in ("created", "updated")}
            for row in model._base_manager.order_by("pk").values()
        ]
        for model in LOAD_ORDER
    }


# --- determinism ----------------------------------------------------------------------------


def test_the_same_seed_writes_the_same_rows_and_another_seed_others(dataset):
    generate_dataset(persons=40, events=300, seed=SEED)
    first = snapshot()
    generate_dataset(persons=40, events=300, seed=SEED)
    assert snapshot() == first
    generate_dataset(persons=40, events=300, seed=SEED + 1)
    other = snapshot()
    assert other != first
    assert other["detainees.Person"][0]["public_id"] != first["detainees.Person"][0]["public_id"]


def test_it_writes_exactly_the_people_and_events_asked_for(dataset):
    assert Person.objects.count() == 200
    assert Event.objects.count() == 2000
    assert dataset.rows["events"] == 2000


# --- completeness ---------------------------------------------------------------------------


def test_every_event_kind_claim_status_and_publication_status_is_present(dataset):
    assert set(Event.objects.values_list("kind", flat=True)) == set(Event.Kind.values)
    assert set(Event.objects.values_list("claim_status", flat=True)) == set(ClaimStatus.values)
    for model in (Person, Event, Source):
        statuses = set(model._base_manager.values_list("status", flat=True))
        assert statuses == set(PublicationStatus.values), model
    custody_ends = set(
        Event.objects.filter(kind="custody").values_list("custody_end_reason", flat=True)
    )
    assert custody_ends == {"", *Event.CustodyEnd.values}  # "": still held
    release_kinds = set(
        Event.objects.exclude(release_kind="").values_list("release_kind", flat=True)
    )
    assert release_kinds == set(Event.ReleaseKind.values)
    assert set(Event.objects.exclude(reengagement="").values_list("reengagement", flat=True)) == {
        "confirmed",
        "suspected",
    }


def test_every_date_precision_is_present_with_the_bounds_fuzzydates_gives(dataset):
    found = Counter(precision(d) for d in Event.objects.values_list("date", flat=True))
    assert set(found) == set(PRECISIONS)
    dates = set()
    for model, prefixes in (
        (Event, ("date", "end_date")),
        (Person, ("birth",)),
        (Source, ("published",)),
        (ReleaseBatch, ("date",)),
        (FacilityControl, ("start", "end")),
    ):
        for prefix in prefixes:
            fields = (prefix, f"{prefix}_earliest", f"{prefix}_latest")
            dates |= set(model._base_manager.values_list(*fields))
    # The generator computes bounds itself; parsing is slow, so 25 texts of each precision.
    by_precision = {}
    for edtf, earliest, latest in sorted(dates, key=lambda d: (d[0], str(d[1]), str(d[2]))):
        by_precision.setdefault(precision(edtf), []).append((edtf, earliest, latest))
    for samples in by_precision.values():
        for edtf, earliest, latest in samples[:25]:
            parsed = FuzzyDate.from_edtf(edtf)
            assert (parsed.edtf, parsed.earliest, parsed.latest) == (edtf, earliest, latest)


def test_names_come_with_variants_scripts_and_their_search_keys(dataset):
    names = list(PersonName.objects.values_list("name", "kind", "search_key"))
    assert 2.3 < len(names) / Person.objects.count() < 3.7
    assert {kind for _, kind, _ in names} == set(PersonName.Kind.values)
    assert all(key == name_key(name) for name, _, key in names)
    assert any(re.search(r"[\u0600-\u06ff]", name) for name, _, _ in names)
    assert Person.objects.filter(is_placeholder=True, names__isnull=True).exists()
    # Every named person has exactly one primary name (the database checks at most one).
    named = Person.objects.filter(names__isnull=False).distinct().count()
    assert PersonName.objects.filter(is_primary=True).count() == named


def test_custody_chains_handovers_batches_and_conflicting_claims_are_present(dataset):
    assert Event.objects.filter(kind="transfer", from_facility__isnull=False).exists()
    assert Event.objects.filter(kind="capture", unnamed_count__gt=0).exists()
    assert Event.objects.filter(kind="custody", claim_status="inferred").exists()
    handed_over = Facility.objects.filter(controls__end__gt="").distinct()
    assert handed_over.exists()
    assert Event.objects.filter(kind="release", batch__isnull=False).exists()
    assert set(BatchMembership.objects.values_list("inclusion", flat=True)) == set(
        BatchMembership.Inclusion.values
    )
    assert EventPerson.objects.filter(role="ordered_by").exclude(capacity="").exists()
    assert EventPerson.objects.filter(role="related").exists()
    disputed = Event.objects.filter(kind="release", claim_status="disputed")
    assert disputed.filter(summary__endswith="(another account)").exists()
    assert set(Source.objects.values_list("kind", flat=True)) == set(Source.Kind.values)
    assert Source.objects.filter(is_confidential=True).exists()


def test_about_a_tenth_of_records_is_unpublished_and_all_are_marked_synthetic(dataset):
    for model in (Person, Event, Source):
        share = model.objects.exclude(status=PUBLISHED).count() / model.objects.count()
        assert 0.05 < share < 0.2, model
    for model in publishable_models():
        assert not model._base_manager.exclude(internal_notes__startswith=MARKER).exists()


def test_citations_average_about_two_per_event(dataset):
    assert 1.6 < dataset.rows["citations"] / dataset.rows["events"] < 2.4
    assert dataset.rows["sources"] == max(60, dataset.rows["events"] // 10)


# --- privacy --------------------------------------------------------------------------------


def unpublished(model, **filters):
    return model._base_manager.exclude(status=PUBLISHED).filter(**filters).first()


def test_unpublished_records_answer_404_on_the_site_and_the_api(client, dataset):
    person = unpublished(Person, names__isnull=False)
    event = unpublished(Event)
    source = unpublished(Source)
    assert client.get(f"/people/{person.slug}/").status_code == 404
    assert client.get(f"/api/v1/persons/{person.public_id}/").status_code == 404
    assert client.get(f"/id/{person.public_id}/").status_code == 404
    assert client.get(f"/api/v1/events/{event.public_id}/").status_code == 404
    assert client.get(f"/sources/{source.public_id}/").status_code == 404
    assert client.get(f"/api/v1/sources/{source.public_id}/").status_code == 404
    for model, page, api in (
        (Organization, "organizations", "organizations"),
        (Facility, "facilities", "facilities"),
        (Place, "places", "places"),
        (ReleaseBatch, "batches", "batches"),
    ):
        record = unpublished(model)
        if record is not None:
            assert client.get(f"/{page}/{record.slug}/").status_code == 404
            assert client.get(f"/api/v1/{api}/{record.public_id}/").status_code == 404


def test_lists_show_published_records_only_and_never_internal_notes(client, dataset):
    hidden = {
        str(p)
        for p in Person._base_manager.exclude(status=PUBLISHED).values_list("public_id", flat=True)
    }
    for resource, model in (("persons", Person), ("events", Event), ("sources", Source)):
        response = client.get(f"/api/v1/{resource}/", {"page_size": 500})
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        published = {str(i) for i in model.objects.published().values_list("public_id", flat=True)}
        assert ids and ids <= published, resource
        assert MARKER not in response.content.decode()
    html = client.get("/people/").content.decode()
    for slug in Person._base_manager.exclude(status=PUBLISHED).values_list("slug", flat=True):
        assert f"/people/{slug}/" not in html
    assert MARKER not in html
    assert not hidden & {
        row["id"] for row in client.get("/api/v1/persons/", {"page_size": 500}).json()["results"]
    }


def test_a_published_persons_page_leaves_out_their_unpublished_events(client, dataset):
    role = (
        EventPerson.objects.filter(role="subject", person__status=PUBLISHED)
        .exclude(event__status=PUBLISHED)
        .select_related("person", "event")
        .first()
    )
    person, event = role.person, role.event
    data = client.get(f"/api/v1/persons/{person.public_id}/").content.decode()
    assert str(event.public_id) not in data
    assert MARKER not in data
    page = client.get(f"/people/{person.slug}/")
    assert page.status_code == 200
    assert MARKER not in page.content.decode()


# --- refusal --------------------------------------------------------------------------------


def test_it_refuses_a_database_with_a_record_it_did_not_write(dataset):
    researchers = f.PersonFactory()
    with pytest.raises(RealDataPresent, match="1 people"):
        generate_dataset(persons=10, events=20, seed=SEED)
    with pytest.raises(CommandError, match="did not write"):
        call_command("generate_dataset", persons=10, events=20, seed=SEED, quiet=True)
    assert Person.objects.filter(pk=researchers.pk).exists()
    assert Person.objects.count() == 201


def test_it_refuses_a_database_with_a_tombstone_of_a_record_it_did_not_write(dataset):
    Tombstone.objects.create(record_type="person", public_id=uuid.uuid4(), change="deleted")
    with pytest.raises(RealDataPresent, match="tombstones"):
        generate_dataset(persons=10, events=20, seed=SEED)


def test_the_command_replaces_synthetic_data_and_reports_what_it_wrote(dataset, capsys):
    call_command("generate_dataset", persons=30, events=150, seed=SEED)
    assert "150 events" in capsys.readouterr().out
    assert Person.objects.count() == 30
    assert Event.objects.count() == 150


# --- query counts ---------------------------------------------------------------------------


def richest_person() -> Person:
    """The published person with the most published events of their own."""
    from django.db.models import Count, Q

    return (
        Person.objects.published()
        .filter(names__isnull=False)
        .annotate(n=Count("event_roles", filter=Q(event_roles__event__status=PUBLISHED)))
        .order_by("-n", "pk")
        .first()
    )


def busiest_facility() -> Facility:
    from django.db.models import Count

    return Facility.objects.published().annotate(n=Count("events")).order_by("-n", "pk").first()


# Pages of one record read a fixed number of queries however much the record holds; how many
# depends on which relations it has (an empty prefetch costs no query), so these are ceilings.
# The person page's 21st is the prefetch of its public corrections (one query, run whether or not
# there are any). The API person is read from tuples (read.person_lines), a query per relation
# as for a chunk of the export: 22, whatever its timeline. A facility's events are listed with
# only the columns and place its table shows (read.pages.events_for_tables).
# Ceilings, whatever the size; the facility page reads its other names in a query of its own.
RECORD_PAGES = {"person page": 21, "facility page": 8, "api person": 22}


def query_counts(client) -> dict[str, int]:
    from django.core.cache import cache
    from django.test.utils import CaptureQueriesContext

    person = richest_person()
    facility = busiest_facility()
    paths = {
        "people": "/people/",
        # A range both sizes have a "Bilal" captured in, so each page lists someone.
        "people filtered": "/people/?q=Bilal&captured_from=2000&captured_to=2020&sort=-released",
        "person page": f"/people/{person.slug}/",
        "facility page": f"/facilities/{facility.slug}/",
        "search": "/search/?q=Belal",
        "api persons": "/api/v1/persons/?page_size=100",
        "api events": "/api/v1/events/?page_size=100",
        "api sources": "/api/v1/sources/?page_size=100",
        "api person": f"/api/v1/persons/{person.public_id}/",
    }
    counts = {}
    for name, path in paths.items():
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200, path
        counts[name] = len(queries)
    return counts


def test_the_benchmarked_paths_take_as_many_queries_at_any_size(client, dataset):
    large = query_counts(client)  # 200 people, 2,000 events
    generate_dataset(persons=40, events=300, seed=SEED)
    small = query_counts(client)
    for page, ceiling in RECORD_PAGES.items():
        assert small.pop(page) <= ceiling, page
        assert large.pop(page) <= ceiling, page
    assert small == large


# --- the load ---------------------------------------------------------------------------------


def schema_of_synthetic_tables() -> set[tuple]:
    """Indexes, constraints and triggers of the loaded tables, as PostgreSQL defines them."""
    tables = [model._meta.db_table for model in LOAD_ORDER]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "UNION ALL SELECT conrelid::regclass::text, conname || ' ' || "
            "pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) "
            "UNION ALL SELECT tgrelid::regclass::text, tgname || ' ' || tgenabled::text FROM pg_trigger "
            "WHERE tgrelid = ANY(%s::regclass[]) AND NOT tgisinternal",
            [tables, tables, tables],
        )
        return set(cursor.fetchall())


def test_the_load_puts_every_index_constraint_and_trigger_back(dataset):
    before = schema_of_synthetic_tables()
    assert any("FOREIGN KEY" in definition for _, definition in before)
    generate_dataset(persons=20, events=60, seed=SEED)
    assert schema_of_synthetic_tables() == before


def test_the_load_skips_the_tables_own_insert_triggers(dataset):
    # An audit-history trigger would write a row per insert; a synthetic load is no change
    # anyone made. This one refuses every insert outright.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audited insert'; END; $$; "
            "CREATE TRIGGER refuse_insert BEFORE INSERT ON detainees_person "
            "FOR EACH ROW EXECUTE FUNCTION refuse_insert();"
        )
    generate_dataset(persons=20, events=60, seed=SEED)
    assert Person.objects.count() == 20
    with pytest.raises(Exception, match="audited insert"):
        f.PersonFactory()


def test_it_refuses_to_empty_another_table_that_refers_to_its_records(dataset):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE research_note (id int, person_id bigint "
            "REFERENCES detainees_person (id) DEFERRABLE INITIALLY DEFERRED)"
        )
        cursor.execute(
            "INSERT INTO research_note VALUES (1, (SELECT min(id) FROM detainees_person))"
        )
    with pytest.raises(RealDataPresent, match="research_note"):
        generate_dataset(persons=20, events=60, seed=SEED)


def test_the_demo_case_loads_beside_synthetic_data_and_then_blocks_a_new_load(dataset):
    from detainees.write.demo import load_demo

    load_demo()  # make run after make dataset
    bilal = Person.objects.get(slug="qari-bilal")
    assert not bilal.internal_notes.startswith(MARKER)
    with pytest.raises(RealDataPresent):
        generate_dataset(persons=20, events=60, seed=SEED)


def test_the_stored_lists_and_name_keys_are_built_exactly_after_the_load(dataset):
    from detainees.domain.models import PersonListing, PersonName, PersonNameKey
    from detainees.read import listing_store

    assert PersonListing.objects.count() == Person.objects.published().count()
    assert listing_store.is_exact()
    keys = set(PersonName.objects.values_list("search_key", flat=True))
    assert keys <= set(PersonNameKey.objects.values_list("key", flat=True))
