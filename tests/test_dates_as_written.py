"""Every fuzzy date keeps the text its source wrote, beside the EDTF read from it: the importer,
the admin and the API fill it, pages and the API show it, the data package carries it."""

import csv
import json
from datetime import date as D

import pytest
from django.urls import reverse

from detainees.domain.fuzzydates import DateReading, as_written, humanize
from detainees.domain.models import Event, Person, PublicationStatus, Source
from detainees.write.exports.package import RECORDS, write_export
from detainees.write.exports.tables import EDTF, TABLES
from detainees.write.importers.generic import import_rows, read_file
from detainees.write.services import merge_persons
from tests.factories import CountryFactory, EventFactory, EventPersonFactory, PersonFactory
from tests.test_api_writes import BILAL, send
from tests.test_export import empty_database
from tests.test_register_dates import REGISTER
from tests.test_roles import admin_url, form_data

PUBLISHED = PublicationStatus.PUBLISHED
EARLY_MARCH = "early March 1976 (source: “principios de MAR/1976”)"


@pytest.mark.parametrize(
    ("edtf", "said"),
    [
        ("1976-01/1976-04", "early 1976"),
        ("1976-05/1976-08", "mid 1976"),
        ("1976-09/1976-12", "late 1976"),
        ("1976-03-01/1976-03-10", "early March 1976"),
        ("1976-03-10/1976-03-20", "mid March 1976"),
        ("1976-03-20/1976-03-31", "late March 1976"),
        ("1976-02-20/1976-02-29", "late February 1976"),
        ("1976-03-01/1976-03-15", "first fortnight of March 1976"),
        ("1976-02-16/1976-02-29", "second fortnight of February 1976"),
        ("1970/1979", "the 1970s"),
        # Other periods are said as they were.
        ("1976-03-20/1976-03-30", "between 20 and 30 March 1976"),
        ("1976-01/1976-05", "between January and May 1976"),
        ("1970/1978", "between 1970 and 1978"),
    ],
)
def test_the_periods_of_early_mid_late_fortnights_and_decades_are_said_in_those_words(edtf, said):
    assert humanize(edtf) == said


@pytest.mark.parametrize(
    ("typed", "edtf", "kept"),
    [
        ("principios de MAR/1976", "1976-03-01/1976-03-10", "principios de MAR/1976"),
        ("  spring   2011 ", "2011-21", "spring 2011"),
        ("2011-04-20", "2011-04-20", ""),
        ("2013-03 / 2014-10", "2013-03/2014-10", ""),
        ("s/f", "", "s/f"),
        ("", "", ""),
    ],
)
def test_the_text_is_kept_only_when_it_is_not_the_edtf_itself(typed, edtf, kept):
    assert as_written(typed, edtf) == kept


def test_every_fuzzy_date_column_of_the_package_has_its_as_written_column_after_it():
    for table in TABLES:
        names = [c.name for c in table.columns]
        for i, column in enumerate(table.columns):
            if column.type == EDTF:
                assert names[i + 1] == f"{column.name}_as_written", (table.name, column.name)
                assert table.model._meta.get_field(names[i + 1]).max_length == 100


# --- The importer -----------------------------------------------------------------------------


def import_register(tmp_path, *, publish=False):
    CountryFactory()
    path = tmp_path / "events.csv"
    path.write_bytes(REGISTER.read_bytes())
    reading = DateReading(order="dmy", locales=("es",))
    import_rows(read_file(path, table="events"), publish=publish, reading=reading)
    with REGISTER.open(encoding="utf-8") as f:
        return {row["summary"]: row["date"] for row in csv.DictReader(f)}


@pytest.mark.django_db
def test_an_imported_date_keeps_its_cell_text_unless_the_cell_was_edtf(tmp_path):
    cells = import_register(tmp_path)
    stored = {e.summary: (e.date, e.date_as_written) for e in Event.objects.all()}
    assert len(stored) == len(cells)
    for summary, cell in cells.items():
        edtf, written = stored[summary]
        assert written == ("" if cell == edtf else cell), cell
    assert stored["Detenida a principios de marzo (Fidel Apunte)"] == (
        "1976-03-01/1976-03-10",
        "principios de MAR/1976",
    )
    assert stored["Detenida (Berta Registro)"] == ("1976-09-20", "")
    assert stored["Sin fecha de detención (Ximena Forma)"] == ("", "s/f")


@pytest.mark.django_db
def test_importing_plain_edtf_over_words_clears_them_and_a_given_text_is_kept(tmp_path):
    event = EventFactory(date="1976-03-01/1976-03-10", date_as_written="principios de MAR/1976")
    path = tmp_path / "events.csv"
    rows = [
        ["id", "kind", "date", "end_date", "end_date_as_written"],
        [str(event.public_id), "custody", "1976-03", "1977", "a fines de la dictadura"],
    ]
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    import_rows(read_file(path))
    event.refresh_from_db()
    assert (event.date, event.date_as_written) == ("1976-03", "")
    assert (event.end_date, event.end_date_as_written) == ("1977", "a fines de la dictadura")


