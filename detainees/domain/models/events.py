"""Events on a person's timeline, the people and organizations in them, and release batches."""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from detainees.domain.fuzzydates import FuzzyDate, FuzzyDateError, fuzzy_date_constraints, humanize
from detainees.domain.links import record_url

from .common import (
    ClaimStatus,
    PublicationStatus,
    Publishable,
    PublishableQuerySet,
    choices_check,
    claim_constraints,
    claim_status_field,
    fuzzy_date_fields,
    public_id_field,
    publication_constraints,
    unique_slug,
)
from .listing import EARLIEST
from .organizations import Organization
from .places import FacilityControl
from .sources import citations_prefetch


class EventQuerySet(PublishableQuerySet):
    """`public()`: published and not retracted (see Event.public_q). `published()` keeps
    retracted events: only a person's timeline reads it, and shows them marked."""

    def in_timeline_order(self):
        """Timeline order (`timeline_order`): undated beginnings, dated events by date, other
        undated events; order_hint, then the order entered, break ties."""
        return self.order_by(*timeline_order())

    def with_details(self, *, public: bool = False):
        """What a timeline row shows: place, facilities, people, organizations, citations.

        With `public`, only the public people, organizations and controllers among them (the
        citations are all loaded; a reader keeps those whose source is public)."""
        people = EventPerson.objects.all()
        organizations = EventOrganization.objects.all()
        # The facility's controllers name the custodian; its operators and owners do not.
        controls = FacilityControl.objects.controllers()
        if public:
            # Person by the relation: people.py imports this module, not the other way round.
            person = EventPerson._meta.get_field("person").related_model
            people = people.filter(person.public_q("person__"))
            organizations = organizations.filter(Organization.public_q("organization__"))
            controls = controls.filter(Organization.public_q("controller__"))
        return self.select_related(
            "place__parent__parent", "facility__place", "from_facility", "batch"
        ).prefetch_related(
            models.Prefetch(
                "people",
                queryset=people.select_related("person").prefetch_related("person__names"),
            ),
            models.Prefetch("organizations", queryset=organizations.select_related("organization")),
            models.Prefetch(
                "facility__controls",
                queryset=controls.select_related("controller").order_by("start_earliest"),
            ),
            citations_prefetch(),
        )


class EventKind(models.TextChoices):
    CAPTURE = "capture", "Capture or arrest"
    # Deprivation of liberty followed by a refusal to acknowledge it or by concealing the
    # person's fate: unlike an acknowledged custody, no one answers for where they are.
    DISAPPEARANCE = "disappearance", "Enforced disappearance"
    CUSTODY = "custody", "Custody episode"
    BIRTH_IN_CAPTIVITY = "birth_in_captivity", "Birth in captivity"
    # A child taken (often born in captivity) and given another identity.
    APPROPRIATION = "appropriation", "Appropriation of a child"
    IDENTITY_RESTORED = "identity_restored", "Identity restored"
    TRANSFER = "transfer", "Transfer"
    RELEASE = "release", "Release"
    ESCAPE = "escape", "Escape"
    DEATH = "death", "Death"
    REENGAGEMENT = "reengagement", "Re-engagement after release"
    # Press releases also report raids and air strikes in which no one was captured; counting
    # them is how "338 raids, 139 against the IMU" is computed, so they are kept as events.
    STRIKE = "strike", "Strike or raid with no capture reported"
    REMAINS_FOUND = "remains_found", "Remains found or exhumed"
    REMAINS_IDENTIFIED = "remains_identified", "Remains identified"


# --- Timeline order ----------------------------------------------------------------------------
# One order for a person's events, for the status (SQL, detainees/read/listing.py) and the
# timeline (Python, `timeline_key`), so the two cannot disagree. Dated events go by their
# bounds. An event with no date at all cannot be placed by its date, so its kind places it: one
# that begins something (a capture, a disappearance, custody, a birth in captivity, an
# appropriation) before every dated event, any other (a release, a death...) after every dated
# event; an undated release after a dated capture then reads "Released". order_hint, then the
# order entered, break ties within each group.
BEGINNING_KINDS = (
    EventKind.BIRTH_IN_CAPTIVITY,
    EventKind.CAPTURE,
    EventKind.DISAPPEARANCE,
    EventKind.CUSTODY,
    EventKind.APPROPRIATION,
)
UNDATED_BEGINNING, DATED, UNDATED_OTHER = 0, 1, 2


