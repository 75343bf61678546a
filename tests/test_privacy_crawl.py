"""Privacy that cannot leak: crawl every public URL and look for anything private.

The test puts one marker string in every private field of every row, and in every text field of
records the public must not see (drafts, records in review, withdrawn ones, confidential
sources, and the rows that tie a public record to one of those). Then it visits every public
URL the URL resolver knows, outside the admin: each list with each filter value and each
ordering, in each format; each export and feed; each detail of every published record. No
response may hold the marker, a hidden record's public id or its slug, and the hidden records'
own addresses must give 404.

It is generic on purpose, so that what is added later is covered or makes it fail:
- a private field is one whose help text starts with "Private" (`private_fields`); a boolean
  one marks its whole row private when set, as `Source.is_confidential` does;
- every model of the app must have a hidden row built by `build_hidden_rows`, or be listed in
  `PUBLIC_BY_DESIGN` with the reason;
- every URL pattern outside the admin must be reached, and every filter of a list's FilterSet
  must have values (`filter_values`), or the test says which one it could not handle.
"""

import io
import time
import uuid
import zipfile
from collections import defaultdict
from urllib.parse import urlencode, urlsplit

import django_filters
import pghistory.models
import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from detainees.domain.fuzzydates import EDTFField
from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    Correction,
    Event,
    EventFacetTotal,
    EventListing,
    EventOrganization,
    EventPerson,
    ExternalId,
    FacetTotal,
    Facility,
    FacilityControl,
    FacilityName,
    ImportJob,
    Nationality,
    Organization,
    OrganizationName,
    Person,
    PersonListing,
    PersonName,
    PersonNameKey,
    PersonRedirect,
    Place,
    PublicationStatus,
    Publishable,
    Relationship,
    ReleaseBatch,
    ReviewComment,
    Source,
    StaleEventListing,
    StaleListing,
    Tombstone,
)
from detainees.read.facets import EVENT_FACETS
from detainees.read.filters import (
    EventFacetFilterSet,
    FacetFilter,
    FuzzyBoundFilter,
    PersonFilterSet,
    events_for_listing,
    facet_counts,
    people_for_listing,
)
from detainees.write.demo import load_demo
from detainees.write.exports.package import write_export

pytestmark = [pytest.mark.django_db, pytest.mark.crawl]

MARKER = "zqleak7marker"  # lower case, so it can sit in slugs and be searched for in any case
HIDDEN_STATUSES = [s for s in PublicationStatus.values if s != PublicationStatus.PUBLISHED]
PUBLIC_BY_DESIGN = {
    Tombstone: "written only by triggers, for records that were public: a type, an id, a time",
    **dict.fromkeys(
        [PersonListing, EventListing, FacetTotal, EventFacetTotal, StaleListing, StaleEventListing],
        "derived by triggers from published records only (tests/test_listing_store.py)",
    ),
    PersonNameKey: "never shown: search finds names through it, then keeps published people",
}
# Lists of the public site and the FilterSet each one reads from the query string; the API's
# lists declare theirs on the viewset. Other parameters a page reads, with values to try.
SITE_FILTERSETS = {
    "detainees:person-list": PersonFilterSet,
    "detainees:person-list-csv": PersonFilterSet,
    "detainees:figures": PersonFilterSet,
    "detainees:event-list": EventFacetFilterSet,
    "detainees:event-list-csv": EventFacetFilterSet,
}
SEARCH_TERMS = ["Qari Bilal", "Bilal", "IMU", "Parwan", "Kunduz", "Taliban"]
EXTRA_PARAMS = {
    "detainees:search": [{"q": term} for term in SEARCH_TERMS],
    "detainees:facility-detail": [{"on": "2012"}, {"on": "2013-03"}, {"on": "2014-06"}],
    "api:export": [{"types": name} for name in ("persons", "events", "sources")],
}
API_FORMATS = [{}, {"format": "csv"}]
# Routes that answer anything left over (the API's JSON 404): no record behind them.
CATCH_ALL = {"api:not-found"}
# Routes that only take a write (the bulk write): an anonymous GET is refused, reading nothing.
WRITE_ONLY = {"api:bulk"}
# How a URL keyword names a record.
IDENTIFIERS = {"slug": "slug", "public_id": "public_id", "id": "public_id"}
MAX_CHOICES = 20  # more choices than this (countries) are narrowed to the values in the data


def why(status) -> dict:
    """A withdrawn record must say why (a database rule)."""
    if status == PublicationStatus.WITHDRAWN:
        return {"withdrawal_reason": "Withdrawn in the crawl."}
    return {}


