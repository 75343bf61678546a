"""The peer comparison (bench/peer.py): its tasks still name pages the site serves, on a tiny
dataset, and its verdicts and counts are read right; its SQLite loader (bench/peer_load.py)
writes the database its reference path writes. No timing is asserted."""

import json
import sqlite3
import subprocess

import pytest

from bench import peer
from detainees.synthetic import generate_dataset
from detainees.write.exports.package import write_export


@pytest.fixture
def tiny_dataset(transactional_db):
    generate_dataset(persons=40, events=200, seed=1)


def test_every_task_names_a_page_we_serve_and_a_datasette_url(tiny_dataset, client):
    picks = peer.pick()
    tasks = peer.tasks(picks)
    assert len({t.name for t in tasks}) == len(tasks) == 13
    for task in tasks:
        # A renamed parameter (the API's `search` is the site's `q`) would answer 400 here.
        response = client.get(task.ours)
        assert response.status_code == 200, task.ours
        assert task.theirs.startswith(f"/{peer.DB_NAME}/"), task.theirs
    facets = next(t for t in tasks if t.name == "list-12-facets").theirs
    assert facets.count("_facet=") + facets.count("_facet_array=") == 12
    detail = next(t for t in tasks if t.name == "api-detail")
    assert picks["id"] in detail.ours and picks["id"] in detail.theirs


def test_rows_are_counted_as_a_csv_reader_and_a_json_client_count_them():
    csv_body = b'id,note\r\n1,"two\r\nlines"\r\n2,plain\r\n'
    assert peer.count_rows("/events.csv?kind=capture", csv_body) == "2"
    assert peer.count_rows("/api/v1/events/?format=csv&page_size=2", csv_body) == "2"
    assert peer.count_rows("/api/v1/persons/", b'{"results": [{}, {}, {}]}') == "3"
    assert peer.count_rows("/peer/people.json?_size=50", b'{"rows": [[1], [2]]}') == "2"
    assert peer.count_rows("/peer/persons/x.json", b'{"ok": true}') == "1"
    assert peer.count_rows("/people/", b"<html></html>") == "-"


def test_a_task_is_met_when_our_p95_is_within_its_allowance_of_theirs_and_both_answered():
    task = peer.Task("t", "t", "/a", "/peer/b", "same", allowance=2.0)
    ours = peer.Side(times=[10.0] * 18 + [30.0, 30.0], status=200)
    theirs = peer.Side(times=[10.0] * 20, status=200)
    assert peer.Outcome(task, ours, theirs).ratio == 3.0
    assert not peer.Outcome(task, ours, theirs).met
    ours.times = [19.0] * 20
    assert peer.Outcome(task, ours, theirs).met
    theirs.status = 500
    assert not peer.Outcome(task, ours, theirs).met


def contents(path) -> dict:
    """A SQLite file as Datasette reads it: every schema entry, and every table's rows with
    their rowids and storage classes (the full-text indexes through their shadow tables)."""
    db = sqlite3.connect(path)
    try:
        schema = db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
        out = {"schema": schema.fetchall()}
        tables = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
        ).fetchall()
        for (name,) in tables:
            rowid = "" if name.endswith(("_fts_idx", "_fts_config")) else "rowid, "
            rows = db.execute(f"SELECT {rowid}* FROM [{name}] ORDER BY 1, 2")  # noqa: S608 (names from sqlite_master)
            out[name] = [tuple((type(v).__name__, v) for v in row) for row in rows]
        return out
    finally:
        db.close()


@pytest.mark.skipif(not peer.BENCH_PYTHON.exists(), reason="no .venv-bench (make bench-env)")
def test_the_loader_writes_the_database_sqlite_utils_insert_all_writes(tiny_dataset, tmp_path):
    # Rows in every shape the export has (empty cells, booleans, numbers, tables with no rows),
    # and one in shapes it does not write today: lists, an empty one, JSON types in text columns.
    write_export(tmp_path / "export")
    odd = {"table": "sources", "id": "odd", "title": ["a", 1, None], "summary": [], "url": True}
    odd |= {"publisher": None, "author": 2.5, "language": 0, "full_text": ""}
    with (tmp_path / "export" / "records.jsonl").open("a") as records:
        records.write(json.dumps(odd) + "\n")
    loaded = {}
    for how, flags in (("fast", []), ("reference", ["--reference"])):
        database = tmp_path / how / "peer.db"
        database.parent.mkdir()
        out = subprocess.run(
            [str(peer.BENCH_PYTHON), str(peer.ROOT / "bench" / "peer_load.py"), *flags]
            + [str(tmp_path / "export"), str(database)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        loaded[how] = json.loads(out)["rows"], contents(database)
    rows, fast = loaded["fast"]
    assert rows == loaded["reference"][0]
    assert rows["persons"] == rows["people"] > 0 and rows["events"] > 0
    assert fast.keys() == loaded["reference"][1].keys()
    for name, entries in fast.items():
        assert entries == loaded["reference"][1][name], name
    assert "people_fts_data" in fast and "idx_events_kind" in str(fast["schema"])
