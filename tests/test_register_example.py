"""The README's worked example: a Latin-1 register excerpt, imported as the README shows."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from detainees.domain.models import Event, Person, PersonName
from detainees.write.importers.generic import ImportRefused, read_file

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "register"
COMMAND = (
    "python manage.py import_records examples/register --date-order dmy --locale es "
    "--encoding latin-1"
)


def _readme_blocks() -> dict[str, str]:
    """The fenced blocks of the README's worked example, by the line before each."""
    text = (ROOT / "README.md").read_text()
    section = text.split("<!-- register-example -->")[1]
    return {
        label: body
        for label, body in re.findall(r"`([^`\n]+)`:\n\n```[a-z]*\n(.*?)```", section, re.S)
    }


def test_the_example_files_are_latin1_and_the_readme_shows_them_as_they_are():
    blocks = _readme_blocks()
    paths = sorted(EXAMPLE.glob("*.csv"))
    for path in paths:
        assert blocks[f"examples/register/{path.name}"] == path.read_bytes().decode("latin-1")
    # Every file with an accent holds it as one Latin-1 byte, not UTF-8.
    accented = [p for p in paths if not p.read_bytes().isascii()]
    assert len(accented) == 4
    for path in accented:
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")


def test_the_readme_shows_what_the_command_prints():
    out = StringIO()
    args = COMMAND.split()[2:]
    call_command(*args, stdout=out)
    blocks = _readme_blocks()
    assert blocks["the command and what it prints"] == f"$ {COMMAND}\n{out.getvalue()}"
    assert sorted(PersonName.objects.values_list("name", flat=True)) == [
        "José Luis Muñoz",
        "María Peña",
        "María de los Ángeles Peña",
        "Ramón Gómez",
    ]
    assert sorted(Person.objects.values_list("birth", flat=True)) == ["", "1948-03", "1950-04-03"]
    assert sorted(Event.objects.values_list("date", flat=True)) == ["", "1976-03", "1976-04-03"]


def test_the_readme_shows_the_refusal_of_the_register_read_as_utf8():
    with pytest.raises(ImportRefused) as refused:
        read_file(EXAMPLE)
    errors = refused.value.errors
    assert [e.where for e in errors] == [
        "events.csv, line 2",
        "person_names.csv, line 2",
        "persons.csv, line 2",
        "places.csv, line 3",
    ]
    error = errors[0]
    section = (ROOT / "README.md").read_text().split("<!-- register-example -->")[1]
    assert f"```text\n{error}\n```" in section
