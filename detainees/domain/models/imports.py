"""Identifiers that other systems give records, so importing their data again updates it."""

from django.db import models
from django.db.models import Q


class ExternalId(models.Model):
    """One record's identifier in an importing desk's own data, e.g. row 'P-17' of its sheet.

    Keyed by the data-package table name (`persons`, `citations`...) rather than by model, as
    that is the name the desk's files use; `public_id` is the record's own permanent id.
    """

    table = models.CharField(max_length=40)
    system = models.CharField(
        max_length=100, help_text="Whose identifiers these are, e.g. 'lwj-desk' or 'import'."
    )
    key = models.CharField(max_length=300)
    public_id = models.UUIDField(help_text="The public_id of the record it names.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "external identifier"
        constraints = [
            # Serves the importer's lookup of each row's identifier; also what makes it idempotent.
            models.UniqueConstraint(
                fields=["table", "system", "key"],
                name="externalid_unique_key",
                violation_error_message="This identifier already names a record.",
            ),
            models.CheckConstraint(condition=~Q(key=""), name="externalid_key_not_empty"),
        ]
        indexes = [models.Index(fields=["public_id"], name="externalid_public_id_idx")]

    def __str__(self):
        return f"{self.system}:{self.key} ({self.table})"
