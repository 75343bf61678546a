"""The generic importer: all or nothing, every bad row named, idempotent, drafts by default."""

import json
import uuid
from io import StringIO

import pgtrigger
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.importfile import write_import_file
from detainees.domain.models import (
    Citation,
    Event,
    EventListing,
    EventPerson,
    ExternalId,
    Person,
    PersonListing,
    PersonName,
    Place,
    PublicationStatus,
    Source,
)
from detainees.domain.roles import EDITOR, RESEARCHER
from detainees.read import listing_store
from detainees.write.exports.tables import TABLES
from detainees.write.importers import generic
from detainees.write.importers.generic import ImportRefused, import_rows, read_file
from tests.factories import CountryFactory, PersonFactory

pytestmark = pytest.mark.django_db

PEOPLE = """id,gender,birth,biography
P1,male,1975~,IMU commander
P2,,,
"""
NAMES = """id,person,name,kind,is_primary
N1,P1,Qari Bilal,common,true
N2,P1,Qari Belal,spelling,false
N3,P2,Qari Sibghatullah,common,true
"""
PLACES = """id,name,kind,parent,country
AF,Afghanistan,country,,AF
KDZ,Kunduz,province,AF,
KHN,Khanabad,district,KDZ,
"""
EVENTS = """id,kind,date,place,unnamed_count,summary
E1,capture,2011-04-20,KHN,2,Captured in Khanabad
"""
LINKS = """id,event,person,role
L1,E1,P1,subject
L2,E1,P2,related
"""
SOURCES = """id,kind,title,url
S1,news_report,IMU leader captured,https://example.org/report
"""
CITATIONS = """id,source,event,person_name,quote
C1,S1,E1,,"two of his associates"
C2,S1,,N1,Qari Bilal
"""
DESK_FILES = {
    "persons.csv": PEOPLE,
    "person_names.csv": NAMES,
    "places.csv": PLACES,
    "events.csv": EVENTS,
    "event_people.csv": LINKS,
    "sources.csv": SOURCES,
    "citations.csv": CITATIONS,
}


# People whose names are not known yet (placeholders): a persons file that imports alone.
UNNAMED_PEOPLE = """id,gender,is_placeholder
U1,male,true
U2,,true
"""


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_records", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts() -> dict:
    models = (Person, PersonName, Place, Event, EventPerson, Citation, ExternalId)
    return {m.__name__: m.objects.count() for m in models}


def test_csv_with_bad_date_unknown_reference_and_missing_field_is_refused_whole(tmp_path):
    CountryFactory()
    before = counts()
    path = tmp_path / "events.csv"
    path.write_text(
        "id,kind,date,place,summary\n"
        "E1,capture,2011-04-20,,A good row\n"
        "E2,capture,2011-02-31,,A bad date\n"
        "E3,release,2012,NOWHERE,An unknown place\n"
        "E4,,2013,,No kind\n"
    )

    with pytest.raises(CommandError):
        _, err = run(path)
    with pytest.raises(CommandError):
        call_command("import_records", str(path), stderr=(err := StringIO()))

    lines = err.getvalue().splitlines()
    assert lines == [
        "events.csv, line 3: date: Could not read '2011-02-31' as a date: "
        "February 2011 has no day 31",
        "events.csv, line 4: place: unknown places id 'NOWHERE'",
        "events.csv, line 5: kind is required",
    ]
    assert counts() == before


def test_a_multiline_cell_does_not_shift_the_line_numbers(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text('id,kind,summary,date\nE1,capture,"two\nlines",2011\nE2,capture,x,2011-13\n')

    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(path))

    [error] = refused.value.errors
    assert error.where == "events.csv, line 4"


def test_a_constraint_broken_while_writing_rolls_back_every_row(tmp_path):
    path = tmp_path / "person_names.csv"
    PersonFactory(name=False)
    person = Person.objects.get()
    path.write_text(
        f"id,person,name,is_primary\nN1,{person.public_id},First,true\n"
        f"N2,{person.public_id},Second,true\n"
    )

    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(path))

    [error] = refused.value.errors
    assert error.where == "person_names.csv, line 3"
    assert "exactly one primary name" in error.message
    assert not PersonName.objects.exists() and not ExternalId.objects.exists()


