"""Writes that span several records or carry editorial rules, each in one transaction, each
taking who did it and why.

The admin and the API both call these, so a rule holds whichever way a record is changed:
publication state changes, corrections, whole-record writes, merges.
"""

import copy
import re
from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.constraints import ExclusionConstraint
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.db.models.lookups import Exact

from detainees.domain import permissions
from detainees.domain.constraints import (
    Unknown,
    comparable,
    holds,
    holds_in_database,
    row_state,
    unique_rules,
)
from detainees.domain.models import (
    Correction,
    Person,
    PersonName,
    PersonRedirect,
    PublicationStatus,
    Publishable,
    Relationship,
    ReviewComment,
)
from detainees.domain.models.common import OtherName
from detainees.domain.names import fill_search_key
from detainees.domain.roles import PUBLISHABLE
from detainees.write.history import acting


class TrackerError(Exception):
    """A write the record's rules refuse; the message is meant for the person who asked."""


class MergeError(TrackerError):
    pass


# Person fields a merge fills on the survivor when the survivor has them blank. Fields both
# people have, with different values, are conflicting claims: the editor settles them first.
_PERSON_FILLED = ("gender", "birth", "birthplace", "withheld", "biography")
_PERSON_BLANK = {"gender": Person.Gender.UNKNOWN, "birthplace": None, "withheld": []}


@dataclass
class MergePlan:
    """What merging `removed` into `survivor` moves, collapses and cannot settle on its own."""

    survivor: Person
    removed: Person
    moves: Counter = field(default_factory=Counter)  # verbose name plural -> rows moved
    collapsed: Counter = field(default_factory=Counter)  # duplicates folded into the survivor's
    conflicts: list[str] = field(default_factory=list)


def _person_relations(model=Person):
    """The relations to move: every foreign key to `model` that the database enforces.

    Read from `_meta` so a relation added later moves too. A key the database does not enforce
    (`db_constraint=False`, as audit-history tables use) records the past and stays put.
    """
    return [
        rel
        for rel in model._meta.related_objects
        if rel.one_to_many and rel.field.db_constraint and rel.field.concrete
    ]


def _twin_keys(rel) -> list[tuple[str, ...]]:
    """The other columns of each unconditional unique constraint that includes `rel`'s key."""
    model, name = rel.related_model, rel.field.name
    keys = []
    for constraint in model._meta.total_unique_constraints:
        if name in constraint.fields:
            keys.append(tuple(f for f in constraint.fields if f != name))
    for together in model._meta.unique_together:
        if name in together:
            keys.append(tuple(f for f in together if f != name))
    return keys


def _blank(value, default=None) -> bool:
    return value in (None, "", default)


def _compared_fields(row):
    """Fields whose values two duplicate rows must agree on (or one leave blank)."""
    for f in row._meta.concrete_fields:
        if f.primary_key or not f.editable or isinstance(f, models.ForeignKey):
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        if f.name in ("public_id", "is_primary"):
            continue
        yield f


def _fold(old, new, plan: MergePlan) -> None:
    """Fold row `old` into its duplicate `new`: fill `new`'s blanks, move what points at `old`."""
    label = old._meta.verbose_name
    changed = []
    for f in _compared_fields(old):
        mine, theirs = getattr(new, f.attname), getattr(old, f.attname)
        if mine == theirs or _blank(theirs, f.default):
            continue
        if _blank(mine, f.default):
            setattr(new, f.attname, theirs)
            changed.append(f.name)
        elif f.name == "internal_notes":
            setattr(new, f.attname, f"{mine}\n\n{theirs}")
            changed.append(f.name)
        else:
            plan.conflicts.append(
                f"{label} “{new}”: {f.verbose_name} is “{mine}” on one and “{theirs}” on the other."
            )
    if changed:
        new.save(update_fields=changed)
    _move_children(old, new, plan)
    _move_notes(old, new)
    plan.collapsed[label] += 1
    old.delete()


def _move_notes(old, new) -> None:
    """Point the reviewer comments and corrections of `old` at `new`, before `old` is deleted.

    They point at records generically, outside `related_objects`; and the `corrections`
    relation of a publishable record would delete them with it.
    """
    record_type = ContentType.objects.get_for_model(type(old))
    for model in (ReviewComment, Correction):
        model.objects.filter(content_type=record_type, object_id=old.pk).update(object_id=new.pk)


def _move_children(old, new, plan: MergePlan) -> None:
    """Point every enforced reference to `old` at `new`, folding rows that would duplicate."""
    for rel in _person_relations(type(old)):
        model, fk = rel.related_model, rel.field.name
        rows = model._base_manager.filter(**{fk: old}).order_by("pk")
        keys = _twin_keys(rel)
        moved = []
        for row in rows.select_for_update():
            twin = None
            for key in keys:
                match = model._base_manager.filter(
                    **{fk: new}, **{f: getattr(row, f) for f in key}
                ).first()
                if match is not None:
                    twin = match
                    break
            if twin is None:
                moved.append(row.pk)
            else:
                _fold(row, twin, plan)
        if moved:
            plan.moves[str(model._meta.verbose_name_plural)] += len(moved)
            model._base_manager.filter(pk__in=moved).update(**{fk: new})


