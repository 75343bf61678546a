"""Places in a hierarchy (country > province > district > locality) and detention facilities."""

from datetime import date

import pgtrigger
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, Func, Q, Value, When
from django.db.models.lookups import Regex
from django_countries.fields import CountryField

from detainees.domain.fuzzydates import FuzzyDate, fuzzy_date_constraints
from detainees.domain.links import record_url
from detainees.domain.names import fill_search_key

from .common import (
    OtherName,
    Publishable,
    choices_check,
    claim_constraints,
    claim_status_field,
    fuzzy_date_fields,
    other_name_constraints,
    public_id_field,
    publication_constraints,
    search_key_field,
    search_key_index,
    unique_slug,
)


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


def certain_period(start: str, end: str):
    """The days certainly inside a fuzzy period: from the latest possible start to the earliest
    possible end (empty when the bounds cross; unbounded where a bound is unknown)."""
    start_latest, end_earliest = f"{start}_latest", f"{end}_earliest"
    return Case(
        When(
            Q(**{f"{start_latest}__isnull": True})
            | Q(**{f"{end_earliest}__isnull": True})
            | Q(**{f"{start_latest}__lte": F(end_earliest)}),
            then=DateRange(F(start_latest), F(end_earliest), Value("[]")),
        ),
        default=Value("empty"),
        output_field=DateRangeField(),
    )


# Coordinates are kept to five decimal places (about 1 m on the ground): what a register's
# seven-place figures are rounded to, half-even, by the importer, the admin and the API.
COORDINATE_PLACES = 5
LATITUDE_LIMIT, LONGITUDE_LIMIT = 90, 180


def coordinate_field(limit: int, help_text: str):
    """Decimal degrees within ±`limit`, rounded to COORDINATE_PLACES where they are entered."""
    return models.DecimalField(
        max_digits=COORDINATE_PLACES + 3,
        decimal_places=COORDINATE_PLACES,
        null=True,
        blank=True,
        validators=[MinValueValidator(-limit), MaxValueValidator(limit)],
        help_text=help_text,
    )


def latitude_field():
    return coordinate_field(
        LATITUDE_LIMIT, "Decimal degrees, -90 to 90; more than five places are rounded."
    )


def longitude_field():
    return coordinate_field(
        LONGITUDE_LIMIT, "Decimal degrees, -180 to 180; more than five places are rounded."
    )


def coordinates_check(prefix: str):
    """Both coordinates within range, or neither: as a CHECK, for every path that writes."""
    return models.CheckConstraint(
        condition=Q(latitude__isnull=True, longitude__isnull=True)
        | Q(
            latitude__isnull=False,
            longitude__isnull=False,
            latitude__gte=-LATITUDE_LIMIT,
            latitude__lte=LATITUDE_LIMIT,
            longitude__gte=-LONGITUDE_LIMIT,
            longitude__lte=LONGITUDE_LIMIT,
        ),
        name=f"{prefix}_coordinates_valid",
        violation_error_message="Give both coordinates, latitude within ±90 and "
        "longitude within ±180, or neither.",
    )


def certain_days(start: str, end: str) -> tuple[date | None, date | None] | None:
    """`certain_period` in Python, for rows not written yet: (first, last) day certainly inside
    the period from EDTF `start` to `end`, None on an unbounded side; None when no day is."""
    first, last = FuzzyDate.from_edtf(start).latest, FuzzyDate.from_edtf(end).earliest
    if first is not None and last is not None and first > last:
        return None
    return first, last


def certainly_overlap(one, other) -> bool:
    """Whether two `certain_days` periods share a day."""
    if one is None or other is None:
        return False
    return (one[0] or date.min) <= (other[1] or date.max) and (other[0] or date.min) <= (
        one[1] or date.max
    )


class PlaceKind(models.TextChoices):
    COUNTRY = "country", "Country"
    PROVINCE = "province", "Province"
    DISTRICT = "district", "District"
    LOCALITY = "locality", "Locality"


# Largest first: a place sits inside a place of a kind earlier in this list, so the tree of
# places can never form a cycle (every step up goes to a larger kind).
PLACE_KIND_ORDER = [kind.value for kind in PlaceKind]
_KINDS_SQL = "ARRAY[" + ", ".join(f"'{kind}'" for kind in PLACE_KIND_ORDER) + "]"

