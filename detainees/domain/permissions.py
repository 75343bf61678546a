"""Who may do what to which record: the one rule set the admin, the importer and the API ask.

`may(user, action, target)` answers for a record (new or saved), a row that belongs to one (a
name, a citation, a link), or a model (any record of that kind). `refusal()` gives the reason
to show when the answer is no. The rules, on top of the model permissions each role's group
holds (detainees/domain/roles.py):

- A published or withdrawn record is the editors' (whoever may publish that type): changing it,
  adding to it or deleting from it takes the right to publish it.
- A row that belongs to a record is that record's content: a name, a nationality, a citation,
  a relationship (of both people), an event's people and organizations, a batch's members, a
  facility's names and controllers count as their record's, in the record's state. A citation
  belongs to the fact it supports (and so, for a name, to the person). A row moved from one record to another needs both.
- Publishing and withdrawing take `publish_<type>` and `withdraw_<type>`; merging people
  `merge_person`; recording a public correction `add_correction`.
- A confidential source: marking a source confidential only hides it, so whoever may change
  the source may; clearing the mark lets the source be published, so it takes the right to
  publish sources.
- Anonymous and inactive users may do nothing here (public reads are the querysets' business).
"""

from django.db import models

from detainees.domain.models import (
    BatchMembership,
    Citation,
    EventOrganization,
    EventPerson,
    FacilityControl,
    FacilityName,
    Nationality,
    OrganizationName,
    PersonName,
    PublicationStatus,
    Publishable,
    Relationship,
    Source,
)

VIEW = "view"
ADD = "add"
CHANGE = "change"
DELETE = "delete"
PUBLISH = "publish"
WITHDRAW = "withdraw"
MARK_CONFIDENTIAL = "mark_confidential"
CLEAR_CONFIDENTIAL = "clear_confidential"
MERGE = "merge"
CORRECT = "correct"  # add a public correction note to a published record
ACTIONS = (
    VIEW,
    ADD,
    CHANGE,
    DELETE,
    PUBLISH,
    WITHDRAW,
    MARK_CONFIDENTIAL,
    CLEAR_CONFIDENTIAL,
    MERGE,
    CORRECT,
)

# States whose content whoever may change the type may edit; the others take the publish right.
OPEN_STATES = (PublicationStatus.DRAFT, PublicationStatus.IN_REVIEW)

# A row that belongs to a record: the foreign key(s) naming the record it is content of.
PARENTS: dict[type[models.Model], tuple[str, ...]] = {
    PersonName: ("person",),
    Nationality: ("person",),
    # Content of both people's records: a published person's ties take an editor.
    Relationship: ("person", "other"),
    EventPerson: ("event",),
    EventOrganization: ("event",),
    BatchMembership: ("batch",),
    OrganizationName: ("organization",),
    FacilityName: ("facility",),
    FacilityControl: ("facility",),
    Citation: Citation.FACT_FIELDS,
}


def perm(model, action: str) -> str:
    meta = model._meta
    return f"{meta.app_label}.{action}_{meta.model_name}"


def _model(target):
    return target if isinstance(target, type) else type(target)


def records_of(obj, values: dict | None = None) -> list[Publishable]:
    """The publishable records whose content `obj` is: itself, or the record(s) a part is of.

    `values` are field values about to be set on `obj` (a form's cleaned data), read instead of
    the ones it holds, so that the record a row is being moved to is found.
    """
    if obj is None:
        return []
    if isinstance(obj, Publishable):
        return [obj]
    names = PARENTS.get(type(obj), ())
    found = []
    for name in names:
        if values is not None and name in values:
            parent = values[name]
        elif getattr(obj, f"{name}_id", None) is None:
            continue
        else:
            parent = getattr(obj, name)
        if parent is not None:
            found += records_of(parent)
    return found


def _is_open(record) -> bool:
    return record.pk is None or record.status in OPEN_STATES


def _active(user) -> bool:
    return bool(user is not None and user.is_active and user.is_authenticated)


def refusal(user, action: str, target, *, values: dict | None = None) -> str | None:
    """Why `user` may not do `action` on `target` (a model instance or class); None if they may.

    `values` (for add and change) are the values the row will have: a part moved to another
    record, or a record given a new state, is judged as it will be as well as as it is.
    """
    model = _model(target)
    noun = model._meta.verbose_name
    if not _active(user):
        return "Sign in with a role that may do this."
    if action in (MARK_CONFIDENTIAL, CLEAR_CONFIDENTIAL):
        if model is not Source:
            return f"A {noun} has no confidentiality to change."
        reason = refusal(user, CHANGE if not isinstance(target, type) else ADD, target)
        if reason:
            return reason
        if action == CLEAR_CONFIDENTIAL and not user.has_perm(perm(Source, PUBLISH)):
            return (
                "Only an editor may make a confidential source non-confidential: "
                "that is what lets it be published."
            )
        return None
    if action in (PUBLISH, WITHDRAW):
        owners = records_of(target) if not isinstance(target, type) else []
        models_ = {type(r) for r in owners} or {model}
        for owner in models_:
            if not user.has_perm(perm(owner, action)):
                return f"Your role may not {action} a {owner._meta.verbose_name}; ask an editor."
        return None
    if action == CORRECT:
        if not user.has_perm("detainees.add_correction"):
            return "Your role may not record corrections; ask an editor."
        return None
    if action == MERGE:
        if not user.has_perm(perm(model, MERGE)):
            return f"Your role may not merge {model._meta.verbose_name_plural}; ask an editor."
        return None
    if not user.has_perm(perm(model, action)):
        verb = {VIEW: "see", ADD: "add", CHANGE: "change", DELETE: "delete"}.get(action, action)
        return f"Your role may not {verb} a {noun}."
    if isinstance(target, type) or action == VIEW:
        return None
    # The record(s) this row is content of, as it is and as it will be.
    owners = records_of(target) if target.pk is not None else []
    if values is not None or target.pk is None:
        owners += records_of(target, values)
    for record in owners:
        if record is target and action == ADD:
            continue  # a new record's first state is check_transition's question
        if _is_open(record) or user.has_perm(perm(record, PUBLISH)):
            continue
        state = record.get_status_display().lower()
        if record is target:
            return f"This {noun} is {state}: only an editor may change it."
        kind = type(record)._meta.verbose_name
        return f"This {noun} belongs to a {state} {kind}: only an editor may change the {kind}."
    return None


def may(user, action: str, target, *, values: dict | None = None) -> bool:
    """Whether `user` may do `action` (see ACTIONS) on `target`: a record, a part or a model."""
    return refusal(user, action, target, values=values) is None


def may_edit(user, record) -> bool:
    """Whether `user` may change this record's (or row's) content, not only its state."""
    return may(user, CHANGE, record)


def confidential_refusal(user, source, new_value) -> str | None:
    """Why `user` may not set `source.is_confidential` (as stored now) to `new_value`."""
    old = bool(source.is_confidential) if source.pk is not None else False
    if bool(new_value) == old:
        return None
    return refusal(user, MARK_CONFIDENTIAL if new_value else CLEAR_CONFIDENTIAL, source)
