"""Write shapes and the write half of the record endpoints: create, edit, withdraw, delete.

Writes need a token (or an admin session) whose user's groups hold the permission (see
detainees/domain/roles.py); the rules on publication state and corrections are applied by
`detainees.write.services`, the same functions the admin calls. Edits and deletes are conditional:
`If-Match` must carry the ETag a GET of the record gave (428 without it, 412 when stale), and
the record is locked while it is compared and written, so of two clients holding one ETag
exactly one succeeds.
"""

import re
import uuid

from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import (
    APIException,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.validators import UniqueValidator

from detainees.api import schema
from detainees.api.conditional import (
    ETAG_LIST,
    PreconditionFailed,
    json_etag,
    require_match,
)
from detainees.domain import permissions
from detainees.domain.decimals import rounded
from detainees.domain.fuzzydates import (
    AS_WRITTEN,
    FuzzyDate,
    FuzzyDateError,
    as_written,
    to_edtf,
)
from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    Event,
    EventOrganization,
    EventPerson,
    ExternalId,
    Facility,
    FacilityControl,
    FacilityName,
    Nationality,
    Organization,
    OrganizationName,
    Person,
    PersonName,
    PersonRedirect,
    Place,
    PublicationStatus,
    Relationship,
    ReleaseBatch,
    Source,
)
from detainees.domain.models.people import names_problem
from detainees.write import services

# The longest list a write may carry of each kind of part, checked before any part is validated
# (each costs time): generous for real records (Qari Bilal has 4 names; a release by decree
# may name a few hundred people), small enough that one request cannot hold a worker for long.
LIMITS = {
    "names": 100,
    "nationalities": 10,
    "people": 1000,
    "organizations": 50,
    "citations": 100,
    # A facility changes hands a few times; a list of its periods is short.
    "controls": 100,
}


# --- Fields -------------------------------------------------------------------------------------


@extend_schema_field(schema.string("The linked record's id (its public UUID).", format="uuid"))
class RecordRef(serializers.RelatedField):
    """A link written as the other record's public id; any state, as editors link drafts."""

    default_error_messages = {
        "invalid": "Not a record id: give the record's UUID.",
        "does_not_exist": "No {model} has the id {value}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, dict):
            # The link as a GET gives it ({"id", "name", "url"}): its id says which record.
            data = data.get("id")
        public_id = self.parse(data)
        if public_id is None:
            self.fail("invalid")
        found = self.context.get(LINKED, {}).get(self.cache_key())
        if found is not None:
            record = found.get(public_id)
        else:
            record = self.get_queryset().filter(public_id=public_id).first()
        if record is None:
            self.fail("does_not_exist", model=self.queryset.model._meta.verbose_name, value=data)
        return record

    @staticmethod
    def parse(data) -> uuid.UUID | None:
        """The UUID `data` (or the link object a GET gives) names; None if it is not one."""
        if isinstance(data, dict):
            data = data.get("id")
        try:
            return uuid.UUID(str(data))
        except (TypeError, ValueError, AttributeError):
            return None

    def cache_key(self) -> tuple:
        """Which records this field may link to: fields of one model and one queryset share
        what `fetch_links` read."""
        if not hasattr(self, "_cache_key"):
            self._cache_key = (self.queryset.model, str(self.queryset.query))
        return self._cache_key

    def to_representation(self, value):
        return str(value.public_id)


# Where the records a write's links name are kept, in its serializer's context.
LINKED = "linked_records"


def fetch_links(serializer, data) -> dict:
    """The records every link of `data` names (the record's own and its parts' rows, at any
    depth), read in one query per kind of record, keyed as `RecordRef.cache_key` says; so a
    list of a thousand people costs one query, not a thousand. A link naming no record is
    refused by its own field, at its position."""
    wanted: dict = {}
    _collect_links(serializer, data, wanted)
    return {
        key: {r.public_id: r for r in queryset.filter(public_id__in=ids)}
        for key, (queryset, ids) in wanted.items()
    }


def _collect_links(serializer, data, wanted: dict) -> None:
    if not isinstance(data, dict):
        return
    fields = serializer.fields
    aliases = getattr(serializer, "aliases", {})
    for key, value in data.items():
        field = fields.get(key) or fields.get(aliases.get(key, key))
        if isinstance(field, RecordRef):
            public_id = RecordRef.parse(value)
            if public_id is not None:
                entry = wanted.setdefault(field.cache_key(), (field.get_queryset(), set()))
                entry[1].add(public_id)
        elif isinstance(field, serializers.ListSerializer) and isinstance(value, list):
            for item in value:
                _collect_links(field.child, item, wanted)


@extend_schema_field(
    schema.string(
        "A date as precise as the sources allow: EDTF (`2011-04-20`, `2011`, `2010~`, "
        "`2013-03/2014-10`) or words (`spring 2011`, `sometime in 2010`); empty when unknown. "
        "Stored and answered as EDTF; words are also kept as written (`as_written` in the "
        "public API). The object a GET gives for a date is accepted too (its `edtf`, and its "
        "`as_written` if given).",
        maxLength=100,
    )
)
class FuzzyDateInput(serializers.CharField):
    """A date as a string, or as the object a GET gives (`{"edtf", "earliest", "latest", "text",
    "as_written"}`): its `edtf` is the date and its `as_written` the words kept beside it;
    `earliest` and `latest`, when given, must be the bounds of that `edtf`."""

    DATE_KEYS = frozenset({"edtf", "earliest", "latest", "text", "as_written"})

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            return self.from_object(data)
        text = super().to_internal_value(data)
        if not text.strip():
            return ""
        try:
            return to_edtf(text)
        except FuzzyDateError as exc:
            raise ValidationError(str(exc)) from exc

    def from_object(self, data: dict) -> str:
        unknown = sorted(set(data) - self.DATE_KEYS)
        if unknown:
            raise ValidationError(f"Not a key of a date: {', '.join(map(str, unknown))[:200]}.")
        for key, value in data.items():
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"`{key}` is a string or null.")
        edtf = super().to_internal_value(data.get("edtf") or "").strip()
        try:
            date = FuzzyDate.from_edtf(edtf)
        except FuzzyDateError as exc:
            raise ValidationError(f"`edtf`: {exc}") from exc
        for key in ("earliest", "latest"):
            bound = getattr(date, key)
            if key in data and (data[key] or None) != (bound.isoformat() if bound else None):
                raise ValidationError(
                    f"`{key}` is {data[key] or 'null'}, but `edtf` {edtf!r} gives "
                    f"{bound.isoformat() if bound else 'null'}: send the date once, as `edtf`."
                )
        return date.edtf

    @staticmethod
    def written(data) -> str:
        """The text the date was written as: the string sent, or the object's `as_written`."""
        if isinstance(data, dict):
            return data.get("as_written") or ""
        return data


