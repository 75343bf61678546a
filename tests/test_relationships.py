"""Relationships between people, and the sources of a person and of each name, in public.

A link is stored once and shown on both people's pages, each side in its own words; a link to
someone not public is left out whole; each link, name and person shows its sources.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from detainees.domain import roles
from detainees.domain.models import (
    Citation,
    ClaimStatus,
    Person,
    PublicationStatus,
    Relationship,
)
from detainees.write import services
from detainees.write.exports.package import DESCRIPTOR, write_export
from detainees.write.importers.generic import ImportRefused, import_rows, read_file
from tests import factories as f
from tests.conftest import member_of
from tests.test_export import empty_database
from tests.test_roles import form_data

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def published_person(name, **fields):
    return f.PersonFactory(status=PUBLISHED, name=name, **fields)


def public_source(title="Register of the disappeared"):
    return f.SourceFactory(status=PUBLISHED, title=title)


def page(client, person) -> str:
    response = client.get(person.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def detail(client, person) -> dict:
    response = client.get(f"/api/v1/persons/{person.public_id}/")
    assert response.status_code == 200, response.content[:300]
    return response.json()


@pytest.fixture
def mother_and_child():
    mother = published_person("Amina Rahimi", gender=Person.Gender.FEMALE)
    child = published_person("Omid Rahimi", gender=Person.Gender.MALE)
    tie = Relationship.objects.create(
        person=mother,
        other=child,
        kind=Relationship.Kind.PARENT,
        start="2012",
        claim_status=ClaimStatus.CONFIRMED,
        note="born in captivity",
        internal_notes="PRIVATE-TIE-NOTE",
    )
    return mother, child, tie


# --- Both sides, in their own words -----------------------------------------------------------


def test_a_mother_and_child_linked_once_show_on_both_pages_with_inverse_labels(
    client, mother_and_child
):
    mother, child, _ = mother_and_child

    on_mothers = page(client, mother)
    on_childs = page(client, child)

    assert "Relatives and associates" in on_mothers and "Relatives and associates" in on_childs
    assert f'Mother of <strong><a href="{child.get_absolute_url()}">Omid Rahimi</a>' in on_mothers
    assert f'Son of <strong><a href="{mother.get_absolute_url()}">Amina Rahimi</a>' in on_childs
    assert "born in captivity" in on_childs and "from 2012" in on_childs
    assert "PRIVATE-TIE-NOTE" not in on_mothers + on_childs
    assert Relationship.objects.count() == 1


def test_the_api_gives_each_side_its_label_and_the_other_person(client, mother_and_child):
    mother, child, tie = mother_and_child

    [from_mother] = detail(client, mother)["relationships"]
    [from_child] = detail(client, child)["relationships"]

    assert from_mother == {
        "id": str(tie.public_id),
        "kind": "parent",
        "label": "mother of",
        "person": {
            "id": str(child.public_id),
            "name": "Omid Rahimi",
            "url": child.get_absolute_url(),
        },
        "start": {
            "edtf": "2012",
            "earliest": "2012-01-01",
            "latest": "2012-12-31",
            "text": "2012",
            "as_written": "",
        },
        "end": {
            "edtf": "",
            "earliest": None,
            "latest": None,
            "text": "date unknown",
            "as_written": "",
        },
        "claim_status": "confirmed",
        "note": "born in captivity",
        "citations": [],
    }
    assert (from_child["label"], from_child["person"]["name"]) == ("son of", "Amina Rahimi")


def test_the_words_are_neutral_when_the_gender_is_not_known(client):
    parent = published_person("Parent Unknown")
    child = published_person("Child Unknown")
    Relationship.objects.create(person=parent, other=child, kind=Relationship.Kind.PARENT)

    assert "Parent of <strong>" in page(client, parent)
    assert "Child of <strong>" in page(client, child)


# --- Privacy ------------------------------------------------------------------------------------


def test_a_draft_other_person_is_never_named_on_the_public_page_or_in_the_api(client):
    person = published_person("Public Brother")
    draft = f.PersonFactory(name="Hidden Sister")  # a draft
    Relationship.objects.create(person=person, other=draft, kind=Relationship.Kind.SIBLING)
    withdrawn = f.PersonFactory(name="Withdrawn Cousin", status=PublicationStatus.WITHDRAWN)
    Relationship.objects.create(person=withdrawn, other=person, kind=Relationship.Kind.RELATIVE)

    html = page(client, person)
    data = detail(client, person)

    assert "Hidden Sister" not in html and "Withdrawn Cousin" not in html
    assert "Relatives and associates" not in html
    assert data["relationships"] == []
    assert "Hidden Sister" not in str(data) and str(draft.public_id) not in str(data)


def test_a_retracted_relationship_is_not_public(client, mother_and_child):
    mother, child, tie = mother_and_child
    tie.claim_status = ClaimStatus.RETRACTED
    tie.save()

    assert "Omid Rahimi" not in page(client, mother)
    assert detail(client, child)["relationships"] == []


# --- Citations ----------------------------------------------------------------------------------


def test_a_relationships_citation_is_a_footnote_on_both_pages_and_in_the_api(
    client, mother_and_child
):
    mother, child, tie = mother_and_child
    source = public_source()
    Citation.objects.create(
        source=source,
        relationship=tie,
        quote="her son, born in the prison",
        locator="p. 4",
    )
    secret = f.SourceFactory(is_confidential=True, title="Informant file")
    Citation.objects.create(source=secret, relationship=tie, quote="SECRET-QUOTE")

    for html in (page(client, mother), page(client, child)):
        assert f'id="ref-1-relationship-{tie.pk}"' in html
        assert "“her son, born in the prison”" in html
        assert "SECRET-QUOTE" not in html and "Informant file" not in html
    # The source's page lists the fact it supports.
    assert "Amina Rahimi – parent of – Omid Rahimi" in page(client, source)
    [row] = detail(client, child)["relationships"]
    assert row["citations"] == [
        {
            "source": {
                "id": str(source.public_id),
                "name": "Register of the disappeared",
                "publisher": None,
                "published": None,
                "url": "",
                "archived_url": "",
            },
            "aspect": "",
            "quote": "her son, born in the prison",
            "locator": "p. 4",
            "attribution": "",
            "accessed_on": None,
        }
    ]


def test_the_names_and_the_persons_own_citations_are_shown_and_a_confidential_source_is_not(
    client,
):
    person = published_person("Qari Example")
    alias = person.names.create(name="Abu Example", kind="kunya")
    source = public_source("Court list of 2013")
    secret = f.SourceFactory(is_confidential=True, title="Confidential tip")
    f.CitationFactory(event=None, source=source, person_name=alias, quote="known as Abu Example")
    f.CitationFactory(
        event=None, source=source, person=person, quote="born in Kunduz", internal_notes="PRIV-N"
    )
    f.CitationFactory(event=None, source=secret, person_name=alias, quote="SECRET-ALIAS")
    f.CitationFactory(event=None, source=secret, person=person, quote="SECRET-BIO")

    html = page(client, person)
    data = detail(client, person)

    assert "Names and identity: where they come from" in html
    assert "“known as Abu Example”" in html and "“born in Kunduz”" in html
    assert f'id="ref-1-name-{alias.pk}"' in html and 'id="ref-2-identity"' in html
    names = {n["name"]: n["citations"] for n in data["names"]}
    assert [c["quote"] for c in names["Abu Example"]] == ["known as Abu Example"]
    assert names["Qari Example"] == []
    assert [c["quote"] for c in data["citations"]] == ["born in Kunduz"]
    everything = html + str(data)
    for private in ("SECRET-", "Confidential tip", "PRIV-N", "internal_notes"):
        assert private not in everything


def test_the_person_detail_runs_the_same_queries_whatever_the_relationships(client):
    person = published_person("Counted Person")

    def relate(i):
        other = published_person(f"Relative {i}")
        tie = Relationship.objects.create(person=person, other=other, kind="relative")
        f.CitationFactory(event=None, relationship=tie, source=public_source(f"Source {i}"))
        Relationship.objects.create(person=other, other=person, kind="associate")

    # One in each direction first: a prefetch nested under none runs no query.
    relate(0)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            detail(client, person)
            page(client, person)
        return len(ctx)

    count()
    before = count()
    for i in range(1, 5):
        relate(i)
    assert count() == before


# --- Rules ----------------------------------------------------------------------------------


def test_nobody_is_related_to_themselves_in_the_database_the_service_or_the_admin(client):
    person = f.PersonFactory(name="Lone Person")
    researcher = member_of(roles.RESEARCHER, "researcher")

    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(person=person, other=person, kind="sibling")
    with pytest.raises(services.InvalidRecord) as refused:
        services.relate_people(person=person, other=person, kind="sibling", by=researcher)
    assert "A person cannot be related to themselves." in str(refused.value.errors)

    client.force_login(researcher)
    response = client.post(
        "/admin/detainees/relationship/add/",
        {
            "person": person.pk,
            "other": person.pk,
            "kind": "sibling",
            "claim_status": "reported",
            "citations-TOTAL_FORMS": "0",
            "citations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "A person cannot be related to themselves." in response.content.decode()
    assert not Relationship.objects.exists()


def test_a_relationship_is_recorded_once_not_again_nor_from_the_other_side():
    editor = member_of(roles.EDITOR, "editor")
    a, b = f.PersonFactory(), f.PersonFactory()
    services.relate_people(person=a, other=b, kind="sibling", by=editor)

    with pytest.raises(services.InvalidRecord) as again:
        services.relate_people(person=a, other=b, kind="sibling", by=editor)
    assert "These two people already have this relationship." in str(again.value.errors)
    with pytest.raises(services.InvalidRecord) as turned:
        services.relate_people(person=b, other=a, kind="sibling", by=editor)
    assert "from the other person's side" in str(turned.value.errors)
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(person=b, other=a, kind="sibling")
    # Another kind between the same two is another fact.
    services.relate_people(person=b, other=a, kind="captured_with", by=editor)
    assert Relationship.objects.count() == 2


def test_a_researcher_relates_draft_people_and_anonymous_users_cannot(client):
    researcher = member_of(roles.RESEARCHER, "researcher")
    a, b = f.PersonFactory(name="Draft One"), f.PersonFactory(name="Draft Two")

    tie = services.relate_people(person=a, other=b, kind="spouse", by=researcher, note="wed 2009")
    assert tie.history.get().pgh_context.metadata["user"] == researcher.pk
    with pytest.raises(services.RoleNotAllowed):
        services.relate_people(person=b, other=a, kind="associate", by=AnonymousUser())
    # A published person's ties are the editors'.
    published = published_person("Published One")
    with pytest.raises(services.RoleNotAllowed):
        services.relate_people(person=a, other=published, kind="associate", by=researcher)

    assert client.get("/admin/detainees/relationship/add/").status_code == 302
    client.force_login(researcher)
    assert client.get("/admin/detainees/relationship/add/").status_code == 200
    # Both directions on the person's admin page.
    response = client.get(f"/admin/detainees/person/{b.pk}/change/")
    data = form_data(response)
    assert data["relationships_as_other-0-person"] == str(a.pk)
    assert data["relationships-TOTAL_FORMS"] == "0"


def test_a_merge_refuses_to_relate_the_survivor_to_themselves():
    editor = member_of(roles.EDITOR, "editor")
    a, b = f.PersonFactory(name="Twin A"), f.PersonFactory(name="Twin B")
    Relationship.objects.create(person=a, other=b, kind="sibling")

    with pytest.raises(services.MergeError, match="links the two people being merged"):
        services.merge_persons(survivor=a, removed=b, user=editor, reason="same man")
    assert Person.objects.count() == 2


def test_a_merge_refuses_a_link_the_survivor_has_from_the_other_side():
    editor = member_of(roles.EDITOR, "editor")
    survivor, removed, brother = f.PersonFactory(), f.PersonFactory(), f.PersonFactory()
    Relationship.objects.create(person=survivor, other=brother, kind="sibling")
    Relationship.objects.create(person=brother, other=removed, kind="sibling")

    with pytest.raises(services.MergeError, match="recorded from the other side"):
        services.merge_persons(survivor=survivor, removed=removed, user=editor, reason="same")
    assert Relationship.objects.count() == 2 and Person.objects.count() == 3


def test_a_merge_moves_relationships_to_the_survivor():
    editor = member_of(roles.EDITOR, "editor")
    survivor, removed, child = f.PersonFactory(), f.PersonFactory(), f.PersonFactory()
    Relationship.objects.create(person=removed, other=child, kind="parent")

    services.merge_persons(survivor=survivor, removed=removed, user=editor, reason="same man")

    assert list(Relationship.objects.values_list("person", "other")) == [(survivor.pk, child.pk)]


# --- The data package -----------------------------------------------------------------------


def test_relationships_and_their_citations_make_the_round_trip_through_the_data_package(
    tmp_path,
):
    mother = published_person("Round Mother", gender=Person.Gender.FEMALE)
    child = published_person("Round Child")
    tie = Relationship.objects.create(
        person=mother, other=child, kind="parent", start="2013-03", note="born in captivity"
    )
    citation = f.CitationFactory(
        event=None, relationship=tie, source=public_source(), quote="a son born there"
    )
    Relationship.objects.create(
        person=child, other=f.PersonFactory(), kind="associate"
    )  # to a draft: left out
    write_export(tmp_path)
    exported = (tmp_path / "relationships.csv").read_text()
    assert exported.count("\n") == 2  # the header and the one public link
    empty_database()

    import_rows(read_file(tmp_path / DESCRIPTOR), publish=True)

    tie = Relationship.objects.get(public_id=tie.public_id)
    assert (tie.person.display_name, tie.other.display_name, tie.kind, tie.start, tie.note) == (
        "Round Mother",
        "Round Child",
        "parent",
        "2013-03",
        "born in captivity",
    )
    assert list(tie.citations.values_list("public_id", "quote")) == [
        (citation.public_id, "a son born there")
    ]


def test_an_imported_self_link_is_refused_with_its_line(tmp_path):
    person = published_person("Imported Person")
    (tmp_path / "relationships.csv").write_text(
        f"id,person,other,kind\nrel-1,{person.public_id},{person.public_id},sibling\n"
    )
    editor = get_user_model().objects.create_superuser("root", "r@example.org", "x-pass-1")

    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(tmp_path / "relationships.csv"), user=editor)

    [problem] = [str(e) for e in refused.value.errors]
    assert "relationships.csv, line 2" in problem and "related to themselves" in problem
    assert not Relationship.objects.exists()
