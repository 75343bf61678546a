"""Release batches written through the API: the decision, the people it names with their sources,
and its own sources; the same roles, rules and privacy as the admin's batch form."""

import pytest

from detainees.domain.models import (
    BatchMembership,
    Citation,
    ExternalId,
    PublicationStatus,
    ReleaseBatch,
)
from tests import factories as f
from tests.test_api_by_key import queries_of
from tests.test_api_round_trip import got, history_rows
from tests.test_api_writes import send

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


@pytest.fixture
def named():
    """Two published people, a published source and a published government."""
    return {
        "first": f.PersonFactory(status=PUBLISHED, name="Qari Bilal"),
        "second": f.PersonFactory(status=PUBLISHED, name="Mullah Abdul"),
        "source": f.SourceFactory(status=PUBLISHED, title="TOLOnews, 2014"),
        "government": f.OrganizationFactory(status=PUBLISHED, name="Government of Afghanistan"),
    }


def decree(named, **extra) -> dict:
    cite = {"source": str(named["source"].public_id), "quote": "65 of the 88 were freed"}
    return {
        "title": "Release of 65 Bagram detainees",
        "date": "February 2014",
        "ordered_by": str(named["government"].public_id),
        "declared_considered": 88,
        "declared_released": 65,
        "description": "Ordered by the president over US objections.",
        "claim_status": "reported",
        "memberships": [
            {
                "person": str(named["first"].public_id),
                "inclusion": "unknown",
                "note": "Named by officials in Kunduz.",
                "citations": [{**cite, "aspect": "named among the released"}],
            },
            {"person": str(named["second"].public_id), "inclusion": "released"},
        ],
        "citations": [{**cite, "aspect": "the totals"}],
        **extra,
    }


def created(client, body) -> tuple[ReleaseBatch, dict, str]:
    response = send(client, "post", "/api/v1/batches/", body, status=201)
    data = response.json()
    return ReleaseBatch.objects.get(public_id=data["id"]), data, response["ETag"]


# --- Creating and publishing --------------------------------------------------------------------


def test_a_researcher_creates_a_draft_batch_with_its_people_and_sources(as_researcher, named):
    batch, data, etag = created(as_researcher, decree(named))

    assert batch.status == "draft"
    assert batch.date == "2014-02" and batch.date_as_written == "February 2014"
    assert batch.ordered_by == named["government"]
    rows = list(batch.memberships.order_by("pk"))
    assert [(m.person, m.inclusion) for m in rows] == [
        (named["first"], "unknown"),
        (named["second"], "released"),
    ]
    assert [c.aspect for c in rows[0].citations.all()] == ["named among the released"]
    assert [c.aspect for c in batch.citations.all()] == ["the totals"]
    assert data["memberships"][0]["note"] == "Named by officials in Kunduz."
    assert data["slug"] == batch.slug
    assert etag == got(as_researcher, f"/api/v1/batches/{batch.public_id}/")[1]


def test_an_editor_publishes_and_the_public_sees_only_public_people_and_sources(
    as_researcher, as_editor, client, named
):
    draft_person = f.PersonFactory(name="Unpublished Person")
    secret = f.SourceFactory(title="Informant report", is_confidential=True)
    body = decree(named)
    body["memberships"].append({"person": str(draft_person.public_id), "inclusion": "unknown"})
    body["citations"].append({"source": str(secret.public_id), "aspect": "informant"})
    batch, _, _ = created(as_researcher, body)
    path = f"/api/v1/batches/{batch.public_id}/"
    assert client.get(path).status_code == 404

    etag = got(as_editor, path)[1]
    send(as_editor, "patch", path, {"status": "published"}, etag=etag, status=200)

    data = client.get(path).json()
    assert [m["person"]["name"] for m in data["memberships"]] == ["Qari Bilal", "Mullah Abdul"]
    assert data["memberships"][0] == {
        "person": {"id": str(named["first"].public_id), "name": "Qari Bilal"},
        "inclusion": "unknown",
        "note": "Named by officials in Kunduz.",
        "claim_status": "reported",
        "citations": [
            {
                "source": {
                    "id": str(named["source"].public_id),
                    "name": "TOLOnews, 2014",
                    "publisher": None,
                    "published": None,
                    "url": "",
                    "archived_url": "",
                },
                "aspect": "named among the released",
                "quote": "65 of the 88 were freed",
                "locator": "",
                "attribution": "",
                "accessed_on": None,
            }
        ],
    }
    assert [c["aspect"] for c in data["citations"]] == ["the totals"]
    text = str(data)
    assert "Unpublished Person" not in text and "Informant report" not in text
    assert "internal_notes" not in text and "status" not in data
    listed = client.get("/api/v1/batches/").json()["results"]
    assert [row["memberships"] for row in listed] == [data["memberships"]]


