"""Writes that span several records, each in one transaction, each taking who did it and why."""

from collections import Counter
from dataclasses import dataclass, field

from django.db import models, transaction

from detainees.history import acting
from detainees.models import Person, PersonName, PersonRedirect, PublicationStatus


class TrackerError(Exception):
    """A write the record's rules refuse; the message is meant for the person who asked."""


class MergeError(TrackerError):
    pass


# Person fields a merge fills on the survivor when the survivor has them blank. Fields both
# people have, with different values, are conflicting claims: the editor settles them first.
_PERSON_FILLED = ("gender", "birth", "biography")
_PERSON_BLANK = {"gender": Person.Gender.UNKNOWN}


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
    plan.collapsed[label] += 1
    old.delete()


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
        else:
            verbose = Person._meta.get_field(name).verbose_name
            plan.conflicts.append(
                f"Person: {verbose} is “{mine}” on one and “{theirs}” on the other."
            )
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


def _plan(survivor: Person, removed: Person) -> MergePlan:
    if survivor.pk == removed.pk:
        raise MergeError("A person cannot be merged into themselves.")
    plan = MergePlan(survivor=survivor, removed=removed)
    _demote_names(survivor, removed)
    _merge_person_fields(plan)
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