# Checked by the database too, for every path that writes places (admin, API, importers, SQL):
# the parent's kind is larger than the place's; a change of kind keeps every child smaller.
PLACE_NESTING_TRIGGER = pgtrigger.Trigger(
    name="place_nests_in_larger_kind",
    when=pgtrigger.Before,
    operation=pgtrigger.Insert | pgtrigger.UpdateOf("parent_id", "kind"),
    declare=[("parent_kind", "text")],
    func=f"""
        IF NEW.parent_id IS NOT NULL THEN
            SELECT kind INTO parent_kind FROM detainees_place WHERE id = NEW.parent_id;
            IF array_position({_KINDS_SQL}, parent_kind)
                    >= array_position({_KINDS_SQL}, NEW.kind::text) THEN
                RAISE EXCEPTION 'A % cannot be inside a %.', NEW.kind, parent_kind
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'place_nests_in_larger_kind';
            END IF;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.kind IS DISTINCT FROM OLD.kind AND EXISTS (
            SELECT 1 FROM detainees_place child WHERE child.parent_id = NEW.id
            AND array_position({_KINDS_SQL}, child.kind::text)
                <= array_position({_KINDS_SQL}, NEW.kind::text)
        ) THEN
            RAISE EXCEPTION 'A % cannot hold the places inside it.', NEW.kind
                USING ERRCODE = 'check_violation', CONSTRAINT = 'place_nests_in_larger_kind';
        END IF;
        RETURN NEW;
    """,  # noqa: S608 (kinds from PlaceKind)
)


class Place(Publishable):
    """A country (ISO 3166), province, district or locality, inside its parent."""

    Kind = PlaceKind

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    country = CountryField(
        blank=True, help_text="ISO 3166 country; taken from the parent when left empty."
    )
    slug = models.SlugField(max_length=100, unique=True, editable=False)
    latitude = latitude_field()
    longitude = longitude_field()
    search_key = search_key_field()

    class Meta:
        ordering = ["name"]
        indexes = [search_key_index("place")]
        triggers = [PLACE_NESTING_TRIGGER]
        constraints = [
            *publication_constraints("place"),
            choices_check("kind", PlaceKind, "place_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind="country", parent__isnull=True)
                | (~Q(kind="country") & Q(parent__isnull=False)),
                name="place_only_countries_are_top_level",
                violation_error_message="A country has no parent; every other place has one.",
            ),
            models.CheckConstraint(
                condition=Regex(F("country"), r"^[A-Z]{2}$"),
                name="place_country_is_iso_code",
                violation_error_message="Country must be an ISO 3166 two-letter code.",
            ),
            coordinates_check("place"),
            models.UniqueConstraint(
                fields=["parent", "kind", "name"],
                nulls_distinct=False,
                name="place_unique_name_in_parent",
                violation_error_message="This place already exists under the same parent.",
            ),
            models.UniqueConstraint(
                fields=["country"],
                condition=Q(kind="country"),
                name="place_one_row_per_country",
                violation_error_message="This country already has a place record.",
            ),
        ]

    def get_absolute_url(self):
        return record_url("detainees:place-detail", self.slug)

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"{self.name} ({self.get_kind_display().lower()})"

    def clean(self):
        if self.parent_id is None:
            return
        if self.kind in PLACE_KIND_ORDER and PLACE_KIND_ORDER.index(
            self.parent.kind
        ) >= PLACE_KIND_ORDER.index(self.kind):
            raise ValidationError(
                {
                    "parent": f"A {self.get_kind_display().lower()} cannot be inside a "
                    f"{self.parent.get_kind_display().lower()} ({self.parent.name})."
                }
            )
        if self.pk is not None and self.kind in PLACE_KIND_ORDER:
            rank = PLACE_KIND_ORDER.index(self.kind)
            # This kind and the larger ones (PLACE_KIND_ORDER is largest first), as the
            # database's trigger has it: a child of one of them would not be smaller.
            larger = PLACE_KIND_ORDER[: rank + 1]
            if Place.objects.filter(parent_id=self.pk, kind__in=larger).exists():
                raise ValidationError(
                    {"kind": "Some places inside this one are not smaller than this kind."}
                )
        if not self.country:
            self.country = self.parent.country
        elif self.country != self.parent.country:
            raise ValidationError(
                {
                    "country": f"{self.parent.name} is in {self.parent.country.name}, not in "
                    f"{self.country.name}."
                }
            )

    def save(self, *args, **kwargs):
        if not self.country and self.parent_id is not None:
            self.country = self.parent.country
        if not self.slug:
            self.slug = unique_slug(self, f"{self.name} {self.kind}")
        kwargs["update_fields"] = fill_search_key(self, kwargs.get("update_fields"))
        super().save(*args, **kwargs)


class FacilityKind(models.TextChoices):
    PRISON = "prison", "Prison"
    DETENTION_FACILITY = "detention_facility", "Detention facility"
    JAIL = "jail", "Jail"
    MILITARY_BASE = "military_base", "Military base"
    INTELLIGENCE_SITE = "intelligence_site", "Intelligence site"
    OTHER = "other", "Other"


class Facility(Publishable):
    """A detention site: a prison, jail, detention facility or base."""

    Kind = FacilityKind

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DETENTION_FACILITY)
    place = models.ForeignKey(
        Place, null=True, blank=True, on_delete=models.PROTECT, related_name="facilities"
    )
    latitude = latitude_field()
    longitude = longitude_field()
    description = models.TextField(blank=True)
    search_key = search_key_field()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"
        indexes = [search_key_index("facility")]
        constraints = [
            *publication_constraints("facility"),
            choices_check("kind", FacilityKind, "facility_kind_valid"),
            coordinates_check("facility"),
        ]

    def get_absolute_url(self):
        return record_url("detainees:facility-detail", self.slug)

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self, self.name)
        kwargs["update_fields"] = fill_search_key(self, kwargs.get("update_fields"))
        super().save(*args, **kwargs)


