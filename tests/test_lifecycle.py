"""Registers of the disappeared: disappearances, deaths with their circumstances and proof,
remains, children born in captivity and appropriated, undated events in their place."""

import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from detainees.domain.models import ClaimStatus, Event, Person, PublicationStatus
from detainees.domain.models.events import check_new_subject_event
from detainees.read.consistency import consistency_warnings
from detainees.read.person import person_queryset
from detainees.read.timeline import current_status, timeline
from detainees.write.exports.package import DESCRIPTOR, write_export
from detainees.write.importers.generic import ImportRefused, import_rows, read_file
from detainees.write.services import MergeError, merge_persons
from tests import factories as f
from tests.test_admin import admin_url, event_post_data
from tests.test_api_writes import send
from tests.test_export import empty_database

pytestmark = pytest.mark.django_db
PUBLISHED = PublicationStatus.PUBLISHED


def person(name="Ana Díaz", **fields):
    return f.PersonFactory(status=PUBLISHED, name=name, **fields)


def add_event(who, kind, date="", **fields):
    event = f.EventFactory(kind=kind, date=date, status=PUBLISHED, **fields)
    f.EventPersonFactory(event=event, person=who)
    return event


def page_person(who):
    (found,) = person_queryset().filter(pk=who.pk)
    return found


def status_everywhere(who) -> set[str]:
    """The status the lists (SQL) and the page's Python derivation give."""
    return {page_person(who).current_status, current_status(page_person(who))}


# --- Disappearance -----------------------------------------------------------------------------


def test_a_disappeared_person_reads_disappeared_on_the_page_the_list_the_api_and_the_csv(client):
    who = person("Ana Díaz")
    add_event(who, Event.Kind.DISAPPEARANCE, "1977-05-12", summary="Taken from her home")

    page = client.get(who.get_absolute_url()).content.decode()
    assert "Disappeared (12 May 1977)" in page

    listing = client.get("/people/").content.decode()
    assert "Disappeared" in listing and "In custody" not in listing

    api = client.get(f"/api/v1/persons/{who.public_id}/", HTTP_ACCEPT="application/json")
    assert api.json()["status_line"].startswith("Disappeared (12 May 1977)")
    (row,) = client.get("/api/v1/persons/", HTTP_ACCEPT="application/json").json()["results"]
    assert row["current_status"] == "disappeared"

    stream = b"".join(client.get("/people.csv").streaming_content).decode()
    (line,) = csv.DictReader(io.StringIO(stream))
    assert line["current_status"] == "disappeared"
    assert line["first_capture"] == "1977-05-12"


def test_the_status_facet_offers_the_new_statuses(client):
    child = person("Niño Pérez")
    add_event(child, Event.Kind.BIRTH_IN_CAPTIVITY, "1977-08")
    add_event(child, Event.Kind.APPROPRIATION, "1978")
    restored = person("Clara Anahí")
    add_event(restored, Event.Kind.APPROPRIATION, "1977")
    add_event(restored, Event.Kind.IDENTITY_RESTORED, "2000")
    found = person("José Luis")
    add_event(found, Event.Kind.DISAPPEARANCE, "1976")
    add_event(found, Event.Kind.REMAINS_IDENTIFIED, "2009")

    assert status_everywhere(child) == {"appropriated"}
    assert status_everywhere(restored) == {"identity_restored"}
    assert status_everywhere(found) == {"deceased"}
    facets = client.get("/api/v1/persons/facets/").json()["facets"]
    counts = {row["value"]: (row["label"], row["count"]) for row in facets["status"]}
    assert counts["appropriated"] == ("Appropriated", 1)
    assert counts["identity_restored"] == ("Identity restored", 1)
    assert counts["deceased"] == ("Deceased", 1)
    page = client.get("/people/", {"status": "appropriated"}).content.decode()
    assert "Niño Pérez" in page and "Clara Anahí" not in page


# --- Undated events ----------------------------------------------------------------------------


def test_an_undated_release_after_a_dated_capture_reads_released():
    who = person()
    add_event(who, Event.Kind.CAPTURE, "2011-04-20")
    add_event(who, Event.Kind.RELEASE, "")
    assert status_everywhere(who) == {"released"}
    assert [e.event.kind for e in timeline(page_person(who))] == ["capture", "release"]


def test_an_undated_capture_before_a_dated_release_reads_released():
    who = person()
    add_event(who, Event.Kind.RELEASE, "2012")
    add_event(who, Event.Kind.CAPTURE, "")
    assert status_everywhere(who) == {"released"}
    assert [e.event.kind for e in timeline(page_person(who))] == ["capture", "release"]


def test_an_undated_death_with_a_dated_capture_reads_deceased():
    who = person()
    add_event(who, Event.Kind.DEATH, "", death_circumstances="died_in_custody")
    add_event(who, Event.Kind.CAPTURE, "1976-03-24")
    assert status_everywhere(who) == {"deceased"}


