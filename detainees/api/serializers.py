"""Public API shapes. Every serializer lists its fields: nothing private is ever added by default."""

from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from detainees.api import schema
from detainees.domain.fuzzydates import AS_WRITTEN, humanize
from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    ClaimStatus,
    Correction,
    Event,
    Facility,
    FacilityControl,
    FacilityName,
    Organization,
    Person,
    Place,
    Relationship,
    ReleaseBatch,
    Source,
)
from detainees.read.citing import citation_row, cited_source
from detainees.read.listing import CurrentStatus
from detainees.read.person import person_record, public_citations
from detainees.read.rows import (
    EVENT_CITATIONS,
    EVENT_ORGANIZATIONS,
    EVENT_PEOPLE,
    EVENT_ROW,
    PERSON_ROW,
    iso_datetime,
    nationality_codes,
    other_names,
    person_row,
    row_citations,
    with_event_parts,
    with_row_parts,
)


class FuzzyDateField(serializers.Field):
    """A fuzzy date as {"edtf", "earliest", "latest", "text", "as_written"}; reads the four
    stored columns."""

    def __init__(self, prefix: str, **kwargs):
        self.prefix = prefix
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, obj):
        return fuzzy_date(obj, self.prefix)


class Ref(serializers.Serializer):
    """A link to another record: its id (public UUID), name and API URL."""

    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="__str__")

    def to_representation(self, instance):
        # A link to a record that is not published would leak its name: give null instead.
        if not getattr(instance, "is_public", True):
            return None
        # The two fields' output, written directly: DRF inspects `__str__`'s signature for every
        # link, and an export has one or more links in nearly every row.
        return {"id": str(instance.public_id), "name": str(instance)}


class SourceSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    publisher = Ref(allow_null=True)
    published = FuzzyDateField("published")

    class Meta:
        model = Source
        fields = (
            "id",
            "kind",
            "title",
            "publisher",
            "author",
            "url",
            "archived_url",
            "published",
            "language",
            "reference_number",
            "summary",
            "full_text",
            "rights",
            "created",
            "updated",
        )


class CitedSourceSerializer(Ref):
    """A cited source: its id and title (`name`), and what a reader needs to cite it, so that
    every row and CSV made of citations can name the source in full."""

    publisher = Ref(allow_null=True, help_text="Who published it; null when not recorded.")
    published = serializers.CharField(
        allow_null=True, help_text="When it was published, in EDTF; null when unknown."
    )
    url = serializers.URLField(allow_blank=True)
    archived_url = serializers.URLField(allow_blank=True)

    def to_representation(self, instance):
        return cited_source(instance)


class CitationSerializer(serializers.ModelSerializer):
    source = CitedSourceSerializer()

    class Meta:
        model = Citation
        fields = ("source", "aspect", "quote", "locator", "attribution", "accessed_on")

    def to_representation(self, instance):
        # Written directly (`detainees.read.citing.citation_row`), the one shape the list rows
        # and their CSVs read too; tests/test_api.py compares it with the fields' output.
        return citation_row(instance)


class RowCitationSerializer(CitationSerializer):
    """A citation in a people list row: also which of the row's facts it supports, and how
    sure the record is of that fact."""

    supports = serializers.CharField()
    claim_status = serializers.ChoiceField(choices=ClaimStatus.choices)

    class Meta(CitationSerializer.Meta):
        fields = (*CitationSerializer.Meta.fields, "supports", "claim_status")


def citation_rows(citations) -> list[dict]:
    """What CitationSerializer(citations, many=True).data gives, without building a serializer
    per fact: an export serializes a citation for almost every fact."""
    return [citation_row(citation) for citation in citations]


class PublicCitations(serializers.Field):
    """Citations whose source is published and not confidential."""

    citation_serializer = CitationSerializer  # what each item is, for the schema

    def __init__(self, **kwargs):
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, obj):
        return citation_rows(public_citations(obj))


# The coordinates as DecimalField(max_digits=8, decimal_places=5) writes them: a string rounded
# to five places (tests/test_api_small_lists.py compares it with the model's own field).
COORDINATE = serializers.DecimalField(max_digits=8, decimal_places=5, allow_null=True)


def coordinate(value) -> str | None:
    return None if value is None else COORDINATE.to_representation(value)


