"""The peer comparison (bench/peer.py): its tasks still name pages the site serves, on a tiny
dataset, and its verdicts and counts are read right. No timing is asserted."""

import pytest

from bench import peer
from detainees.synthetic import generate_dataset


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