def test_the_queryset_orders_events_as_the_timeline_does():
    who = person()
    release = add_event(who, Event.Kind.RELEASE, "")
    capture = add_event(who, Event.Kind.CAPTURE, "")
    dated = add_event(who, Event.Kind.CUSTODY, "2011")
    ordered = list(Event.objects.filter(people__person=who).in_timeline_order())
    assert ordered == [capture, dated, release]
    assert [e.event for e in timeline(page_person(who))] == ordered


# --- Consistency -------------------------------------------------------------------------------


def test_a_death_dated_before_a_capture_is_warned_of():
    who = person()
    add_event(who, Event.Kind.DEATH, "1976")
    add_event(who, Event.Kind.CAPTURE, "1977-05")
    warnings = consistency_warnings(Person.objects.with_timeline().get(pk=who.pk))
    assert "Death (1976) is dated before the capture or arrest (May 1977)." in warnings


def test_a_release_dated_after_a_death_is_warned_of():
    who = person()
    add_event(who, Event.Kind.CAPTURE, "1976")
    add_event(who, Event.Kind.DEATH, "1977")
    add_event(who, Event.Kind.RELEASE, "1979")
    warnings = consistency_warnings(Person.objects.with_timeline().get(pk=who.pk))
    assert "Release (1979) is dated after the death (1977)." in warnings


def test_remains_found_before_a_disappearance_are_warned_of_but_disputed_claims_are_not():
    who = person()
    add_event(who, Event.Kind.REMAINS_FOUND, "1975")
    add_event(who, Event.Kind.DISAPPEARANCE, "1976")
    add_event(who, Event.Kind.DEATH, "1970", claim_status=ClaimStatus.DISPUTED)
    warnings = consistency_warnings(Person.objects.with_timeline().get(pk=who.pk))
    assert [w for w in warnings if "dated before" in w] == [
        "Remains found or exhumed (1975) is dated before the enforced disappearance (1976)."
    ]


def test_a_fate_alive_beside_a_death_is_warned_of():
    who = person(fate=Person.Fate.ALIVE)
    add_event(who, Event.Kind.DEATH, "1977")
    warnings = consistency_warnings(Person.objects.with_timeline().get(pk=who.pk))
    assert any("fate is given as alive" in w for w in warnings)
    retracted = person("Other", fate=Person.Fate.ALIVE)
    add_event(retracted, Event.Kind.DEATH, "1977", claim_status=ClaimStatus.RETRACTED)
    warnings = consistency_warnings(Person.objects.with_timeline().get(pk=retracted.pk))
    assert not any("alive" in w for w in warnings)


def test_a_new_release_after_a_death_is_refused_but_one_already_in_is_kept():
    who = person()
    add_event(who, Event.Kind.CAPTURE, "1976")
    add_event(who, Event.Kind.DEATH, "1977")
    new = Event(kind=Event.Kind.RELEASE, date="1979", status=PUBLISHED)
    assert check_new_subject_event(person=who, event=new) == [
        "Release (1979) is dated after the death (1977)."
    ]
    # Entered before the rule: editing it again is not refused, the warning stays.
    old = add_event(who, Event.Kind.RELEASE, "1980")
    old.summary = "Freed, says one source"
    old.full_clean()
    old.save()


def test_the_admin_refuses_a_capture_entered_after_a_death(admin_client):
    who = person()
    add_event(who, Event.Kind.DEATH, "1977-05-01")
    before = Event.objects.count()
    data = event_post_data(
        date="1978",
        **{
            "people-TOTAL_FORMS": "1",
            "people-0-person": str(who.pk),
            "people-0-role": "subject",
        },
    )
    response = admin_client.post(admin_url(Event, "add"), data)
    assert response.status_code == 200
    assert "is dated before the capture or arrest (1978)" in response.content.decode()
    assert Event.objects.count() == before


# --- Death circumstances -----------------------------------------------------------------------


def test_death_circumstances_are_refused_on_anything_but_a_death_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(kind=Event.Kind.CAPTURE, death_circumstances="executed")
    death = Event.objects.create(kind=Event.Kind.DEATH, death_circumstances="executed")
    assert death.get_death_circumstances_display() == "Executed"
    with pytest.raises(ValidationError, match="Only a death has death circumstances"):
        Event(kind=Event.Kind.RELEASE, death_circumstances="unknown").full_clean()


def test_death_circumstances_on_a_capture_are_a_form_error_in_the_admin(admin_client):
    before = Event.objects.count()
    response = admin_client.post(
        admin_url(Event, "add"), event_post_data(death_circumstances="executed")
    )
    assert response.status_code == 200
    assert "Only a death has death circumstances." in response.content.decode()
    assert Event.objects.count() == before


def test_death_circumstances_on_a_capture_are_a_400_in_the_api(researcher, token_client):
    client = token_client(researcher)
    body = {"kind": "capture", "summary": "Taken", "death_circumstances": "executed"}
    response = send(client, "post", "/api/v1/events/", body, status=400)
    assert "Only a death has death circumstances." in response.content.decode()
    assert not Event.objects.exists()
    body["kind"] = "death"
    send(client, "post", "/api/v1/events/", body, status=201)
    assert Event.objects.get().death_circumstances == "executed"


