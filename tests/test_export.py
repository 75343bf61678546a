"""The data package export: valid against its own schema, deterministic, public only."""

import json
import zipfile
from pathlib import Path

import frictionless
import pytest
from django.core.management import call_command
from django.urls import reverse

from detainees.domain.models import ExternalId, Person, PersonName, PublicationStatus, Tombstone
from detainees.write.demo import load_demo
from detainees.write.exports.package import ARCHIVE, DESCRIPTOR, RECORDS, write_export
from detainees.write.exports.tables import TABLES, spec_markdown
from detainees.write.importers.generic import import_rows, read_file
from tests.factories import (
    CitationFactory,
    EventFactory,
    EventPersonFactory,
    PersonFactory,
    PlaceFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

PUBLISHED = PublicationStatus.PUBLISHED
README = Path(__file__).resolve().parent.parent / "README.md"


def empty_database() -> None:
    """Every record gone, as in a new installation (flush cannot TRUNCATE inside a test)."""
    for table in reversed(TABLES):
        rows = table.model._default_manager.all()
        if table.name in ("places", "organizations"):  # PROTECTed parents: leaves first
            while rows.exists():
                rows.filter(children__isnull=True).delete()
        rows.delete()
    for model in (ExternalId, Tombstone):
        model.objects.all().delete()
    assert not any(t.model._default_manager.exists() for t in TABLES)


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_export_of_the_demo_validates_against_the_frictionless_schema_it_declares(tmp_path, demo):
    result = write_export(tmp_path)

    report = frictionless.validate(str(tmp_path / DESCRIPTOR))

    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])
    assert result.rows["persons"] == Person.objects.published().count() > 0
    assert result.rows["citations"] > 0


def test_validation_catches_a_reference_to_a_row_not_in_the_package(tmp_path, demo):
    """The check above is not vacuous: the declared foreign keys and hashes are checked."""
    write_export(tmp_path)
    links = tmp_path / "event_people.csv"
    header, first, rest = links.read_bytes().split(b"\r\n", 2)
    event_id = first.split(b",")[1]
    first = first.replace(event_id, b"00000000-0000-4000-8000-000000000000")
    links.write_bytes(b"\r\n".join([header, first, rest]))

    report = frictionless.validate(str(tmp_path / DESCRIPTOR))

    assert not report.valid
    errors = {e[1] for e in report.flatten(["resourcePath", "type"])}
    assert "foreign-key" in errors and "hash-count" in errors


def test_export_then_import_into_an_empty_database_then_export_gives_identical_files(
    tmp_path, demo
):
    first, second = tmp_path / "first", tmp_path / "second"
    write_export(first)
    empty_database()

    import_rows(read_file(first / DESCRIPTOR), publish=True)
    write_export(second)

    assert files_of(first) == files_of(second)
    assert set(files_of(first)) == {f"{t.name}.csv" for t in TABLES} | {DESCRIPTOR, RECORDS}


def test_the_json_lines_file_imports_to_the_same_package(tmp_path, demo):
    write_export(tmp_path / "first")
    empty_database()

    import_rows(read_file(tmp_path / "first" / RECORDS), publish=True)
    write_export(tmp_path / "second")

    assert files_of(tmp_path / "first") == files_of(tmp_path / "second")


def test_two_exports_of_the_same_data_are_byte_identical_archives_included(tmp_path, demo):
    write_export(tmp_path / "a", archive=True)
    write_export(tmp_path / "b", archive=True)

    assert (tmp_path / "a" / ARCHIVE).read_bytes() == (tmp_path / "b" / ARCHIVE).read_bytes()
    with zipfile.ZipFile(tmp_path / "a" / ARCHIVE) as zf:
        names = zf.namelist()
    assert names[0].endswith(DESCRIPTOR) and len(names) == len(TABLES) + 2


