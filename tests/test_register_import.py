"""A national register as its clerks wrote it, imported with no hand rewriting.

tests/data/register/ is a register-shaped data package of invented people, in Latin-1: day-first
dates, Spanish month words and abbreviations, early/mid/late, fortnights, ordinals, "no date"
words, disappearances, a birth in captivity and an identity restored, undated releases and
deaths. Imported with the options a researcher would give it, every date cell is read as
written (its bounds stored, its words kept) and every person has the status
tests/data/register_expected.csv gives, alike on the page, the list, the API and the CSV.
"""

import csv
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from detainees.domain.models import Event, ExternalId, Person, PersonListing
from detainees.read import timeline
from detainees.read.listing import CurrentStatus
from detainees.read.person import person_queryset
from detainees.read.search import search_facilities

DATA = Path(__file__).parent / "data"
REGISTER = DATA / "register"
OPTIONS = ("--date-order", "dmy", "--locale", "es", "--encoding", "latin-1")
NO_DATE = {"s/f", "sin fecha", "desconocida"}


def expected() -> dict[str, str]:
    with (DATA / "register_expected.csv").open(encoding="utf-8") as f:
        return {row["person"]: row["status"] for row in csv.DictReader(f)}


def date_cells() -> list[tuple[str, str, str, str]]:
    """(table, row id, column, text) of every date cell of the register."""
    cells = []
    for table, columns in (("events", ("date", "end_date")), ("persons", ("birth",))):
        with (REGISTER / f"{table}.csv").open(encoding="latin-1") as f:
            for row in csv.DictReader(f):
                cells += [(table, row["id"], c, row[c]) for c in columns if row[c]]
    return cells


def record(table: str, key: str):
    public_id = ExternalId.objects.get(table=table, system="import", key=key).public_id
    return {"events": Event, "persons": Person}[table].objects.get(public_id=public_id)


@pytest.fixture
def imported(db, editor, tmp_path):
    path = tmp_path / "register"
    shutil.copytree(REGISTER, path)
    out = StringIO()
    call_command(
        "import_records", str(path), *OPTIONS, "--publish", "--user", editor.username, stdout=out
    )
    return out.getvalue()


def test_the_register_is_latin_1_and_holds_every_form(db):
    raw = (REGISTER / "events.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    texts = {text for *_, text in date_cells()}
    for form in ("03/04/1976", "AGO/1976", "DIC/1974-ENE/1975", "principios de marzo de 1976"):
        assert form in texts
    assert texts & NO_DATE == NO_DATE
    kinds = {row["kind"] for row in csv.DictReader(StringIO(raw.decode("latin-1")))}
    assert {"disappearance", "birth_in_captivity", "identity_restored"} <= kinds


def test_every_date_cell_is_read_as_written(imported):
    cells = date_cells()
    read = 0
    for table, key, column, text in cells:
        obj = record(table, key)
        edtf = getattr(obj, column)
        if text in NO_DATE:
            assert edtf == "" and getattr(obj, f"{column}_earliest") is None, text
        else:
            assert getattr(obj, f"{column}_earliest") is not None, text
            assert getattr(obj, f"{column}_latest") is not None, text
        # The words as the register wrote them are kept wherever they are not plain EDTF.
        assert getattr(obj, f"{column}_as_written") in ("", text), text
        if edtf != text:
            assert getattr(obj, f"{column}_as_written") == text, text
        read += 1
    assert read == len(cells) >= 40


def test_every_person_has_the_expected_status_everywhere(imported, client):
    want = expected()
    people = {key: record("persons", key) for key in want}
    assert len(people) == Person.objects.count() == len(want)
    # The SQL derivation, as the person page and the API read it, and as the stored list keeps it.
    derived = {p.pk: p.current_status for p in person_queryset(batch_members=False)}
    stored = dict(PersonListing.objects.values_list("person_id", "current_status"))
    for key, person in people.items():
        status = want[key]
        assert derived[person.pk] == status, key
        assert stored[person.pk] == status, key
        # The Python derivation (drafts, unsaved records) agrees with the SQL one.
        full = Person.objects.with_timeline(public=True).get(pk=person.pk)
        assert timeline.current_status(full) == status, key
        page = client.get(person.get_absolute_url())
        assert page.status_code == 200
        line = re.search(r'<p class="status-line">(.*?)</p>', page.content.decode()).group(1)
        assert CurrentStatus(status).label.lower() in line.lower(), (key, line)
        api = client.get(f"/api/v1/persons/{person.public_id}/").json()
        assert api["current_status"] == status, key
    rows = list(
        # Everyone, detainees or not (a person with no event is no detainee).
        csv.DictReader(
            StringIO(b"".join(client.get("/people.csv?who=all").streaming_content).decode())
        )
    )
    by_id = {row["id"]: row for row in rows}
    for key, person in people.items():
        assert by_id[str(person.public_id)]["current_status"] == want[key], key


def test_a_second_import_changes_nothing(imported, editor, tmp_path):
    path = tmp_path / "again"
    shutil.copytree(REGISTER, path)
    out = StringIO()
    before = Event.objects.count(), Person.objects.count()
    call_command(
        "import_records", str(path), *OPTIONS, "--publish", "--user", editor.username, stdout=out
    )
    assert (Event.objects.count(), Person.objects.count()) == before
    assert "created" not in out.getvalue() or " 0 " in out.getvalue()


def test_without_the_encoding_the_import_names_the_line_and_the_option(db, tmp_path):
    path = tmp_path / "register"
    shutil.copytree(REGISTER, path)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_records", str(path), "--date-order", "dmy", "--locale", "es", stderr=err
        )
    message = err.getvalue()
    assert "line" in message and "--encoding" in message
    assert not Person.objects.exists()


def test_what_the_register_records_beyond_dates_is_kept(imported, client):
    def page(key):
        return client.get(record("persons", key).get_absolute_url()).content.decode()

    def api(key):
        return client.get(f"/api/v1/persons/{record('persons', key).public_id}/").json()

    # A name the register withholds is said to be withheld, not missing.
    assert "Name withheld by the source" in page("R12")
    # Mother and child, linked once, each named on the other's page.
    assert "Ana Fernández" in page("R05") and "Hijo de Ana Fernández" in page("R04")
    # The age the register gives at the disappearance, and how a death came about.
    first = api("R01")["timeline"][0]
    assert first["age_at_event"]["stated"] and first["age_at_event"]["from"] == 25
    deaths = [e for e in api("R11")["timeline"] if e["kind"] == "death"]
    assert deaths[0]["death_circumstances"] == "died_in_custody"
    # A married name with its parts, a fate with its proof, a centre's other name.
    names = {n["name"]: n for n in api("R19")["names"]}
    assert names["Estela Maldonado de Ríos"]["kind"] == "married"
    assert names["Estela Maldonado de Ríos"]["family"] == "Maldonado de Ríos"
    assert (api("R04")["fate"], api("R04")["fate_claim_status"]) == ("dead", "confirmed")
    found = search_facilities("La Casona")
    assert [f.name for f in found][:1] == ["Centro de detención «El Mirador»"]
    assert "La Casona" in client.get(found[0].get_absolute_url()).content.decode()