def timeline_group(prefix: str = ""):
    """`timeline_key`'s first part in SQL, for the event at `prefix` ("event__" from a link)."""
    undated = Q(**{f"{prefix}date_earliest__isnull": True, f"{prefix}date_latest__isnull": True})
    return models.Case(
        models.When(
            undated & Q(**{f"{prefix}kind__in": BEGINNING_KINDS}),
            then=Value(UNDATED_BEGINNING),
        ),
        models.When(undated, then=Value(UNDATED_OTHER)),
        default=Value(DATED),
        output_field=models.SmallIntegerField(),
    )


def timeline_order(prefix: str = "", *, descending: bool = False) -> list:
    """ORDER BY terms of the timeline order (`timeline_key`), or of its reverse."""
    group = timeline_group(prefix)
    earliest, latest = F(f"{prefix}date_earliest"), F(f"{prefix}date_latest")
    if descending:
        return [
            group.desc(),
            earliest.desc(nulls_last=True),
            latest.desc(nulls_first=True),
            F(f"{prefix}order_hint").desc(),
            F(f"{prefix}pk").desc(),
        ]
    return [
        group.asc(),
        earliest.asc(nulls_first=True),
        latest.asc(nulls_last=True),
        F(f"{prefix}order_hint").asc(),
        F(f"{prefix}pk").asc(),
    ]


def timeline_key(event) -> tuple:
    """The timeline order in Python, for events already read (`timeline_order` in SQL)."""
    if event.date_earliest is None and event.date_latest is None:
        group = UNDATED_BEGINNING if event.kind in BEGINNING_KINDS else UNDATED_OTHER
    else:
        group = DATED
    return (
        group,
        event.date_earliest or date.min,
        event.date_latest or date.max,
        event.order_hint,
        event.pk or 0,
    )


class EventCustodyEnd(models.TextChoices):
    RELEASE = "release", "Release"
    TRANSFER = "transfer", "Transfer"
    ESCAPE = "escape", "Escape"
    DEATH = "death", "Death"
    UNKNOWN = "unknown", "Ended, reason unknown"


class EventReleaseKind(models.TextChoices):
    PARDON = "pardon", "Pardon or political order"
    CONDITIONAL = "conditional", "Conditional release"
    ACQUITTAL = "acquittal", "Court acquittal"
    END_OF_SENTENCE = "end_of_sentence", "End of sentence"
    EXCHANGE = "exchange", "Prisoner exchange"
    NEGOTIATED = "negotiated", "Negotiated release"
    REPATRIATION = "repatriation", "Repatriation or transfer abroad"
    HANDED_TO_FAMILY = "handed_to_family", "Handed to family"
    UNKNOWN = "unknown", "Kind unknown"


class EventDeathCircumstances(models.TextChoices):
    KILLED_DURING_CAPTURE = "killed_during_capture", "Killed during capture"
    DIED_IN_CUSTODY = "died_in_custody", "Died in custody"
    EXECUTED = "executed", "Executed"
    KILLED_AFTER_RELEASE = "killed_after_release", "Killed after release"
    OTHER = "other", "Other circumstances"
    UNKNOWN = "unknown", "Circumstances unknown"


