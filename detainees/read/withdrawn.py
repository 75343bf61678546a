"""Withdrawn records: answered with 410 Gone and their public reason, never with their data.

Only a record that was once public answers 410: it has a tombstone (detainees/domain/models/
tombstones.py), which the database writes when a published record leaves the public view.
A draft, or a record withdrawn before it was ever published, stays 404, so that its address
(whose slug may carry a name) tells nobody it exists.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404

from detainees.domain.models import PublicationStatus, Tombstone


@dataclass(frozen=True)
class Withdrawal:
    kind: str  # "person", "release batch"...
    reason: str


def withdrawal(model, **lookup) -> Withdrawal | None:
    """The withdrawal of the record `lookup` names, if it was withdrawn after being public.

    One query, served by the record's unique lookup column and tombstone_public_id_idx.
    """
    was_public = Tombstone.objects.filter(public_id=OuterRef("public_id"))
    try:
        reason = (
            model._default_manager.filter(status=PublicationStatus.WITHDRAWN, **lookup)
            .filter(Exists(was_public))
            .values_list("withdrawal_reason", flat=True)
            .first()
        )
    except (ValidationError, ValueError, TypeError):  # not a valid id: nothing to find
        return None
    if reason is None:
        return None
    return Withdrawal(kind=str(model._meta.verbose_name), reason=reason)


class Gone(Exception):
    def __init__(self, withdrawal: Withdrawal):
        self.withdrawal = withdrawal


def published_or_gone(queryset, **lookup):
    """The published record, or Gone if it was withdrawn after being public, or Http404."""
    try:
        return get_object_or_404(queryset, **lookup)
    except Http404:
        gone = withdrawal(queryset.model, **lookup)
        if gone is None:
            raise
        raise Gone(gone) from None