class FacilityNameKind(models.TextChoices):
    ALIAS = "alias", "Alias"
    FORMER = "former", "Former name"
    OFFICIAL = "official", "Official name"
    TRANSLATION = "translation", "Translation"
    SPELLING = "spelling", "Spelling or transliteration variant"
    ORIGINAL_SCRIPT = "original_script", "Name in original script"


class FacilityName(OtherName):
    """Another name a facility is known by: a former, official or local name, a translation."""

    Kind = FacilityNameKind

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="names")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ALIAS)
    language = models.CharField(
        max_length=20, blank=True, help_text="Language tag, e.g. ps, fa, ar-Latn."
    )

    class Meta:
        ordering = ["facility", "name"]
        indexes = [search_key_index("facilityname")]
        constraints = other_name_constraints("facilityname", "facility", FacilityNameKind)


class FacilityControlRole(models.TextChoices):
    # Registers name who ran a site apart from who held it: an army controlled a site that a
    # police unit operated and a ministry owned. Only the controller is the detainees' custodian.
    CONTROLLER = "controller", "Controller"
    OPERATOR = "operator", "Operator"
    OWNER = "owner", "Owner"


CONTROL_OVERLAP_MESSAGE = (
    "Another organization certainly held this role at this facility during part of this period."
)


class FacilityControlQuerySet(models.QuerySet):
    def controllers(self):
        """The periods of control proper: whose custody the people held there were in."""
        return self.filter(role=FacilityControlRole.CONTROLLER)


class FacilityControl(models.Model):
    """Who controlled, operated or owned a facility over a period; a handover ends one period
    and starts the next."""

    Role = FacilityControlRole

    public_id = public_id_field()
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="controls")
    controller = models.ForeignKey(
        "detainees.Organization",
        on_delete=models.PROTECT,
        related_name="facility_controls",
        verbose_name="organization",
    )
    role = models.CharField(
        max_length=10,
        choices=Role.choices,
        default=Role.CONTROLLER,
        # Rows written in SQL, as before there were roles, are control periods.
        db_default=Role.CONTROLLER,
        help_text="Controller: whose custody the people held there were in. Operator: who ran "
        "the site for it. Owner: whose property it was.",
    )
    start, start_earliest, start_latest, start_as_written = fuzzy_date_fields("start", "from")
    end, end_earliest, end_latest, end_as_written = fuzzy_date_fields(
        "end", "until", help_text="Leave empty while control continues or its end is unknown."
    )
    claim_status = claim_status_field()
    note = models.TextField(blank=True)

    objects = FacilityControlQuerySet.as_manager()

    class Meta:
        ordering = ["facility", "start_earliest"]
        constraints = [
            *claim_constraints("facilitycontrol"),
            choices_check("role", FacilityControlRole, "facilitycontrol_role_valid"),
            *fuzzy_date_constraints("start", "facilitycontrol"),
            *fuzzy_date_constraints("end", "facilitycontrol"),
            models.CheckConstraint(
                condition=Q(start_earliest__isnull=True)
                | Q(end_latest__isnull=True)
                | Q(start_earliest__lte=F("end_latest")),
                name="facilitycontrol_ends_after_start",
                violation_error_message="Control cannot end before it starts.",
            ),
            # Per role: an operator may run a site while another body controls it, but two
            # controllers (or two operators, or two owners) cannot both certainly hold it.
            ExclusionConstraint(
                name="facilitycontrol_one_certain_holder_per_role",
                expressions=[
                    ("facility", RangeOperators.EQUAL),
                    ("role", RangeOperators.EQUAL),
                    (certain_period("start", "end"), RangeOperators.OVERLAPS),
                ],
                violation_error_message=CONTROL_OVERLAP_MESSAGE,
            ),
        ]

    def __str__(self):
        verb = {"operator": "operates", "owner": "owns"}.get(self.role, "controls")
        return f"{self.controller} {verb} {self.facility}"

    def validate_constraints(self, exclude=None):
        # A form offers start and end, not the bounds derived from them (set by their clean()),
        # so it excludes the bounds, which would skip the one-holder-per-role constraint over
        # them: the bounds are checked whenever the dates they come from are.
        if exclude is not None:
            exclude = set(exclude)
            for name in ("start", "end"):
                if name not in exclude:
                    exclude -= {f"{name}_earliest", f"{name}_latest"}
        if self.start_latest and self.end_earliest and self.start_latest > self.end_earliest:
            # No day of the period is certain ("2013" to "June 2013"), so it overlaps no other
            # holder's; and checking would ask the database for a range whose bounds cross,
            # which it answers with an error. Left out of that one check, by its bounds.
            exclude = {*(exclude or ()), "start_latest", "end_earliest"}
        super().validate_constraints(exclude=exclude)
