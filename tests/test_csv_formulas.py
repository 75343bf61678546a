"""CSV formula injection: text a spreadsheet would run is quoted in every CSV we write; numbers
are not, and the data package's quotes come off again on import."""

import csv
import io
import json
from decimal import Decimal

import frictionless
import pytest

from detainees.domain.models import PersonName, Place, PublicationStatus
from detainees.read.csvcells import csv_cell, strip_csv_guard
from detainees.write.exports.package import DESCRIPTOR, RECORDS, write_export
from detainees.write.importers.generic import import_rows, read_file
from tests import factories as f
from tests.test_export import empty_database, files_of

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED

HOSTILE = ['=HYPERLINK("http://x")', "+1", "-x", "@SUM(A1)", "\tTAB", "\rCR"]


def neutralised(text: str) -> str:
    return "'" + text


@pytest.fixture
def hostile(db):
    """People named like formulas, in one published event at a place with a negative longitude."""
    place = f.PlaceFactory(
        name="=cmd|' /C calc'!A0",
        status=PUBLISHED,
        latitude=Decimal("-34.6"),
        longitude=Decimal("-58.4"),
    )
    place.parent.status = PUBLISHED
    place.parent.save()
    event = f.EventFactory(status=PUBLISHED, place=place, summary="@SUM(1+1)*cmd|' /C calc'!A0")
    people = [f.PersonFactory(name=name, status=PUBLISHED) for name in HOSTILE]
    for person in people:
        f.EventPersonFactory(event=event, person=person)
    return people


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode(), newline="")))


def body(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_helper_quotes_formula_text_only():
    for text in HOSTILE:
        assert csv_cell(text) == "'" + text
        assert strip_csv_guard(csv_cell(text)) == text
    assert csv_cell("'=x") == "''=x"  # so that removing one quote gives the text back
    assert strip_csv_guard("''=x") == "'=x"
    for text in ("Qari Bilal", "'Abd al-Rahman", "", "x=1", "2011-04-20"):
        assert csv_cell(text) == text
        assert strip_csv_guard(text) == text
    for number in (-1, -58.4, Decimal("-58.40000"), 0):
        assert csv_cell(number) == number


@pytest.mark.parametrize("path", ["/people.csv", "/api/v1/persons/?format=csv"])
def test_people_csvs_quote_formula_names(client, hostile, path):
    names = [row["name"] for row in csv_rows(body(client.get(path)))]
    for text in HOSTILE:
        assert neutralised(text) in names, text
        assert text not in names


@pytest.mark.parametrize("path", ["/events.csv", "/api/v1/events/?format=csv"])
def test_events_csvs_quote_formula_cells(client, hostile, path):
    (row,) = csv_rows(body(client.get(path)))
    assert row["summary"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert row["place"].startswith("'=cmd|")
    # A list cell is one text: it starts with the first person's name, quoted as a whole.
    assert row["people"] == neutralised("; ".join(f"{text} (subject)" for text in HOSTILE))


def test_api_csv_keeps_negative_numbers_as_numbers(client, hostile):
    rows = csv_rows(body(client.get("/api/v1/places/?format=csv")))
    place = next(row for row in rows if row["name"].startswith("'=cmd"))
    assert Decimal(place["longitude"]) == Decimal("-58.4")
    assert Decimal(place["latitude"]) == Decimal("-34.6")


def test_the_data_package_quotes_formulas_validates_and_imports_back_exactly(tmp_path, hostile):
    first, second = tmp_path / "first", tmp_path / "second"
    write_export(first)

    names = {row["name"] for row in csv_rows((first / "person_names.csv").read_bytes())}
    assert {neutralised(text) for text in HOSTILE} <= names
    assert not set(HOSTILE) & names
    (place,) = [
        row for row in csv_rows((first / "places.csv").read_bytes()) if row["name"][:2] == "'="
    ]
    assert Decimal(place["longitude"]) == Decimal("-58.4")
    assert not place["longitude"].startswith("'")
    # The JSON Lines file has the text as it is: no spreadsheet reads it.
    records = [json.loads(line) for line in (first / RECORDS).read_text().splitlines()]
    assert set(HOSTILE) <= {r.get("name") for r in records if r["table"] == "person_names"}
    report = frictionless.validate(str(first / DESCRIPTOR))
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "note"])

    empty_database()
    import_rows(read_file(first / DESCRIPTOR), publish=True)

    assert set(HOSTILE) <= set(PersonName.objects.values_list("name", flat=True))
    assert Place.objects.get(longitude=Decimal("-58.4")).name == "=cmd|' /C calc'!A0"
    write_export(second)
    assert files_of(first) == files_of(second)


def test_a_csv_that_is_not_our_package_is_imported_as_written(tmp_path, db):
    """Only packages that declare the guard lose a quote: a researcher's own CSV keeps it."""
    path = tmp_path / "places.csv"
    path.write_text("name,kind\n'=quoted,province\n")
    rows = read_file(path)
    assert [row.raw["name"] for row in rows] == ["'=quoted"]