class RoundedDecimalField(serializers.DecimalField):
    """A decimal rounded (half to even) to the places its column keeps, rather than refused for
    having more (a register's 34.9461234 is stored as 34.94612); out of range is a 400."""

    def validate_precision(self, value):
        if self.decimal_places is not None:
            value = rounded(value, self.decimal_places)
        # The range here, not only in the validators: it bounds the digits, so the field's
        # quantize() that follows can never overflow.
        if self.max_value is not None and value > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        if self.min_value is not None and value < self.min_value:
            self.fail("min_value", min_value=self.min_value)
        return value


# Text fields that take text only (DRF's own would turn a number into its digits).
STRICT_TEXT = (serializers.CharField, serializers.URLField, serializers.EmailField)


class StrictSerializerMixin:
    """Rejects fields it does not know and fields that may not be written, naming each one.

    A coded field that may be left empty (a release's kind, an organization's country) takes
    `null` for "none", never `""`: an empty string is not one of its codes, so it is refused with
    a 400 naming the field, and the schema's enum lists only real codes.
    """

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.ChoiceField) and field.allow_blank:
                field.allow_blank = False
                field.allow_null = True
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name, field in self.fields.items():
            if isinstance(field, serializers.ChoiceField) and field.allow_null:
                if data.get(name) == "":
                    data[name] = None  # as it is written: null for none
        return data

    # A part's keys as a GET gives them that name another of its fields (an event's person is
    # `id` there, `person` here), and keys that only describe a link (its `name`), not read.
    aliases: dict[str, str] = {}
    described: tuple[str, ...] = ()

    def from_rendering(self, data):
        """`data` without what it repeats unchanged of the record as a GET renders it (the
        view's `rendered`), so that the body of a GET can be sent back: a read-only or computed
        field equal to its rendering is left out, a different one is an error naming it."""
        rendered = self.context.get("rendered")
        if rendered is None or self.parent is not None or not isinstance(data, dict):
            return data, {}
        data, errors = dict(data), {}
        for name, value in list(data.items()):
            field = self.fields.get(name)
            writable = field is not None and not field.read_only
            if name in rendered and value == rendered[name]:
                if not (writable and field.required):
                    del data[name]  # unchanged
            elif not writable and name in rendered:
                errors[name] = [
                    "Read-only: set by the tracker, not by clients; send it unchanged or leave "
                    "it out."
                ]
            elif isinstance(field, serializers.ListSerializer) and isinstance(value, list):
                if self.hides_rows(name, rendered):
                    errors[name] = [
                        "The record holds rows of this list its GET does not show (links to "
                        "drafts or confidential sources), which a new list would delete: send "
                        "the whole list as a write's answer gives it, or leave it out."
                    ]
                    continue
                items, item_errors = field.child.items_from_rendering(value, rendered.get(name))
                data[name] = items
                if item_errors:
                    errors[name] = item_errors
        return data, errors

    def hides_rows(self, name: str, rendered: dict) -> bool:
        """Whether the GET shows fewer of the part `name`'s rows than the record holds."""
        shown = rendered.get(name)
        if self.instance is None or name not in getattr(self, "parts", ()):
            return False
        if not isinstance(shown, list):
            return False
        rows = getattr(self.instance, name)
        if rows.count() > len(shown):
            return True
        # A row's own parts (a name's citations) may be hidden as well.
        child = self.fields[name].child
        for part, field in child.fields.items():
            if isinstance(field, serializers.ListSerializer):
                model = field.child.Meta.model
                parent = rows.model._meta.get_field(part).field.name
                stored = model.objects.filter(**{f"{parent}__in": rows.all()}).count()
                if stored > sum(len(row.get(part) or ()) for row in shown if isinstance(row, dict)):
                    return True
        return False

    def items_from_rendering(self, items, rendered):
        """A part's rows, their keys as a GET renders them read as written (see `aliases`);
        a read-only key of a row must be as the GET gave it at that position."""
        rendered = rendered if isinstance(rendered, list) else []
        rows, errors = [], {}
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                rows.append(item)
                continue
            row = dict(item)
            for alias, name in self.aliases.items():
                if alias in row and name not in row:
                    row[name] = row.pop(alias)
            for key in self.described:
                row.pop(key, None)
            shown = rendered[index] if index < len(rendered) else {}
            for key in [k for k in row if k not in self.fields]:
                if isinstance(shown, dict) and key in shown and row[key] == shown[key]:
                    del row[key]  # shown by the GET, unchanged
                elif isinstance(shown, dict) and key in shown:
                    errors[str(index)] = {
                        key: ["Read-only: send it as the GET gave it, or leave it out."]
                    }
            rows.append(row)
        return rows, errors

    def to_internal_value(self, data):
        data, errors = self.from_rendering(data)
        too_long = {}
        if isinstance(data, dict):
            for name in data:
                field = self.fields.get(name)
                if field is None:
                    errors[name] = ["Unknown field."]
                elif field.read_only:
                    errors[name] = ["Read-only: set by the tracker, not by clients."]
                elif (
                    type(field) in STRICT_TEXT
                    and data[name] is not None
                    and not isinstance(data[name], str)
                ):
                    # DRF would take 12 for "12"; a number or a list is a mistake to name.
                    errors[name] = ["Not a valid string."]
                elif (
                    isinstance(field, serializers.ListSerializer)
                    and field.max_length is not None
                    and isinstance(data[name], list)
                    and len(data[name]) > field.max_length
                ):
                    # Before any item is validated (each costs time), under the list's name.
                    too_long[name] = [f"At most {field.max_length} items; {len(data[name])} sent."]
            if too_long:
                raise ValidationError({**errors, **too_long})
            if self.parent is None:
                # Every record the body links to, read once for all its rows (see RecordRef).
                self.context[LINKED] = fetch_links(self, data)
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if not errors or not isinstance(exc.detail, dict):
                raise
            for name, problem in errors.items():
                # Both the row's read-only key and its other fields' problems, by position.
                if isinstance(problem, dict) and isinstance(exc.detail.get(name), list):
                    errors[name] = {
                        **{str(i): e for i, e in enumerate(exc.detail[name]) if e},
                        **problem,
                    }
            raise ValidationError({**exc.detail, **errors}) from exc
        if errors:
            raise ValidationError(errors)
        for name, field in self.fields.items():
            if isinstance(field, serializers.ChoiceField) and field.allow_null:
                if name in value and value[name] is None:
                    value[name] = ""  # stored as the model's "none"
            if isinstance(field, FuzzyDateInput) and name in value:
                # The words sent ("sometime in 2010") are kept beside the EDTF made of them.
                value[f"{name}{AS_WRITTEN}"] = as_written(field.written(data[name]), value[name])
        return value


class PartSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """A row that belongs to the record (a name, a link); its record is set by the write."""

    def get_validators(self):
        return []  # checked by full_clean() with the record set, in services.save_record


class RecordWriteSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    """What every record's write shape shares: its ids, state, private notes and timestamps."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: RoundedDecimalField,
    }

    id = serializers.UUIDField(source="public_id", read_only=True)
    status = serializers.ChoiceField(
        choices=PublicationStatus.choices,
        required=False,
        help_text=(
            "Publication state; new records start as `draft`. Researchers move drafts to "
            "`in_review` and back; editors publish and withdraw."
        ),
    )
    correction_note = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text=(
            "Editors editing a published record: when the change corrects an error, say so "
            "here; the note is published with today's date on the record's page."
        ),
    )

    def get_validators(self):
        # The model's own rules (constraints, unique names) are checked by full_clean() in
        # services.save_record, on the record as it will be saved; DRF's copies of them would
        # demand every field of a constraint even when the model lets it be empty.
        return []

    def get_fields(self):
        # Likewise a field's unique rule: services.save_record refuses a duplicate naming the
        # record that exists (a 409), which DRF's UniqueValidator cannot.
        fields = super().get_fields()
        for field in fields.values():
            field.validators = [v for v in field.validators if not isinstance(v, UniqueValidator)]
        return fields

    # Reverse relations written as whole lists (see services.save_record).
    parts: tuple[str, ...] = ()
    record_fields = ("id", "status", "withdrawal_reason", "internal_notes", "correction_note")
    audit_fields = ("created", "updated")

    def split(self) -> tuple[dict, dict, str]:
        """The validated data as the record's own values, its parts and the correction note."""
        data = dict(self.validated_data)
        note = data.pop("correction_note", "").strip()
        parts = {name: data.pop(name) for name in self.parts if name in data}
        return data, parts, note


# --- Shapes -------------------------------------------------------------------------------------


class CitationWrite(PartSerializer):
    """The source that says it: any source, drafts and confidential ones included."""

    source = RecordRef(queryset=Source.objects.all())

    class Meta:
        model = Citation
        # `internal_notes` is private: answered to the staff who write, never in public reads.
        # A list of citations is replaced whole, so a row sent without it has none.
        fields = (
            "source",
            "aspect",
            "quote",
            "locator",
            "attribution",
            "accessed_on",
            "internal_notes",
        )


class PersonNameWrite(PartSerializer):
    citations = CitationWrite(many=True, required=False, max_length=LIMITS["citations"])

    class Meta:
        model = PersonName
        fields = (
            "name",
            "given",
            "family",
            "kind",
            "is_primary",
            "language",
            "claim_status",
            "citations",
        )


class NationalityWrite(PartSerializer):
    country = CountryField()
    citations = CitationWrite(many=True, required=False, max_length=LIMITS["citations"])

    class Meta:
        model = Nationality
        fields = ("country", "claim_status", "citations")