def private_fields(model) -> list[models.Field]:
    """The rule: a field is private when its help text starts with "Private"."""
    return [f for f in model._meta.concrete_fields if str(f.help_text).startswith("Private")]


def is_free_text(field) -> bool:
    return (
        isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and not isinstance(field, EDTFField)
        and not field.primary_key
    )


def app_models():
    """Every record model; the audit history's copies are staff-only and checked by their own
    tests (tests/test_history.py), and cannot be written to."""
    return [
        m
        for m in apps.get_app_config("detainees").get_models()
        if not m._meta.proxy and not issubclass(m, pghistory.models.Event)
    ]


# --- The private data -------------------------------------------------------------------------


def build_hidden_rows() -> list[models.Model]:
    """Rows the public must not see, of every model: hidden records, and links to them."""
    bilal = Person.objects.published().get(names__name="Qari Bilal", names__is_primary=True)
    event = Event.objects.published().filter(people__person=bilal).order_by("pk").first()
    org = Organization.objects.published().order_by("pk").first()
    source = Source.objects.published().order_by("pk").first()
    batch = ReleaseBatch.objects.published().order_by("pk").first()
    province = Place.objects.published().filter(kind="province").order_by("pk").first()
    public_facility = Facility.objects.create(
        name="Crawl facility", place=province, status=PublicationStatus.PUBLISHED
    )
    rows = []
    for status in HIDDEN_STATUSES:
        person = Person.objects.create(status=status, **why(status), biography="Hidden person.")
        rows += [
            person,
            PersonName.objects.create(person=person, name="Qari Bilal", is_primary=True),
            Nationality.objects.create(person=person, country="UZ"),
        ]
        hidden_org = Organization.objects.create(
            name=f"Hidden group {status}",
            kind=Organization.Kind.ARMED_GROUP,
            status=status,
            **why(status),
        )
        hidden_place = Place.objects.create(
            name=f"Hidden district {status}",
            kind="district",
            parent=province,
            status=status,
            **why(status),
        )
        hidden_facility = Facility.objects.create(
            name=f"Hidden prison {status}", place=hidden_place, status=status, **why(status)
        )
        hidden_event = Event.objects.create(
            kind=Event.Kind.CAPTURE, date="2012", status=status, **why(status), place=hidden_place
        )
        hidden_batch = ReleaseBatch.objects.create(
            title=f"Hidden batch {status}", status=status, **why(status)
        )
        hidden_source = Source.objects.create(
            kind=Source.Kind.NEWS_REPORT,
            title=f"Hidden source {status}",
            status=status,
            **why(status),
        )
        rows += [
            hidden_org,
            OrganizationName.objects.create(organization=hidden_org, name=f"Hidden {status}"),
            hidden_place,
            hidden_facility,
            FacilityName.objects.create(facility=hidden_facility, name=f"Hidden gaol {status}"),
            hidden_event,
            hidden_batch,
            hidden_source,
            # A hidden record's own facts, and public records tied to hidden ones.
            Affiliation.objects.create(
                person=bilal, organization=org, status=status, **why(status)
            ),
            Affiliation.objects.create(
                person=person, organization=org, status=status, **why(status)
            ),
            EventPerson.objects.create(event=hidden_event, person=bilal),
            EventPerson.objects.create(event=event, person=person, role="related"),
            EventOrganization.objects.create(event=event, organization=hidden_org, role="other"),
            EventOrganization.objects.create(
                event=hidden_event, organization=org, role="capturing_force"
            ),
            BatchMembership.objects.create(batch=batch, person=person, inclusion="unknown"),
            # Ties to a hidden person, from either side: left out whole, never named.
            hidden_tie := Relationship.objects.create(person=bilal, other=person, kind="sibling"),
            Relationship.objects.create(person=person, other=bilal, kind="parent"),
            Citation.objects.create(source=source, relationship=hidden_tie, quote="hidden tie"),
            BatchMembership.objects.create(batch=hidden_batch, person=bilal, inclusion="unknown"),
            FacilityControl.objects.create(facility=hidden_facility, controller=org, start="2020"),
            FacilityControl.objects.create(
                facility=public_facility, controller=hidden_org, start="2020", end="2020"
            ),
            Citation.objects.create(source=hidden_source, event=event, quote="hidden source"),
            Citation.objects.create(source=source, event=hidden_event, quote="hidden event"),
            # Reviewer comments, on a public record and on a hidden one; a hidden record's
            # correction.
            ReviewComment.objects.create(record=bilal, text="Needs a second source."),
            ReviewComment.objects.create(record=person, text="Who says so?"),
            Correction.objects.create(record=person, note="Hidden correction."),
            PersonRedirect.objects.create(
                person=bilal,
                old_public_id=uuid.uuid4(),
                old_slug=f"{MARKER}-merged-{status}",
                old_name="Merged draft",
                was_published=False,
            ),
            # A desk's own identifier for a record: import bookkeeping, never shown.
            ExternalId.objects.create(
                table="persons",
                system=f"desk-{status}",
                key=f"P-{status}",
                public_id=person.public_id,
            ),
        ]
    # An admin import's job: who uploaded which file, and its problems; staff only.
    rows.append(
        ImportJob.objects.create(
            username="crawl-uploader",
            file_path="/private/upload.csv",
            file_name="upload.csv",
            system="desk",
            dry_run=True,
            errors=[["upload.csv, line 2", "a private problem"]],
        )
    )
    # A retracted relationship between two public people.
    karzai = Person.objects.published().get(names__name="Hamid Karzai")
    rows.append(
        Relationship.objects.create(
            person=karzai, other=bilal, kind="associate", claim_status="retracted"
        )
    )
    # A fact cited from a public source, with private notes only.
    Citation.objects.create(source=source, event=event, quote="public quote")
    # An import job of the admin: staff-only, every field of it.
    rows.append(
        ImportJob.objects.create(
            username="crawl",
            file_path="imports/crawl.csv",
            file_name="crawl.csv",
            system="crawl",
            dry_run=True,
        )
    )
    return rows