class EventReengagement(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    SUSPECTED = "suspected", "Suspected"


class Event(Publishable):
    """Something that happened to people on a date: a capture, custody, release, escape..."""

    Kind = EventKind

    CustodyEnd = EventCustodyEnd

    ReleaseKind = EventReleaseKind

    DeathCircumstances = EventDeathCircumstances

    Reengagement = EventReengagement

    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    summary = models.CharField(
        max_length=300, blank=True, help_text="One public line, e.g. 'Captured in a night raid'."
    )
    description = models.TextField(blank=True)
    date, date_earliest, date_latest, date_as_written = fuzzy_date_fields(
        "date", "date", help_text="For a custody episode, when it started."
    )
    end_date, end_date_earliest, end_date_latest, end_date_as_written = fuzzy_date_fields(
        "end_date", "end date", help_text="Custody episodes only: when custody ended."
    )
    order_hint = models.SmallIntegerField(
        default=0,
        help_text="Orders events whose dates cannot tell them apart (lower comes first). An "
        "event with no date at all comes first if it begins something (birth in captivity, "
        "capture, disappearance, custody, appropriation), else after every dated event; the "
        "hint orders undated events among themselves.",
    )
    place = models.ForeignKey(
        "detainees.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    facility = models.ForeignKey(
        "detainees.Facility",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        help_text="Where held (custody), released from, escaped from, or transferred to.",
    )
    from_facility = models.ForeignKey(
        "detainees.Facility",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers_out",
        help_text="Transfers only: the facility left.",
    )
    operation = models.CharField(max_length=200, blank=True, help_text="Captures: operation name.")
    unnamed_count = models.PositiveIntegerField(
        default=0, help_text="People involved but not named, e.g. 2 for 'two of his associates'."
    )
    unnamed_description = models.CharField(
        max_length=200, blank=True, help_text="Who they were, e.g. 'associates'."
    )
    custody_end_reason = models.CharField(
        max_length=10, choices=CustodyEnd.choices, blank=True, help_text="Custody episodes only."
    )
    release_kind = models.CharField(
        max_length=16, choices=ReleaseKind.choices, blank=True, help_text="Releases only."
    )
    death_circumstances = models.CharField(
        max_length=24,
        choices=DeathCircumstances.choices,
        blank=True,
        default="",
        db_default="",
        help_text="Deaths only: how the person died, as far as the sources say.",
    )
    batch = models.ForeignKey(
        "detainees.ReleaseBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="releases",
        help_text="Releases only: the batch decision this release was part of.",
    )
    reengagement = models.CharField(
        "re-engagement", max_length=10, choices=Reengagement.choices, blank=True
    )
    role = models.CharField(
        max_length=200, blank=True, help_text="Re-engagement: the role taken up, e.g. commander."
    )
    strength_estimate = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fighters led, as a lower bound (300 for '300+')."
    )
    strength_note = models.CharField(max_length=200, blank=True, help_text="As the source says it.")
    claim_status = claim_status_field()
    import_key = models.CharField(
        max_length=120,
        blank=True,
        default="",
        editable=False,
        help_text="Identifies the row an importer made this event from, so a second run finds it.",
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["kind", "date_earliest"], name="event_kind_date_idx"),
            models.Index(fields=["date_earliest", "date_latest"], name="event_date_bounds_idx"),
            # Lists of events, latest first, undated last (keyset_page's order): all of them,
            # and a facility's custody episodes.
            models.Index(
                Coalesce(F("date_earliest"), Value(EARLIEST, output_field=models.DateField())),
                F("id"),
                name="event_latest_first_idx",
            ),
            models.Index(
                F("facility"),
                F("kind"),
                Coalesce(F("date_earliest"), Value(EARLIEST, output_field=models.DateField())),
                F("id"),
                name="event_facility_latest_idx",
            ),
            # The release-kind and re-engagement facets.
            models.Index(
                fields=["release_kind"],
                condition=~Q(release_kind=""),
                name="event_release_kind_idx",
            ),
            models.Index(
                fields=["reengagement"],
                condition=~Q(reengagement=""),
                name="event_reengagement_idx",
            ),
        ]
        constraints = [
            *publication_constraints("event"),
            *claim_constraints("event"),
            *fuzzy_date_constraints("date", "event"),
            *fuzzy_date_constraints("end_date", "event"),
            choices_check("kind", EventKind, "event_kind_valid"),
            choices_check(
                "custody_end_reason", EventCustodyEnd, "event_custody_end_valid", blank=True
            ),
            choices_check("release_kind", EventReleaseKind, "event_release_kind_valid", blank=True),
            choices_check(
                "reengagement", EventReengagement, "event_reengagement_valid", blank=True
            ),
            choices_check(
                "death_circumstances",
                EventDeathCircumstances,
                "event_death_circumstances_valid",
                blank=True,
            ),
            models.CheckConstraint(
                condition=Q(kind="death") | Q(death_circumstances=""),
                name="event_death_circumstances_only_for_death",
                violation_error_message="Only a death has death circumstances.",
            ),
            models.CheckConstraint(
                condition=Q(kind="custody") | (Q(end_date="") & Q(custody_end_reason="")),
                name="event_end_only_for_custody",
                violation_error_message="Only a custody episode has an end date and end reason.",
            ),
            models.CheckConstraint(
                condition=Q(kind="release") | (Q(release_kind="") & Q(batch__isnull=True)),
                name="event_release_fields_only_for_release",
                violation_error_message="Only a release has a release kind or a batch.",
            ),
            models.CheckConstraint(
                condition=(Q(kind="reengagement") & ~Q(reengagement=""))
                | (~Q(kind="reengagement") & Q(reengagement="")),
                name="event_reengagement_status_iff_reengagement",
                violation_error_message="A re-engagement is either confirmed or suspected; "
                "other events have no re-engagement status.",
            ),
            models.CheckConstraint(
                condition=Q(kind="transfer") | Q(from_facility__isnull=True),
                name="event_from_facility_only_for_transfer",
                violation_error_message="Only a transfer has a facility it left.",
            ),
            models.CheckConstraint(
                condition=Q(unnamed_count__gte=0),
                name="event_unnamed_count_not_negative",
                violation_error_message="The count of unnamed people cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(strength_estimate__isnull=True) | Q(strength_estimate__gte=0),
                name="event_strength_not_negative",
                violation_error_message="A strength estimate cannot be negative.",
            ),
            models.UniqueConstraint(
                fields=["import_key"],
                condition=~Q(import_key=""),
                name="event_unique_import_key",
                violation_error_message="Another event was imported from the same row.",
            ),
            models.CheckConstraint(
                condition=Q(date_earliest__isnull=True)
                | Q(end_date_latest__isnull=True)
                | Q(date_earliest__lte=F("end_date_latest")),
                name="event_custody_ends_after_start",
                violation_error_message="Custody cannot end before it starts.",
            ),
        ]

    def __str__(self):
        return self.summary or f"{self.get_kind_display()} {self.date or '(date unknown)'}"

    @classmethod
    def public_q(cls, prefix: str = "") -> Q:
        """Published and not retracted: a retracted event is in no public list, count, facet,
        feed, export or stream. Only a person's own timeline (page and API detail) shows it,
        marked "Retracted", as the record of what was once claimed."""
        return super().public_q(prefix) & ~Q(**{f"{prefix}claim_status": ClaimStatus.RETRACTED})

    @property
    def is_public(self) -> bool:
        return self.is_published and self.claim_status != ClaimStatus.RETRACTED

    def clean(self):
        if self.pk is None:
            return
        problems = []
        roles = self.people.filter(role=EventPerson.Role.SUBJECT).select_related("person")
        # Each subject's other events, for all of them in one query rather than one a person.
        roles = roles.prefetch_related(subject_roles_prefetch("person__"))
        for role in roles:
            problems += check_new_subject_event(person=role.person, event=self)
        if problems:
            raise ValidationError(problems)

    def subjects(self):
        return [p.person for p in self.people.all() if p.role == EventPerson.Role.SUBJECT]

    def organizations_in(self, role: str):
        return [o.organization for o in self.organizations.all() if o.role == role]

    def people_in(self, role: str):
        return [p for p in self.people.all() if p.role == role]