def test_import_creates_drafts_linked_through_the_desks_ids(desk):
    out, _ = run(desk)

    assert "persons" in out and not Person.objects.published().exists()
    bilal = Person.objects.get(names__name="Qari Bilal")
    assert bilal.slug == "qari-bilal" and bilal.birth == "1975~" and bilal.gender == "male"
    assert bilal.status == PublicationStatus.DRAFT
    event = Event.objects.get()
    assert event.place.name == "Khanabad" and event.place.country == "AF"
    assert [(p.person, p.role) for p in event.people.all()] == [
        (bilal, "subject"),
        (Person.objects.get(names__name="Qari Sibghatullah"), "related"),
    ]
    assert Citation.objects.get(person_name__name="Qari Bilal").quote == "Qari Bilal"
    assert ExternalId.objects.filter(system="import").count() == 14


def test_importing_the_same_files_again_changes_nothing(desk):
    run(desk)
    before = {p.public_id: p.updated for p in Person.objects.all()}

    out, _ = run(desk)

    assert {p.public_id: p.updated for p in Person.objects.all()} == before
    rows = [line.split() for line in out.splitlines()[1:]]
    assert rows and all(row[1:3] == ["0", "0"] for row in rows)


def test_a_changed_cell_updates_only_its_record(desk):
    run(desk)
    (desk / "persons.csv").write_text(PEOPLE.replace("IMU commander", "IMU leader"))

    out, _ = run(desk, "--dry-run")
    assert "persons" in out and "Dry run" in out
    assert Person.objects.get(biography__startswith="IMU").biography == "IMU commander"

    out, _ = run(desk)
    assert Person.objects.get(biography__startswith="IMU").biography == "IMU leader"
    persons = next(line.split() for line in out.splitlines() if line.startswith("persons"))
    assert persons == ["persons", "0", "1", "1"]


def test_dry_run_reports_what_would_change_and_writes_nothing(desk):
    before = counts()

    out, _ = run(desk, "--dry-run")

    assert counts() == before
    assert out.splitlines()[0].split()[1:] == ["would", "create", "would", "update", "unchanged"]
    assert "events                           1             0          0" in out


def test_publishing_needs_an_editor(desk):
    get_user_model().objects.create_user("reader", password="x-pass-123")

    with pytest.raises(CommandError, match="editor"):
        run(desk, "--publish", "--user", "reader")
    with pytest.raises(CommandError, match="editor"):
        run(desk, "--publish")
    assert not Person.objects.exists()


def member_of(group_name: str, username: str):
    user = get_user_model().objects.create_user(username, password="x-pass-123", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_a_researcher_may_import_drafts_but_not_publish(desk):
    member_of(RESEARCHER, "researcher")
    with pytest.raises(CommandError, match="editor"):
        run(desk, "--publish", "--user", "researcher")
    run(desk, "--user", "researcher")
    assert Person.objects.count() == 2
    assert not Person.objects.published().exists()


@pytest.mark.parametrize("role", [EDITOR, "superuser"])
def test_an_editor_can_publish_the_import(desk, superuser, role):
    username = superuser.username if role == "superuser" else member_of(role, "ed2").username
    run(desk, "--publish", "--user", username)

    assert Person.objects.published().count() == 2
    assert Event.objects.published().count() == 1
    # The stored lists, recomputed once at the end of the import, list them exactly.
    assert PersonListing.objects.count() == 2 and EventListing.objects.count() == 1
    assert listing_store.is_exact()


def test_json_and_json_lines_name_the_bad_record(tmp_path):
    lines = tmp_path / "records.jsonl"
    lines.write_text(
        json.dumps({"table": "persons", "id": "P1"})
        + "\n\n"
        + json.dumps({"table": "persons", "id": "P2", "gender": "unknown-ish"})
        + "\n{not json\n"
    )
    document = tmp_path / "records.json"
    unnamed = {"is_placeholder": True}
    document.write_text(
        json.dumps({"persons": [{"id": "P1", **unnamed}, {"id": "P2", "birth": "soon", **unnamed}]})
    )

    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(lines))
    assert [e.where for e in refused.value.errors] == ["records.jsonl, line 4"]
    with pytest.raises(CommandError):
        call_command("import_records", str(lines), stderr=StringIO())

    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(document))
    assert [e.where for e in refused.value.errors] == ["records.json, persons record 2"]


