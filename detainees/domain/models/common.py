"""What every record shares: publication state, private notes, timestamps, a public id."""

import uuid

from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.postgres.functions import RandomUUID
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import Q
from django.utils.text import slugify

from detainees.domain.fuzzydates import MAX_LENGTH as MAX_DATE_LENGTH
from detainees.domain.fuzzydates import EDTFField
from detainees.domain.names import fill_search_key


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ClaimStatus(models.TextChoices):
    """How sure the record is of a fact; every fact carries one."""

    CONFIRMED = "confirmed", "Confirmed"
    REPORTED = "reported", "Reported"
    INFERRED = "inferred", "Inferred"
    DISPUTED = "disputed", "Disputed"
    RETRACTED = "retracted", "Retracted"


def choices_check(field: str, choices: type[models.TextChoices], name: str, *, blank=False):
    """A CHECK that keeps a choices column to its values: `choices` alone binds only forms."""
    values = list(choices.values) + ([""] if blank else [])
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": values}),
        name=name,
        violation_error_message=f"{field} must be one of: {', '.join(v for v in values if v)}.",
    )


def fuzzy_date_fields(name: str, verbose_name: str, help_text: str = ""):
    """The EDTF text, its indexed earliest and latest possible day, and the text the date was
    read from when that was not plain EDTF ("principios de MAR/1976"), as four fields.

    The as-written text is set by the writes that read words (importer, admin form, API), not by
    the form itself: it records what was typed or imported beside the EDTF made of it."""
    return (
        EDTFField(
            verbose_name,
            earliest_field=f"{name}_earliest",
            latest_field=f"{name}_latest",
            blank=True,
            help_text=help_text,
        ),
        models.DateField(f"{verbose_name} (earliest possible day)", null=True, editable=False),
        models.DateField(f"{verbose_name} (latest possible day)", null=True, editable=False),
        models.CharField(
            f"{verbose_name} (as written)",
            max_length=MAX_DATE_LENGTH,
            blank=True,
            default="",
            db_default="",
            editable=False,
            help_text="The date in the source's words, when they were not plain EDTF.",
        ),
    )


def public_id_field():
    """A permanent UUID for a row with no publication state of its own (a name, a citation...).

    Data packages and imports refer to every row by it, so a citation can point at the name or
    nationality it supports, and importing an export again finds the same rows. Rows inserted
    in SQL get theirs from the database's default. A row copied by clearing its pk needs a
    new one too.
    """
    return models.UUIDField(
        default=uuid.uuid4,
        db_default=RandomUUID(),
        unique=True,
        editable=False,
        help_text="Permanent identifier used in exports and imports; never changes.",
    )


class PublishableQuerySet(models.QuerySet):
    """Records with a publication state. `public()` is the one meaning of "public" for the
    model: what every public page, list, count, facet, feed, export and stream shows. It is
    the model's `public_q()`, which a query through a link uses with the link's path
    (`Event.public_q("event__")`), so a join decides exactly as the model's own list does."""

    def published(self):
        return self.filter(status=PublicationStatus.PUBLISHED)

    def public(self):
        return self.filter(self.model.public_q())


class Publishable(models.Model):
    """A record with a publication state, private notes and a permanent public identifier."""

    public_id = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="Permanent identifier used in public links; never changes.",
    )
    status = models.CharField(
        "publication status",
        max_length=12,
        choices=PublicationStatus.choices,
        default=PublicationStatus.DRAFT,
        db_index=True,
    )
    internal_notes = models.TextField(
        blank=True, help_text="Private: never shown on the public site, API, exports or feeds."
    )
    withdrawal_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text=(
            "Public: shown in place of a withdrawn record and in the API's changes feed. "
            "Required when the status is withdrawn."
        ),
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True, db_index=True)
    # Lets a detail queryset prefetch a record's public corrections in one query. Deleting the
    # record deletes them (a merge moves them to the survivor first); no column, no migration.
    corrections = GenericRelation("detainees.Correction")

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def public_q(cls, prefix: str = "") -> Q:
        """The condition for a record of this model, reached through `prefix` (a lookup path
        ending in "__", or "" for the model itself), to be public: published. Models with more
        to it (confidential sources, retracted events) extend it."""
        return Q(**{f"{prefix}status": PublicationStatus.PUBLISHED})

    @property
    def is_published(self) -> bool:
        return self.status == PublicationStatus.PUBLISHED

    @property
    def is_public(self) -> bool:
        """`public_q()` for this one record, read from its loaded fields."""
        return self.is_published

    @property
    def is_withdrawn(self) -> bool:
        return self.status == PublicationStatus.WITHDRAWN