class PersonWriteSerializer(RecordWriteSerializer):
    """A person with their names and nationalities."""

    birth = FuzzyDateInput()
    birthplace = RecordRef(queryset=Place.objects.all(), allow_null=True, required=False)
    withheld = serializers.ListField(
        child=serializers.ChoiceField(choices=Person.Withheld.choices),
        required=False,
        max_length=len(Person.Withheld),
        help_text="What the source withholds rather than does not know: "
        + ", ".join(f"`{v}`" for v in Person.Withheld.values)
        + ".",
    )
    names = PersonNameWrite(many=True, required=False, max_length=LIMITS["names"])
    nationalities = NationalityWrite(many=True, required=False, max_length=LIMITS["nationalities"])
    citations = CitationWrite(
        many=True,
        required=False,
        max_length=LIMITS["citations"],
        help_text="Sources of the person as a whole (identity, biography, birth).",
    )
    parts = ("names", "nationalities", "citations")

    class Meta:
        model = Person
        fields = (
            *RecordWriteSerializer.record_fields,
            "slug",
            "gender",
            "birth",
            "birthplace",
            "withheld",
            "biography",
            "is_placeholder",
            "fate",
            "fate_claim_status",
            "names",
            "nationalities",
            "citations",
            *RecordWriteSerializer.audit_fields,
        )
        read_only_fields = ("slug",)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        person = self.instance
        placeholder = attrs.get("is_placeholder", person.is_placeholder if person else False)
        withheld = attrs.get("withheld", person.withheld if person else [])
        placeholder = placeholder or Person.Withheld.NAME in withheld
        if "names" in attrs:
            primaries = [bool(n.get("is_primary")) for n in attrs["names"]]
        elif person is None:
            primaries = []
        elif (person.is_placeholder or Person.Withheld.NAME in person.withheld) and not placeholder:
            primaries = [n.is_primary for n in person.names.all()]
        else:
            return attrs  # names unchanged, and no less allowed than before
        problem = names_problem(primaries, is_placeholder=placeholder)
        if problem:
            raise ValidationError({"names": [problem]})
        return attrs

    def validate_names(self, names):
        # Checked here too, so the problem is reported beside other fields' problems (DRF
        # runs `validate` only once every field is valid).
        if names and (
            problem := names_problem(
                [bool(n.get("is_primary")) for n in names], is_placeholder=True
            )
        ):
            raise ValidationError(problem)
        repeated = repeats(
            names,
            lambda n: (n["name"], n.get("kind", PersonName.Kind.COMMON)),
            "name",
            lambda n, first: (
                f"The name {n['name']!r} is given twice with one kind (first at {first})."
            ),
        )
        if repeated:
            raise ValidationError(repeated)
        return names

    def validate_withheld(self, withheld):
        return [value for value in Person.Withheld.values if value in withheld]

    def validate_nationalities(self, nationalities):
        countries = [str(n["country"]) for n in nationalities]
        if len(set(countries)) != len(countries):
            raise ValidationError("Each country only once.")
        return nationalities

    # Lists a person's GET shows that are records of their own, each written at its endpoint.
    written_elsewhere = {
        "affiliations": "/api/v1/affiliations/",
        "relationships": "/api/v1/relationships/",
    }

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except ValidationError as exc:
            if isinstance(exc.detail, dict):
                for name, endpoint in self.written_elsewhere.items():
                    if name in exc.detail:
                        exc.detail[name] = [
                            f"Read-only here: write each of a person's {name} at {endpoint} "
                            "(by the `id` the GET gives it); send this list unchanged or leave "
                            "it out."
                        ]
            raise


class EventPersonWrite(PartSerializer):
    person = RecordRef(queryset=Person.objects.all())
    aliases = {"id": "person"}
    described = ("name",)

    class Meta:
        model = EventPerson
        fields = ("person", "role", "capacity", "note", "age")


class EventOrganizationWrite(PartSerializer):
    organization = RecordRef(queryset=Organization.objects.all())
    aliases = {"id": "organization"}
    described = ("name",)

    class Meta:
        model = EventOrganization
        fields = ("organization", "role", "note")


class EventWriteSerializer(RecordWriteSerializer):
    """An event with the people and organizations taking part and its citations, in order."""

    date = FuzzyDateInput()
    end_date = FuzzyDateInput()
    place = RecordRef(queryset=Place.objects.all(), allow_null=True, required=False)
    facility = RecordRef(queryset=Facility.objects.all(), allow_null=True, required=False)
    from_facility = RecordRef(queryset=Facility.objects.all(), allow_null=True, required=False)
    batch = RecordRef(queryset=ReleaseBatch.objects.all(), allow_null=True, required=False)
    people = EventPersonWrite(many=True, required=False, max_length=LIMITS["people"])
    organizations = EventOrganizationWrite(
        many=True, required=False, max_length=LIMITS["organizations"]
    )
    citations = CitationWrite(many=True, required=False, max_length=LIMITS["citations"])
    parts = ("people", "organizations", "citations")

    class Meta:
        model = Event
        fields = (
            *RecordWriteSerializer.record_fields,
            "kind",
            "summary",
            "description",
            "date",
            "end_date",
            "order_hint",
            "place",
            "facility",
            "from_facility",
            "operation",
            "unnamed_count",
            "unnamed_description",
            "custody_end_reason",
            "release_kind",
            "death_circumstances",
            "batch",
            "reengagement",
            "role",
            "strength_estimate",
            "strength_note",
            "claim_status",
            "people",
            "organizations",
            "citations",
            *RecordWriteSerializer.audit_fields,
        )

    def validate_people(self, people):
        repeated = repeats(
            people,
            lambda p: (p["person"].pk, p.get("role", EventPerson.Role.SUBJECT)),
            "person",
            lambda p, first: f"A person is listed twice in the same role (first at {first}).",
        )
        if repeated:
            raise ValidationError(repeated)
        return people

    def validate_organizations(self, organizations):
        repeated = repeats(
            organizations,
            lambda o: (o["organization"].pk, o["role"]),
            "organization",
            lambda o, first: (
                f"An organization is listed twice in the same role (first at {first})."
            ),
        )
        if repeated:
            raise ValidationError(repeated)
        return organizations


class SourceWriteSerializer(RecordWriteSerializer):
    publisher = RecordRef(queryset=Organization.objects.all(), allow_null=True, required=False)
    published = FuzzyDateInput()

    class Meta:
        model = Source
        fields = (
            *RecordWriteSerializer.record_fields,
            "kind",
            "title",
            "publisher",
            "author",
            "url",
            "archived_url",
            "published",
            "language",
            "reference_number",
            "is_confidential",
            "summary",
            "full_text",
            "rights",
            *RecordWriteSerializer.audit_fields,
        )