def run_queued_jobs():
    """Run every queued import job here, as the worker would, oldest first."""
    from detainees.domain.models import ImportJob
    from detainees.write.tasks import run_import

    for job_id in (
        ImportJob.objects.filter(state="queued").order_by("created").values_list("pk", flat=True)
    ):
        run_import(str(job_id))


def test_admin_import_previews_then_imports_on_confirmation(admin_client, unnamed_people):
    url = reverse("admin-import-records")
    assert admin_client.get(url).status_code == 200

    with unnamed_people.open("rb") as upload:
        queued = admin_client.post(url, {"file": upload, "system": "desk", "preview": "1"})
    page = admin_client.get(queued.url)
    assert 'http-equiv="refresh"' in page.content.decode()
    run_queued_jobs()
    preview = admin_client.get(queued.url)

    assert preview.context["report"]["dry_run"] and not preview.context["errors"]
    assert 'http-equiv="refresh"' not in preview.content.decode()
    assert not Person.objects.exists()
    confirmed = admin_client.post(queued.url, {"confirm": "1"})
    run_queued_jobs()
    result = admin_client.get(confirmed.url)
    assert result.context["job"].state == "succeeded" and not result.context["errors"]
    assert ["persons", 2, 0, 0] in result.context["report"]["rows"]
    assert Person.objects.filter(status=PublicationStatus.DRAFT).count() == 2
    assert ExternalId.objects.filter(system="desk").count() == 2
    # A preview is confirmed once: confirming again leads to the same import.
    again = admin_client.post(queued.url, {"confirm": "1"})
    assert again.url == confirmed.url
    run_queued_jobs()
    assert Person.objects.count() == 2


def test_admin_preview_lists_every_bad_row_and_offers_no_confirmation(admin_client, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("id,kind,date\nE1,capture,someday\nE2,,2011\n")

    with path.open("rb") as upload:
        queued = admin_client.post(reverse("admin-import-records"), {"file": upload, "system": "x"})
    run_queued_jobs()
    response = admin_client.get(queued.url)

    page = response.content.decode()
    assert "events.csv, line 2" in page and "events.csv, line 3" in page
    assert 'name="confirm"' not in page and not Event.objects.exists()


def test_admin_import_is_for_staff_with_permissions_only(client, tmp_path):
    user = get_user_model().objects.create_user("clerk", password="x-pass-123", is_staff=True)
    client.force_login(user)

    response = client.get(reverse("admin-import-records"))

    assert response.status_code == 403
    client.logout()
    anonymous = client.get(reverse("admin-import-records"))
    assert anonymous.status_code == 302


def test_staff_who_may_not_publish_get_no_publish_choice(client, unnamed_people):
    from django.contrib.auth.models import Permission

    from detainees.write.exports.tables import TABLES

    user = get_user_model().objects.create_user("clerk", password="x-pass-123", is_staff=True)
    models = [t.model._meta.model_name for t in TABLES]
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="detainees",
            codename__in=[f"{verb}_{m}" for m in models for verb in ("add", "change")],
        )
    )
    client.force_login(user)
    url = reverse("admin-import-records")

    assert "publish" not in client.get(url).context["form"].fields
    with unnamed_people.open("rb") as upload:
        queued = client.post(url, {"file": upload, "system": "x", "publish": "on"})
    run_queued_jobs()
    client.post(queued.url, {"confirm": "1"})
    run_queued_jobs()
    assert Person.objects.filter(status=PublicationStatus.DRAFT).count() == 2