class EventPersonRole(models.TextChoices):
    SUBJECT = "subject", "Subject (captured, held, released, escaped, died, re-engaged)"
    ORDERED_BY = "ordered_by", "Ordered it"
    CARRIED_OUT_BY = "carried_out_by", "Carried it out"
    RELATED = "related", "Related person (e.g. seized at their home)"


class EventLinkQuerySet(models.QuerySet):
    """Links between an event and another record (`linked`: the field naming that record)."""

    linked = ""

    def public(self):
        """Links of a public event to a public record: the only ones public output shows."""
        target = self.model._meta.get_field(self.linked).related_model
        return self.filter(Event.public_q("event__") & target.public_q(f"{self.linked}__"))


class EventPersonQuerySet(EventLinkQuerySet):
    linked = "person"


class EventOrganizationQuerySet(EventLinkQuerySet):
    linked = "organization"


class EventPerson(models.Model):
    """A named person in an event, and the part they played."""

    Role = EventPersonRole

    public_id = public_id_field()
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="people")
    person = models.ForeignKey(
        "detainees.Person", on_delete=models.PROTECT, related_name="event_roles"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SUBJECT)
    capacity = models.CharField(
        max_length=200, blank=True, help_text="In what capacity, e.g. 'President of Afghanistan'."
    )
    note = models.CharField(max_length=300, blank=True, help_text="e.g. 'seized at his home'.")
    age = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(120)],
        help_text="Age at this event as the source gives it (registers give the age at "
        "detention rather than a birth date).",
    )

    objects = EventPersonQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]  # the order they were entered in
        verbose_name = "person in event"
        verbose_name_plural = "people in event"
        # A person's own events (role "subject"): every facet and listing column starts here.
        indexes = [models.Index(fields=["person", "role"], name="eventperson_person_role_idx")]
        constraints = [
            choices_check("role", EventPersonRole, "eventperson_role_valid"),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__gte=0, age__lte=120),
                name="eventperson_age_plausible",
                violation_error_message="An age is a whole number of years from 0 to 120.",
            ),
            models.UniqueConstraint(
                fields=["event", "person", "role"],
                name="eventperson_unique_role",
                violation_error_message="This person already has this role in the event.",
            ),
        ]

    def __str__(self):
        return f"{self.person} ({self.get_role_display()})"

    @classmethod
    def prepare_clean(cls, rows) -> None:
        """Fetch what `clean()` reads for each of `rows`, in one query for them all: the
        timeline of every person named as a subject (a list of an event's people is cleaned
        together before it is written)."""
        people = [r.person for r in rows if r.role == cls.Role.SUBJECT and r.person_id]
        if people:
            models.prefetch_related_objects(people, subject_roles_prefetch())

    def clean(self):
        if self.role == self.Role.SUBJECT and self.person_id and self.event is not None:
            problems = check_new_subject_event(person=self.person, event=self.event)
            if problems:
                raise ValidationError(problems)


