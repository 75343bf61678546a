"""The benchmark harness (bench/run.py) still measures and reports, on a tiny dataset."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import run as bench
from detainees.domain.models import Event, ExternalId, Person, PersonName
from detainees.domain.names import fill_search_key
from detainees.synthetic import generate_dataset


@pytest.fixture
def tiny_dataset(transactional_db):
    # Committed: the baseline reads it on a connection of its own.
    generate_dataset(persons=40, events=200, seed=1)


def test_harness_measures_paths_against_their_own_sql_and_writes_the_report(tiny_dataset, tmp_path):
    results = bench.run(
        repeat=2,
        warmup=0,
        out=tmp_path,
        label="tiny",
        only=["api-persons-page1", "html-person"],
    )

    assert [r.name for r in results] == ["api-persons-page1", "html-person"]
    for r in results:
        assert r.status == 200
        assert r.queries > 0 and r.rows > 0
        assert 0 < r.b2_p95 and r.p50 <= r.p95
        assert (tmp_path / "explain" / f"{r.name}.txt").read_text().count("Execution Time") == 1
    report = (tmp_path / "RESULTS.md").read_text()
    assert "| path | p50 | p95 | B2 p95 | ratio | queries | rows |" in report
    assert "| `api-persons-page1` |" in report and "PostgreSQL" in report
    # Every target has a row: measured with its verdict, or said to be not measured.
    assert "| API list p95 <= 3x B2 | `api-persons-page1` |" in report
    assert "| search p95 < 30 ms | `html-search-misspelled` | not measured |" in report


def queries_per_path(client) -> dict[str, int]:
    """Queries of each benchmarked path, except the streamed exports: theirs grow with the
    number of chunks, never the rows (tests/test_api_sync.py, tests/test_site.py)."""
    counts = {}
    for path in bench.pick_paths(client, export_types="persons,events"):
        if path.heavy:
            continue
        # Once first, so what a process caches on first use (content types, the pages the
        # previous tests in this process left warm or cold) counts the same on both sizes.
        bench.drain(client.get(path.url))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path.url)
            bench.drain(response)
        assert response.status_code == 200, path.url
        counts[path.name] = len(captured)
    return counts


@pytest.mark.slow
def test_every_benchmarked_path_runs_as_many_queries_on_more_data(transactional_db, client):
    # Large enough for the records picked to have every kind of related row: a related table
    # with no rows for the page costs no query.
    generate_dataset(persons=400, events=4000, seed=1)
    named_people_only()
    small = queries_per_path(client)
    generate_dataset(persons=1600, events=16000, seed=2)
    named_people_only()
    assert queries_per_path(client) == small


def named_people_only():
    """Every person named: a page with unnamed people reads what they were, with whom, once it
    shows one (three queries, however many; tests/test_lists.py), which the random records
    picked on the two sizes may or may not show."""
    names = [
        PersonName(person=person, name=f"Person {person.pk}", is_primary=True)
        for person in Person.objects.exclude(names__is_primary=True)
    ]
    for name in names:
        fill_search_key(name)
    PersonName.objects.bulk_create(names)
    Person.objects.update(is_placeholder=False, withheld=[])


def test_the_import_path_imports_every_row_into_an_empty_database_and_keeps_none(
    tiny_dataset, tmp_path
):
    before = {m: m.objects.count() for m in (Person, Event, ExternalId)}

    [result] = bench.run(
        repeat=1, warmup=0, out=tmp_path, label="tiny", only=["import-500"], import_rows=500
    )

    assert result.name == "import-500" and result.status == 0
    assert result.rows == 500
    assert result.queries > 0 and result.p50 == result.p95 > 0 and result.b2_p95 > 0
    assert {m: m.objects.count() for m in before} == before
    report = (tmp_path / "RESULTS.md").read_text()
    assert "| `import-500` |" in report and "COPYed into the same emptied tables" in report
    assert not list((tmp_path / "explain").glob("import-*"))


def test_the_reimport_path_changes_nothing_and_keeps_none(tiny_dataset, tmp_path):
    before = {m: m.objects.count() for m in (Person, Event, ExternalId)}

    [result] = bench.run(
        repeat=1,
        warmup=0,
        out=tmp_path,
        label="tiny",
        only=["reimport-500-unchanged"],
        import_rows=500,
    )

    # Status 0: the second import wrote no record, history row or updated time.
    assert result.name == "reimport-500-unchanged" and result.status == 0
    assert result.rows == 500 and result.queries > 0 and result.b2_p95 > 0
    assert {m: m.objects.count() for m in before} == before
    report = (tmp_path / "RESULTS.md").read_text()
    assert "| `reimport-500-unchanged` |" in report and "It must change nothing" in report


def test_b2_runs_the_select_of_a_streamed_querysets_server_side_cursor():
    declared = 'DECLARE "_django_curs_1_sync_1" NO SCROLL CURSOR WITH HOLD FOR SELECT "a" FROM "b"'
    assert bench.cursor_query(declared) == 'SELECT "a" FROM "b"'
    assert bench.cursor_query("  SELECT 1") == "SELECT 1"


def test_a_run_replaces_only_its_own_part_of_the_results(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("## Written by hand\n\nkept\n")
    bench.write_results(path, "# Report one\n")
    assert path.read_text().startswith(
        f"{bench.GENERATED_START}\n# Report one\n{bench.GENERATED_END}\n"
    )
    assert path.read_text().endswith("## Written by hand\n\nkept\n")
    bench.write_results(path, "# Report two\n")
    text = path.read_text()
    assert "Report one" not in text and "# Report two" in text
    assert text.count(bench.GENERATED_START) == 1 and text.endswith("kept\n")