class DirectRows:
    """A record serializer whose rows are written directly by `row(obj)` rather than through
    DRF's per-field machinery, which cost several times a small list's own queries (a list
    page of organizations, places or facilities spent most of its time in `get_attribute` and
    the fields' `to_representation`). The fields stay declared: they are the schema, the CSV's
    columns and the writes' shape; tests/test_api_small_lists.py holds `row` equal to their
    output for records of every kind: with `FIELDS_REFERENCE` in the serializer's context, the
    rows and every nested row go through the fields instead."""

    def to_representation(self, instance):
        if self.context.get(FIELDS_REFERENCE):
            return super().to_representation(instance)
        return self.row(instance)


FIELDS_REFERENCE = "fields_reference"


class OrganizationSerializer(DirectRows, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    country = CountryField(allow_blank=True)
    parent = Ref(allow_null=True)
    other_names = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = (
            "id",
            "slug",
            "name",
            "abbreviation",
            "kind",
            "parent",
            "country",
            "other_names",
            "description",
            "created",
            "updated",
        )

    def get_other_names(self, obj) -> list[str]:
        return [n.name for n in obj.names.all()]

    def row(self, obj) -> dict:
        return {
            "id": str(obj.public_id),
            "slug": obj.slug,
            "name": obj.name,
            "abbreviation": obj.abbreviation,
            "kind": obj.kind,
            "parent": ref(obj.parent),
            "country": COUNTRY.to_representation(obj.country),
            "other_names": [n.name for n in obj.names.all()],
            "description": obj.description,
            "created": iso_datetime(obj.created),
            "updated": iso_datetime(obj.updated),
        }


# A country as CountryField writes it: its ISO code, "" when blank.
COUNTRY = OrganizationSerializer._declared_fields["country"]


class PlaceSerializer(DirectRows, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    country = CountryField()
    parent = Ref(allow_null=True)

    class Meta:
        model = Place
        fields = (
            "id",
            "slug",
            "name",
            "kind",
            "parent",
            "country",
            "latitude",
            "longitude",
            "created",
            "updated",
        )

    def row(self, obj) -> dict:
        return {
            "id": str(obj.public_id),
            "slug": obj.slug,
            "name": obj.name,
            "kind": obj.kind,
            "parent": ref(obj.parent),
            "country": COUNTRY.to_representation(obj.country),
            "latitude": coordinate(obj.latitude),
            "longitude": coordinate(obj.longitude),
            "created": iso_datetime(obj.created),
            "updated": iso_datetime(obj.updated),
        }


class FacilityControlSerializer(DirectRows, serializers.ModelSerializer):
    """A period of control, operation or ownership: `role` says which; only a controller is the
    custodian of the people held there."""

    controller = Ref(help_text="The organization that held the role.")
    start = FuzzyDateField("start")
    end = FuzzyDateField("end")
    citations = PublicCitations()

    class Meta:
        model = FacilityControl
        # The note is public: the data package publishes it beside the period.
        fields = ("role", "controller", "start", "end", "claim_status", "note", "citations")

    def row(self, obj) -> dict:
        return {
            "role": obj.role,
            "controller": ref(obj.controller),
            "start": fuzzy_date(obj, "start"),
            "end": fuzzy_date(obj, "end"),
            "claim_status": obj.claim_status,
            "note": obj.note,
            "citations": citation_rows(public_citations(obj)),
        }


class FacilityNameSerializer(DirectRows, serializers.ModelSerializer):
    class Meta:
        model = FacilityName
        fields = ("name", "kind", "language")

    def row(self, obj) -> dict:
        return {"name": obj.name, "kind": obj.kind, "language": obj.language}


class FacilitySerializer(DirectRows, serializers.ModelSerializer):
    """A facility with its other names and its public periods of control, as
    `detainees.read.pages.with_facility_parts()` prefetches them."""

    id = serializers.UUIDField(source="public_id")
    place = Ref(allow_null=True)
    names = FacilityNameSerializer(many=True, read_only=True)
    controls = FacilityControlSerializer(source="public_controls", many=True, read_only=True)

    class Meta:
        model = Facility
        fields = (
            "id",
            "slug",
            "name",
            "kind",
            "place",
            "latitude",
            "longitude",
            "names",
            "description",
            "controls",
            "created",
            "updated",
        )

    def row(self, obj) -> dict:
        control = FacilityControlSerializer.row
        return {
            "id": str(obj.public_id),
            "slug": obj.slug,
            "name": obj.name,
            "kind": obj.kind,
            "place": ref(obj.place),
            "latitude": coordinate(obj.latitude),
            "longitude": coordinate(obj.longitude),
            "names": [FacilityNameSerializer.row(None, n) for n in obj.names.all()],
            "description": obj.description,
            "controls": [control(None, c) for c in obj.public_controls],
            "created": iso_datetime(obj.created),
            "updated": iso_datetime(obj.updated),
        }


def fuzzy_date(obj, prefix: str) -> dict:
    """What FuzzyDateField(prefix) gives for `obj`."""
    edtf = getattr(obj, prefix)
    earliest = getattr(obj, f"{prefix}_earliest")
    latest = getattr(obj, f"{prefix}_latest")
    return {
        "edtf": edtf,
        "earliest": earliest.isoformat() if earliest else None,
        "latest": latest.isoformat() if latest else None,
        "text": humanize(edtf),
        "as_written": getattr(obj, f"{prefix}{AS_WRITTEN}"),
    }


def ref(instance) -> dict | None:
    """What Ref(allow_null=True) gives for a link: null when empty or not public."""
    if instance is None or not getattr(instance, "is_public", True):
        return None
    return {"id": str(instance.public_id), "name": str(instance)}


class EventRowsSerializer(serializers.ListSerializer):
    """A page of events, their people, organizations and citations read for the whole page
    in one query each (detainees.read.rows.with_event_parts) unless they were prefetched."""

    def to_representation(self, data):
        events = with_event_parts(data.all() if hasattr(data, "all") else data)
        return [self.child.to_representation(event) for event in events]


class EventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    date = FuzzyDateField("date")
    end_date = FuzzyDateField("end_date")
    place = Ref(allow_null=True)
    facility = Ref(allow_null=True)
    from_facility = Ref(allow_null=True)
    batch = Ref(allow_null=True)
    people = serializers.SerializerMethodField()
    organizations = serializers.SerializerMethodField()
    citations = PublicCitations()

    class Meta:
        model = Event
        fields = EVENT_ROW.names  # the events list's row (detainees.read.rows)
        list_serializer_class = EventRowsSerializer

    def to_representation(self, obj):
        # The row written directly, not through the fields above: a page holds up to 500 events
        # and a person's timeline many, and DRF's per-field machinery cost several times their
        # queries. tests/test_api_fast.py compares the two over every kind of value.
        return {
            "id": str(obj.public_id),
            "kind": obj.kind,
            "summary": obj.summary,
            "description": obj.description,
            "date": fuzzy_date(obj, "date"),
            "end_date": fuzzy_date(obj, "end_date"),
            "place": ref(obj.place),
            "facility": ref(obj.facility),
            "from_facility": ref(obj.from_facility),
            "operation": obj.operation,
            "unnamed_count": obj.unnamed_count,
            "unnamed_description": obj.unnamed_description,
            "custody_end_reason": obj.custody_end_reason,
            "release_kind": obj.release_kind,
            "death_circumstances": obj.death_circumstances,
            "batch": ref(obj.batch),
            "reengagement": obj.reengagement,
            "role": obj.role,
            "strength_estimate": obj.strength_estimate,
            "strength_note": obj.strength_note,
            "claim_status": obj.claim_status,
            # Read for the whole page by with_event_parts, else from the prefetched records.
            "people": (
                getattr(obj, EVENT_PEOPLE) if hasattr(obj, EVENT_PEOPLE) else self.get_people(obj)
            ),
            "organizations": (
                getattr(obj, EVENT_ORGANIZATIONS)
                if hasattr(obj, EVENT_ORGANIZATIONS)
                else self.get_organizations(obj)
            ),
            "citations": (
                getattr(obj, EVENT_CITATIONS)
                if hasattr(obj, EVENT_CITATIONS)
                else citation_rows(public_citations(obj))
            ),
            "created": iso_datetime(obj.created),
            "updated": iso_datetime(obj.updated),
        }

    @extend_schema_field(schema.EVENT_PEOPLE)
    def get_people(self, obj) -> list[dict]:
        return [
            {
                "id": str(role.person.public_id),
                "name": role.person.display_name,
                "role": role.role,
                "capacity": role.capacity,
                "note": role.note,
                "age": role.age,
            }
            for role in obj.people.all()
            if role.person.is_public
        ]

    @extend_schema_field(schema.EVENT_ORGANIZATIONS)
    def get_organizations(self, obj) -> list[dict]:
        return [
            {
                "id": str(role.organization.public_id),
                "name": role.organization.name,
                "role": role.role,
                "note": role.note,
            }
            for role in obj.organizations.all()
            if role.organization.is_public
        ]


class PersonRowsSerializer(serializers.ListSerializer):
    """A page of people rows, their citations, other names and nationalities read for the whole
    page at once, as tuples."""

    def to_representation(self, data):
        people = data.all() if hasattr(data, "all") else data
        return [self.child.to_representation(person) for person in with_row_parts(people)]


@extend_schema_serializer(component_name="PersonSummary")
class PersonListSerializer(serializers.ModelSerializer):
    """One flat row per person: what the list and its CSV show."""

    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="sort_name")
    other_names = serializers.SerializerMethodField()
    nationalities = serializers.SerializerMethodField()
    current_status = serializers.CharField()
    first_capture = serializers.CharField(source="first_capture_date", allow_null=True)
    first_capture_earliest = serializers.DateField(source="first_capture", allow_null=True)
    last_release = serializers.CharField(source="last_release_date", allow_null=True)
    last_release_earliest = serializers.DateField(source="last_release", allow_null=True)
    citations = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = PERSON_ROW.names  # the people list's row (detainees.read.rows)
        list_serializer_class = PersonRowsSerializer

    def to_representation(self, obj):
        # The row as the spec builds it, not through the fields above: a list page holds 50 to
        # 500 rows, and DRF's per-field machinery cost several times the page's queries
        # (tests/test_api.py compares the two).
        return person_row(obj)

    def get_other_names(self, obj) -> list[str]:
        return other_names(obj)

    @extend_schema_field(schema.COUNTRY_CODES)
    def get_nationalities(self, obj) -> list[str]:
        return nationality_codes(obj)

    @extend_schema_field(RowCitationSerializer(many=True))
    def get_citations(self, obj) -> list[dict]:
        return row_citations(obj)


class AffiliationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(
        source="public_id",
        help_text="The affiliation's public id: it is written at /api/v1/affiliations/{id}/.",
    )
    organization = Ref()
    start = FuzzyDateField("start")
    end = FuzzyDateField("end")
    place = Ref(allow_null=True)
    citations = PublicCitations()

    class Meta:
        model = Affiliation
        fields = (
            "id",
            "organization",
            "role",
            "start",
            "end",
            "place",
            "strength_estimate",
            "strength_note",
            "claim_status",
            "citations",
        )


class AffiliationRecordSerializer(AffiliationSerializer):
    """An affiliation on its own: the person's tie as the person's record shows it, with the
    person it is of and when it was entered and last changed."""

    person = Ref()

    class Meta:
        model = Affiliation
        fields = (
            "id",
            "person",
            *AffiliationSerializer.Meta.fields[1:],
            "created",
            "updated",
        )


class RelationshipLabels(serializers.Serializer):
    person = serializers.CharField(help_text="What the first person is to the other: `mother of`.")
    other = serializers.CharField(help_text="What the other person is to the first: `son of`.")


class RelationshipSerializer(serializers.ModelSerializer):
    """A tie between two people, stored once; each side's words as the person pages give them."""

    id = serializers.UUIDField(source="public_id")
    person = Ref(help_text=str(Relationship._meta.get_field("person").help_text))
    other = Ref(help_text=str(Relationship._meta.get_field("other").help_text))
    labels = serializers.SerializerMethodField(
        help_text="What each side is to the other, in words; gendered when the gender is known."
    )
    start = FuzzyDateField("start")
    end = FuzzyDateField("end")
    citations = PublicCitations()

    class Meta:
        model = Relationship
        fields = (
            "id",
            "person",
            "other",
            "kind",
            "labels",
            "start",
            "end",
            "claim_status",
            "note",
            "citations",
            "created",
            "updated",
        )

    @extend_schema_field(RelationshipLabels)
    def get_labels(self, obj) -> dict:
        return {"person": obj.label_for(obj.person), "other": obj.label_for(obj.other)}


class BatchMembershipSerializer(serializers.ModelSerializer):
    batch = Ref()
    citations = PublicCitations()

    class Meta:
        model = BatchMembership
        fields = ("batch", "inclusion", "claim_status", "citations")


class CorrectionSerializer(serializers.ModelSerializer):
    """A public correction: when and what; never who made it."""

    class Meta:
        model = Correction
        fields = ("date", "note")
        read_only_fields = fields  # so the schema marks both as always sent


class PersonDetailSerializer(serializers.ModelSerializer):
    """Everything the person page shows, in one response: the person's record
    (`detainees.read.person.person_record`), as the page reads it."""

    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField(source="display_name")
    names = serializers.SerializerMethodField()
    nationalities = serializers.SerializerMethodField()
    birth = FuzzyDateField("birth")
    birthplace = Ref(allow_null=True, help_text="Where the person was born (a place).")
    withheld = serializers.SerializerMethodField()
    current_status = serializers.SerializerMethodField(
        help_text="The status after the last status-changing event: the people list's, the "
        "page's and the exports' one derivation."
    )
    status_line = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField(
        help_text="What the person page shows first: the status with the event that decided "
        "it, the current or last custodian and facility, and how many sources and independent "
        "publishers the record rests on."
    )
    affiliations = AffiliationSerializer(many=True)
    timeline = serializers.SerializerMethodField()
    batches = BatchMembershipSerializer(source="batch_memberships", many=True)
    relationships = serializers.SerializerMethodField()
    citations = PublicCitations(
        help_text="Sources of the person as a whole (identity, biography, birth)."
    )
    corrections = CorrectionSerializer(
        many=True, help_text="Public corrections of this record, oldest first."
    )

    class Meta:
        model = Person
        fields = (
            "id",
            "slug",
            "name",
            "names",
            "gender",
            "birth",
            "birthplace",
            "withheld",
            "biography",
            "fate",
            "fate_claim_status",
            "nationalities",
            "current_status",
            "status_line",
            "summary",
            "affiliations",
            "timeline",
            "batches",
            "relationships",
            "citations",
            "corrections",
            "created",
            "updated",
        )

    def to_representation(self, obj):
        # The record the fields below read, built once per person (a serializer serves a
        # whole list of people in turn, so it is kept for the one being written).
        self._record = person_record(obj)
        return super().to_representation(obj)

    @extend_schema_field(serializers.ChoiceField(choices=CurrentStatus.choices))
    def get_current_status(self, obj) -> str:
        return self._record.status

    def get_status_line(self, obj) -> str:
        return self._record.status_line

    @extend_schema_field(schema.SUMMARY)
    def get_summary(self, obj) -> dict:
        summary = self._record.summary
        status, custody = summary.status, summary.custody
        span = custody.custodian if custody else None
        return {
            "status": status.status,
            "event": str(status.entry.obj.public_id) if status.entry else None,
            "since": status.since_edtf,
            "claim_status": status.claim_status,
            "custody": custody
            and {
                "current": custody.current,
                "event": str(custody.entry.obj.public_id),
                "claim_status": custody.entry.obj.claim_status,
                "custodian": span
                and {
                    "id": str(span.organization.public_id),
                    "name": span.organization.name,
                    "start": span.start,
                    "end": span.end,
                    "via_facility": span.via_facility,
                },
                "facility": custody.facility
                and {"id": str(custody.facility.public_id), "name": custody.facility.name},
            },
            "sources": summary.sources.sources,
            "independent_sources": summary.sources.independent,
        }

    @extend_schema_field(schema.WITHHELD)
    def get_withheld(self, obj) -> list[str]:
        return self._record.withheld

    @extend_schema_field(schema.PERSON_NAMES)
    def get_names(self, obj) -> list[dict]:
        return [
            {
                "name": fact.obj.name,
                "given": fact.obj.given,
                "family": fact.obj.family,
                "kind": fact.obj.kind,
                "is_primary": fact.obj.is_primary,
                "language": fact.obj.language,
                "claim_status": fact.obj.claim_status,
                "citations": citation_rows(fact.citations),
            }
            for fact in self._record.name_sources
        ]

    @extend_schema_field(schema.RELATIONSHIPS)
    def get_relationships(self, obj) -> list[dict]:
        if not hasattr(self, "_date_fields"):
            self._date_fields = (FuzzyDateField("start"), FuzzyDateField("end"))
        start, end = self._date_fields
        return [
            {
                "id": str(tie.obj.public_id),
                "kind": tie.obj.kind,
                "label": tie.label,
                "person": {
                    "id": str(tie.other.public_id),
                    "name": tie.other.display_name,
                    "url": tie.other.get_absolute_url(),
                },
                "start": start.to_representation(tie.obj),
                "end": end.to_representation(tie.obj),
                "claim_status": tie.obj.claim_status,
                "note": tie.obj.note,
                "citations": citation_rows(tie.citations),
            }
            for tie in self._record.relationships
        ]

    @extend_schema_field(schema.NATIONALITIES)
    def get_nationalities(self, obj) -> list[dict]:
        return [
            {
                "country": fact.obj.country.code,
                "claim_status": fact.obj.claim_status,
                "citations": citation_rows(fact.citations),
            }
            for fact in self._record.nationalities
        ]

    @extend_schema_field(schema.TIMELINE)
    def get_timeline(self, obj) -> list[dict]:
        # One event serializer for the whole timeline (and, in an export, for every person).
        if not hasattr(self, "_event_serializer"):
            self._event_serializer = EventSerializer()
        rows = []
        for fact in self._record.timeline:
            row = self._event_serializer.to_representation(fact.obj)
            age = fact.age
            row["age_at_event"] = age and {"from": age.low, "to": age.high, "stated": age.stated}
            if fact.obj.kind == Event.Kind.CUSTODY:
                row["custodians"] = [
                    {
                        "id": str(span.organization.public_id),
                        "name": span.organization.name,
                        "start": span.start,
                        "end": span.end,
                        "via_facility": span.via_facility,
                    }
                    for span in fact.custodians
                ]
            rows.append(row)
        return rows


class BatchMemberSerializer(serializers.ModelSerializer):
    """A person the batch's decision names, as its page lists them."""

    person = Ref(help_text="The person named.")
    citations = PublicCitations()

    class Meta:
        model = BatchMembership
        # The note is public: the data package publishes it beside the membership.
        fields = ("person", "inclusion", "note", "claim_status", "citations")


class ReleaseBatchSerializer(serializers.ModelSerializer):
    """A release batch with the public people its decision names (as
    `detainees.read.pages.with_batch_parts()` prefetches them) and its public sources."""

    id = serializers.UUIDField(source="public_id")
    date = FuzzyDateField("date")
    ordered_by = Ref(allow_null=True)
    carried_out_by = Ref(allow_null=True)
    memberships = BatchMemberSerializer(source="public_memberships", many=True, read_only=True)
    citations = PublicCitations(help_text="Sources of the decision itself.")

    class Meta:
        model = ReleaseBatch
        fields = (
            "id",
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
            "created",
            "updated",
        )


class FacetValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField(min_value=1)


class FacetCountsSerializer(serializers.Serializer):
    """Per facet, its values among the selected records, most common first."""

    facets = serializers.DictField(child=FacetValueSerializer(many=True))


# --- The map (GeoJSON) -----------------------------------------------------------------------
# Read-only shapes for the schema: the view writes `detainees.read.geo.MapSelection.geojson()`.


class MapPointSerializer(serializers.Serializer):
    """A place or facility where the selection's events happened."""

    id = serializers.UUIDField(help_text="The place's or facility's id.")
    name = serializers.CharField()
    kind = serializers.CharField(
        help_text="The place's kind (country, province, district, locality), or `facility`."
    )
    url = serializers.CharField(help_text="Path of its public page on this site.")
    people = serializers.IntegerField(
        min_value=0, help_text="People of the selection with an event here, as its subject."
    )
    events = serializers.IntegerField(min_value=1, help_text="Events of the selection here.")


class PointGeometrySerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Always `Point`.")
    coordinates = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        help_text="Longitude, latitude (WGS 84 decimal degrees), in GeoJSON's order.",
    )


class MapFeatureSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Always `Feature`.")
    id = serializers.UUIDField()
    geometry = PointGeometrySerializer()
    properties = MapPointSerializer()


class MapSerializer(serializers.Serializer):
    """An RFC 7946 FeatureCollection: one Point per place or facility with coordinates, most
    people first, then most events; those without coordinates in `not_on_map`."""

    type = serializers.CharField(help_text="Always `FeatureCollection`.")
    features = MapFeatureSerializer(many=True)
    not_on_map = MapPointSerializer(
        many=True, help_text="Places and facilities of the selection that have no coordinates."
    )