def mark(rows) -> dict[str, set[str]]:
    """Put the marker in every free-text field of the hidden rows, and private fields' rows on.

    Returns the hidden rows' identifiers (public ids and slugs), by model label.
    """
    identifiers = defaultdict(set)
    for row in rows:
        model = type(row)
        for field in model._meta.concrete_fields:
            if isinstance(field, models.SlugField):
                setattr(row, field.attname, f"{MARKER}-{model._meta.model_name}-{row.pk}")
            elif isinstance(field, models.URLField):
                setattr(row, field.attname, f"https://example.org/{MARKER}/{row.pk}")
            elif is_free_text(field) and field.editable:
                value = f"{getattr(row, field.attname)} {MARKER}".strip()
                setattr(row, field.attname, value[: field.max_length or None])
            elif field in private_fields(model) and isinstance(field, models.BooleanField):
                # A private flag (a confidential source) hides its row when on; it may not be
                # published, so it is turned on for the hidden rows only, one status of each.
                if getattr(row, "status", None) == PublicationStatus.IN_REVIEW:
                    setattr(row, field.attname, True)
        row.save()
        for name in ("public_id", "slug", "old_public_id", "old_slug"):
            if hasattr(row, name):
                identifiers[model._meta.label].add(str(getattr(row, name)))
    return identifiers


def mark_private_fields():
    """The marker in every private text field of every row, public records' included."""
    for model in app_models():
        for field in private_fields(model):
            if is_free_text(field):
                model._base_manager.update(**{field.attname: MARKER})


@pytest.fixture
def hidden(db, settings, tmp_path):
    settings.EXPORT_DIR = tmp_path
    load_demo()
    before = {model: model._base_manager.count() for model in app_models()}
    identifiers = mark(build_hidden_rows())
    mark_private_fields()
    uncovered = [
        model.__name__
        for model in app_models()
        if model not in PUBLIC_BY_DESIGN and model._base_manager.count() == before[model]
    ]
    assert not uncovered, f"build_hidden_rows makes no hidden row of: {uncovered}"
    write_export(tmp_path, archive=True)  # the download /data/ offers, made from this data
    return identifiers


def test_the_private_field_rule_finds_the_known_private_fields():
    found = {f"{f.model.__name__}.{f.name}" for m in app_models() for f in private_fields(m)}
    for model in app_models():
        if issubclass(model, Publishable):
            assert f"{model.__name__}.internal_notes" in found
    assert {"Citation.internal_notes", "Source.is_confidential", "PersonRedirect.reason"} <= found


# --- The crawl --------------------------------------------------------------------------------


def public_patterns(resolver=None, namespace="") -> dict[str, URLPattern]:
    """Every named URL pattern outside the admin, as "namespace:name"."""
    resolver = resolver or get_resolver()
    found = {}
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.update(public_patterns(entry, inner))
        elif not str(entry.pattern).startswith("admin/"):  # staff pages beside the admin's
            assert entry.name, f"URL pattern {entry.pattern} has no name"
            found[f"{namespace}{entry.name}"] = entry
    return found


