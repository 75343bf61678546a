"""The importer reads files in the encoding asked for, and says where and how to read one it can't."""

import zipfile
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from detainees.domain.models import ImportJob, PersonName
from detainees.write.importers.encodings import Decoder
from detainees.write.importers.generic import ImportRefused, read_file
from tests.test_import import run_queued_jobs

pytestmark = pytest.mark.django_db

PEOPLE = "id,is_placeholder\nP1,false\nP2,false\nP3,false\n"
NAMES = (
    "id,person,name,kind,is_primary\n"
    "N1,P1,José Muñoz,common,true\n"
    "N2,P2,Ana Peña,common,true\n"
    "N3,P3,Luis Gómez,common,true\n"
)
QUOTED = "id,person,name,kind,is_primary\nN1,P1,Abdul “the Elder” — Haq,common,true\n"


def _package(directory, names: bytes, people: bytes = PEOPLE.encode()):
    directory.mkdir()
    (directory / "persons.csv").write_bytes(people)
    (directory / "person_names.csv").write_bytes(names)
    return directory


def _names(rows) -> list[str]:
    return [r.raw["name"] for r in rows if r.table.name == "person_names"]


def test_a_latin1_file_is_refused_at_its_first_bad_byte_with_the_option_that_reads_it(tmp_path):
    path = _package(tmp_path / "desk", NAMES.encode("latin-1"))
    with pytest.raises(ImportRefused) as refused:
        read_file(path)
    (error,) = refused.value.errors
    assert error.where == "person_names.csv, line 2"
    assert "not UTF-8 text (byte E9 at column 10)" in error.message
    assert "the line is: N1,P1,José Muñoz,common,true" in error.message
    assert "--encoding cp1252" in error.message


def test_a_latin1_register_imports_with_its_encoding_named(tmp_path):
    path = _package(tmp_path / "desk", NAMES.encode("latin-1"))
    out = StringIO()
    call_command("import_records", str(path), "--encoding", "latin-1", stdout=out)
    assert sorted(PersonName.objects.values_list("name", flat=True)) == [
        "Ana Peña",
        "José Muñoz",
        "Luis Gómez",
    ]


def test_detect_reads_a_cp1252_file_with_curly_quotes_and_says_which_it_used(tmp_path):
    path = _package(tmp_path / "desk", QUOTED.encode("cp1252"), b"id\nP1\n")
    out = StringIO()
    call_command("import_records", str(path), "--encoding", "detect", "--dry-run", stdout=out)
    assert "person_names.csv: read as cp1252 (detected)" in out.getvalue()
    decoder = Decoder("detect")
    assert _names(read_file(path, decoder=decoder)) == ["Abdul “the Elder” — Haq"]


def test_utf8_with_a_bom_and_utf16_with_a_bom_are_read_by_default(tmp_path):
    for encoding in ("utf-8-sig", "utf-16"):
        path = _package(tmp_path / encoding, NAMES.encode(encoding))
        assert _names(read_file(path))[0] == "José Muñoz"


def test_each_member_of_a_zip_is_decoded_in_the_encoding_chosen(tmp_path):
    archive = tmp_path / "desk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("persons.csv", PEOPLE)
        zf.writestr("person_names.csv", NAMES.encode("cp1252"))
    assert _names(read_file(archive, decoder=Decoder("cp1252")))[1] == "Ana Peña"
    with pytest.raises(ImportRefused) as refused:
        read_file(archive)
    assert [e.where for e in refused.value.errors] == ["person_names.csv, line 2"]


def test_every_file_not_in_the_encoding_is_named_in_one_run(tmp_path):
    path = _package(tmp_path / "desk", NAMES.encode("latin-1"), "id\nPé\n".encode("latin-1"))
    with pytest.raises(ImportRefused) as refused:
        read_file(path)
    assert [e.where for e in refused.value.errors] == [
        "person_names.csv, line 2",
        "persons.csv, line 2",
    ]


def test_an_unknown_encoding_is_refused_by_the_command(tmp_path):
    path = _package(tmp_path / "desk", NAMES.encode())
    with pytest.raises(CommandError, match="unknown encoding 'klingon'"):
        call_command("import_records", str(path), "--encoding", "klingon")


def test_the_admin_import_reads_the_encoding_chosen_and_shows_the_one_detected(
    admin_client, tmp_path, settings
):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    archive = tmp_path / "desk.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("persons.csv", PEOPLE)
        zf.writestr("person_names.csv", NAMES.encode("latin-1"))
    with archive.open("rb") as file:
        queued = admin_client.post(
            reverse("admin-import-records"),
            {"file": file, "system": "desk", "encoding": "detect"},
        )
    assert queued.status_code == 302, queued.context["form"].errors
    run_queued_jobs()

    job = ImportJob.objects.get()
    assert (job.encoding, job.state, job.summary) == (
        "detect",
        "succeeded",
        [["persons", 3, 0, 0], ["person_names", 3, 0, 0]],
    )
    page = admin_client.get(queued.url).content.decode()
    assert "person_names.csv: read as cp1252 (detected)" in page
    admin_client.post(queued.url, {"confirm": "1"})
    run_queued_jobs()
    assert PersonName.objects.filter(name="Ana Peña").exists()
