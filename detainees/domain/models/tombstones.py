"""Tombstones: published records that left the public view, for scripts that keep a mirror."""

from django.db import models
from django.db.models.functions import Now

from .common import choices_check


class TombstoneRecordType(models.TextChoices):
    PERSON = "person", "Person"
    EVENT = "event", "Event"
    ORGANIZATION = "organization", "Organization"
    PLACE = "place", "Place"
    FACILITY = "facility", "Facility"
    BATCH = "batch", "Release batch"
    SOURCE = "source", "Source"
    AFFILIATION = "affiliation", "Affiliation"


class TombstoneChange(models.TextChoices):
    WITHDRAWN = "withdrawn", "Withdrawn"
    DELETED = "deleted", "Deleted"


class Tombstone(models.Model):
    """A published record that was unpublished or deleted; written only by database triggers.

    The triggers (migration 0005) fire on every path, the admin, the shell, `update()` and
    `delete()` on querysets and raw SQL alike (TRUNCATE, which skips row triggers, excepted),
    and only for rows that were public: a draft deleted or moved back to draft leaves nothing.
    A record moved to `withdrawn` leaves its public `withdrawal_reason` (migration 0010).
    A record that is published again keeps its tombstone and reappears in the lists'
    `updated_since=`, because a status change also moves its `updated` time.
    """

    RecordType = TombstoneRecordType
    Change = TombstoneChange

    record_type = models.CharField(max_length=12, choices=RecordType.choices)
    public_id = models.UUIDField(help_text="The public id the record had.")
    change = models.CharField(max_length=10, choices=Change.choices)
    reason = models.CharField(
        max_length=300,
        blank=True,
        db_default="",
        help_text="The public reason given when the record was withdrawn; empty otherwise.",
    )
    at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            # Serves the changes feed: `at >= since` then keyset pages on (at, id).
            models.Index(fields=["at", "id"], name="tombstone_at_id_idx"),
            # Serves the public pages' "was this ever published?" check (detainees.gone).
            models.Index(fields=["public_id"], name="tombstone_public_id_idx"),
        ]
        constraints = [
            choices_check("record_type", TombstoneRecordType, "tombstone_record_type_valid"),
            choices_check("change", TombstoneChange, "tombstone_change_valid"),
        ]

    def __str__(self):
        return f"{self.record_type} {self.public_id} {self.change} at {self.at:%Y-%m-%d %H:%M}"