def test_a_researcher_may_not_publish_nor_edit_a_published_batch(as_researcher, named):
    batch, _, etag = created(as_researcher, decree(named))
    path = f"/api/v1/batches/{batch.public_id}/"

    response = send(as_researcher, "patch", path, {"status": "published"}, etag=etag)
    assert response.status_code == 403
    ReleaseBatch.objects.filter(pk=batch.pk).update(status=PUBLISHED)
    response = send(as_researcher, "patch", path, {"title": "x"}, etag=got(as_researcher, path)[1])
    assert response.status_code == 403
    assert send(as_researcher, "delete", path, etag=got(as_researcher, path)[1]).status_code == 403
    batch.refresh_from_db()
    assert batch.title == "Release of 65 Bagram detainees"


def test_anonymous_clients_may_not_write_batches(client, named):
    assert send(client, "post", "/api/v1/batches/", decree(named)).status_code == 401
    assert not ReleaseBatch.objects.exists()


def test_an_editor_deletes_a_batch_with_its_rows(as_researcher, as_editor, named):
    batch, _, _ = created(as_researcher, decree(named))
    path = f"/api/v1/batches/{batch.public_id}/"

    send(as_editor, "delete", path, etag=got(as_editor, path)[1], status=204)

    assert not ReleaseBatch.objects.exists()
    assert not BatchMembership.objects.exists() and not Citation.objects.exists()


# --- Round trip ----------------------------------------------------------------------------------


def test_the_body_of_a_batch_s_get_is_put_back_as_a_no_op(as_researcher, as_editor, named):
    batch, _, _ = created(as_researcher, decree(named, status="in_review"))
    path = f"/api/v1/batches/{batch.public_id}/"
    body, etag = got(as_editor, path)
    updated = ReleaseBatch.objects.get(pk=batch.pk).updated
    before = history_rows()

    send(as_editor, "put", path, body, etag=etag, status=200)

    assert got(as_editor, path) == (body, etag)
    assert history_rows() == before
    assert ReleaseBatch.objects.get(pk=batch.pk).updated == updated


def test_a_membership_changed_in_the_get_s_shape_is_written(as_researcher, named):
    batch, _, _ = created(as_researcher, decree(named))
    path = f"/api/v1/batches/{batch.public_id}/"
    body, etag = got(as_researcher, path)
    memberships = [dict(m) for m in body["memberships"]]
    memberships[1]["inclusion"] = "not_released"

    send(as_researcher, "put", path, {**body, "memberships": memberships}, etag=etag, status=200)

    after, _ = got(as_researcher, path)
    assert after["memberships"] == memberships
    assert after["memberships"][0]["citations"] == body["memberships"][0]["citations"]


def test_a_batch_naming_a_draft_person_is_not_replaced_from_its_get(as_researcher, named):
    body = decree(named)
    draft = f.PersonFactory(name="Unpublished Person")
    body["memberships"].append({"person": str(draft.public_id), "inclusion": "unknown"})
    batch, _, _ = created(as_researcher, body)
    path = f"/api/v1/batches/{batch.public_id}/"
    shown, etag = got(as_researcher, path)
    assert len(shown["memberships"]) == 2
    memberships = [dict(m) for m in shown["memberships"]]
    memberships[0]["note"] = "Changed."

    response = send(
        as_researcher, "put", path, {**shown, "memberships": memberships}, etag=etag, status=400
    )

    assert list(response.json()) == ["memberships"]
    assert batch.memberships.filter(person=draft).exists()
    # Sent back unchanged, the list is left as it is.
    send(as_researcher, "put", path, shown, etag=etag, status=200)
    assert batch.memberships.count() == 3