@pytest.mark.django_db
def test_an_export_imported_again_keeps_the_sources_words(tmp_path):
    import_register(tmp_path, publish=True)
    before = {e.public_id: (e.date, e.date_as_written) for e in Event.objects.all()}
    write_export(tmp_path / "package")
    with (tmp_path / "package" / "events.csv").open(encoding="utf-8") as f:
        exported = {row["summary"]: row for row in csv.DictReader(f)}
    row = exported["Detenida a principios de marzo (Fidel Apunte)"]
    assert (row["date"], row["date_as_written"]) == (
        "1976-03-01/1976-03-10",
        "principios de MAR/1976",
    )
    schema = json.loads((tmp_path / "package" / "datapackage.json").read_text())
    events = next(r for r in schema["resources"] if r["name"] == "events")
    assert "date_as_written" in [f["name"] for f in events["schema"]["fields"]]
    records = (tmp_path / "package" / RECORDS).read_text(encoding="utf-8")
    assert '"date_as_written":"principios de MAR/1976"' in records
    empty_database()

    # Read without the register's options: the words are in their own column.
    import_rows(read_file(tmp_path / "package"), publish=True)

    after = {e.public_id: (e.date, e.date_as_written) for e in Event.objects.all()}
    assert after == before


# --- Pages and the API ------------------------------------------------------------------------


@pytest.fixture
def early_march():
    person = PersonFactory(status=PUBLISHED, name="Fidel Apunte")
    event = EventFactory(
        status=PUBLISHED,
        summary="Detenida a principios de marzo",
        date="1976-03-01/1976-03-10",
        date_as_written="principios de MAR/1976",
    )
    EventPersonFactory(event=event, person=person)
    return person, event


@pytest.mark.django_db
def test_the_person_page_and_the_events_list_show_the_date_and_the_sources_words(
    client, early_march
):
    person, _ = early_march
    page = client.get(person.get_absolute_url()).content.decode()
    assert EARLY_MARCH in page
    events = client.get(reverse("detainees:event-list")).content.decode()
    assert EARLY_MARCH in events


@pytest.mark.django_db
def test_the_sources_words_are_escaped_on_pages(client, early_march):
    person, event = early_march
    Event.objects.filter(pk=event.pk).update(date_as_written="<script>x</script>")
    page = client.get(person.get_absolute_url()).content.decode()
    assert "(source: “&lt;script&gt;x&lt;/script&gt;”)" in page
    assert "<script>x</script>" not in page


@pytest.mark.django_db
def test_a_date_given_as_edtf_is_shown_without_a_source_text(client):
    person = PersonFactory(status=PUBLISHED, name="Abel Dato")
    EventPersonFactory(event=EventFactory(status=PUBLISHED, date="1976-08-15"), person=person)
    page = client.get(person.get_absolute_url()).content.decode()
    assert "15 August 1976" in page
    assert "(source: “" not in page


@pytest.mark.django_db
def test_the_api_gives_a_dates_words_beside_its_edtf(client, early_march):
    _, event = early_march
    data = client.get(f"/api/v1/events/{event.public_id}/").json()
    assert data["date"] == {
        "edtf": "1976-03-01/1976-03-10",
        "earliest": "1976-03-01",
        "latest": "1976-03-10",
        "text": "early March 1976",
        "as_written": "principios de MAR/1976",
    }
    assert data["end_date"]["as_written"] == ""


# --- The admin and API writes -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_api_write_in_words_keeps_them_and_edtf_clears_them(researcher, token_client):
    client = token_client(researcher)
    created = send(client, "post", "/api/v1/persons/", BILAL, status=201).json()
    person = Person.objects.get(public_id=created["id"])
    assert (person.birth, person.birth_as_written) == ("1970", "sometime in 1970")
    path = f"/api/v1/persons/{created['id']}/"
    etag = client.get(path)["ETag"]
    send(client, "patch", path, {"birth": "1971"}, etag=etag, status=200)
    person.refresh_from_db()
    assert (person.birth, person.birth_as_written) == ("1971", "")


@pytest.mark.django_db
def test_an_admin_date_typed_in_words_keeps_them(admin_client):
    source = Source.objects.create(kind=Source.Kind.NEWS_REPORT, title="Raid", published="2011")
    url = admin_url(Source, "change", source.pk)
    response = admin_client.get(url)
    data = form_data(response, published="spring 2011")
    assert admin_client.post(url, data).status_code == 302
    source.refresh_from_db()
    assert (source.published, source.published_as_written) == ("2011-21", "spring 2011")
    assert "As the source wrote it: “spring 2011”" in admin_client.get(url).content.decode()
    Source.objects.filter(pk=source.pk).update(published_as_written="<b>s/f</b>")
    page = admin_client.get(url).content.decode()
    assert "“&lt;b&gt;s/f&lt;/b&gt;”" in page and "<b>s/f</b>" not in page
    Source.objects.filter(pk=source.pk).update(published_as_written="spring 2011")
    # Saving again without touching the date keeps the words; EDTF typed clears them.
    response = admin_client.get(url)
    admin_client.post(url, form_data(response, title="Raid in Kunduz"))
    source.refresh_from_db()
    assert (source.title, source.published_as_written) == ("Raid in Kunduz", "spring 2011")
    response = admin_client.get(url)
    admin_client.post(url, form_data(response, published="2011-04"))
    source.refresh_from_db()
    assert (source.published, source.published_as_written) == ("2011-04", "")


@pytest.mark.django_db
def test_a_merge_that_takes_the_removed_persons_birth_takes_its_bounds_and_words(editor):
    survivor = PersonFactory(name="Qari Bilal")
    removed = PersonFactory(name="Qari Belal", birth="1970~", birth_as_written="c. 1970")
    merge_persons(survivor=survivor, removed=removed, user=editor, reason="Same man")
    survivor.refresh_from_db()
    assert (survivor.birth, survivor.birth_as_written) == ("1970~", "c. 1970")
    assert (survivor.birth_earliest, survivor.birth_latest) == (D(1969, 1, 1), D(1971, 12, 31))
