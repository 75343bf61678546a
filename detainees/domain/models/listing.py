"""What the public people list shows, sorts and filters each published person by, stored.

Computed from the person's published records (`detainees.read.listing` defines how) and kept exact
by PostgreSQL triggers on every table it is computed from (`detainees.read.listing_store`), so the
list, its facet counts and its sorts read one row per person instead of walking the timeline.
"""

from datetime import date

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db import models
from django.db.models import F, Func, Value
from django.db.models.functions import Coalesce


def facet_code_field():
    """Each facet value's code, in the order of `facets`: a stored column computed from it by
    PostgreSQL (`detainees_facet_codes`, migration 0047), so the triggers writing `facets` keep
    it exact. The counts group these integers rather than the text (detainees.read.filters)."""
    return models.GeneratedField(
        expression=Func(
            F("facets"),
            function="detainees_facet_codes",
            output_field=ArrayField(models.IntegerField()),
        ),
        output_field=ArrayField(models.IntegerField()),
        db_persist=True,
    )


# Missing dates sort last in both directions (as keyset_page orders them): ascending sorts
# read them as the latest possible day, descending ones as the earliest.
LATEST, EARLIEST = date.max.isoformat(), date.min.isoformat()


class DateMultiRangeField(models.Field):
    """A PostgreSQL `datemultirange`: a set of day ranges, unbounded where a bound is unknown.
    Written and compared in SQL only (the list's date-range filters); not read into Python."""

    description = "A set of date ranges"

    def db_type(self, connection):
        return "datemultirange"


@DateMultiRangeField.register_lookup
class MultiRangeOverlap(models.Lookup):
    """`spans__overlap=range`: some day of the set lies in the range (`&&`)."""

    lookup_name = "overlap"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} && {rhs}", (*lhs_params, *rhs_params)


class PersonListing(models.Model):
    """One published person's list row; unpublished people have none."""

    person = models.OneToOneField(
        "detainees.Person",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the triggers remove the row with the person
        db_constraint=False,
        related_name="listing",
    )
    sort_name = models.TextField()
    first_capture = models.DateField(null=True)
    # As the timeline gives them: none when there is no such event, as for the dates above.
    first_capture_date = models.TextField(null=True)  # noqa: DJ001
    last_release = models.DateField(null=True)
    last_release_date = models.TextField(null=True)  # noqa: DJ001
    current_status = models.TextField()
    # Subject of a capture, custody, disappearance, transfer, release, escape or birth in
    # captivity (detainees.read.listing.DETAINEE_EVENT_KINDS): the public list's default.
    is_detainee = models.BooleanField(default=False, db_default=False)
    # No name to show (a placeholder, a name withheld or not known): shown by a description.
    unnamed = models.BooleanField(default=False, db_default=False)
    # The name sorts' keys: unnamed people last in both directions (see annotate_listing).
    name_asc = models.TextField(default="", db_default="")
    name_desc = models.TextField(default="", db_default="")
    # The events the row's dates and status come from, by primary key (None where there is
    # none; `detainees.read.listing.deciding_events`): the row's citations are theirs.
    first_capture_event = models.BigIntegerField(null=True)
    last_release_event = models.BigIntegerField(null=True)
    status_event = models.BigIntegerField(null=True)
    # Every facet value the person has, as "facet=value" (e.g. "nationality=AF").
    facets = ArrayField(models.TextField(), default=list)
    facet_codes = facet_code_field()
    # The days each public capture or custody (`capture_spans`) and release (`release_spans`)
    # of the person, as subject, may have happened on: from the date's earliest possible day to
    # its latest, unbounded where a bound is unknown; events with no date at all left out
    # (`detainees.read.listing.event_spans`). The list's "possibly in the range" date filters
    # read them (`detainees.read.filters.date_range_q`).
    capture_spans = DateMultiRangeField(default="{}", db_default=Value("{}"))
    release_spans = DateMultiRangeField(default="{}", db_default=Value("{}"))

    class Meta:
        indexes = [
            GinIndex(fields=["facets"], name="listing_facets_gin"),
            GistIndex(fields=["capture_spans"], name="listing_capture_spans_gist"),
            GistIndex(fields=["release_spans"], name="listing_release_spans_gist"),
            models.Index(fields=["name_asc", "person"], name="listing_name_asc_idx"),
            models.Index(fields=["name_desc", "person"], name="listing_name_desc_idx"),
            # Detainees are most of the list, whose sorts read the indexes above; this one
            # finds the few who are not (the API's `?detainee=false`).
            models.Index(fields=["is_detainee"], name="listing_detainee_idx"),
            models.Index(
                Coalesce(F("first_capture"), Value(LATEST, output_field=models.DateField())),
                F("person"),
                name="listing_capture_asc_idx",
            ),
            models.Index(
                Coalesce(F("first_capture"), Value(EARLIEST, output_field=models.DateField())),
                F("person"),
                name="listing_capture_desc_idx",
            ),
            models.Index(
                Coalesce(F("last_release"), Value(LATEST, output_field=models.DateField())),
                F("person"),
                name="listing_release_asc_idx",
            ),
            models.Index(
                Coalesce(F("last_release"), Value(EARLIEST, output_field=models.DateField())),
                F("person"),
                name="listing_release_desc_idx",
            ),
        ]

    def __str__(self):
        return self.sort_name


class StaleListing(models.Model):
    """People whose list row waits to be recomputed: filled by the triggers, emptied at the
    end of each statement, or at the end of a bulk load that defers the work."""

    person_id = models.BigIntegerField(primary_key=True)

    def __str__(self):
        return str(self.person_id)


class FacetTotal(models.Model):
    """How many published people have each facet value: the list's counts when nothing is
    selected, kept exact by the same triggers as the rows; `detainees` counts those of them
    that are detainees (the default list's counts)."""

    token = models.TextField(primary_key=True)
    people = models.PositiveIntegerField()
    detainees = models.PositiveIntegerField(default=0, db_default=0)

    def __str__(self):
        return f"{self.token}: {self.people}"


class EventListing(models.Model):
    """Every facet value of one published, unretracted event, as "facet=value"; the events list
    filters and counts by these. Kept exact by triggers like PersonListing."""

    event = models.OneToOneField(
        "detainees.Event",
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the triggers remove the row with the event
        db_constraint=False,
        related_name="listing",
    )
    facets = ArrayField(models.TextField(), default=list)
    facet_codes = facet_code_field()

    class Meta:
        indexes = [GinIndex(fields=["facets"], name="eventlisting_facets_gin")]

    def __str__(self):
        return str(self.event_id)


class EventFacetTotal(models.Model):
    """How many listed events have each facet value (the events list's unfiltered counts)."""

    token = models.TextField(primary_key=True)
    events = models.PositiveIntegerField()

    def __str__(self):
        return f"{self.token}: {self.events}"


class StaleEventListing(models.Model):
    """Events whose facet values wait to be recomputed (see StaleListing)."""

    event_id = models.BigIntegerField(primary_key=True)

    def __str__(self):
        return str(self.event_id)