# --- Refusals, by field and by row ---------------------------------------------------------------


def test_releasing_more_than_were_considered_names_declared_released(as_researcher, named):
    response = send(
        as_researcher,
        "post",
        "/api/v1/batches/",
        decree(named, declared_considered=10, declared_released=65),
        status=400,
    )

    assert list(response.json()) == ["declared_released"]
    assert "more people than it covered" in response.json()["declared_released"][0]
    assert not ReleaseBatch.objects.exists()


def test_a_person_listed_twice_is_named_at_the_repeated_row(as_researcher, named):
    body = decree(named)
    body["memberships"].append({"person": str(named["first"].public_id), "inclusion": "released"})

    response = send(as_researcher, "post", "/api/v1/batches/", body, status=400)

    assert response.json() == {
        "memberships": {"2": {"person": ["This person is already listed in this batch."]}}
    }
    assert not ReleaseBatch.objects.exists()


@pytest.mark.parametrize(
    "row, field",
    [
        ({"inclusion": "freed"}, "inclusion"),
        ({"person": "not-an-id"}, "person"),
        ({"claim_status": "rumoured"}, "claim_status"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_membership_is_named_at_its_position(as_researcher, named, row, field):
    body = decree(named)
    body["memberships"][1] = {**body["memberships"][1], **row}

    response = send(as_researcher, "post", "/api/v1/batches/", body, status=400)

    assert list(response.json()) == ["memberships"]
    assert list(response.json()["memberships"]) == ["1"]
    assert list(response.json()["memberships"]["1"]) == [field]
    assert not ReleaseBatch.objects.exists() and not BatchMembership.objects.exists()


def test_a_bad_source_in_a_membership_s_citation_is_named_at_its_position(as_researcher, named):
    body = decree(named)
    body["memberships"][1]["citations"] = [{"source": "00000000-0000-4000-8000-000000000000"}]

    response = send(as_researcher, "post", "/api/v1/batches/", body, status=400)

    errors = response.json()["memberships"]["1"]["citations"]["0"]
    assert list(errors) == ["source"]
    assert not ReleaseBatch.objects.exists() and not Citation.objects.exists()


# --- By the script's own key ---------------------------------------------------------------------


def test_a_batch_written_twice_by_key_is_one_batch_unchanged(as_researcher, named):
    path = "/api/v1/batches/by-key/lwj-desk/B-2014-02/"
    first = send(as_researcher, "put", path, decree(named), status=201)
    before = history_rows()

    again = send(as_researcher, "put", path, decree(named), status=200)

    assert again["ETag"] == first["ETag"]
    assert history_rows() == before
    assert ReleaseBatch.objects.count() == 1 and BatchMembership.objects.count() == 2
    key = ExternalId.objects.get(system="lwj-desk", key="B-2014-02")
    assert key.table == "release_batches"
    assert str(key.public_id) == first.json()["id"]


def test_a_blank_if_match_by_key_is_a_400_naming_it_and_writes_nothing(as_researcher, named):
    path = "/api/v1/batches/by-key/lwj-desk/B-2014-02/"

    response = send(as_researcher, "put", path, decree(named), etag=" ", status=400)

    assert list(response.json()) == ["If-Match"]
    assert not ReleaseBatch.objects.exists() and not ExternalId.objects.exists()


# --- Costs ---------------------------------------------------------------------------------------


def test_the_batch_list_runs_a_constant_number_of_queries(client, named):
    def add(n):
        for _ in range(n):
            batch = f.ReleaseBatchFactory(status=PUBLISHED)
            for _ in range(3):
                member = f.BatchMembershipFactory(
                    batch=batch, person=f.PersonFactory(status=PUBLISHED)
                )
                f.CitationFactory(event=None, batch_membership=member, source=named["source"])
            f.CitationFactory(event=None, batch=batch, source=named["source"])

    add(2)
    few = queries_of(client, "/api/v1/batches/")
    add(8)
    assert queries_of(client, "/api/v1/batches/") == few
    rows = client.get("/api/v1/batches/").json()["results"]
    assert len(rows) == 10 and all(len(r["memberships"]) == 3 for r in rows)