def test_a_death_shows_its_circumstances_on_the_person_page(client):
    who = person()
    add_event(who, Event.Kind.DEATH, "1977", death_circumstances="executed")
    page = client.get(who.get_absolute_url()).content.decode()
    assert "Executed" in page
    api = client.get(f"/api/v1/persons/{who.public_id}/", HTTP_ACCEPT="application/json")
    assert api.json()["timeline"][0]["death_circumstances"] == "executed"


# --- Fate --------------------------------------------------------------------------------------


def test_the_fate_and_its_proof_show_on_the_page_and_in_the_api(client):
    proven = person("Proven", fate=Person.Fate.DEAD, fate_claim_status=ClaimStatus.CONFIRMED)
    unproven = person("Unproven", fate=Person.Fate.DEAD, fate_claim_status=ClaimStatus.REPORTED)
    assert "Dead (proven)" in client.get(proven.get_absolute_url()).content.decode()
    page = client.get(unproven.get_absolute_url()).content.decode()
    assert "Dead (reported, not proven)" in page
    data = client.get(f"/api/v1/persons/{proven.public_id}/", HTTP_ACCEPT="application/json")
    assert (data.json()["fate"], data.json()["fate_claim_status"]) == ("dead", "confirmed")


def test_a_fate_outside_its_choices_is_refused_by_the_database():
    who = person()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=who.pk).update(fate="missing")


def test_the_fate_round_trips_through_the_data_package(tmp_path):
    who = person("Rosa", fate=Person.Fate.DEAD, fate_claim_status=ClaimStatus.CONFIRMED)
    death = add_event(who, Event.Kind.DEATH, "1977", death_circumstances="killed_during_capture")
    release = add_event(person("Luis"), Event.Kind.RELEASE, "1980", release_kind="handed_to_family")
    write_export(tmp_path)
    empty_database()

    import_rows(read_file(tmp_path / DESCRIPTOR), publish=True)

    back = Person.objects.get(public_id=who.public_id)
    assert (back.fate, back.fate_claim_status) == ("dead", "confirmed")
    assert Event.objects.get(public_id=death.public_id).death_circumstances == (
        "killed_during_capture"
    )
    assert Event.objects.get(public_id=release.public_id).release_kind == "handed_to_family"


def test_a_merge_carries_a_known_fate_and_its_proof_to_a_survivor_whose_fate_is_unknown(editor):
    survivor = person("Rosa")
    removed = person("Rosa M.", fate=Person.Fate.DEAD, fate_claim_status=ClaimStatus.CONFIRMED)
    merge_persons(survivor=survivor, removed=removed, user=editor, reason="Same woman")
    survivor.refresh_from_db()
    assert (survivor.fate, survivor.fate_claim_status) == ("dead", "confirmed")


def test_two_fates_that_disagree_stop_the_merge(editor):
    survivor = person("Rosa", fate=Person.Fate.DEAD, fate_claim_status=ClaimStatus.REPORTED)
    removed = person("Rosa M.", fate=Person.Fate.DEAD, fate_claim_status=ClaimStatus.CONFIRMED)
    with pytest.raises(MergeError, match="fate is “dead, reported” on one"):
        merge_persons(survivor=survivor, removed=removed, user=editor, reason="Same woman")
    assert Person.objects.filter(pk=removed.pk).exists()


def test_a_fate_outside_its_choices_is_a_400_in_the_api_and_a_valid_one_is_kept(
    researcher, token_client
):
    client = token_client(researcher)
    body = {"names": [{"name": "Rosa", "is_primary": True}], "fate": "missing"}
    response = send(client, "post", "/api/v1/persons/", body, status=400)
    assert set(response.json()) == {"fate"}
    assert not Person.objects.exists()
    body.update(fate="dead", fate_claim_status="inferred")
    created = send(client, "post", "/api/v1/persons/", body, status=201).json()
    assert (created["fate"], created["fate_claim_status"]) == ("dead", "inferred")


def test_the_api_refuses_a_release_entered_after_a_death(researcher, token_client):
    who = person()
    add_event(who, Event.Kind.DEATH, "1977")
    body = {
        "kind": "release",
        "summary": "Freed",
        "date": "1979",
        "people": [{"person": str(who.public_id), "role": "subject"}],
    }
    response = send(token_client(researcher), "post", "/api/v1/events/", body, status=400)
    assert "Release (1979) is dated after the death (1977)." in response.content.decode()
    assert Event.objects.count() == 1


def test_the_importer_refuses_death_circumstances_on_a_capture_naming_the_line(tmp_path):
    lines = tmp_path / "records.jsonl"
    rows = [
        {"table": "events", "id": "E1", "kind": "death", "death_circumstances": "executed"},
        {"table": "events", "id": "E2", "kind": "capture", "death_circumstances": "executed"},
    ]
    lines.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    with pytest.raises(ImportRefused) as refused:
        import_rows(read_file(lines))
    (error,) = refused.value.errors
    assert error.where == "records.jsonl, line 2"
    assert "Only a death has death circumstances." in str(error)
    assert not Event.objects.exists()