def test_publishing_leaves_a_confidential_source_private(tmp_path):
    path = tmp_path / "sources.csv"
    path.write_text(
        "id,kind,title,is_confidential,internal_notes\n"
        "S1,interview,Informant,true,met in Kunduz\n"
        "S2,news_report,Public report,,\n"
    )

    import_rows(read_file(path), publish=True)

    assert list(Source.objects.published().values_list("title", flat=True)) == ["Public report"]
    secret = Source.objects.get(title="Informant")
    assert secret.status == PublicationStatus.DRAFT and secret.internal_notes == "met in Kunduz"


def test_the_audit_history_records_the_import_as_the_user_who_ran_it(desk, superuser):
    run(desk, "--user", "editor")
    person = Person.objects.get(names__name="Qari Bilal")
    created = person.history.get(pgh_label="insert")
    assert created.pgh_context.metadata["user"] == superuser.pk
    assert created.pgh_context.metadata["command"] == "import_records"
    links = EventPerson.objects.filter(person=person)
    assert {link.history.get().pgh_context_id for link in links} == {created.pgh_context_id}


def snapshot() -> dict:
    """Every table's rows as stored, references as the public ids they name, no timestamps."""
    out = {}
    for table in TABLES:
        names = []
        for f in table.model._meta.concrete_fields:
            if f.primary_key or isinstance(f, models.DateTimeField):
                continue
            named = f.is_relation and any(
                g.name == "public_id" for g in f.related_model._meta.fields
            )
            names.append(f"{f.name}__public_id" if named else f.attname)
        out[table.name] = sorted(map(repr, table.model.objects.values_list(*names)))
    out["external ids"] = sorted(
        map(repr, ExternalId.objects.values_list("table", "system", "key", "public_id"))
    )
    return out


class NumberedUuids:
    """The uuid module for the importer, its new public ids the same in every run."""

    UUID = uuid.UUID

    def __init__(self):
        self.made = 0

    def uuid4(self) -> uuid.UUID:
        self.made += 1
        return uuid.uuid5(uuid.NAMESPACE_OID, str(self.made))


def one_by_one(people):
    """How people got their slugs before imports wrote in chunks."""
    for person in Person.objects.filter(pk__in=people).prefetch_related("names"):
        person.refresh_slug()


def test_a_batched_import_stores_what_saving_row_by_row_stores(tmp_path, monkeypatch):
    write_import_file(tmp_path / "package", rows=600)
    namesakes = tmp_path / "namesakes"
    namesakes.mkdir()
    # Four people whose names make the same slug, one of them already taken by a fifth.
    (namesakes / "persons.csv").write_text("id,gender\nQ1,male\nQ2,male\nQ3,\nQ4,\nQ5,\n")
    (namesakes / "person_names.csv").write_text(
        "id,person,name,is_primary\nQN1,Q1,Qari Bilal,true\nQN2,Q2,Qari Bilal,true\n"
        "QN3,Q3,Qari  Bilal,true\nQN4,Q4,Qari Bilal 2,true\nQN5,Q5,Qari-Bilal,true\n"
    )

    def import_both():
        monkeypatch.setattr(generic, "uuid", NumberedUuids())
        import_rows(read_file(tmp_path / "package" / "datapackage.json"), publish=True)
        import_rows(read_file(namesakes))
        import_rows(read_file(tmp_path / "package" / "datapackage.json"))  # changes nothing
        return snapshot()

    monkeypatch.setattr(generic, "CHUNK", 50)
    with transaction.atomic():
        batched = import_both()
        transaction.set_rollback(True)
    monkeypatch.setattr(generic, "ROW_BY_ROW", tuple(t.model for t in TABLES))
    monkeypatch.setattr(generic, "refresh_slugs", one_by_one)

    assert import_both() == batched
    assert len(batched["persons"]) > 40 and len(batched["citations"]) > 60
    slugs = set(Person.objects.filter(names__name__contains="Bilal").values_list("slug", flat=1))
    assert len(slugs) == 5 and {"qari-bilal", "qari-bilal-3", "qari-bilal-4"} < slugs