def url_keywords(pattern: URLPattern) -> list[str]:
    """The pattern's keywords, whether it is a path() route or a router's regular expression."""
    return list(pattern.pattern.regex.groupindex)


def filterset_of(name: str, view_class):
    if name in SITE_FILTERSETS:
        return SITE_FILTERSETS[name]
    return getattr(view_class, "filterset_class", None)


def published_values(queryset, field_name: str, hidden_ids: set[str], limit=3) -> list[str]:
    values = queryset.exclude(**{f"{field_name}__isnull": True}).values_list(field_name, flat=True)
    found = []
    for value in values.order_by(field_name).distinct()[:50]:
        text = str(value)
        if text and text not in hidden_ids and MARKER not in text.lower():
            found.append(text)
        if len(found) == limit:
            break
    return found or ["no-such-value"]  # the filter still runs, on an empty result


def filter_values(name, flt, queryset, hidden_ids) -> list[str]:
    """Values to try for one filter: its choices, or values the published data holds."""
    if isinstance(flt, FacetFilter):
        is_event_facet = flt.facet in EVENT_FACETS.values()
        selection = events_for_listing() if is_event_facet else people_for_listing()
        counts = facet_counts(selection, {name: flt.facet})[name]
        return [value for value, _, _ in counts]
    if isinstance(flt, FuzzyBoundFilter):
        return ["2011", "spring 2011", "2013-03/2014-10"]
    if isinstance(flt, django_filters.IsoDateTimeFilter):
        return ["2000-01-01T00:00:00Z"]
    if isinstance(flt, django_filters.DateFilter):
        return ["2011-04-20"]
    choices = flt.extra.get("choices")
    if callable(choices):
        choices = choices()
    if choices:
        values = [str(value) for value, _ in choices if value]
        if len(values) > MAX_CHOICES:
            values = published_values(queryset, flt.field_name, hidden_ids, limit=MAX_CHOICES)
        return values
    if isinstance(flt, django_filters.UUIDFilter):
        return published_values(queryset, flt.field_name, hidden_ids)
    if flt.method:
        return SEARCH_TERMS[:3]
    if isinstance(flt, django_filters.CharFilter):
        return published_values(queryset, flt.field_name, hidden_ids)
    raise AssertionError(f"the crawl has no values for the filter {name} ({type(flt).__name__})")


def list_params(name: str, view_class, hidden_ids) -> list[dict]:
    """Each filter alone with each of its values, each ordering, and the page's own params."""
    params = [{}]
    filterset_class = filterset_of(name, view_class)
    if filterset_class is not None:
        if view_class is not None and hasattr(view_class, "get_queryset"):
            queryset = view_class(action="list", request=None, kwargs={}).get_queryset()
        elif filterset_class._meta.model is Event:
            queryset = events_for_listing()
        else:
            queryset = people_for_listing()
        # The class declares every filter, the facets too.
        for filter_name, flt in filterset_class.base_filters.items():
            values = filter_values(filter_name, flt, queryset, hidden_ids)
            assert values, f"{name}: no value to try for the filter {filter_name}"
            params += [{filter_name: value} for value in values]
    for ordering in getattr(view_class, "orderings", {}) or {}:
        params.append({"ordering": ordering})
    params += EXTRA_PARAMS.get(name, [])
    if name.startswith("api:") and name.endswith("-list"):
        params = [{**p, **fmt} for p in params for fmt in API_FORMATS]
    return params


class Crawl:
    def __init__(self, client, identifiers):
        self.client = client
        self.hidden = {i for ids in identifiers.values() for i in ids}
        self.requests = 0
        self.reached = set()
        self.leaks = []

    def get(self, url, params=None):
        if params:
            url = f"{url}?{urlencode(params)}"
        response = self.client.get(url)
        self.requests += 1
        match = resolve(urlsplit(url).path)
        self.reached.add(f"{':'.join(match.namespaces)}:{match.url_name}".lstrip(":"))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if body.startswith(b"PK\x03\x04"):  # a zip: what its files hold, not its compression
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                body = b"\n".join(archive.read(name) for name in archive.namelist())
        text = (body.decode(errors="replace") + response.get("Location", "")).lower()
        if MARKER in text:
            self.leaks.append(f"{url}: the marker")
        for identifier in self.hidden:
            if identifier.lower() in text:
                self.leaks.append(f"{url}: hidden identifier {identifier}")
        return response


