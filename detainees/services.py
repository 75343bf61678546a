"""Writes that carry editorial rules: publication state changes and public corrections.

The admin and the API both call these, so a rule holds whichever way a record is changed.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from detainees.models import Correction, PublicationStatus, Publishable

DRAFT = PublicationStatus.DRAFT
IN_REVIEW = PublicationStatus.IN_REVIEW
PUBLISHED = PublicationStatus.PUBLISHED
WITHDRAWN = PublicationStatus.WITHDRAWN

# from -> to -> the permission action it takes ("change", "publish" or "withdraw").
# Researchers move their drafts to review and back; editors publish (from review, or from a draft
# they wrote themselves), withdraw, publish again, or send a withdrawn record back to draft.
TRANSITIONS: dict[str, dict[str, str]] = {
    DRAFT: {IN_REVIEW: "change", PUBLISHED: "publish"},
    IN_REVIEW: {DRAFT: "change", PUBLISHED: "publish"},
    PUBLISHED: {WITHDRAWN: "withdraw"},
    WITHDRAWN: {PUBLISHED: "publish", DRAFT: "withdraw"},
}
# Only these may be edited by whoever may change the record type; a published or withdrawn
# record takes the right to publish it.
OPEN_STATES = (DRAFT, IN_REVIEW)


class TrackerError(Exception):
    """A write the rules refuse; its message is for the person who tried it."""


class TransitionNotAllowed(TrackerError):
    """No such move between publication states exists."""


class RoleNotAllowed(TrackerError):
    """The move or edit exists, but this user's role may not make it."""


class InvalidRecord(TrackerError):
    """The values break a rule of the model; `errors` maps each field (or part) to messages."""

    def __init__(self, errors: dict):
        super().__init__("The record is not valid.")
        self.errors = errors


def field_errors(exc: DjangoValidationError) -> dict:
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    return {("non_field_errors" if k == NON_FIELD_ERRORS else k): v for k, v in errors.items()}


def permission(record: Publishable | type[Publishable], action: str) -> str:
    return f"{record._meta.app_label}.{action}_{record._meta.model_name}"


def may_edit(user, record: Publishable) -> bool:
    """Whether `user` may change this record's content (not only its state)."""
    if not user.has_perm(permission(record, "change")):
        return False
    if record.pk is None or record.status in OPEN_STATES:
        return True
    return user.has_perm(permission(record, "publish"))


def allowed_statuses(user, record: Publishable) -> list[str]:
    """The states `user` may leave the record in: its current one and those it may move to."""
    current = record.status if record.pk else DRAFT
    allowed = [current] if record.pk else []
    for target, action in TRANSITIONS.get(current, {}).items():
        if user.has_perm(permission(record, action)):
            allowed.append(target)
    if record.pk is None:
        # A new record starts as a draft or in review; editors may publish it at once.
        allowed = [DRAFT, IN_REVIEW] + (
            [PUBLISHED] if user.has_perm(permission(record, "publish")) else []
        )
    return [value for value in PublicationStatus.values if value in allowed]


def check_transition(*, user, record: Publishable, old: str | None, new: str) -> None:
    """Raise unless `user` may save `record`, that was in state `old` (None: new), in `new`."""
    start = old or DRAFT
    if old is not None and new == old:
        return
    if old is None and new in (DRAFT, IN_REVIEW):
        return
    action = TRANSITIONS.get(start, {}).get(new)
    if action is None:
        label = dict(PublicationStatus.choices)
        raise TransitionNotAllowed(
            f"A record cannot go from {label[start].lower()} to {label[new].lower()}; "
            f"from {label[start].lower()} it can go to: "
            + ", ".join(label[t].lower() for t in TRANSITIONS.get(start, {}))
            + "."
        )
    if not user.has_perm(permission(record, action)):
        verb = {"change": "change", "publish": "publish", "withdraw": "withdraw"}[action]
        raise RoleNotAllowed(
            f"Your role may not {verb} a {record._meta.verbose_name}; ask an editor."
        )


def check_edit(*, user, record: Publishable, old_status: str | None) -> None:
    """Raise unless `user` may change the content of a record that was in `old_status`."""
    if old_status is None or old_status in OPEN_STATES:
        return
    if not user.has_perm(permission(record, "publish")):
        raise RoleNotAllowed(
            f"This {record._meta.verbose_name} is {old_status}: only an editor may change it."
        )


@transaction.atomic
def record_correction(*, record: Publishable, note: str, by) -> Correction:
    """Note publicly that a published record was corrected; editors only."""
    if not record.is_published:
        raise TrackerError("Only a published record is corrected; drafts are simply edited.")
    if not by.has_perm("detainees.add_correction"):
        raise RoleNotAllowed("Your role may not record corrections; ask an editor.")
    if not note.strip():
        raise TrackerError("Say publicly what was corrected.")
    correction = Correction(record=record, note=note.strip(), corrected_by=by)
    correction.full_clean()
    correction.save()
    return correction


@transaction.atomic
def save_record(
    *,
    record: Publishable,
    values: dict,
    parts: dict[str, list[dict]] | None = None,
    by,
    correction_note: str = "",
) -> Publishable:
    """Set `values` on `record` (new or not), replace the rows of each part, all or nothing.

    `parts` maps a reverse relation (`names`, `people`) to the full list of rows it should hold:
    the old rows are deleted and these created, so the order entered is kept. The state change
    is checked against the user's role first; every row is validated as the admin would
    (`full_clean`, constraints included) and the first invalid one undoes the whole write.
    """
    old_status = record.status if record.pk else None
    new_status = values.get("status", old_status or DRAFT)
    check_edit(user=by, record=record, old_status=old_status)
    check_transition(user=by, record=record, old=old_status, new=new_status)
    if correction_note and old_status != PUBLISHED:
        raise InvalidRecord({"correction_note": ["Only a published record is corrected."]})
    for name, value in values.items():
        setattr(record, name, value)
    try:
        record.full_clean()
    except DjangoValidationError as exc:
        raise InvalidRecord(field_errors(exc)) from exc
    record.save()
    for relation, rows in (parts or {}).items():
        manager = getattr(record, relation)
        manager.all().delete()
        errors = {}  # by the row's position, as DRF gives a list's errors
        for index, row in enumerate(rows):
            part = manager.model(**{manager.field.name: record}, **row)
            try:
                part.full_clean()
            except DjangoValidationError as exc:
                errors[str(index)] = field_errors(exc)
                continue
            part.save()
        if errors:
            raise InvalidRecord({relation: errors})
    if hasattr(record, "refresh_slug"):
        record.refresh_slug()
    if correction_note:
        record_correction(record=record, note=correction_note, by=by)
    return record


@transaction.atomic
def delete_record(*, record: Publishable, by) -> None:
    """Delete a record for good (its tombstone, if it was public, is left by the database)."""
    if not by.has_perm(permission(record, "delete")):
        raise RoleNotAllowed(f"Your role may not delete a {record._meta.verbose_name}.")
    record.delete()