def test_the_queries_of_an_import_grow_with_its_chunks_not_its_rows(tmp_path):
    def queries(rows: int) -> int:
        write_import_file(tmp_path / str(rows), rows=rows)
        records = read_file(tmp_path / str(rows) / "datapackage.json")
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            import_rows(records)
            transaction.set_rollback(True)
        return len(captured)

    small, large = queries(400), queries(1400)

    # A thousand rows more, each table's new rows still in one chunk: a handful of queries more.
    assert large - small < 20


def test_an_import_keeps_every_history_trigger_and_quiets_their_settings_check(desk):
    PersonHistory = apps.get_model("detainees", "PersonHistory")
    with transaction.atomic():
        import_rows(read_file(desk))
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
            # "Ignore none": the triggers read it without an error, and all of them run.
            assert cursor.fetchone() == ("{}",)
    assert PersonHistory.objects.filter(pgh_label="insert").count() == Person.objects.count() == 2


def test_an_import_leaves_triggers_ignored_by_the_caller_ignored(desk):
    PersonHistory = apps.get_model("detainees", "PersonHistory")
    with pgtrigger.ignore("detainees.Person:insert_insert"):
        import_rows(read_file(desk))

    assert Person.objects.count() == 2
    assert not PersonHistory.objects.filter(pgh_label="insert").exists()


def test_a_column_named_twice_is_refused_naming_both_columns(tmp_path):
    CountryFactory()
    before = counts()
    path = tmp_path / "events.csv"
    path.write_text("id,kind,date,summary,kind\nE1,capture,2011,A capture,release\n")
    with pytest.raises(CommandError):
        call_command("import_records", str(path), stderr=(err := StringIO()))
    assert err.getvalue().splitlines() == [
        "events.csv, line 1: column(s) named more than once: kind (columns 2 and 5)".replace(
            " and ", ", "
        )
    ]
    assert counts() == before


def test_a_cell_too_long_for_any_field_is_a_line_numbered_error(tmp_path):
    CountryFactory()
    before = counts()
    path = tmp_path / "events.csv"
    huge = "x" * 1_000_001
    path.write_text(f"id,kind,date,summary\nE1,capture,2011,short\nE2,capture,2012,{huge}\n")
    with pytest.raises(CommandError):
        call_command("import_records", str(path), stderr=(err := StringIO()))
    assert err.getvalue().splitlines() == [
        "events.csv, line 3: a cell is longer than 1,000,000 characters"
    ]
    assert counts() == before


def test_a_long_cell_within_the_limit_reaches_the_field_check(tmp_path):
    CountryFactory()
    path = tmp_path / "events.csv"
    path.write_text(f"id,kind,date,summary\nE1,capture,2011,{'x' * 200_000}\n")
    with pytest.raises(CommandError):
        call_command("import_records", str(path), stderr=(err := StringIO()))
    assert "summary" in err.getvalue()
    assert "characters" in err.getvalue()


def test_a_new_person_without_names_is_refused_like_in_the_admin_and_the_api(tmp_path):
    before = counts()
    document = tmp_path / "records.json"
    document.write_text(
        json.dumps(
            {
                "persons": [{"id": "P1"}, {"id": "P2"}, {"id": "P3", "is_placeholder": True}],
                "person_names": [
                    {"id": "N1", "person": "P2", "name": "Abdul Rashid", "is_primary": True},
                    {"id": "N2", "person": "P2", "name": "Rashid", "is_primary": True},
                ],
            }
        )
    )
    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(document))
    assert [str(e) for e in refused.value.errors] == [
        "records.json, persons record 1: person P1: A person needs at least one name. Record "
        "someone whose name is not known as a placeholder (is_placeholder), and one whose name "
        "the source withholds with withheld: name.",
        "records.json, persons record 2: person P2: Mark exactly one name as primary. (primary "
        "at person_names record 1, person_names record 2)",
    ]
    assert counts() == before