def publication_constraints(label: str) -> list[models.BaseConstraint]:
    return [
        choices_check("status", PublicationStatus, f"{label}_status_valid"),
        # Readers who follow an old link, and mirrors reading the changes feed, are told why.
        models.CheckConstraint(
            condition=~Q(status=PublicationStatus.WITHDRAWN) | ~Q(withdrawal_reason=""),
            name=f"{label}_withdrawn_has_reason",
            violation_error_message="Give a public reason when withdrawing a record.",
        ),
    ]


def claim_constraints(label: str) -> list[models.BaseConstraint]:
    return [choices_check("claim_status", ClaimStatus, f"{label}_claim_status_valid")]


def claim_status_field():
    return models.CharField(
        max_length=10,
        choices=ClaimStatus.choices,
        default=ClaimStatus.REPORTED,
        db_index=True,
        help_text="How sure we are: confirmed, reported by a source, inferred, disputed, retracted.",
    )


def search_key_field():
    """The name's spelling skeleton that search compares (detainees/domain/names.py), set by save().

    Rows inserted in SQL get '' from the database, and their key from refresh_search_keys().
    """
    return models.TextField(
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text="Spelling skeleton of the name, used by search.",
    )


def search_key_index(label: str) -> GistIndex:
    # Serves the =, % and %> comparisons of keys in detainees.read.search. GiST, not GIN: the planner
    # prices pg_trgm's operators as cheap as `=`, and so chose a sequential scan over a GIN
    # index even on 80,000 names (about 300 ms, against 25 ms through this index).
    return GistIndex(fields=["search_key"], opclasses=["gist_trgm_ops"], name=f"{label}_name_trgm")


def unique_slug(
    instance: models.Model, text: str, max_length: int = 80, reserved: models.QuerySet = None
) -> str:
    """A readable slug for `text`, suffixed with a number when another row already has it, or
    when `reserved` (a queryset filtered by `slug=`) holds it."""
    base = slugify(text)[:max_length].strip("-") or "record"
    slug, n = base, 2
    model = type(instance)
    while model._default_manager.filter(slug=slug).exclude(pk=instance.pk).exists() or (
        reserved is not None and reserved.filter(slug=slug).exists()
    ):
        slug = f"{base}-{n}"
        n += 1
    return slug


class OtherName(models.Model):
    """Another name a record goes by (an organization's, a facility's), with its search key.

    A subclass adds the record it names, its `kind` and `language`, and
    `other_name_constraints()` in its Meta."""

    public_id = public_id_field()
    name = models.CharField(max_length=200)
    search_key = search_key_field()

    class Meta:
        abstract = True

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        kwargs["update_fields"] = fill_search_key(self, kwargs.get("update_fields"))
        super().save(*args, **kwargs)


def other_name_constraints(label: str, owner: str, kinds: type[models.TextChoices]) -> list:
    """An other name's rules: a kind of `kinds`, never empty, once per `owner` (the field)."""
    return [
        choices_check("kind", kinds, f"{label}_kind_valid"),
        models.CheckConstraint(condition=~Q(name=""), name=f"{label}_not_empty"),
        models.UniqueConstraint(
            fields=[owner, "name"],
            name=f"{label}_unique_per_{owner}",
            violation_error_message=f"This {owner} already has this name.",
        ),
    ]