def test_drafts_private_fields_and_confidential_sources_never_reach_the_export(tmp_path):
    person = PersonFactory(status=PUBLISHED, internal_notes="NOTE-ON-PERSON", name="Public Man")
    PersonFactory(name="Draft Person")  # a draft
    draft_place = PlaceFactory(name="Draft Province")
    PlaceFactory(name="Province Of A Draft Country", status=PUBLISHED)
    event = EventFactory(status=PUBLISHED, place=draft_place, internal_notes="NOTE-ON-EVENT")
    EventPersonFactory(event=event, person=person)
    EventPersonFactory(event=event, person=PersonFactory(name="Draft Witness"))
    secret = SourceFactory(is_confidential=True, title="Secret Informant Report")
    CitationFactory(source=secret, event=event, quote="SECRET QUOTE")
    public = SourceFactory(status=PUBLISHED, title="Public Report", internal_notes="NOTE-SOURCE")
    CitationFactory(source=public, event=event, quote="public quote", internal_notes="NOTE-CIT")
    CitationFactory(source=public, event=EventFactory(), quote="QUOTE ON A DRAFT EVENT")

    write_export(tmp_path, archive=True)

    text = "".join(
        content.decode() for name, content in files_of(tmp_path).items() if name != ARCHIVE
    )
    for private in (
        "NOTE-",
        "internal_notes",
        "is_confidential",
        "Draft Person",
        "Draft Witness",
        "Draft Province",
        "Province Of A Draft Country",
        str(draft_place.public_id),
        "Secret Informant",
        "SECRET QUOTE",
        "QUOTE ON A DRAFT EVENT",
    ):
        assert private not in text
    assert "Public Man" in text and "public quote" in text
    assert frictionless.validate(str(tmp_path / DESCRIPTOR)).valid
    rows = [json.loads(line) for line in (tmp_path / RECORDS).read_text().splitlines()]
    [exported_event] = [r for r in rows if r["table"] == "events"]
    assert exported_event["place"] is None  # the draft place's reference is dropped


def test_export_command_writes_the_archive_the_data_page_offers(tmp_path, settings, client):
    settings.EXPORT_DIR = tmp_path
    response = client.get(reverse("detainees:data"))
    assert b"No export has been published yet" in response.content
    assert client.get(reverse("detainees:data-archive")).status_code == 404
    load_demo()

    call_command("export", str(tmp_path), "--archive", stdout=open("/dev/null", "w"))  # noqa: SIM115

    page = client.get(reverse("detainees:data")).content.decode()
    assert "exported on" in page and "KB, zip" in page
    download = client.get(reverse("detainees:data-archive"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == (tmp_path / ARCHIVE).read_bytes()
    assert "attachment" in download["Content-Disposition"]


def test_the_readme_documents_every_column_of_every_table():
    """`manage.py export --spec` prints this section; paste it into the README when it changes."""
    readme = README.read_text()
    start = readme.index("<!-- columns:start -->") + len("<!-- columns:start -->\n")
    end = readme.index("<!-- columns:end -->")
    assert readme[start:end].strip() == spec_markdown().strip()


def test_primary_names_follow_the_entry_order_after_a_round_trip(tmp_path):
    person = PersonFactory(status=PUBLISHED, name="Zabiullah")
    PersonName.objects.create(person=person, name="Abu Zaid", kind=PersonName.Kind.KUNYA)
    write_export(tmp_path / "a")
    empty_database()

    import_rows(read_file(tmp_path / "a"), publish=True)

    person = Person.objects.get(public_id=person.public_id)
    assert person.slug == "zabiullah"
    assert [n.name for n in person.names.order_by("pk")] == ["Zabiullah", "Abu Zaid"]


def test_importing_an_export_back_into_its_own_database_changes_nothing(tmp_path, demo):
    write_export(tmp_path)
    before = {p.public_id: p.updated for p in Person.objects.all()}

    report = import_rows(read_file(tmp_path / RECORDS))

    assert all(created == updated == 0 for _, created, updated, _ in report.rows())
    assert {p.public_id: p.updated for p in Person.objects.all()} == before
    assert not ExternalId.objects.exists()