def test_no_public_url_shows_anything_private(client, hidden, settings):
    # One anonymous client asks every URL in turn, more than a minute's allowance of reads;
    # the throttle itself is tested with the API (tests/test_api_contract.py).
    settings.API_ANON_RATE = "100000/minute"
    started = time.perf_counter()
    crawl = Crawl(client, hidden)
    patterns = public_patterns()
    unreachable = []
    for name, pattern in patterns.items():
        # One client makes every request, well over the API's rate per minute on a fast
        # machine: each route starts with no requests counted, as each test does.
        cache.clear()
        keywords = url_keywords(pattern)
        view_class = getattr(pattern.callback, "cls", None)
        if name in WRITE_ONLY:
            response = crawl.get(reverse(name))
            assert response.status_code == 401, (name, response.status_code)
            continue
        if not keywords:
            url = reverse(name)
            for params in list_params(name, view_class, crawl.hidden):
                response = crawl.get(url, params)
                assert response.status_code == 200, (url, params, response.status_code)
                # Follow the API's pages, as a script would.
                data = response.json() if response.get("Content-Type") == "application/json" else {}
                while isinstance(data, dict) and data.get("next"):
                    response = crawl.get(data["next"])
                    data = response.json()
            continue
        if name in CATCH_ALL:
            response = crawl.get(reverse(name, kwargs={keywords[0]: "no-such-route/"}))
            assert response.status_code == 404, (name, response.status_code)
            continue
        if set(keywords) == {"system", "key"}:
            # A record by a script's own key is for staff: refused to the crawl, whatever the
            # key names (the drafts' keys included).
            keyed = ExternalId.objects.order_by("pk")[:20]
            for external in [*keyed, ExternalId(system="crawl", key="no-such-key")]:
                url = reverse(name, kwargs={"system": external.system, "key": external.key})
                assert crawl.get(url).status_code == 401, url
            continue
        assert len(keywords) == 1 and keywords[0] in IDENTIFIERS, (
            f"the crawl does not know how to fill {pattern.pattern} ({name})"
        )
        attribute = IDENTIFIERS[keywords[0]]
        model = detail_model(crawl, name, keywords[0], attribute)
        if model is None:
            unreachable.append(name)
            continue
        for record in shown_records(model).order_by("pk"):
            url = reverse(name, kwargs={keywords[0]: getattr(record, attribute)})
            for params in [{}, *EXTRA_PARAMS.get(name, [])]:
                response = crawl.get(url, params)
                assert response.status_code in (200, 301, 302), (url, response.status_code)
        identifiers = set(hidden.get(model._meta.label, ()))
        if model is Person:  # and the merged drafts' old addresses
            identifiers |= hidden.get(PersonRedirect._meta.label, set())
        for identifier in identifiers:
            if (attribute == "public_id") != is_uuid(identifier):
                continue
            url = reverse(name, kwargs={keywords[0]: identifier})
            response = crawl.client.get(url)
            crawl.requests += 1
            if response.status_code != 404:
                crawl.leaks.append(f"{url}: a hidden record answers {response.status_code}")
    elapsed = time.perf_counter() - started
    print(f"\nprivacy crawl: {crawl.requests} requests in {elapsed:.1f} s")

    assert not unreachable, f"no published record answers these patterns: {unreachable}"
    assert set(patterns) <= crawl.reached, f"not crawled: {set(patterns) - crawl.reached}"
    assert not crawl.leaks, "\n".join(sorted(set(crawl.leaks))[:50])


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def shown_records(model):
    """The records of `model` the public is shown: the published ones, or, for a type with no
    publication state (a relationship), those its `public()` selects."""
    if issubclass(model, Publishable):
        return model.objects.published()
    return model.objects.public()


def detail_model(crawl: Crawl, name: str, keyword: str, attribute: str):
    """The model whose public records this detail pattern answers, found by trying each."""
    for model in app_models():
        shown = issubclass(model, Publishable) or hasattr(model.objects, "public")
        if not shown or not hasattr(model, attribute):
            continue
        record = shown_records(model).order_by("pk").first()
        if record is None:
            continue
        response = crawl.get(reverse(name, kwargs={keyword: getattr(record, attribute)}))
        if response.status_code in (200, 301, 302):
            return model
    return None


def test_the_crawl_notices_a_leak(client, hidden):
    """The detector itself: a page echoing the marker, or naming a hidden record, is caught."""
    crawl = Crawl(client, hidden)
    crawl.get("/search/", {"q": MARKER})
    hidden_id = next(i for i in crawl.hidden if is_uuid(i))
    crawl.get("/search/", {"q": hidden_id})
    assert len(crawl.leaks) == 2
