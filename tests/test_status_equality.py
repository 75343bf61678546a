"""A person's current status has one derivation, run in two places: SQL for the lists (the
stored list, `detainees.read.listing.current_status`) and Python for what SQL cannot read
(`detainees.read.timeline.current_status`). On every kind of timeline they must agree."""

import random

import pytest

from detainees.domain.models import ClaimStatus, Event, EventPerson, Person, PersonListing
from detainees.read.listing import CurrentStatus, annotate_listing
from detainees.read.listing_store import deferred
from detainees.read.person import person_queryset
from detainees.read.timeline import current_status, status_line
from tests import factories as f

pytestmark = pytest.mark.django_db

PUBLISHED = "published"

# Start dates of every shape: exact, month, year, season, approximate, between, before, unknown.
DATES = ["2011-04-20", "2011-04", "2011", "2011-21", "2010~", "2013-03/2014-10", "../2014-06", ""]
# Custody ends, all after every start above, or unknown.
END_DATES = ["", "2016", "2016-05", "2015/2017", "2016~"]
# Every way an event can change (or not change) a person's status.
VARIANTS = [
    *[(kind, "") for kind in Event.Kind.values if kind != Event.Kind.CUSTODY],
    *[(Event.Kind.CUSTODY, end) for end in ["", *Event.CustodyEnd.values]],
]


def event_fields(kind, reason="", *, date="2011", end_date="", **extra) -> dict:
    fields = {"kind": kind, "date": date, "status": PUBLISHED, **extra}
    if kind == Event.Kind.CUSTODY:
        fields.update(custody_end_reason=reason, end_date=end_date if reason else "")
    if kind == Event.Kind.REENGAGEMENT:
        fields["reengagement"] = Event.Reengagement.CONFIRMED
    return fields


def add_event(person, kind, reason="", **kwargs):
    event = f.EventFactory(**event_fields(kind, reason, **kwargs))
    f.EventPersonFactory(event=event, person=person)
    return event


def add_events(timelines: list[tuple[Person, dict]]):
    """Each (person, event_fields(...)) as an event of that person, entered in this order: one
    insert of the events and one of their links, the stored list recomputed once after them."""
    with deferred():
        events = Event.objects.bulk_create([Event(**fields) for _, fields in timelines])
        EventPerson.objects.bulk_create(
            EventPerson(event=event, person=p, role=EventPerson.Role.SUBJECT)
            for (p, _), event in zip(timelines, events, strict=True)
        )


def person():
    return f.PersonFactory(status=PUBLISHED)


def sql_statuses() -> dict[int, str]:
    live = dict(annotate_listing(Person.objects.public()).values_list("pk", "current_status"))
    stored = dict(PersonListing.objects.values_list("person_id", "current_status"))
    assert stored == live, "the stored list is the SQL's result"
    return live


def python_statuses() -> dict[int, str]:
    # The person page's read model, without the SQL's status: derived from the events alone.
    people = person_queryset(with_status=False)
    return {p.pk: current_status(p) for p in people}


def assert_equal_statuses():
    sql, python = sql_statuses(), python_statuses()
    assert sql.keys() == python.keys()
    differing = {pk: (sql[pk], python[pk]) for pk in sql if sql[pk] != python[pk]}
    assert not differing, differing
    return sql


def test_each_kind_of_event_alone_gives_the_same_status_in_sql_and_python():
    people, timelines = {}, []
    for kind, reason in VARIANTS:
        for date in DATES:
            people[(kind, reason, date)] = p = person()
            timelines.append((p, event_fields(kind, reason, date=date, end_date="2016")))
    people[("none", "", "")] = person()
    add_events(timelines)
    statuses = assert_equal_statuses()
    # Spot checks, so that agreeing on something wrong fails too.
    for (kind, reason, _), p in people.items():
        if kind == Event.Kind.CUSTODY:
            expected = {
                "": CurrentStatus.IN_CUSTODY,
                "unknown": CurrentStatus.UNKNOWN,
                "release": CurrentStatus.RELEASED,
                "escape": CurrentStatus.ESCAPED,
                "transfer": CurrentStatus.TRANSFERRED,
                "death": CurrentStatus.DECEASED,
            }[reason]
            assert statuses[p.pk] == expected, (kind, reason)
        elif kind in (Event.Kind.REENGAGEMENT, Event.Kind.STRIKE, "none"):
            assert statuses[p.pk] == CurrentStatus.UNKNOWN, kind
        else:
            expected = {
                "capture": CurrentStatus.IN_CUSTODY,
                "birth_in_captivity": CurrentStatus.IN_CUSTODY,
                "disappearance": CurrentStatus.DISAPPEARED,
                "transfer": CurrentStatus.TRANSFERRED,
                "release": CurrentStatus.RELEASED,
                "escape": CurrentStatus.ESCAPED,
                "death": CurrentStatus.DECEASED,
                "remains_found": CurrentStatus.DECEASED,
                "remains_identified": CurrentStatus.DECEASED,
                "appropriation": CurrentStatus.APPROPRIATED,
                "identity_restored": CurrentStatus.IDENTITY_RESTORED,
            }[kind]
            assert statuses[p.pk] == expected, kind


def test_a_custody_episode_ended_for_an_unknown_reason_reads_status_unknown_everywhere():
    p = person()
    add_event(p, Event.Kind.CAPTURE, date="2011-04-20")
    add_event(p, Event.Kind.CUSTODY, "unknown", date="2011-05", end_date="2012")
    assert assert_equal_statuses()[p.pk] == CurrentStatus.UNKNOWN
    (page_person,) = person_queryset().filter(pk=p.pk)
    assert page_person.current_status == CurrentStatus.UNKNOWN
    assert status_line(page_person) == "Status unknown (custody ended 2012)"


