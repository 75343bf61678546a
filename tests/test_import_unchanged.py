"""A re-import compares its rows with the stored records in bulk (`generic.mark_unchanged`):
rows that change nothing write nothing, and the outcome is the one judging and writing each
row one by one (`_write_row`) gives."""

import csv
import io
import shutil

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench.importfile import write_import_file
from detainees.domain.models import Person
from detainees.domain.models.history import TRACKED_MODELS
from detainees.write.demo import PACKAGE, SAME_AS
from detainees.write.exports.tables import BY_NAME, ID, TABLES, TEXT
from detainees.write.history import acting
from detainees.write.importers import generic
from detainees.write.importers.generic import ImportRefused, import_rows, read_file
from tests.test_import import snapshot

pytestmark = pytest.mark.django_db


def history_rows() -> int:
    return sum(
        apps.get_model("detainees", f"{m.__name__}History").objects.count() for m in TRACKED_MODELS
    )


def updated_times() -> dict:
    out = {}
    for table in TABLES:
        if any(f.name == "updated" for f in table.model._meta.concrete_fields):
            out[table.name] = dict(table.model.objects.values_list("public_id", "updated"))
    return out


@pytest.fixture
def package(tmp_path):
    write_import_file(tmp_path / "package", rows=300)
    return tmp_path / "package" / "datapackage.json"


def test_reimporting_an_unchanged_package_writes_nothing(package):
    with acting(None, "first"):
        import_rows(read_file(package), publish=True)
    history, updated = history_rows(), updated_times()

    with CaptureQueriesContext(connection) as captured, acting(None, "again"):
        report = import_rows(read_file(package), publish=True)

    writes = [
        q["sql"]
        for q in captured
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert history_rows() == history and updated_times() == updated
    assert all(created == changed == 0 for _, created, changed, _ in report.rows())
    assert sum(same for *_, same in report.rows()) == 300


def test_a_reimport_with_one_changed_cell_changes_exactly_that_record(package):
    import_rows(read_file(package))
    history, updated = history_rows(), updated_times()
    persons = package.parent / "persons.csv"
    text = persons.read_text()
    assert text.count("P000007,") == 1
    first, rest = text.split("P000007,", 1)
    line, tail = rest.split("\n", 1)
    persons.write_text(f"{first}P000007,{line.replace('Named in', 'Listed in')}\n{tail}")

    report = import_rows(read_file(package))

    changed = Person.objects.get(biography__startswith="Listed in")
    after = updated_times()
    assert [
        (name, key)
        for name, times in after.items()
        for key in times
        if times[key] != updated[name][key]
    ] == [("persons", changed.public_id)]
    assert history_rows() == history + 1
    assert changed.history.latest("pgh_id").biography.startswith("Listed in")
    counts = {name: (created, changed, same) for name, created, changed, same in report.rows()}
    assert counts["persons"][:2] == (0, 1)
    assert all(c[:2] == (0, 0) for name, c in counts.items() if name != "persons")


def outcome(path, **options):
    """What importing `path` gives: the report's counts or the problems, and the tables."""
    try:
        result = import_rows(read_file(path), **options).rows()
    except ImportRefused as exc:
        result = [str(e) for e in exc.errors]
    return result, snapshot()


def both_ways(monkeypatch, first, second, **options) -> tuple:
    """(bulk comparison, row by row): the outcome of importing `second` after `first`, each in a
    transaction rolled back."""
    found = []
    for reference in (False, True):
        with monkeypatch.context() as patched:
            if reference:
                patched.setattr(generic, "mark_unchanged", lambda *args, **kwargs: None)
            with transaction.atomic():
                import_rows(read_file(first), publish=True, same_as=SAME_AS)
                found.append(outcome(second, **options))
                transaction.set_rollback(True)
    return tuple(found)


def changed_copy(source, target):
    """The package at `source` copied to `target`, one cell of each row changed: each row of a
    table a different optional column, in turn, emptied (or a text filled in)."""
    shutil.copytree(source.parent, target)
    for path in target.glob("*.csv"):
        table = BY_NAME[path.stem]
        rows = list(csv.reader(io.StringIO(path.read_text(), newline="")))
        header = rows[0]
        optional = [
            i
            for i, name in enumerate(header)
            if (column := table.column(name)).type != ID and not column.required
        ]
        if not optional:
            continue
        for n, row in enumerate(rows[1:]):
            i = optional[n % len(optional)]
            column = table.column(header[i])
            row[i] = "revised" if not row[i] and column.type == TEXT else ""
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\n").writerows(rows)
        path.write_text(out.getvalue())
    return target / "datapackage.json"


@pytest.mark.parametrize("publish", [False, True])
def test_the_bulk_comparison_gives_what_writing_row_by_row_gives(tmp_path, monkeypatch, publish):
    # The demo case has a row of every table and a value of every kind (coordinates, codes,
    # countries, dates, booleans, numbers, references of each table).
    fast, reference = both_ways(monkeypatch, PACKAGE, PACKAGE, publish=publish, same_as=SAME_AS)
    assert fast == reference
    assert all(created == changed == 0 for _, created, changed, _ in fast[0])

    changed = changed_copy(PACKAGE, tmp_path / "changed")
    fast, reference = both_ways(monkeypatch, PACKAGE, changed, publish=publish, same_as=SAME_AS)
    assert fast == reference
    assert isinstance(fast[0], list) and fast[0]


def test_the_bulk_comparison_sees_a_draft_the_import_publishes(package):
    with transaction.atomic():
        import_rows(read_file(package))
        report = import_rows(read_file(package), publish=True)
        transaction.set_rollback(True)
    counts = {name: (created, changed, same) for name, created, changed, same in report.rows()}
    # Every record that has a state is published now; the rows of a record are as they were.
    assert counts["persons"][0::2] == (0, 0) and counts["persons"][1] > 0
    assert counts["person_names"][:2] == (0, 0) and counts["person_names"][2] > 0


def test_a_row_changed_to_collide_with_an_unchanged_one_is_refused(desk):
    import_rows(read_file(desk))
    names = desk / "person_names.csv"
    names.write_text(
        names.read_text().replace("N2,P1,Qari Belal,spelling", "N2,P1,Qari Bilal,common")
    )

    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(desk))

    [error] = refused.value.errors
    assert error.where == "person_names.csv, line 3"
    assert "already has this name" in error.message