def repeats(rows, key, field: str, message) -> dict:
    """The rows of a list that repeat an earlier row's `key`, by position as DRF gives a list's
    errors, each under `field` with `message(row, first position)`."""
    first, found = {}, {}
    for index, row in enumerate(rows):
        value = key(row)
        if value in first:
            found[str(index)] = {field: [message(row, first[value])]}
        else:
            first[value] = index
    return found


def names_once(names):
    """An organization's or a facility's other names, each given once."""
    texts = [n["name"] for n in names]
    if len(set(texts)) != len(texts):
        raise ValidationError("Each name only once.")
    return names


class OrganizationNameWrite(PartSerializer):
    class Meta:
        model = OrganizationName
        fields = ("name", "kind", "language")


class OrganizationWriteSerializer(RecordWriteSerializer):
    """An organization with its other names."""

    parent = RecordRef(queryset=Organization.objects.all(), allow_null=True, required=False)
    country = CountryField(allow_null=True, required=False)
    names = OrganizationNameWrite(many=True, required=False, max_length=LIMITS["names"])
    parts = ("names",)

    class Meta:
        model = Organization
        fields = (
            *RecordWriteSerializer.record_fields,
            "slug",
            "name",
            "abbreviation",
            "kind",
            "parent",
            "country",
            "description",
            "names",
            *RecordWriteSerializer.audit_fields,
        )
        read_only_fields = ("slug",)

    def validate_names(self, names):
        return names_once(names)


class PlaceWriteSerializer(RecordWriteSerializer):
    parent = RecordRef(queryset=Place.objects.all(), allow_null=True, required=False)
    country = CountryField(allow_null=True, required=False)

    class Meta:
        model = Place
        fields = (
            *RecordWriteSerializer.record_fields,
            "slug",
            "name",
            "kind",
            "parent",
            "country",
            "latitude",
            "longitude",
            *RecordWriteSerializer.audit_fields,
        )
        read_only_fields = ("slug",)


class FacilityNameWrite(PartSerializer):
    class Meta:
        model = FacilityName
        fields = ("name", "kind", "language")


class FacilityControlWrite(PartSerializer):
    """A period in which an organization controlled, operated or owned the facility."""

    controller = RecordRef(queryset=Organization.objects.all())
    start = FuzzyDateInput()
    end = FuzzyDateInput()
    citations = CitationWrite(many=True, required=False, max_length=LIMITS["citations"])

    class Meta:
        model = FacilityControl
        fields = ("role", "controller", "start", "end", "claim_status", "note", "citations")


class FacilityWriteSerializer(RecordWriteSerializer):
    """A facility with its other names and its periods of control; coordinates are rounded to
    five places (about 1 m)."""

    place = RecordRef(queryset=Place.objects.all(), allow_null=True, required=False)
    names = FacilityNameWrite(many=True, required=False, max_length=LIMITS["names"])
    controls = FacilityControlWrite(
        many=True,
        required=False,
        max_length=LIMITS["controls"],
        help_text="Who controlled, operated or owned it, and when. Two organizations certainly "
        "holding one role over the same days are refused, naming the later row.",
    )
    parts = ("names", "controls")

    class Meta:
        model = Facility
        fields = (
            *RecordWriteSerializer.record_fields,
            "slug",
            "name",
            "kind",
            "place",
            "latitude",
            "longitude",
            "description",
            "names",
            "controls",
            *RecordWriteSerializer.audit_fields,
        )
        read_only_fields = ("slug",)

    def validate_names(self, names):
        return names_once(names)


class AffiliationWriteSerializer(RecordWriteSerializer):
    """A person's tie to an organization, with its own publication state and its citations."""

    person = RecordRef(queryset=Person.objects.all())
    organization = RecordRef(queryset=Organization.objects.all())
    start = FuzzyDateInput()
    end = FuzzyDateInput()
    place = RecordRef(queryset=Place.objects.all(), allow_null=True, required=False)
    citations = CitationWrite(many=True, required=False, max_length=LIMITS["citations"])
    parts = ("citations",)

    class Meta:
        model = Affiliation
        fields = (
            *RecordWriteSerializer.record_fields,
            "person",
            "organization",
            "role",
            "start",
            "end",
            "place",
            "strength_estimate",
            "strength_note",
            "claim_status",
            "citations",
            *RecordWriteSerializer.audit_fields,
        )

    def get_fields(self):
        return links_kept_on_edit(self, super().get_fields(), ("person", "organization"))


class RelationshipWriteSerializer(RecordWriteSerializer):
    """A tie between two people, stored once and shown on both pages. It has no publication
    state of its own: it is public when both people are and it is not retracted, and it is
    content of both people's records (a published person's ties are the editors')."""

    status = None
    correction_note = None
    person = RecordRef(
        queryset=Person.objects.all(),
        help_text=str(Relationship._meta.get_field("person").help_text),
    )
    other = RecordRef(
        queryset=Person.objects.all(),
        help_text=str(Relationship._meta.get_field("other").help_text),
    )
    start = FuzzyDateInput()
    end = FuzzyDateInput()
    citations = CitationWrite(many=True, required=False, max_length=LIMITS["citations"])
    parts = ("citations",)

    class Meta:
        model = Relationship
        fields = (
            "id",
            "person",
            "other",
            "kind",
            "start",
            "end",
            "claim_status",
            "note",
            "internal_notes",
            "citations",
            *RecordWriteSerializer.audit_fields,
        )

    def get_fields(self):
        return links_kept_on_edit(self, super().get_fields(), ("person", "other"))

    def validate(self, attrs):
        attrs = super().validate(attrs)
        tie = self.instance
        person = attrs.get("person", tie.person if tie else None)
        other = attrs.get("other", tie.other if tie else None)
        if person is not None and person == other:
            # Also a database rule; said here so the answer names the field before any write.
            raise ValidationError({"other": ["A person cannot be related to themselves."]})
        return attrs