def _merge_person_fields(plan: MergePlan) -> None:
    survivor, removed = plan.survivor, plan.removed
    changed = []
    for name in _PERSON_FILLED:
        mine, theirs = getattr(survivor, name), getattr(removed, name)
        blank = _PERSON_BLANK.get(name, "")
        if mine == theirs or theirs == blank:
            continue
        if mine == blank:
            setattr(survivor, name, theirs)
            changed.append(name)
            if name == "birth":  # the date comes with its bounds and the words it was read from
                for part in ("birth_earliest", "birth_latest", "birth_as_written"):
                    setattr(survivor, part, getattr(removed, part))
                    changed.append(part)
        else:
            verbose = Person._meta.get_field(name).verbose_name
            plan.conflicts.append(
                f"Person: {verbose} is “{mine}” on one and “{theirs}” on the other."
            )
    # A fate comes with how sure it is: the survivor takes both, or the two must agree.
    fates = [(p.fate, p.fate_claim_status) for p in (survivor, removed)]
    if removed.fate != Person.Fate.UNKNOWN and fates[0] != fates[1]:
        if survivor.fate == Person.Fate.UNKNOWN:
            survivor.fate, survivor.fate_claim_status = fates[1]
            changed += ["fate", "fate_claim_status"]
        else:
            mine, theirs = (f"{fate}, {claim}" for fate, claim in fates)
            plan.conflicts.append(f"Person: fate is “{mine}” on one and “{theirs}” on the other.")
    if removed.internal_notes:
        note = (
            f"Merged from {removed.display_name} ({removed.public_id}):\n{removed.internal_notes}"
        )
        survivor.internal_notes = "\n\n".join(filter(None, [survivor.internal_notes, note]))
        changed.append("internal_notes")
    if survivor.is_placeholder and not removed.is_placeholder:
        survivor.is_placeholder = False
        changed.append("is_placeholder")
    # Always saved, so `updated` moves and scripts mirroring the API fetch the survivor again.
    survivor.save(update_fields=[*changed, "updated"])


def _demote_names(survivor: Person, removed: Person) -> None:
    """The survivor keeps its primary name: the removed person's names become variants.

    A survivor with no primary name (a placeholder) takes the removed person's.
    """
    if PersonName.objects.filter(person=survivor, is_primary=True).exists():
        PersonName.objects.filter(person=removed, is_primary=True).update(is_primary=False)


def _relationship_conflicts(survivor: Person, removed: Person) -> list[str]:
    """Ties a merge cannot move by itself: one between the two people (it would relate the
    survivor to themselves), and one the survivor already has with the same person, recorded
    from the other side (each link is stored once). The editor deletes one first."""
    conflicts = []
    ties = Relationship.objects.filter(Q(person=removed) | Q(other=removed)).order_by("pk")
    for tie in ties:
        first = survivor.pk if tie.person_id == removed.pk else tie.person_id
        second = survivor.pk if tie.other_id == removed.pk else tie.other_id
        if first == second:
            conflicts.append(
                f"Relationship “{tie}” links the two people being merged: delete it first."
            )
        elif Relationship.objects.filter(person=second, other=first, kind=tie.kind).exists():
            conflicts.append(
                f"Relationship “{tie}”: the survivor has it already, recorded from the other "
                "side; delete one of the two first."
            )
    return conflicts


def _plan(survivor: Person, removed: Person) -> MergePlan:
    if survivor.pk == removed.pk:
        raise MergeError("A person cannot be merged into themselves.")
    plan = MergePlan(survivor=survivor, removed=removed)
    _demote_names(survivor, removed)
    _merge_person_fields(plan)
    ties = _relationship_conflicts(survivor, removed)
    if ties:
        # Moving them would break the database's rules on relationships: stop here.
        plan.conflicts += ties
        return plan
    _move_children(removed, survivor, plan)
    return plan


def plan_merge(*, survivor: Person, removed: Person) -> MergePlan:
    """What `merge_persons` would do, for the editor's confirmation page: the merge itself,
    on fresh copies of the two rows, rolled back."""
    with transaction.atomic():
        plan = _plan(Person.objects.get(pk=survivor.pk), Person.objects.get(pk=removed.pk))
        transaction.set_rollback(True)
    return plan


def merge_persons(*, survivor: Person, removed: Person, user, reason: str) -> PersonRedirect:
    """Merge `removed` into `survivor`: move every row about them, delete `removed`, and keep a
    redirect from its public id and slug to `survivor`.

    Rows that would duplicate one of the survivor's (the same name, nationality, role in an
    event, batch) are folded into it, with their citations. Raises `MergeError`, writing
    nothing, when the two disagree on a value only one of them can keep.
    """
    # The audit history records every row the merge moves, folds or deletes as the editor's.
    why = f"Merged {removed.display_name} ({removed.public_id}) into this person: {reason}"
    with acting(user, why):
        return _merge_persons(survivor=survivor, removed=removed, user=user, reason=reason)