class EventOrganizationRole(models.TextChoices):
    CAPTURING_FORCE = "capturing_force", "Capturing force"
    PARTNER_FORCE = "partner_force", "Partner force"
    CUSTODIAN = "custodian", "Custodian"
    FROM_CUSTODIAN = "from_custodian", "Custodian before transfer"
    TO_CUSTODIAN = "to_custodian", "Custodian after transfer"
    ORDERED_BY = "ordered_by", "Ordered it"
    CARRIED_OUT_BY = "carried_out_by", "Carried it out"
    GROUP = "group", "Group the person acted for (re-engagement, target)"
    OTHER = "other", "Other"


class EventOrganization(models.Model):
    """An organization in an event, and its part: capturing force, custodian, who ordered..."""

    Role = EventOrganizationRole

    public_id = public_id_field()
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="organizations")
    organization = models.ForeignKey(
        "detainees.Organization", on_delete=models.PROTECT, related_name="event_roles"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    note = models.CharField(max_length=300, blank=True)

    objects = EventOrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]  # the order they were entered in
        verbose_name = "organization in event"
        verbose_name_plural = "organizations in event"
        # Capturing force, custodian and release-authority facets, and organization pages.
        indexes = [
            models.Index(fields=["organization", "role"], name="eventorg_org_role_idx"),
            models.Index(fields=["role", "event"], name="eventorg_role_event_idx"),
        ]
        constraints = [
            choices_check("role", EventOrganizationRole, "eventorganization_role_valid"),
            models.UniqueConstraint(
                fields=["event", "organization", "role"],
                name="eventorganization_unique_role",
                violation_error_message="This organization already has this role in the event.",
            ),
        ]

    def __str__(self):
        return f"{self.organization} ({self.get_role_display()})"


