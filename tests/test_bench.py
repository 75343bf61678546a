"""The benchmark harness (bench/run.py) still measures and reports, on a tiny dataset."""

import pytest

from bench import run as bench
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


def test_b2_runs_the_select_of_a_streamed_querysets_server_side_cursor():
    declared = 'DECLARE "_django_curs_1_sync_1" NO SCROLL CURSOR WITH HOLD FOR SELECT "a" FROM "b"'
    assert bench.cursor_query(declared) == 'SELECT "a" FROM "b"'
    assert bench.cursor_query("  SELECT 1") == "SELECT 1"