@transaction.atomic
def _merge_persons(*, survivor: Person, removed: Person, user, reason: str) -> PersonRedirect:
    if survivor.pk == removed.pk:
        raise MergeError("A person cannot be merged into themselves.")
    if not reason.strip():
        raise MergeError("Say why these are the same person.")
    # Lock both rows, in primary-key order so two merges of one pair cannot deadlock.
    locked = {
        p.pk: p
        for p in Person.objects.select_for_update()
        .filter(pk__in=[survivor.pk, removed.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise MergeError("One of the two people no longer exists; reload and try again.")
    survivor, removed = locked[survivor.pk], locked[removed.pk]
    name = removed.display_name
    old_public_id, old_slug = removed.public_id, removed.slug
    was_published = removed.status == PublicationStatus.PUBLISHED
    plan = _plan(survivor, removed)
    if plan.conflicts:  # raising rolls back what _plan wrote
        raise MergeError("Settle these first: " + " ".join(plan.conflicts))
    _move_notes(removed, survivor)
    removed.delete()
    return PersonRedirect.objects.create(
        person=survivor,
        old_public_id=old_public_id,
        old_slug=old_slug,
        old_name=name,
        was_published=was_published,
        merged_by=user,
        reason=reason,
    )


# --- Publication state, corrections, whole-record writes -----------------------------------

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


class TransitionNotAllowed(TrackerError):
    """No such move between publication states exists."""


class RoleNotAllowed(TrackerError):
    """The move or edit exists, but this user's role may not make it."""


class InvalidRecord(TrackerError):
    """The values break a rule of the model; `errors` maps each field (or part) to messages."""

    def __init__(self, errors: dict):
        super().__init__("The record is not valid.")
        self.errors = errors


class DuplicateRecord(InvalidRecord):
    """The values would make a second record where a unique rule allows one (an organization's
    name, a source's URL...): `existing` is the record already holding them, and `message`
    the rule's own words."""

    def __init__(self, errors: dict, *, existing, message: str):
        super().__init__(errors)
        self.existing = existing
        self.message = message


def _unique_rules(model):
    """(fields, condition, nulls match, message) of each unique rule `model` keeps on editable
    fields: its UniqueConstraints on plain fields and its `unique=True` fields."""
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            fields = [model._meta.get_field(name) for name in constraint.fields]
            if all(f.editable for f in fields):
                yield (
                    fields,
                    constraint.condition,
                    constraint.nulls_distinct is False,
                    constraint.violation_error_message or "This record already exists.",
                )
    for f in model._meta.concrete_fields:
        if f.unique and f.editable and not f.primary_key:
            yield [f], None, False, f"A {model._meta.verbose_name} with this {f.name} exists."


def existing_duplicate(record):
    """(the other record, the rule's message) when `record`'s values break a unique rule of its
    model; None when no other record holds them. One query per rule that applies."""
    model = type(record)
    for fields, condition, nulls_match, message in _unique_rules(model):
        lookup = {}
        for f in fields:
            value = getattr(record, f.attname)
            if value is None and not nulls_match:
                break  # NULLs are distinct: no clash
            if value is None:
                lookup[f"{f.attname}__isnull"] = True
            else:
                lookup[f.attname] = value
        else:
            others = model._default_manager.filter(**lookup).exclude(pk=record.pk)
            if condition is not None:
                # As Django's own constraint check reads the record's values.
                against = record._get_field_expression_map(meta=model._meta, exclude=set())
                if not condition.check(against):
                    continue
                others = others.filter(condition)
            other = others.order_by("pk").first()
            if other is not None:
                return other, str(message)
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.expressions:
            other = _expression_twin(record, constraint)
            if other is not None:
                return other, str(constraint.violation_error_message)
    return None


def _expression_twin(record, constraint):
    """The other record holding the values of a unique rule on expressions (a relationship
    once per pair of people, whichever is named first), compared as Django's own check
    compares them; None when none does."""
    model = type(record)
    values = record._get_field_expression_map(meta=model._meta, exclude=set())
    others = model._default_manager.exclude(pk=record.pk)
    for expression in constraint.expressions:
        stored = expression.replace_expressions({F(name): value for name, value in values.items()})
        others = others.filter(Exact(expression, stored))
    if constraint.condition is not None:
        others = others.filter(constraint.condition)
    return others.order_by("pk").first()


def duplicate_refusal(record, errors: dict) -> InvalidRecord:
    """The refusal of an invalid `record`: a DuplicateRecord naming the record that holds its
    unique values when there is one, else an InvalidRecord."""
    found = existing_duplicate(record)
    if found is None:
        return InvalidRecord(errors)
    return DuplicateRecord(errors, existing=found[0], message=found[1])


def field_errors(exc: DjangoValidationError, row=None) -> dict:
    """`exc`'s messages by field; a rule of the whole row (a constraint) is told under the field
    it concerns when `row` is given and one can be named (see `constraint_field`)."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
    named: dict[str, list] = {}
    for key, messages in errors.items():
        for message in messages:
            name = key
            if key == NON_FIELD_ERRORS:
                name = (row is not None and constraint_field(row, message)) or "non_field_errors"
            named.setdefault(name, []).append(message)
    return named


# A fuzzy date is stored in several columns; its rules are about the one field a client writes.
_DATE_COLUMN = re.compile(r"_(earliest|latest)$")


def constraint_field(row, message: str) -> str | None:
    """The field that `row`'s constraint whose message is `message` concerns: of the fields its
    condition or its unique fields name, the last one this row fills (a release kind on a
    non-release, a custody's end before its start), `kind` only when no other is filled."""
    for constraint in row._meta.constraints:
        if str(constraint.violation_error_message) != message:
            continue
        names = list(getattr(constraint, "fields", ()) or ())
        condition = getattr(constraint, "condition", None)
        if condition is not None:
            names += _condition_fields(condition)
        fields = []
        for name in names:
            name = _DATE_COLUMN.sub("", name.split("__")[0])
            if name not in fields and name != "kind":
                fields.append(name)
        filled = [name for name in fields if _filled(row, name)]
        if filled or fields:
            return (filled or fields)[-1]
        return None
    return None


def _condition_fields(node) -> list[str]:
    names = []
    for child in getattr(node, "children", ()):
        if isinstance(child, tuple):
            lookup, value = child
            names.append(lookup)
            if isinstance(value, F):
                names.append(value.name)
        else:
            names += _condition_fields(child)
    return names


def _filled(row, name: str) -> bool:
    try:
        field = row._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return getattr(row, field.attname, None) not in (None, "", [])


def permission(record: Publishable | type[Publishable], action: str) -> str:
    return f"{record._meta.app_label}.{action}_{record._meta.model_name}"


def may_edit(user, record: Publishable) -> bool:
    """Whether `user` may change this record's content (not only its state)."""
    return permissions.may_edit(user, record)


def allowed_statuses(user, record: Publishable) -> list[str]:
    """The states `user` may leave the record in: its current one and those it may move to."""
    current = record.status if record.pk else DRAFT
    allowed = [current] if record.pk else []
    for target, action in TRANSITIONS.get(current, {}).items():
        if permissions.may(user, action, type(record)):
            allowed.append(target)
    if record.pk is None:
        # A new record starts as a draft or in review; editors may publish it at once.
        allowed = [DRAFT, IN_REVIEW] + (
            [PUBLISHED] if permissions.may(user, permissions.PUBLISH, type(record)) else []
        )
    return [value for value in PublicationStatus.values if value in allowed]


def check_transition(*, user, record: Publishable, old: str | None, new: str) -> None:
    """Raise unless `user` may save `record`, that was in state `old` (None: new), in `new`.

    The one rule for a change of state, whoever asks: the admin's forms and actions, the API's
    writes and the importers' rows all come here.
    """
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
    # The type's permission: whether this record's content may be changed is check_edit's.
    reason = permissions.refusal(user, action, type(record))
    if reason:
        raise RoleNotAllowed(reason)


def check_edit(*, user, record: Publishable, old_status: str | None) -> None:
    """Raise unless `user` may change the content of a record that was in `old_status`.

    The rule is `detainees.domain.permissions`'; `record` still holds its stored values here.
    """
    if old_status is None or old_status in OPEN_STATES:
        return
    reason = permissions.refusal(user, permissions.CHANGE, record)
    if reason:
        raise RoleNotAllowed(reason)


def check_confidential(*, user, record, values: dict) -> None:
    """Raise unless `user` may give a source the `is_confidential` in `values` (if any)."""
    if "is_confidential" not in values or not hasattr(record, "is_confidential"):
        return
    reason = permissions.confidential_refusal(user, record, values["is_confidential"])
    if reason:
        raise RoleNotAllowed(reason)


def may_publish(user, model: type[Publishable] | None = None) -> bool:
    """Whether `user` may publish records of `model`; without one, of every publishable type,
    as an import that publishes what it writes needs."""
    if user is None or not user.is_active:
        return False
    if model is not None:
        return permissions.may(user, permissions.PUBLISH, model)
    return all(
        permissions.may(user, permissions.PUBLISH, apps.get_model("detainees", name))
        for name in PUBLISHABLE
    )


def imported_status(record: Publishable, *, is_new: bool, publish: bool) -> str:
    """The state an imported row leaves its record in: a new record is a draft unless the
    import publishes; told to publish, a record is published, except a confidential source,
    which stays private whatever the import is told. `check_transition` then says whether the
    importing user may make that move."""
    if is_new and not publish:
        return DRAFT
    if publish and not getattr(record, "is_confidential", False):
        return PUBLISHED
    return record.status


# --- What a form asks before it saves ----------------------------------------------------------


def row_refusals(*, user, row, values: dict, delete: bool = False) -> list[tuple[str | None, str]]:
    """Why `user` may not add, change (to `values`) or delete `row`: a record or a row of one.

    Each reason comes with the field it is about (None: the whole row). `row` still holds its
    stored values; `values` are those it will have, so a row moved to a published record is
    judged as it will be. The admin shows these as form errors; `save_row` refuses on them.
    """
    action = permissions.ADD if row.pk is None else permissions.CHANGE
    if delete:
        action = permissions.DELETE
    reason = permissions.refusal(user, action, row, values=values)
    if reason:
        return [(None, reason)]
    if "is_confidential" in values:
        reason = permissions.confidential_refusal(user, row, values["is_confidential"])
        if reason:
            return [("is_confidential", reason)]
    return []


def status_refusal(*, user, record: Publishable, old_status: str | None, new: str) -> str | None:
    """Why `user` may not leave `record` (stored in `old_status`, None if new) in state `new`."""
    try:
        check_transition(user=user, record=record, old=old_status, new=new)
        check_edit(user=user, record=record, old_status=old_status)
    except TrackerError as exc:
        return str(exc)
    return None


def correction_refusal(*, user, record: Publishable, old_status, note: str):
    """(field, why) a correction note may not be recorded with this save; None if it may."""
    if not permissions.may(user, permissions.CORRECT, record):
        return "is_correction", "Your role may not record corrections."
    if old_status != PUBLISHED:
        return "is_correction", "Only a published record is corrected."
    if not note.strip():
        return "correction_note", "Say publicly what was corrected."
    return None


@transaction.atomic
def keep_review_comments(*, comments, deleted=(), by) -> None:
    """Save reviewer comments written or edited on a record's page, each new one signed by
    `by`, and delete those struck out. Private remarks: no state or role rule applies beyond
    the model permissions the page already asked."""
    with acting(by, ""):
        for comment in comments:
            if comment.author_id is None:
                comment.author = by
            comment.save()
        for comment in deleted:
            comment.delete()


@transaction.atomic
def record_correction(*, record: Publishable, note: str, by) -> Correction:
    """Note publicly that a published record was corrected; editors only."""
    if not record.is_published:
        raise TrackerError("Only a published record is corrected; drafts are simply edited.")
    reason = permissions.refusal(by, permissions.CORRECT, record)
    if reason:
        raise RoleNotAllowed(reason)
    if not note.strip():
        raise TrackerError("Say publicly what was corrected.")
    correction = Correction(record=record, note=note.strip(), corrected_by=by)
    correction.full_clean()
    correction.save()
    return correction


@transaction.atomic
def save_record(
    *,
    record: Publishable | models.Model,
    values: dict,
    parts: dict[str, list[dict]] | None = None,
    by,
    correction_note: str = "",
    reason: str = "",
) -> Publishable | models.Model:
    """Set `values` on `record` (new or not), replace the rows of each part, all or nothing.

    `record` is a publishable record, or a row written on its own that belongs to records
    (a relationship of two people): that one has no state to change, and is checked against
    `by`'s role on the records it belongs to, as `save_row` checks it.

    `parts` maps a reverse relation (`names`, `people`) to the full list of rows it should hold:
    the old rows are deleted and these created, so the order entered is kept. The state change
    is checked against the user's role first; every row is validated as the admin would
    (`full_clean`, constraints included) and the first invalid one undoes the whole write.
    The history records `by` and `reason` for every row changed.
    """
    with acting(by, reason):
        return _save_record(
            record=record, values=values, parts=parts, by=by, correction_note=correction_note
        )


def _save_record(*, record, values, parts, by, correction_note):
    if isinstance(record, Publishable):
        old_status = record.status if record.pk else None
        new_status = values.get("status", old_status or DRAFT)
        check_edit(user=by, record=record, old_status=old_status)
        check_transition(user=by, record=record, old=old_status, new=new_status)
        check_confidential(user=by, record=record, values=values)
    else:
        # A row with no state of its own (a relationship, content of both its people): the
        # rule is the one save_row asks, on the records it belongs to now and will belong to.
        old_status = None
        action = permissions.ADD if record.pk is None else permissions.CHANGE
        refused = permissions.refusal(by, action, record, values=values)
        if refused:
            raise RoleNotAllowed(refused)
    if correction_note and old_status != PUBLISHED:
        raise InvalidRecord({"correction_note": ["Only a published record is corrected."]})
    if record.pk and not correction_note and not _changes(record, values):
        parts = {
            name: rows for name, rows in (parts or {}).items() if _new_rows(record, name, rows)
        }
        if not parts:
            # Nothing to write: no save, so neither `updated` nor the history moves.
            return record
    for name, value in values.items():
        setattr(record, name, value)
    if getattr(record, "status", None) == WITHDRAWN and not record.withdrawal_reason.strip():
        # Also a database rule; said here so the answer names the field to fill in.
        raise InvalidRecord(
            {"withdrawal_reason": ["Give a public reason when withdrawing a record."]}
        )
    try:
        record.full_clean()
    except DjangoValidationError as exc:
        raise duplicate_refusal(record, field_errors(exc, record)) from exc
    record.save()
    for relation, rows in (parts or {}).items():
        if not _new_rows(record, relation, rows):
            continue  # the rows it holds already, in this order: left as they are
        getattr(record, relation).all().delete()
        errors = _create_rows(record, relation, rows)
        if errors:
            raise InvalidRecord({relation: errors})
    if hasattr(record, "refresh_slug"):
        record.refresh_slug()
    if correction_note:
        record_correction(record=record, note=correction_note, by=by)
    return record


def _changes(record, values: dict) -> bool:
    """Whether setting `values` on the stored `record` would change any of them."""
    return any(getattr(record, name) != value for name, value in values.items())


def _nested(model, row: dict) -> tuple[dict, dict]:
    """`row`'s own values and the lists of its own parts (a name's citations), apart."""
    values, nested = {}, {}
    for name, value in row.items():
        field = model._meta.get_field(name)
        (nested if field.one_to_many else values)[name] = value
    return values, nested


def _create_rows(record, relation: str, rows: list[dict]) -> dict:
    """Create `rows` as `record`'s `relation`, in order, each with its own parts; the errors
    found, by the row's position (as DRF gives a list's errors), nested as the rows are.

    Validated as `full_clean` would, but level by level for all the rows at once (the names,
    then every citation of every name), and written with one insert a level: the queries are
    as many however long the lists. The record's old rows are deleted first, so a rule of
    uniqueness within the record holds among these rows only.
    """
    errors: dict = {}
    level = [_PendingList(record, relation, rows, errors)]
    try:
        while level:
            level = _create_level(level)
    except IntegrityError as exc:
        # A rule these checks could not see (another write at the same moment, a rule on
        # expressions): named for the list, never a server error.
        raise InvalidRecord({relation: [_integrity_message(exc)]}) from exc
    return _pruned(errors)


@dataclass
class _PendingList:
    """A list of rows to create under `parent`'s `relation`; errors go into `errors`."""

    parent: models.Model
    relation: str
    rows: list[dict]
    errors: dict


@dataclass
class _PendingRow:
    part: models.Model
    parent_field: str  # the key to the record or row it is a part of
    index: int
    nested: dict
    errors: dict  # its list's
    failed: set = field(default_factory=set)  # fields with an error already

    def refuse(self, problems: dict) -> None:
        slot = self.errors.setdefault(str(self.index), {})
        for name, messages in problems.items():
            slot.setdefault(name, []).extend(messages)
            self.failed.add(name)


# Filled by save() or the database, never by the rows given: not checked for uniqueness.
_NOT_GIVEN = ("public_id", "slug", "search_key")


def _create_level(lists: list[_PendingList]) -> list[_PendingList]:
    """Validate and create the rows of `lists`, model by model; the lists of their parts."""
    by_model: dict = {}
    for pending in lists:
        manager = getattr(pending.parent, pending.relation)
        model, parent_field = manager.model, manager.field.name
        for index, row in enumerate(pending.rows):
            values, nested = _nested(model, row)
            part = model(**{parent_field: pending.parent}, **values)
            by_model.setdefault(model, []).append(
                _PendingRow(
                    part=part,
                    parent_field=parent_field,
                    index=index,
                    nested=nested,
                    errors=pending.errors,
                )
            )
    following = []
    for model, rows in by_model.items():
        _validate_rows(model, rows)
        valid = [row for row in rows if not row.failed]
        if _exclusions(model):
            valid = _write_excluding(model, valid)
        else:
            _write_rows(model, [row.part for row in valid])
        for row in valid:
            for name, part_rows in row.nested.items():
                slot = row.errors.setdefault(str(row.index), {}).setdefault(name, {})
                following.append(_PendingList(row.part, name, part_rows, slot))
    return following


def _validate_rows(model, rows: list[_PendingRow]) -> None:
    """Each row held to what `full_clean` checks, its errors kept on it: its fields and
    `clean()` one by one, in memory (a link given as a record is not fetched again); the
    model's constraints for all the rows together (see detainees/domain/constraints.py)."""
    prepare = getattr(model, "prepare_clean", None)
    if prepare is not None:
        prepare([row.part for row in rows])
    for row in rows:
        fetched = {
            f.name
            for f in model._meta.concrete_fields
            if f.is_relation and isinstance(getattr(row.part, f.name, None), models.Model)
        }
        try:
            row.part.full_clean(exclude=fetched, validate_unique=False, validate_constraints=False)
        except DjangoValidationError as exc:
            row.refuse(field_errors(exc, row.part))
    _check_constraints(model, rows)
    _check_uniques(model, rows)


def _constraint_fields(model, constraint) -> set[str]:
    """The fields `constraint` reads: a row with an error on one of them is not held to it
    (as `full_clean` leaves out the constraints on fields already in error)."""
    names = set(getattr(constraint, "fields", ()) or ())
    condition = getattr(constraint, "condition", None)
    if condition is not None:
        names.update(_referenced(condition))
    fields = set()
    for name in names:
        try:
            fields.add(model._meta.get_field(name.split("__")[0]).name)
        except FieldDoesNotExist:
            fields.add(name.split("__")[0].removesuffix("_id"))
    return fields


def _referenced(expression) -> set[str]:
    """The field names a condition (a Q, a lookup, a function) refers to."""
    names = set()
    for child in getattr(expression, "children", ()):
        if isinstance(child, tuple):
            names.add(child[0].split("__")[0])
            if isinstance(child[1], F):
                names.add(child[1].name)
        else:
            names |= _referenced(child)
    if isinstance(expression, F):
        names.add(expression.name)
    for source in getattr(expression, "get_source_expressions", lambda: [])():
        if source is not None:
            names |= _referenced(source)
    return names


def _check_constraints(model, rows: list[_PendingRow]) -> None:
    """The model's CHECK constraints on every row: in memory where Python can read the
    condition, else in one query for all the rows."""
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.CheckConstraint):
            continue
        reads = _constraint_fields(model, constraint)
        judged = [row for row in rows if not (row.failed & reads)]
        results = []
        try:
            results = [holds(constraint.condition, row_state(row.part)) for row in judged]
        except Unknown:
            parts = [row.part for row in judged]
            results = holds_in_database(constraint.condition, parts) if parts else []
        for row, result in zip(judged, results, strict=True):
            if result is False:
                message = DjangoValidationError(constraint.get_violation_error_message())
                row.refuse(field_errors(message, row.part))


@dataclass
class _UniqueRule:
    fields: tuple
    columns: list
    condition: object
    nulls_distinct: bool
    message: str
    applies: set = field(default_factory=set)  # the rows (by id) its condition covers
    held: set = field(default_factory=set)  # the keys rows written before hold
    across: list = field(default_factory=list)  # (row, key) to compare with the table


def _check_uniques(model, rows: list[_PendingRow]) -> None:
    """The model's unique rules, row after row in the order given: a row repeating the values
    of an earlier row that is written is refused, as it was when each row was written in
    turn. A rule without the parent's key also holds against the rows stored (the old rows of
    the list are deleted first, so a rule with it holds among the new ones only): one query a
    rule."""
    rules = []
    for fields, condition, nulls_distinct, _name, message in unique_rules(model, _NOT_GIVEN):
        rule = _UniqueRule(
            fields=fields,
            columns=[model._meta.get_field(f).attname for f in fields],
            condition=condition,
            nulls_distinct=nulls_distinct,
            message=str(message),
        )
        covered = [row for row in rows if not (row.failed & set(fields))]
        if condition is not None and covered:
            try:
                applies = [holds(condition, row_state(row.part)) for row in covered]
            except Unknown:
                applies = holds_in_database(condition, [row.part for row in covered])
            covered = [row for row, yes in zip(covered, applies, strict=True) if yes]
        rule.applies = {id(row) for row in covered}
        rules.append(rule)
    for row in rows:
        keys = []
        for rule in rules:
            if id(row) not in rule.applies or row.failed & set(rule.fields):
                continue
            key = tuple(comparable(getattr(row.part, c)) for c in rule.columns)
            if rule.nulls_distinct and None in key:
                continue
            if key in rule.held:
                row.refuse(_unique_error(row.part, rule.message))
            else:
                keys.append((rule, key))
        if not row.failed:
            for rule, key in keys:
                rule.held.add(key)
                if row.parent_field not in rule.fields:
                    rule.across.append((row, key))
    for rule in rules:
        if rule.across:
            keys = [key for _row, key in rule.across]
            stored = _stored_keys(model, rule.columns, rule.condition, keys)
            for row, key in rule.across:
                if key in stored:
                    row.refuse(_unique_error(row.part, rule.message))


def _unique_error(part, message: str) -> dict:
    """A unique rule's refusal, under the field it concerns (see `field_errors`)."""
    return field_errors(DjangoValidationError(message), part)


def _stored_keys(model, columns: list[str], condition, keys: list[tuple]) -> set[tuple]:
    """Which of `keys` (values of `columns`) rows stored already hold, in one query."""
    wanted = Q()
    for key in keys:
        wanted |= Q(
            **{
                (c if v is not None else f"{c}__isnull"): (v if v is not None else True)
                for c, v in zip(columns, key, strict=True)
            }
        )
    query = model._default_manager.filter(wanted)
    if condition is not None:
        query = query.filter(condition)
    return {tuple(comparable(v) for v in values) for values in query.values_list(*columns)}


# Parts whose save() sets no more than a name's search key, which `_write_rows` sets itself.
_SEARCH_KEYED = (PersonName, OtherName)


def _write_rows(model, parts: list) -> None:
    """Insert `parts` in one statement (PostgreSQL gives back their keys, so their own parts
    can point at them); a part whose save() does more than set a search key is saved alone."""
    if not parts:
        return
    if issubclass(model, _SEARCH_KEYED):
        for part in parts:
            fill_search_key(part)
    elif model.save is not models.Model.save:
        for part in parts:
            part.save()
        return
    model._default_manager.bulk_create(parts)


def _exclusions(model) -> dict:
    """The model's exclusion constraints (no two rows overlapping), by name."""
    return {c.name: c for c in model._meta.constraints if isinstance(c, ExclusionConstraint)}


def _write_excluding(model, rows: list[_PendingRow]) -> list[_PendingRow]:
    """Insert `rows` one by one, each in a savepoint, so that a row overlapping one written
    before it (a rule only the database can judge among rows not yet stored) is refused at its
    own position; the rows written. Such lists are short: a facility's periods of control."""
    exclusions = _exclusions(model)
    written = []
    for row in rows:
        try:
            with transaction.atomic():
                _write_rows(model, [row.part])
        except IntegrityError as exc:
            name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
            if name not in exclusions:
                raise
            row.part.pk = None
            message = DjangoValidationError(exclusions[name].get_violation_error_message())
            row.refuse(field_errors(message, row.part))
            continue
        written.append(row)
    return written


def _integrity_message(exc: IntegrityError) -> str:
    """The rule a refused insert broke, in the model's words when the database names it."""
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if name:
        for model in apps.get_app_config("detainees").get_models():
            for constraint in model._meta.constraints:
                if constraint.name == name:
                    return str(constraint.get_violation_error_message())
    return str(exc).splitlines()[0]


def _pruned(errors: dict) -> dict:
    """`errors` without the empty slots left for rows whose parts were all valid."""
    pruned = {}
    for key, value in errors.items():
        if isinstance(value, dict):
            value = _pruned(value)
        if value:
            pruned[key] = value
    return pruned


def _new_rows(record, relation: str, rows: list[dict]) -> bool:
    """Whether `rows` differ from the rows `record` holds in `relation` (values and order,
    their own parts included). The stored rows and their parts are read in one query a
    level, however many there are."""
    if record.pk is None:
        return True
    manager = getattr(record, relation)
    stored = list(
        manager.all().order_by("pk").prefetch_related(*_stored_parts(manager.model, rows))
    )
    return _differ(stored, rows)


def _stored_parts(model, rows: list[dict]) -> list[models.Prefetch]:
    """Prefetches, in the order entered, of the parts `rows` carry lists of, and of theirs."""
    lists: dict = {}
    for row in rows:
        if isinstance(row, dict):
            for name, value in _nested(model, row)[1].items():
                lists.setdefault(name, []).extend(value)
    prefetches = []
    for name, part_rows in lists.items():
        part_model = model._meta.get_field(name).related_model
        queryset = part_model._default_manager.order_by("pk")
        queryset = queryset.prefetch_related(*_stored_parts(part_model, part_rows))
        prefetches.append(models.Prefetch(name, queryset=queryset))
    return prefetches


def _differ(stored: list, rows: list[dict]) -> bool:
    if len(stored) != len(rows):
        return True
    for old, row in zip(stored, rows, strict=True):
        values, nested = _nested(type(old), row)
        if any(_stored(old, name, value) != value for name, value in values.items()):
            return True
        for name, part_rows in nested.items():
            if _differ(list(getattr(old, name).all()), part_rows):
                return True
    return False


def _stored(row, name: str, value):
    """`row`'s value of `name`, a linked record compared by its key (no query for it)."""
    if isinstance(value, models.Model):
        return value if getattr(row, f"{name}_id") == value.pk else None
    return getattr(row, name)


def delete_record(*, record, by, reason: str = "") -> None:
    """Delete a record or a row of one for good (a public record's tombstone is left by the
    database); refused unless `by` may."""
    delete_rows(rows=[record], by=by, reason=reason)


@transaction.atomic
def delete_rows(*, rows, by, reason: str = "") -> None:
    """Delete every row of `rows` (a list or a queryset), all or none: refused, deleting
    nothing, if `by` may not delete any one of them."""
    for row in rows:
        refused = permissions.refusal(by, permissions.DELETE, row)
        if refused:
            raise RoleNotAllowed(refused)
    with acting(by, reason):
        if isinstance(rows, models.QuerySet):
            rows.delete()
        else:
            for row in rows:
                row.delete()


@transaction.atomic
def save_row(
    *,
    row,
    by,
    stored_status: str | None = None,
    stored_confidential: bool | None = None,
    exclude=(),
    correction_note: str = "",
    reason: str = "",
):
    """Save `row` (a record or a row of one, new or not) as a form has set it: checked against
    `by`'s role, validated, written, with its correction, in one transaction.

    A form sets its values on the row before it is saved, so what the rules compare against is
    given: `stored_status` and `stored_confidential`, the state and confidentiality the row had.
    `exclude` are fields the caller did not offer (as `full_clean` takes them).
    """
    with acting(by, reason):
        return _save_row(
            row=row,
            by=by,
            stored_status=stored_status,
            stored_confidential=stored_confidential,
            exclude=exclude,
            correction_note=correction_note,
        )


def _save_row(*, row, by, stored_status, stored_confidential, exclude, correction_note):
    action = permissions.ADD if row.pk is None else permissions.CHANGE
    refused = permissions.refusal(by, action, row, values={})
    if refused:
        raise RoleNotAllowed(refused)
    if isinstance(row, Publishable):
        old = stored_status if row.pk is not None else None
        stored = copy.copy(row)  # the rules read the state it was in, not the one it is given
        stored.status = old or DRAFT
        check_edit(user=by, record=stored, old_status=old)
        check_transition(user=by, record=row, old=old, new=row.status)
    if hasattr(row, "is_confidential") and row.pk is not None and stored_confidential is not None:
        stored = copy.copy(row)  # the rule compares the stored value with the one given
        stored.is_confidential = stored_confidential
        refused = permissions.confidential_refusal(by, stored, row.is_confidential)
        if refused:
            raise RoleNotAllowed(refused)
    try:
        row.full_clean(exclude=exclude)
    except DjangoValidationError as exc:
        raise InvalidRecord(field_errors(exc)) from exc
    row.save()
    if correction_note:
        record_correction(record=row, note=correction_note, by=by)
    return row


def relate_people(
    *, person: Person, other: Person, kind: str, by, reason: str = "", **values
) -> Relationship:
    """Record that `person` is `kind` of `other` ("parent" of the child), once for both pages:
    checked against `by`'s role on both people, validated (nobody related to themselves, no
    link twice, nor again from the other side), written with its history. `values` are the
    relationship's other fields (start, end, claim_status, note, internal_notes). Raises
    `InvalidRecord` or `RoleNotAllowed`, writing nothing."""
    tie = Relationship(person=person, other=other, kind=kind, **values)
    return save_row(row=tie, by=by, reason=reason)


# --- Changes of state: the verbs the admin's actions call ---------------------------------------


def change_status(*, record: Publishable, status: str, by, withdrawal_reason: str = "", reason=""):
    """Move `record` to `status`, as `by`; `withdrawal_reason` is the public reason a
    withdrawal needs. Raises TrackerError (InvalidRecord, RoleNotAllowed...) writing nothing."""
    values = {"status": status}
    if status == WITHDRAWN:
        values["withdrawal_reason"] = withdrawal_reason.strip()
    return save_record(record=record, values=values, by=by, reason=reason)


def publish_record(*, record: Publishable, by, reason: str = "") -> Publishable:
    """Publish `record` (from review, a draft, or withdrawn); editors only."""
    return change_status(record=record, status=PUBLISHED, by=by, reason=reason)


def send_to_review(*, record: Publishable, by, reason: str = "") -> Publishable:
    """Ask an editor to review a draft."""
    return change_status(record=record, status=IN_REVIEW, by=by, reason=reason)


def return_to_draft(*, record: Publishable, by, reason: str = "") -> Publishable:
    """Take a record in review (or, for an editor, a withdrawn one) back to draft."""
    return change_status(record=record, status=DRAFT, by=by, reason=reason)


def withdraw_record(*, record: Publishable, by, withdrawal_reason: str, reason: str = ""):
    """Withdraw a published record, saying publicly why; editors only."""
    return change_status(
        record=record, status=WITHDRAWN, by=by, withdrawal_reason=withdrawal_reason, reason=reason
    )


# --- Bulk create-or-update by a natural key ----------------------------------------------------


@dataclass
class Upserted:
    """What `upsert_rows` did: key -> row for every wanted key, and how many of each outcome."""

    rows: dict
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_fields: set[str] = field(default_factory=set)


def upsert_rows(model, *, existing: dict, wanted: dict, batch_size: int = 500) -> Upserted:
    """Create the rows of `wanted` (key -> field values) missing from `existing` (key -> row),
    update those whose values differ, leave the rest: one bulk insert and one bulk update.

    For an importer that builds every value itself from a file checked beforehand (the ISAF
    press releases): no row's `save()` or `full_clean()` runs, so `updated` is set here. The
    audit history still records every row, from the database's triggers.
    """
    result = Upserted(rows={})
    new, changed_rows = [], []
    for key, values in wanted.items():
        obj = existing.get(key)
        if obj is None:
            obj = model(**values)
            new.append(obj)
        else:
            diff = [f for f, v in values.items() if getattr(obj, f) != v]
            if diff:
                for f in diff:
                    setattr(obj, f, values[f])
                changed_rows.append(obj)
                result.changed_fields.update(diff)
            else:
                result.unchanged += 1
        result.rows[key] = obj
    if new:
        model.objects.bulk_create(new, batch_size=batch_size)
        result.created = len(new)
    if changed_rows:
        fields = sorted(result.changed_fields)
        if any(f.name == "updated" for f in model._meta.fields):
            fields.append("updated")
            now = model._meta.get_field("updated").pre_save
            for obj in changed_rows:
                now(obj, add=False)
        model.objects.bulk_update(changed_rows, fields, batch_size=batch_size)
        result.updated = len(changed_rows)
    return result