class FirstMembers:
    """`batch.first_memberships`, for a prefetch only: the first members of each batch, as many
    as the prefetch's sliced queryset holds, in its order (`Prefetch("batch__first_memberships",
    queryset=members.order_by("pk")[:n], to_attr=...)`).

    Django prefetches a sliced queryset with a window over every member of the batches; this
    reads only the first few of each (a LATERAL join with a LIMIT, along the index on batch and
    id). The queryset's filters apply before the limit, as they do in the window.
    """

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        raise AttributeError("first_memberships is loaded by a prefetch only")

    def get_prefetch_querysets(self, instances, querysets=None):
        (queryset,) = querysets
        low, high = queryset.query.low_mark, queryset.query.high_mark
        order = queryset.query.order_by
        queryset = queryset.all()
        queryset.query.clear_limits()
        first = (
            queryset.filter(batch_id=RawSQL("first_of_batch.id", (), models.BigIntegerField()))
            .order_by(*order)
            .values("pk")[low:high]
        )
        sql, params = first.query.sql_with_params()
        batch_ids = sorted({batch.pk for batch in instances})
        # `sql` is compiled by Django, its values passed as parameters.
        lateral = f"unnest(%s::bigint[]) AS first_of_batch(id) CROSS JOIN LATERAL ({sql}) AS f(id)"
        queryset = queryset.filter(
            pk__in=RawSQL(f"SELECT f.id FROM {lateral}", (batch_ids, *params))  # noqa: S608
        )
        by_pk = {batch.pk: batch for batch in instances}
        # Also under this name, read when the prefetch walks the path again (a non-data
        # descriptor: the instance's own attribute wins).
        firsts = {}
        for batch in instances:
            batch.__dict__["first_memberships"] = firsts.setdefault(batch.pk, [])
        field = BatchMembership._meta.get_field("batch")

        def batch_of(membership):
            # As Django's own prefetch of a batch's members does: each knows its batch.
            field.set_cached_value(membership, by_pk[membership.batch_id])
            firsts[membership.batch_id].append(membership)
            return membership.batch_id

        return queryset, batch_of, lambda batch: batch.pk, False, "first_memberships", False


class ReleaseBatch(Publishable):
    """One decision releasing many people: declared totals, named members, unknown inclusions."""

    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=100, unique=True, editable=False)
    date, date_earliest, date_latest, date_as_written = fuzzy_date_fields("date", "date")
    ordered_by = models.ForeignKey(
        "detainees.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="batches_ordered",
    )
    carried_out_by = models.ForeignKey(
        "detainees.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="batches_carried_out",
    )
    declared_considered = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many detainees the decision covered (e.g. 88)."
    )
    declared_released = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many it released, as declared (e.g. 65)."
    )
    description = models.TextField(blank=True)
    claim_status = claim_status_field()

    objects = PublishableQuerySet.as_manager()
    # The first few members of each batch, for a prefetch (`FirstMembers`).
    first_memberships = FirstMembers()

    class Meta:
        verbose_name_plural = "release batches"
        ordering = ["date_earliest"]
        constraints = [
            *publication_constraints("releasebatch"),
            *claim_constraints("releasebatch"),
            *fuzzy_date_constraints("date", "releasebatch"),
            models.CheckConstraint(
                condition=Q(declared_considered__isnull=True)
                | Q(declared_released__isnull=True)
                | Q(declared_released__lte=F("declared_considered")),
                name="releasebatch_released_within_considered",
                violation_error_message="A batch cannot release more people than it covered.",
            ),
            models.CheckConstraint(
                condition=(Q(declared_considered__isnull=True) | Q(declared_considered__gte=0))
                & (Q(declared_released__isnull=True) | Q(declared_released__gte=0)),
                name="releasebatch_totals_not_negative",
                violation_error_message="Declared totals cannot be negative.",
            ),
        ]

    def get_absolute_url(self):
        return record_url("detainees:batch-detail", self.slug)

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self, self.title)
        super().save(*args, **kwargs)


class BatchMembershipInclusion(models.TextChoices):
    RELEASED = "released", "Released in this batch"
    NOT_RELEASED = "not_released", "Covered by the decision, not released"
    UNKNOWN = "unknown", "Unknown whether included"