def links_kept_on_edit(serializer, fields: dict, names) -> dict:
    """`fields` with the links `names` required only to create: a GET shows a link to a
    record that is not public as null, so the body of a staff GET sent back holds null there,
    and null equal to the GET's is no change (a link sent is still checked, and null refused)."""
    if serializer.instance is not None:
        for name in names:
            fields[name].required = False
    return fields


class BatchMembershipWrite(PartSerializer):
    """A person named in the batch's decision: released in it, not released, or unknown."""

    person = RecordRef(queryset=Person.objects.all())
    citations = CitationWrite(many=True, required=False, max_length=LIMITS["citations"])

    class Meta:
        model = BatchMembership
        fields = ("person", "inclusion", "note", "claim_status", "citations")


class ReleaseBatchWriteSerializer(RecordWriteSerializer):
    """A release batch with the people its decision names and the sources of the decision."""

    date = FuzzyDateInput()
    ordered_by = RecordRef(queryset=Organization.objects.all(), allow_null=True, required=False)
    carried_out_by = RecordRef(queryset=Organization.objects.all(), allow_null=True, required=False)
    memberships = BatchMembershipWrite(
        many=True,
        required=False,
        max_length=LIMITS["people"],
        help_text="The people the decision names, each once.",
    )
    citations = CitationWrite(
        many=True,
        required=False,
        max_length=LIMITS["citations"],
        help_text="Sources of the decision itself (its date, who ordered it, its totals).",
    )
    parts = ("memberships", "citations")

    class Meta:
        model = ReleaseBatch
        fields = (
            *RecordWriteSerializer.record_fields,
            "slug",
            "title",
            "date",
            "ordered_by",
            "carried_out_by",
            "declared_considered",
            "declared_released",
            "description",
            "claim_status",
            "memberships",
            "citations",
            *RecordWriteSerializer.audit_fields,
        )
        read_only_fields = ("slug",)

    def validate_memberships(self, memberships):
        # The database's rule too, said here at the row that repeats the person, beside the
        # other fields' problems, rather than after the rows before it are written.
        seen, errors = set(), {}
        for index, membership in enumerate(memberships):
            person = membership["person"].pk
            if person in seen:
                errors[str(index)] = {"person": ["This person is already listed in this batch."]}
            seen.add(person)
        if errors:
            raise ValidationError(errors)
        return memberships


# --- Endpoints ----------------------------------------------------------------------------------


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Other records still link to this one: unlink them first, or withdraw it."
    default_code = "conflict"