def test_claims_of_every_strength_and_drafts_give_the_same_status():
    # Retracted claims and draft events change nothing; the others all count.
    for claim in ClaimStatus.values:
        for kind in (Event.Kind.RELEASE, Event.Kind.ESCAPE):
            p = person()
            add_event(p, Event.Kind.CAPTURE, date="2011-04-20")
            add_event(p, kind, date="2012", claim_status=claim)
    draft = person()
    add_event(draft, Event.Kind.CAPTURE, date="2011")
    add_event(draft, Event.Kind.RELEASE, date="2012", status="draft")
    statuses = assert_equal_statuses()
    assert statuses[draft.pk] == CurrentStatus.IN_CUSTODY


def test_ties_and_undated_events_are_ordered_alike():
    # Same bounds: order_hint, then the order entered; undated events come first.
    tied = person()
    add_event(tied, Event.Kind.RELEASE, date="2012", order_hint=2)
    add_event(tied, Event.Kind.ESCAPE, date="2012", order_hint=1)
    entered = person()
    add_event(entered, Event.Kind.ESCAPE, date="2012")
    add_event(entered, Event.Kind.DEATH, date="2012")
    undated = person()
    add_event(undated, Event.Kind.RELEASE, date="2012")
    add_event(undated, Event.Kind.CAPTURE, date="")
    before = person()
    add_event(before, Event.Kind.RELEASE, date="2012")
    add_event(before, Event.Kind.CAPTURE, date="../2012")
    wider = person()
    add_event(wider, Event.Kind.CAPTURE, date="2012")
    add_event(wider, Event.Kind.RELEASE, date="2012-03")
    statuses = assert_equal_statuses()
    assert statuses[tied.pk] == CurrentStatus.RELEASED
    assert statuses[entered.pk] == CurrentStatus.DECEASED
    assert statuses[undated.pk] == CurrentStatus.RELEASED


# Undated events: those that begin something before every dated event, the others after.
UNDATED_CASES = [
    # (dated kind and date, undated kind, expected status)
    ((Event.Kind.CAPTURE, "2011-04-20"), Event.Kind.RELEASE, CurrentStatus.RELEASED),
    ((Event.Kind.CAPTURE, "2011"), Event.Kind.DEATH, CurrentStatus.DECEASED),
    ((Event.Kind.CAPTURE, "2011~"), Event.Kind.ESCAPE, CurrentStatus.ESCAPED),
    ((Event.Kind.DISAPPEARANCE, "1977"), Event.Kind.REMAINS_FOUND, CurrentStatus.DECEASED),
    ((Event.Kind.RELEASE, "2012"), Event.Kind.CAPTURE, CurrentStatus.RELEASED),
    ((Event.Kind.RELEASE, "2012"), Event.Kind.DISAPPEARANCE, CurrentStatus.RELEASED),
    ((Event.Kind.DEATH, "../1980"), Event.Kind.CUSTODY, CurrentStatus.DECEASED),
    ((Event.Kind.IDENTITY_RESTORED, "2000"), Event.Kind.APPROPRIATION, "identity_restored"),
    ((Event.Kind.APPROPRIATION, "1978"), Event.Kind.BIRTH_IN_CAPTIVITY, "appropriated"),
    ((Event.Kind.APPROPRIATION, "1978"), Event.Kind.IDENTITY_RESTORED, "identity_restored"),
    ((Event.Kind.DISAPPEARANCE, "1976"), Event.Kind.STRIKE, CurrentStatus.DISAPPEARED),
]


@pytest.mark.parametrize("dated_first", [True, False], ids=["dated-entered-first", "undated-first"])
def test_undated_events_are_placed_by_their_kind_alike_in_sql_and_python(dated_first):
    expected = {}
    for (kind, date), undated, status in UNDATED_CASES:
        p = person()
        entries = [(kind, date), (undated, "")]
        for each, when in entries if dated_first else entries[::-1]:
            add_event(p, each, date=when)
        expected[p.pk] = status
    # Two undated endings: order_hint, then the order entered, decide between them.
    hinted = person()
    add_event(hinted, Event.Kind.CAPTURE, date="2011")
    add_event(hinted, Event.Kind.DEATH, date="", order_hint=1)
    add_event(hinted, Event.Kind.RELEASE, date="", order_hint=0)
    expected[hinted.pk] = CurrentStatus.DECEASED
    statuses = assert_equal_statuses()
    assert {pk: statuses[pk] for pk in expected} == expected


def test_random_timelines_of_several_events_give_the_same_status():
    rng = random.Random(20140201)
    timelines = []
    for _ in range(150):
        p = person()
        for _ in range(rng.randint(1, 5)):
            kind, reason = rng.choice(VARIANTS)
            fields = event_fields(
                kind,
                reason,
                date=rng.choice(DATES),
                end_date=rng.choice(END_DATES),
                order_hint=rng.randint(0, 2),
                claim_status=rng.choice(ClaimStatus.values),
                status=rng.choice([PUBLISHED, PUBLISHED, PUBLISHED, "draft"]),
            )
            timelines.append((p, fields))
    add_events(timelines)
    statuses = assert_equal_statuses()
    assert len(set(statuses.values())) == len(CurrentStatus.values)


def test_the_demo_case_gives_the_same_status(demo):
    statuses = assert_equal_statuses()
    bilal = Person.objects.get(slug="qari-bilal")
    assert statuses[bilal.pk] == CurrentStatus.RELEASED
