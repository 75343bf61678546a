"""Organizations: armed groups, state authorities, forces, courts, media outlets, NGOs."""

import pgtrigger
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django_countries.fields import CountryField

from detainees.domain.links import record_url
from detainees.domain.names import fill_search_key

from .common import (
    OtherName,
    Publishable,
    choices_check,
    other_name_constraints,
    publication_constraints,
    search_key_field,
    search_key_index,
    unique_slug,
)


class OrganizationKind(models.TextChoices):
    ARMED_GROUP = "armed_group", "Armed group"
    STATE_AUTHORITY = "state_authority", "State authority"
    MILITARY_FORCE = "military_force", "Military or coalition force"
    INTELLIGENCE_SERVICE = "intelligence_service", "Intelligence service"
    POLICE = "police", "Police"
    COURT = "court", "Court"
    DETENTION_AUTHORITY = "detention_authority", "Detention authority"
    MEDIA_OUTLET = "media_outlet", "Media outlet"
    NGO = "ngo", "NGO or research group"
    INTERNATIONAL_BODY = "international_body", "International body"
    OTHER = "other", "Other"


# Checked by the database for every path that writes organizations: a parent that is the
# organization itself or one of its own descendants is refused. Tree edits are serialised by an
# advisory lock, so two concurrent edits cannot close a cycle between them.
ORGANIZATION_TREE_TRIGGER = pgtrigger.Trigger(
    name="organization_parents_form_no_cycle",
    when=pgtrigger.Before,
    operation=pgtrigger.Insert | pgtrigger.UpdateOf("parent_id"),
    condition=pgtrigger.Q(new__parent__isnull=False),
    func="""
        PERFORM pg_advisory_xact_lock(hashtext('detainees_organization.parent'));
        IF EXISTS (
            WITH RECURSIVE up(id, parent_id) AS (
                SELECT id, parent_id FROM detainees_organization WHERE id = NEW.parent_id
                UNION
                SELECT o.id, o.parent_id FROM detainees_organization o JOIN up ON o.id = up.parent_id
            )
            SELECT 1 FROM up WHERE up.id = NEW.id
        ) THEN
            RAISE EXCEPTION 'This parent would make a cycle of parents.'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'organization_parents_form_no_cycle';
        END IF;
        RETURN NEW;
    """,
)


class Organization(Publishable):
    """An armed group, authority, force, service, court, outlet or NGO, under an optional parent."""

    Kind = OrganizationKind

    name = models.CharField(max_length=200)
    abbreviation = models.CharField(max_length=30, blank=True)
    slug = models.SlugField(max_length=100, unique=True, editable=False)
    kind = models.CharField(max_length=22, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The body this one belongs to (ISAF under NATO, NDS under the government).",
    )
    country = CountryField(blank=True, help_text="Country, for national bodies.")
    description = models.TextField(blank=True)
    search_key = search_key_field()

    class Meta:
        ordering = ["name"]
        indexes = [search_key_index("organization")]
        triggers = [ORGANIZATION_TREE_TRIGGER]
        constraints = [
            *publication_constraints("organization"),
            choices_check("kind", OrganizationKind, "organization_kind_valid"),
            models.CheckConstraint(
                condition=~Q(parent=F("pk")),
                name="organization_not_its_own_parent",
                violation_error_message="An organization cannot be its own parent.",
            ),
            models.UniqueConstraint(
                fields=["name"],
                name="organization_unique_name",
                violation_error_message="An organization with this name already exists.",
            ),
        ]

    def get_absolute_url(self):
        return record_url("detainees:organization-detail", self.slug)

    def __str__(self):
        return f"{self.name} ({self.abbreviation})" if self.abbreviation else self.name

    def clean(self):
        seen, parent = {self.pk}, self.parent
        while parent is not None:
            if parent.pk in seen:
                raise ValidationError({"parent": "This parent would make a cycle of parents."})
            seen.add(parent.pk)
            parent = parent.parent

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self, self.abbreviation or self.name)
        kwargs["update_fields"] = fill_search_key(self, kwargs.get("update_fields"))
        super().save(*args, **kwargs)


class OrganizationNameKind(models.TextChoices):
    ABBREVIATION = "abbreviation", "Abbreviation"
    ALIAS = "alias", "Alias"
    TRANSLATION = "translation", "Translation"
    FORMER = "former", "Former name"
    SPELLING = "spelling", "Spelling or transliteration variant"
    ORIGINAL_SCRIPT = "original_script", "Name in original script"


class OrganizationName(OtherName):
    """Another name an organization goes by: abbreviation, alias, translation, former name."""

    Kind = OrganizationNameKind

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="names")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ALIAS)
    language = models.CharField(
        max_length=20, blank=True, help_text="Language tag, e.g. ps, fa, uz-Cyrl."
    )

    class Meta:
        ordering = ["organization", "name"]
        indexes = [search_key_index("organizationname")]
        constraints = other_name_constraints(
            "organizationname", "organization", OrganizationNameKind
        )
