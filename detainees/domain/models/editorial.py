"""The editorial trail beside the records: private reviewer comments and public corrections."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone


class RecordNoteQuerySet(models.QuerySet):
    def for_record(self, record):
        """Rows about one record (any publishable model); one query, newest last."""
        content_type = ContentType.objects.get_for_model(record, for_concrete_model=True)
        return self.filter(content_type=content_type, object_id=record.pk)


class CorrectionQuerySet(RecordNoteQuerySet):
    def public(self):
        """Only the columns the public sees (date and note) and those a prefetch matches on."""
        return self.only("content_type", "object_id", "date", "note")


class ReviewComment(models.Model):
    """A reviewer's remark on a record; private: shown in the admin only, never published."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(help_text="Private: seen in the admin only.")
    created = models.DateTimeField(auto_now_add=True)

    objects = RecordNoteQuerySet.as_manager()

    class Meta:
        ordering = ["created", "pk"]
        indexes = [
            # Serves for_record(): the comments under one record in its admin page.
            models.Index(fields=["content_type", "object_id"], name="reviewcomment_record_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="reviewcomment_not_empty"),
        ]

    def __str__(self):
        return f"Comment by {self.author or 'a former user'} on {self.created:%Y-%m-%d}"


class Correction(models.Model):
    """A public note that a published record was corrected: when, what changed, who did it."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    date = models.DateField(default=timezone.localdate)
    note = models.TextField(help_text="Public: what was wrong and what the record now says.")
    # Kept for the editors; the public pages give the date and the note only.
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = CorrectionQuerySet.as_manager()

    class Meta:
        ordering = ["date", "pk"]
        indexes = [
            # Serves for_record(): the corrections listed on a record's public page.
            models.Index(fields=["content_type", "object_id"], name="correction_record_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(note=""),
                name="correction_note_not_empty",
                violation_error_message="A correction needs a public note saying what changed.",
            ),
        ]

    def __str__(self):
        return f"Correction of {self.date:%Y-%m-%d}"