class Duplicate(APIException):
    """A create (or edit) that would repeat a record a unique rule allows once: the answer
    names the record that exists, so a script can carry on with it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "duplicate"


# The script's own identifiers: `system` names whose keys they are (as the importer's
# `--system`), `key` the record's key in it. A key is one path segment: no `/`.
SYSTEM = re.compile(schema.SYSTEM_PATTERN)
KEY = re.compile(schema.KEY_PATTERN)

# The list parameter staff use to see records in other states than published. Not `status`:
# the people list has a public filter of that name (detained, released...).
STATUS_PARAMETER = "publication_status"


class KeyGone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "The record this key named was deleted; the key is not reused."
    default_code = "gone"


def statuses_asked(request) -> list[str] | None:
    """The states `?publication_status=` asks for (repeated or comma-separated), None when not given; a 400
    naming the parameter for an unknown state."""
    values = request.query_params.getlist(STATUS_PARAMETER)
    if not values:
        return None
    asked = [v.strip() for value in values for v in value.split(",") if v.strip()]
    unknown = sorted(set(asked) - set(PublicationStatus.values))
    if unknown or not asked:
        raise ValidationError(
            {
                STATUS_PARAMETER: [
                    "One or more of "
                    + ", ".join(f"`{v}`" for v in PublicationStatus.values)
                    + ", separated by commas or the parameter repeated."
                ]
            }
        )
    return [v for v in PublicationStatus.values if v in asked]


def part_paths(serializer) -> list[str]:
    """The prefetch paths of a write shape's parts, of their own parts (a name's citations)
    and of the records their rows link to (a citation's source, an event's person), so that
    answering a write costs the same queries however many rows it has."""
    paths = []
    for name in getattr(serializer, "parts", ()):
        paths.append(name)
        paths += _row_paths(serializer.fields[name].child, f"{name}__")
    return paths


def _row_paths(row, prefix: str) -> list[str]:
    paths = []
    for name, field in row.fields.items():
        if isinstance(field, RecordRef):
            paths.append(f"{prefix}{field.source}")
        elif isinstance(field, serializers.ListSerializer):
            paths.append(f"{prefix}{name}")
            paths += _row_paths(field.child, f"{prefix}{name}__")
    return paths


def raise_for(exc: services.TrackerError):
    """The HTTP answer to a refused write."""
    if isinstance(exc, services.InvalidRecord):
        raise ValidationError(exc.errors) from exc
    if isinstance(exc, services.TransitionNotAllowed):
        raise ValidationError({"status": [str(exc)]}) from exc
    if isinstance(exc, services.RoleNotAllowed):
        raise PermissionDenied(str(exc)) from exc
    raise ValidationError({"non_field_errors": [str(exc)]}) from exc


class WritableMixin:
    """Create, replace, edit and delete for a record viewset, conditional on its ETag.

    The viewset gives `write_serializer_class`, `list_queryset()` and `detail_queryset(public=...)`,
    the queryset its GET of one record reads, so that the ETag a write compares is the one that
    GET sends.
    """

    write_serializer_class: type[RecordWriteSerializer]
    WRITE_ACTIONS = ("create", "update", "partial_update", "destroy")
    # The data package's name of the type's table (detainees/write/exports/tables.py): the
    # `table` of the ExternalIds a by-key write keeps, as the importer keeps them.
    external_table: str

    def may_view_unpublished(self) -> bool:
        user = self.request.user
        model = self.write_serializer_class.Meta.model
        return user.is_authenticated and permissions.may(user, permissions.VIEW, model)

    def list_statuses(self) -> list[str] | None:
        """The states a list shows beyond the published: `?status=` for signed-in users whose
        role may view the type's drafts; 401/403 naming the parameter for anyone else."""
        # (No request: the queryset asked for outside one, as the privacy crawl lists it.)
        asked = statuses_asked(self.request) if self.request is not None else None
        if asked is None:
            return None
        if not self.request.user.is_authenticated:
            raise NotAuthenticated(
                f"`{STATUS_PARAMETER}` lists unpublished records: sign in with a token."
            )
        if not self.may_view_unpublished():
            raise PermissionDenied(
                f"`{STATUS_PARAMETER}`: your role may not see unpublished records of this type."
            )
        return asked

    def sees_unpublished(self) -> bool:
        """Signed-in staff whose role may view the type read any one record, drafts included."""
        user = self.request.user
        model = self.write_serializer_class.Meta.model
        return (
            self.lookup_url_kwarg in self.kwargs
            and user.is_authenticated
            and permissions.may(user, permissions.VIEW, model)
        )

    def get_queryset(self):
        if self.action in self.WRITE_ACTIONS:
            return self.write_serializer_class.Meta.model.objects.all()
        if self.action == "retrieve":
            return self.detail_queryset(public=not self.sees_unpublished())
        if self.action == "list":
            statuses = self.list_statuses()
            if statuses is not None:
                return self.staff_list_queryset().filter(status__in=statuses)
        return self.list_queryset()

    def staff_list_queryset(self):
        """The list's rows in any state, fetched as the public list fetches them."""
        return self.detail_queryset(public=False)

    # The one query parameter a write reads: the format of its answer.
    WRITE_PARAMETERS = frozenset({"format"})

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if self.action in self.WRITE_ACTIONS or (
            self.action == "by_key" and request.method != "GET"
        ):
            # A write takes its values from its body. A parameter it does not read is refused
            # rather than ignored: `?dry_run=1` must not write for real.
            unknown = sorted(set(request.query_params) - self.WRITE_PARAMETERS)
            if unknown:
                raise ValidationError(
                    {
                        name[:100]: ["Not a parameter of a write: send the values in the body."]
                        for name in unknown[:20]
                    }
                )

    def filter_queryset(self, queryset):
        # The list filters are for lists; a write or a single record ignores them.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        if self.action in self.WRITE_ACTIONS or self.action == "by_key":
            return self.write_serializer_class
        return super().get_serializer_class()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.user.is_authenticated:
            # What a signed-in user reads may be a draft: no shared cache may keep it.
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Authorization", "Cookie"])
        return response

    def current_etag(self, record) -> str:
        """The ETag a JSON GET of `record` gives now (rendered as that GET renders it)."""
        return json_etag(self.rendering(record))

    def rendering(self, record) -> dict:
        """What a JSON GET of `record` answers now."""
        detail = self.detail_queryset(public=False).get(pk=record.pk)
        serializer_class = self.read_serializer_class()
        return serializer_class(detail, context=self.get_serializer_context()).data

    def write(self, serializer, record):
        values, parts, note = serializer.split()
        try:
            return services.save_record(
                record=record,
                values=values,
                parts=parts,
                by=self.request.user,
                correction_note=note,
                reason=f"API {self.request.method}",
            )
        except services.DuplicateRecord as exc:
            raise self.duplicate(exc.existing, exc.message, exc.errors) from exc
        except services.TrackerError as exc:
            raise_for(exc)
        except IntegrityError as exc:
            # A rule only the database knows (a trigger, a race with another insert). The
            # write's own savepoint is undone, so the record now holding the values can be read.
            found = services.existing_duplicate(record)
            if found is not None:
                raise self.duplicate(*found, {}) from exc
            raise ValidationError({"non_field_errors": [str(exc).splitlines()[0]]}) from exc

    def duplicate(self, existing, message: str, errors: dict) -> Duplicate:
        """The 409 naming the record that already holds a create's unique values."""
        url = reverse(f"api:{self.basename}-detail", kwargs={"id": existing.public_id})
        return Duplicate(
            {
                "detail": message,
                "existing": {
                    "id": str(existing.public_id),
                    "url": self.request.build_absolute_uri(url),
                },
                "errors": errors,
            }
        )

    def written(self, serializer, record, status_code):
        record = type(record).objects.prefetch_related(*part_paths(serializer)).get(pk=record.pk)
        data = type(serializer)(record, context=self.get_serializer_context()).data
        response = Response(data, status=status_code)
        response["ETag"] = self.current_etag(record)
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        model = self.write_serializer_class.Meta.model
        with transaction.atomic():
            record = self.write(serializer, model())
        response = self.written(serializer, record, status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{record.public_id}/")
        return response

    def update(self, request, *args, partial=False, **kwargs):
        with transaction.atomic():
            # Locked until the write commits: a second client holding the same ETag waits,
            # then compares against the new one and gets 412.
            record = self.get_locked_object()
            rendered = self.rendering(record)
            require_match(request, json_etag(rendered))
            serializer = self.get_serializer(record, data=request.data, partial=partial)
            # The body of a GET may be sent back: what it repeats unchanged is no change.
            serializer.context["rendered"] = rendered
            serializer.is_valid(raise_exception=True)
            record = self.write(serializer, record)
        return self.written(serializer, record, status.HTTP_200_OK)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            record = self.get_locked_object()
            require_match(request, self.current_etag(record))
            try:
                services.delete_record(record=record, by=request.user, reason="API DELETE")
            except services.TrackerError as exc:
                raise_for(exc)
            except ProtectedError as exc:
                raise Conflict() from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    # --- By the script's own key ----------------------------------------------------------------

    def external_key(self) -> tuple[str, str]:
        """The URL's (system, key), or a 400 naming what is wrong with each."""
        system, key = self.kwargs["system"], self.kwargs["key"]
        errors = {}
        if not SYSTEM.fullmatch(system):
            errors["system"] = [
                "1 to 100 letters, digits, `.`, `_` or `-`, starting with a letter or digit."
            ]
        if not KEY.fullmatch(key):
            errors["key"] = [
                "1 to 300 characters, without `/`, control characters or spaces at either end, "
                "and not `.` or `..`."
            ]
        if errors:
            raise ValidationError(errors)
        return system, key

    def find_key(self, system: str, key: str):
        """The ExternalId of this type's `system`/`key`, or None."""
        return ExternalId.objects.filter(table=self.external_table, system=system, key=key).first()

    def keyed_record(self, external, *, lock: bool):
        """The record `external` names (a merged person's survivor); 410 if it was deleted."""
        model = self.write_serializer_class.Meta.model
        records = model.objects.select_for_update(of=("self",)) if lock else model.objects
        record = records.filter(public_id=external.public_id).first()
        if record is None and model is Person:
            survivor = PersonRedirect.objects.filter(old_public_id=external.public_id).first()
            if survivor is not None:
                record = records.filter(pk=survivor.person_id).first()
        if record is None:
            raise KeyGone()
        return record

    @action(
        detail=False,
        methods=["get", "put"],
        url_path=r"by-key/(?P<system>[^/]+)/(?P<key>[^/]+)",
        url_name="by-key",
        pagination_class=None,
        filter_backends=[],
    )
    def by_key(self, request, *args, system=None, key=None, **kwargs):
        """Read or write the record a script knows by its own `key` in its `system`."""
        if request.method == "GET":
            return self.read_by_key()
        system, key = self.external_key()
        model = self.write_serializer_class.Meta.model
        if_match = request.headers.get("If-Match")
        # Sent blank, it holds no tag either: refused, not taken for no condition at all.
        if if_match is not None and if_match.strip() != "*" and not ETAG_LIST.fullmatch(if_match):
            raise ValidationError(
                {"If-Match": ["Not an ETag: send the quoted ETag a GET gave, or leave it out."]}
            )
        if_match = (if_match or "").strip()
        # A body that is not JSON (or too long) is a 400 before any condition is judged.
        request.data  # noqa: B018 (parsed here for its errors)
        with transaction.atomic():
            external = self.find_key(system, key)
            if external is None and if_match:
                # A condition on a record that does not exist fails (RFC 9110, If-Match).
                raise PreconditionFailed()
            if external is None:
                reason = permissions.refusal(request.user, permissions.ADD, model)
                if reason:
                    raise PermissionDenied(reason)
                # The key first, in its own savepoint: of two scripts creating one key at once,
                # the second waits on the unique index until the first commits, then finds the
                # key taken and replaces the record the first made. Never two records.
                public_id = uuid.uuid4()
                try:
                    with transaction.atomic():
                        ExternalId.objects.create(
                            table=self.external_table, system=system, key=key, public_id=public_id
                        )
                except IntegrityError:
                    external = self.find_key(system, key)
            if external is None:
                serializer = self.get_serializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                record = self.write(serializer, model(public_id=public_id))
                code = status.HTTP_201_CREATED
            else:
                record = self.keyed_record(external, lock=True)
                self.check_object_permissions(request, record)
                if request.headers.get("If-Match"):
                    # Optional here: the key is the script's own, and a re-run replaces what
                    # it wrote; sent, it is compared as for any edit.
                    require_match(request, self.current_etag(record))
                serializer = self.get_serializer(record, data=request.data)
                serializer.is_valid(raise_exception=True)
                record = self.write(serializer, record)
                code = status.HTTP_200_OK
        response = self.written(serializer, record, code)
        if code == status.HTTP_201_CREATED:
            url = reverse(f"api:{self.basename}-detail", kwargs={"id": record.public_id})
            response["Location"] = request.build_absolute_uri(url)
        return response

    def read_by_key(self):
        # Who asks first: to anyone else, a key is not even checked.
        if not self.request.user.is_authenticated:
            raise NotAuthenticated("Keys are read by staff: sign in with a token.")
        if not self.may_view_unpublished():
            raise PermissionDenied("Your role may not see records of this type by key.")
        system, key = self.external_key()
        external = self.find_key(system, key)
        if external is None:
            raise NotFound(f"No record has the key {key!r} of {system!r}.")
        record = self.keyed_record(external, lock=False)
        detail = self.detail_queryset(public=False).get(pk=record.pk)
        serializer_class = self.read_serializer_class()
        # Its ETag (and a 304 for `If-None-Match`) as a GET by id: see the viewset's
        # finalize_response.
        return Response(serializer_class(detail, context=self.get_serializer_context()).data)

    def read_serializer_class(self):
        """The serializer a GET of one record answers with."""
        self.action, action = "retrieve", self.action
        try:
            return self.get_serializer_class()
        finally:
            self.action = action

    def get_locked_object(self):
        """The record to change, locked (FOR UPDATE) until the transaction ends; 404 if none."""
        queryset = self.get_queryset().select_for_update(of=("self",))
        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg]}
        record = get_object_or_404(queryset, **lookup)
        self.check_object_permissions(self.request, record)
        return record