class BatchMembership(models.Model):
    """A named person in a batch: released in it, not released, or inclusion unknown."""

    Inclusion = BatchMembershipInclusion

    public_id = public_id_field()
    batch = models.ForeignKey(ReleaseBatch, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(
        "detainees.Person", on_delete=models.PROTECT, related_name="batch_memberships"
    )
    inclusion = models.CharField(max_length=12, choices=Inclusion.choices)
    note = models.CharField(max_length=300, blank=True)
    claim_status = claim_status_field()

    class Meta:
        ordering = ["pk"]  # the order they were entered in
        constraints = [
            choices_check("inclusion", BatchMembershipInclusion, "batchmembership_inclusion_valid"),
            *claim_constraints("batchmembership"),
            models.UniqueConstraint(
                fields=["batch", "person"],
                name="batchmembership_unique_person",
                violation_error_message="This person is already listed in this batch.",
            ),
        ]
        indexes = [
            # A batch's members in the order they were entered: the first few of a batch (the
            # person page's "same batch") read without reading all of them.
            models.Index(fields=["batch", "id"], name="batchmembership_batch_order"),
        ]

    def __str__(self):
        return f"{self.person} in {self.batch}: {self.get_inclusion_display()}"


def subject_events_prefetch(*, public: bool = False):
    """Prefetch for `person.subject_roles`: the person's own events, detailed (see
    `EventQuerySet.with_details`); a reader sorts them. With `public`, the published ones,
    retracted ones included: a person's own timeline shows them, marked "Retracted"."""
    roles = EventPerson.objects.filter(role=EventPerson.Role.SUBJECT)
    events = Event.objects.all()
    if public:
        roles = roles.filter(event__status=PublicationStatus.PUBLISHED)
        events = events.published()
    return models.Prefetch(
        "event_roles",
        queryset=roles.prefetch_related(
            models.Prefetch("event", queryset=events.with_details(public=public))
        ),
        to_attr="subject_roles",
    )


# --- Rules on one person's chronology ---------------------------------------------------------
# Release before capture, overlapping certain custody, a death before a capture or a release
# after a death: `check_new_subject_event` refuses a bad entry in Event.clean() and
# EventPerson.clean() (so the admin shows a form error and the API a 400), and
# detainees/read/consistency.py lists what is already inconsistent on a person with the same
# rules. They read the events' own rows, and the person's other events in one query.

# Claims too weak to make another record wrong.
SOFT_CLAIMS = {ClaimStatus.INFERRED, ClaimStatus.DISPUTED, ClaimStatus.RETRACTED}
# The ways into captivity a release can follow.
CAPTURE_KINDS = {
    EventKind.CAPTURE,
    EventKind.CUSTODY,
    EventKind.DISAPPEARANCE,
    EventKind.BIRTH_IN_CAPTIVITY,
}
# Events that say the person has died. After one, no capture, custody or disappearance can
# begin (HELD_KINDS), and no release, escape or transfer can happen (MOVE_KINDS).
DEATH_KINDS = {EventKind.DEATH, EventKind.REMAINS_FOUND, EventKind.REMAINS_IDENTIFIED}
HELD_KINDS = {EventKind.CAPTURE, EventKind.CUSTODY, EventKind.DISAPPEARANCE}
MOVE_KINDS = {EventKind.RELEASE, EventKind.ESCAPE, EventKind.TRANSFER}


@dataclass(frozen=True)
class Span:
    """An event's dates as bounds, read from its EDTF text so unsaved events work too."""

    earliest: date | None
    latest: date | None
    end_earliest: date | None
    end_latest: date | None


def span(event: Event) -> Span:
    try:
        start = FuzzyDate.from_edtf(event.date or "")
        end = FuzzyDate.from_edtf(event.end_date or "")
    except FuzzyDateError:
        return Span(None, None, None, None)
    return Span(start.earliest, start.latest, end.earliest, end.latest)


def certain_custody(event: Event) -> tuple[date, date] | None:
    """The days a custody episode certainly covers, or None when the bounds do not say."""
    s = span(event)
    if s.latest is None:
        return None
    if not event.end_date and not event.custody_end_reason:
        end = date.today()  # still in custody
    else:
        end = s.end_earliest
    if end is None or end < s.latest:
        return None
    return (s.latest, end)


def release_problem(release: Event, captures: list[Event]) -> str | None:
    """Why this release cannot follow any of these captures, or None if one can precede it."""
    live = [c for c in captures if c.claim_status != ClaimStatus.RETRACTED]
    when = humanize(release.date)
    if not live:
        return f"Release ({when}) has no capture or custody before it."
    r = span(release)
    if r.latest is None:
        return None
    if all(span(c).earliest is not None and span(c).earliest > r.latest for c in live):
        first = min(live, key=lambda c: span(c).earliest)
        return (
            f"Release ({when}) is dated before the earliest capture or custody "
            f"({humanize(first.date)})."
        )
    return None


def custody_overlap(a: Event, b: Event) -> str | None:
    if a.claim_status in SOFT_CLAIMS or b.claim_status in SOFT_CLAIMS:
        return None
    if a.facility_id == b.facility_id and a.facility_id is not None:
        return None
    pa, pb = certain_custody(a), certain_custody(b)
    if pa is None or pb is None or pa[1] < pb[0] or pb[1] < pa[0]:
        return None
    return (
        f"Custody episodes overlap: {a} ({humanize(a.date)}) and {b} ({humanize(b.date)}) "
        "are both certain on the same days."
    )


def death_problem(a: Event, b: Event) -> str | None:
    """Why `a` and `b` cannot both be true of one person, a death or remains found or
    identified certainly before a capture, custody, disappearance, release, escape or transfer,
    or None. Claims too weak to make another record wrong (SOFT_CLAIMS) make none."""
    if a.claim_status in SOFT_CLAIMS or b.claim_status in SOFT_CLAIMS:
        return None
    if b.kind in DEATH_KINDS and a.kind not in DEATH_KINDS:
        a, b = b, a
    if a.kind not in DEATH_KINDS or b.kind not in HELD_KINDS | MOVE_KINDS:
        return None
    death, other = span(a), span(b)
    if death.latest is None or other.earliest is None or not death.latest < other.earliest:
        return None
    what = a.get_kind_display()
    if b.kind in HELD_KINDS:
        return (
            f"{what} ({humanize(a.date)}) is dated before the {b.get_kind_display().lower()} "
            f"({humanize(b.date)})."
        )
    return (
        f"{b.get_kind_display()} ({humanize(b.date)}) is dated after the "
        f"{what.lower()} ({humanize(a.date)})."
    )


def death_problems(events: list[Event]) -> list[str]:
    """`death_problem` of every pair of these events."""
    problems = []
    for i, a in enumerate(events):
        for b in events[i + 1 :]:
            problem = death_problem(a, b)
            if problem:
                problems.append(problem)
    return problems


def subject_roles_prefetch(prefix: str = "") -> models.Prefetch:
    """Prefetch for `person.subject_roles` (under `prefix`, the path to the person), each with
    its event: what the rules on one person's chronology read, without the details a page
    shows (see `subject_events_prefetch`)."""
    return models.Prefetch(
        f"{prefix}event_roles",
        queryset=EventPerson.objects.filter(role=EventPerson.Role.SUBJECT).select_related("event"),
        to_attr="subject_roles",
    )


def subject_events(person, exclude: Event | None = None) -> list[Event]:
    """The person's own events: prefetched ones when available, else one query."""
    roles = getattr(person, "subject_roles", None)
    if roles is not None:
        events = [r.event for r in roles]
    elif person.pk is None:
        events = []
    else:
        events = list(
            Event.objects.filter(
                people__person=person, people__role=EventPerson.Role.SUBJECT
            ).distinct()
        )
    if exclude is not None and exclude.pk is not None:
        events = [e for e in events if e.pk != exclude.pk]
    return events


def check_new_subject_event(*, person, event: Event) -> list[str]:
    """Problems that adding `event` to `person`'s timeline would create; [] if none."""
    events = subject_events(person)
    others = [e for e in events if event.pk is None or e.pk != event.pk]
    # The saved row of `event` when it is already one of the person's events.
    stored = next((e for e in events if event.pk is not None and e.pk == event.pk), None)
    captures = [e for e in others if e.kind in CAPTURE_KINDS]
    problems = []
    if event.kind == Event.Kind.RELEASE:
        problem = release_problem(event, captures)
        if problem and captures:  # a release may be entered before its capture is
            problems.append(problem)
    if event.kind in CAPTURE_KINDS:
        releases = [e for e in others if e.kind == Event.Kind.RELEASE]
        what = "Capture" if event.kind == Event.Kind.CAPTURE else event.get_kind_display()
        for release in releases:
            already = release_problem(release, captures) if captures else None
            if release_problem(release, [*captures, event]) and not already:
                problems.append(
                    f"{what} ({humanize(event.date)}) would come after the release it "
                    f"precedes ({humanize(release.date)})."
                )
    if event.kind == Event.Kind.CUSTODY:
        for other in others:
            if other.kind == Event.Kind.CUSTODY:
                problem = custody_overlap(event, other)
                if problem:
                    problems.append(problem)
    # A death and what cannot follow it, refused only when this entry makes the pair: an event
    # of the person's that already made one (entered before this rule) keeps its warning.
    for other in others:
        problem = death_problem(event, other)
        if problem and (stored is None or death_problem(stored, other) != problem):
            problems.append(problem)
    return problems


__all__ = [
    "ClaimStatus",
    "Event",
    "EventPerson",
    "EventOrganization",
    "ReleaseBatch",
    "BatchMembership",
    "subject_events_prefetch",
]
