"""The data package's tables: one specification for the export, the importer and the README.

Every table has an `id` column holding the record's permanent `public_id` (a UUID); other tables
refer to a record by it. An importing desk may use its own identifiers instead (any text that is
not a UUID): the importer keeps them as external identifiers, so importing the same file again
updates the same records. From this one list come the export's CSV columns and its
datapackage.json (Frictionless Table Schema), the importer's parsing and validation, and the
column specification in the README (`manage.py export --spec` prints it; a test checks that
they agree). A column the events list also has takes its type and description from the list's
row spec (`detainees.read.rows.EVENT_ROW`); the people list shares none with `persons` but `id`.
"""

from dataclasses import dataclass, field, replace

from django.db import models
from django_countries import countries

from detainees.domain.fuzzydates import AS_WRITTEN
from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    ClaimStatus,
    Event,
    EventOrganization,
    EventPerson,
    Facility,
    FacilityControl,
    FacilityName,
    Nationality,
    Organization,
    OrganizationName,
    Person,
    PersonName,
    Place,
    Relationship,
    ReleaseBatch,
    Source,
)
from detainees.domain.models.places import COORDINATE_PLACES, LATITUDE_LIMIT, LONGITUDE_LIMIT
from detainees.domain.models.sources import CITED_FACTS
from detainees.read import rows
from detainees.read.rows import EVENT_ROW, RowSpec, field_choices

# Column types, and the Frictionless type each is declared as.
ID, REF, TEXT, ENUM, COUNTRY, EDTF = "id", "ref", "text", "enum", "country", "edtf"
# Codes from a fixed list, any number of them, written separated by ";" (`name;birth`).
CODES = "codes"
CODES_SEPARATOR = ";"
INTEGER, NUMBER, BOOLEAN, DATE = "integer", "number", "boolean", "date"
FRICTIONLESS_TYPES = {
    ID: "string",
    REF: "string",
    TEXT: "string",
    ENUM: "string",
    COUNTRY: "string",
    EDTF: "string",
    CODES: "string",
    INTEGER: "integer",
    NUMBER: "number",
    BOOLEAN: "boolean",
    DATE: "date",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    required: bool = False
    ref: str = ""  # the table an id in this column names
    choices: tuple[str, ...] = ()  # an enum's: filled from the model field (Table)
    # Import-only columns (private fields) are never written to an export.
    exported: bool = True
    minimum: int | None = None
    maximum: int | None = None
    # An empty cell leaves the value the record derives for itself (a place's country).
    derived_when_empty: bool = False
    # Export: a row whose reference here names an unpublished record is left out, not blanked
    # (a province of an unpublished country would otherwise become a top-level place).
    needs_its_target: bool = False

    @property
    def field(self) -> str:
        """The model field the column reads and writes."""
        return "public_id" if self.type == ID else self.name


@dataclass(frozen=True)
class Table:
    name: str
    model: type[models.Model]
    title: str
    description: str
    columns: tuple[Column, ...]
    # Citations: exactly one of these columns names the fact cited.
    exactly_one_of: tuple[str, ...] = ()
    extra_filter: dict = field(default_factory=dict)

    def __post_init__(self):
        # An enum column's values are its model field's choices, read from the model as the
        # list rows read them (detainees.read.rows), so a choice added to the model reaches
        # the schema, the importer and the README without being restated here.
        columns = tuple(
            replace(c, choices=field_choices(self.model, c.field))
            if c.type == ENUM
            else replace(c, choices=self._item_choices(c.field))
            if c.type == CODES
            else c
            for c in self.columns
        )
        # Every fuzzy date has, right after it, the text the source wrote it as.
        columns = tuple(
            expanded
            for c in columns
            for expanded in ((c, as_written(c)) if c.type == EDTF else (c,))
        )
        object.__setattr__(self, "columns", columns)
        # Asked for on every row an import reads: worked out once.
        object.__setattr__(self, "_refs", tuple(c for c in columns if c.type == REF))

    def _item_choices(self, name: str) -> tuple[str, ...]:
        """A list field's allowed codes: its items' choices."""
        base = self.model._meta.get_field(name).base_field
        return tuple(value for value, _ in base.choices)

    @property
    def publishable(self) -> bool:
        return any(f.name == "status" for f in self.model._meta.concrete_fields)

    @property
    def exported_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.exported)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def refs(self) -> tuple[Column, ...]:
        return self._refs


def id_column(what: str) -> Column:
    return Column(
        "id",
        ID,
        f"Permanent identifier of the {what} (a UUID), or the importing desk's own identifier.",
        required=True,
    )


def ref(name: str, table: str, description: str, *, required: bool = False) -> Column:
    return Column(name, REF, description, required=required, ref=table)


CLAIM_STATUS_EMPTY = "Empty: reported."


def claim_status() -> Column:
    return Column(
        "claim_status",
        ENUM,
        f"{EVENT_ROW.column('claim_status').description} {CLAIM_STATUS_EMPTY}",
    )


def internal_notes() -> Column:
    return Column(
        "internal_notes",
        TEXT,
        "Private notes. Import only: never exported.",
        exported=False,
    )


def edtf(name: str, description: str) -> Column:
    return Column(
        name,
        EDTF,
        f"{description} A fuzzy date in EDTF (2011-04-20, 2011-04, 2010, 2011-21 for spring, "
        "2010~, 2013-03/2014-10, ../2014-06); empty when unknown. The importer also reads "
        "words such as 'spring 2011' or 'before June 2014'; given the file's date order or "
        "language, it reads a two-digit year (03/04/76, MAR/76) as the latest year up to the "
        "current one that ends in those digits (76: 1976, 24: 2024), or in the century the "
        "import is given (--century 19: 24 is 1924).",
    )


def as_written(date_column: Column) -> Column:
    """The text a fuzzy date was read from, beside its EDTF: the words outlive the reading."""
    return Column(
        f"{date_column.name}{AS_WRITTEN}",
        TEXT,
        f"`{date_column.name}` as the source wrote it ('principios de MAR/1976', 's/f'), when "
        "that was not plain EDTF; empty when it was. The importer fills it from the date cell "
        "when the cell is in words, or keeps the text given here, so re-importing an export "
        "keeps the original words.",
    )


def count(name: str, description: str) -> Column:
    return Column(name, INTEGER, description, minimum=0)


def coordinates() -> tuple[Column, Column]:
    """Latitude and longitude in decimal degrees, in range, rounded to the stored places."""
    rounding = (
        f"Any precision is read and rounded (half to even) to {COORDINATE_PLACES} decimal "
        "places, about 1 m."
    )
    return (
        Column(
            "latitude",
            NUMBER,
            f"Decimal degrees, -90 to 90, with longitude or not at all. {rounding}",
            minimum=-LATITUDE_LIMIT,
            maximum=LATITUDE_LIMIT,
        ),
        Column(
            "longitude",
            NUMBER,
            f"Decimal degrees, -180 to 180, with latitude or not at all. {rounding}",
            minimum=-LONGITUDE_LIMIT,
            maximum=LONGITUDE_LIMIT,
        ),
    )


# A list column's type (detainees.read.rows) as the data package has it: a fuzzy date as its
# EDTF text, a linked record as its id.
LISTED_TYPES = {
    rows.TEXT: TEXT,
    rows.ENUM: ENUM,
    rows.INTEGER: INTEGER,
    rows.DATE: DATE,
    rows.EDTF: EDTF,
    rows.FUZZY: EDTF,
    rows.REF: REF,
}


def listed(spec: RowSpec, name: str, *, note: str = "", **options) -> Column:
    """A column the list's row spec declares, with its type and description from there, so the
    list, its CSV, the API and the data package describe it once. `note` adds what only the
    package says (what an empty cell means); `options` what only the import needs."""
    row = spec.column(name)
    type_ = LISTED_TYPES[row.type]
    description = " ".join(filter(None, (row.description, note)))
    if type_ == EDTF:
        return replace(edtf(name, description), **options)
    if type_ == INTEGER:
        options.setdefault("minimum", 0)
    return Column(name, type_, description, **options)


TABLES: tuple[Table, ...] = (
    Table(
        "organizations",
        Organization,
        "Organizations",
        "Armed groups, state authorities, forces, services, courts, outlets, NGOs.",
        (
            id_column("organization"),
            Column("name", TEXT, "Name, unique in the table.", required=True),
            Column("abbreviation", TEXT, "Short form, e.g. IMU."),
            Column(
                "kind",
                ENUM,
                "What kind of body.",
                required=True,
            ),
            ref("parent", "organizations", "The body it belongs to (ISAF under NATO)."),
            Column("country", COUNTRY, "ISO 3166 two-letter code, for national bodies."),
            Column("description", TEXT, "Public description."),
            internal_notes(),
        ),
    ),
    Table(
        "organization_names",
        OrganizationName,
        "Organization names",
        "Other names an organization goes by.",
        (
            id_column("name"),
            ref("organization", "organizations", "The organization.", required=True),
            Column("name", TEXT, "The name as written.", required=True),
            Column(
                "kind",
                ENUM,
                "What kind of name. Empty: alias.",
            ),
            Column("language", TEXT, "Language tag, e.g. ps, fa, uz-Cyrl."),
        ),
    ),
    Table(
        "places",
        Place,
        "Places",
        "Countries, provinces, districts and localities, each inside its parent.",
        (
            id_column("place"),
            Column("name", TEXT, "Name.", required=True),
            Column("kind", ENUM, "Level.", required=True),
            Column(
                "parent",
                REF,
                "The place it lies in; empty only for countries.",
                ref="places",
                needs_its_target=True,
            ),
            Column(
                "country",
                COUNTRY,
                "ISO 3166 code; empty: the parent's country.",
                derived_when_empty=True,
            ),
            *coordinates(),
            internal_notes(),
        ),
    ),
    Table(
        "facilities",
        Facility,
        "Facilities",
        "Detention sites.",
        (
            id_column("facility"),
            Column("name", TEXT, "Name.", required=True),
            Column(
                "kind",
                ENUM,
                "Kind of site. Empty: detention facility.",
            ),
            ref("place", "places", "Where it is."),
            *coordinates(),
            Column("description", TEXT, "Public description."),
            internal_notes(),
        ),
    ),
    Table(
        "facility_names",
        FacilityName,
        "Facility names",
        "Other names a facility is known by.",
        (
            id_column("name"),
            ref("facility", "facilities", "The facility.", required=True),
            Column("name", TEXT, "The name as written.", required=True),
            Column("kind", ENUM, "What kind of name. Empty: alias."),
            Column("language", TEXT, "Language tag, e.g. ps, fa, ar-Latn."),
        ),
    ),
    Table(
        "facility_controls",
        FacilityControl,
        "Facility control",
        "Who controlled, operated or owned a facility over a period; a handover ends one period "
        "and starts the next.",
        (
            id_column("control period"),
            ref("facility", "facilities", "The facility.", required=True),
            ref(
                "controller",
                "organizations",
                "The organization that held the role.",
                required=True,
            ),
            Column(
                "role",
                ENUM,
                "controller: whose custody the people held there were in; operator: who ran the "
                "site; owner: whose property it was. At most one of each certainly at a time. "
                "Empty: controller.",
            ),
            edtf("start", "From."),
            edtf("end", "Until; empty while it continues or when unknown."),
            claim_status(),
            Column("note", TEXT, "Public note."),
        ),
    ),
    Table(
        "persons",
        Person,
        "People",
        "People the record is about; their names are in person_names.",
        (
            id_column("person"),
            Column("gender", ENUM, "Empty: unknown."),
            edtf("birth", "Born."),
            ref("birthplace", "places", "Where the person was born."),
            Column(
                "withheld",
                CODES,
                "What the source withholds (a name kept back for the person's protection), as "
                "opposed to what it does not know: the codes separated by ';', e.g. "
                "name;birthplace. Empty: nothing withheld.",
            ),
            Column("biography", TEXT, "Short public biography."),
            Column(
                "is_placeholder",
                BOOLEAN,
                "true for an unnamed person kept until identified. Empty: false.",
            ),
            Column(
                "fate", ENUM, "Alive, dead or unknown, as the record concludes. Empty: unknown."
            ),
            Column(
                "fate_claim_status",
                ENUM,
                "How sure the fate is: confirmed for a death proven, reported or inferred for "
                "one not proven. Empty: reported.",
            ),
            internal_notes(),
        ),
    ),
    Table(
        "person_names",
        PersonName,
        "Person names",
        "Every name a person goes by; exactly one per person is primary.",
        (
            id_column("name"),
            ref("person", "persons", "Whose name.", required=True),
            Column("name", TEXT, "As written, with honorifics (Qari, Mullah).", required=True),
            Column("given", TEXT, "Given name(s), where the source separates them."),
            Column(
                "family",
                TEXT,
                "Family name(s) or surname, where the source separates them; the people list "
                "sorts by it.",
            ),
            Column("kind", ENUM, "Kind of name. Empty: common."),
            Column("is_primary", BOOLEAN, "true for the one name shown first. Empty: false."),
            Column("language", TEXT, "Language or script tag, e.g. uz-Cyrl, ps-Arab."),
            claim_status(),
        ),
    ),
    Table(
        "nationalities",
        Nationality,
        "Nationalities",
        "Nationalities the sources give a person.",
        (
            id_column("nationality"),
            ref("person", "persons", "Whose nationality.", required=True),
            Column("country", COUNTRY, "ISO 3166 two-letter code.", required=True),
            claim_status(),
        ),
    ),
    Table(
        "sources",
        Source,
        "Sources",
        "Documents facts come from. Confidential sources are never exported.",
        (
            id_column("source"),
            Column("kind", ENUM, "Kind of document.", required=True),
            Column("title", TEXT, "Title.", required=True),
            ref("publisher", "organizations", "Who published it."),
            Column("author", TEXT, "Author."),
            Column("url", TEXT, "Address; unique in the table."),
            Column("archived_url", TEXT, "Archived copy."),
            edtf("published", "Publication date."),
            Column("language", TEXT, "Language tag, e.g. en, ps."),
            Column(
                "reference_number",
                TEXT,
                "The publisher's own reference, e.g. 2011-04-S-034; unique per publisher.",
            ),
            Column("summary", TEXT, "Public summary."),
            Column(
                "full_text", TEXT, "The whole text, where its licence lets it be kept and shown."
            ),
            Column("rights", TEXT, "Whom to credit and under which licence, wherever it is shown."),
            Column(
                "is_confidential",
                BOOLEAN,
                "true keeps the source private whatever else is asked. Import only. Empty: false.",
                exported=False,
            ),
            internal_notes(),
        ),
        extra_filter={"is_confidential": False},
    ),
    Table(
        "release_batches",
        ReleaseBatch,
        "Release batches",
        "Decisions releasing many people at once, with their declared totals.",
        (
            id_column("batch"),
            Column("title", TEXT, "Title.", required=True),
            edtf("date", "Date of the decision."),
            ref("ordered_by", "organizations", "Who ordered it."),
            ref("carried_out_by", "organizations", "Who carried it out."),
            count("declared_considered", "How many detainees the decision covered."),
            count("declared_released", "How many it released, as declared."),
            Column("description", TEXT, "Public description."),
            claim_status(),
            internal_notes(),
        ),
    ),
    Table(
        "events",
        Event,
        "Events",
        "Captures, disappearances, custody episodes, transfers, releases, escapes, deaths, "
        "remains found and identified, births in captivity, appropriations of children and "
        "restored identities, re-engagements.",
        (
            id_column("event"),
            # The events list's columns (detainees.read.rows.EVENT_ROW), and what it has not.
            listed(EVENT_ROW, "kind", required=True),
            listed(EVENT_ROW, "summary"),
            listed(EVENT_ROW, "description"),
            listed(EVENT_ROW, "date"),
            listed(EVENT_ROW, "end_date"),
            Column(
                "order_hint",
                INTEGER,
                "Orders events whose dates cannot (lower first). An undated capture, "
                "disappearance, custody, birth in captivity or appropriation comes before "
                "every dated event, any other undated event after them. Empty: 0.",
            ),
            listed(EVENT_ROW, "place", ref="places"),
            listed(EVENT_ROW, "facility", ref="facilities"),
            listed(EVENT_ROW, "from_facility", ref="facilities"),
            listed(EVENT_ROW, "operation"),
            listed(EVENT_ROW, "unnamed_count", note="Empty: 0."),
            listed(EVENT_ROW, "unnamed_description"),
            listed(EVENT_ROW, "custody_end_reason"),
            listed(EVENT_ROW, "release_kind"),
            listed(EVENT_ROW, "death_circumstances"),
            listed(EVENT_ROW, "batch", ref="release_batches"),
            listed(EVENT_ROW, "reengagement"),
            listed(EVENT_ROW, "role"),
            listed(EVENT_ROW, "strength_estimate"),
            listed(EVENT_ROW, "strength_note"),
            listed(EVENT_ROW, "claim_status", note=CLAIM_STATUS_EMPTY),
            internal_notes(),
        ),
    ),
    Table(
        "event_people",
        EventPerson,
        "People in events",
        "Named people in an event and their part, in the order entered.",
        (
            id_column("link"),
            ref("event", "events", "The event.", required=True),
            ref("person", "persons", "The person.", required=True),
            Column("role", ENUM, "Their part. Empty: subject."),
            Column("capacity", TEXT, "In what capacity, e.g. President of Afghanistan."),
            Column("note", TEXT, "Public note."),
            Column(
                "age",
                INTEGER,
                "Age at this event as the source gives it (0 to 120), e.g. a register's age at "
                "detention. Empty: not given.",
                minimum=0,
            ),
        ),
    ),
    Table(
        "event_organizations",
        EventOrganization,
        "Organizations in events",
        "Organizations in an event and their part, in the order entered.",
        (
            id_column("link"),
            ref("event", "events", "The event.", required=True),
            ref("organization", "organizations", "The organization.", required=True),
            Column(
                "role",
                ENUM,
                "Its part.",
                required=True,
            ),
            Column("note", TEXT, "Public note."),
        ),
    ),
    Table(
        "affiliations",
        Affiliation,
        "Affiliations",
        "A person's tie to an organization over a period.",
        (
            id_column("affiliation"),
            ref("person", "persons", "The person.", required=True),
            ref("organization", "organizations", "The organization.", required=True),
            Column("role", TEXT, "e.g. top commander in Kunduz."),
            edtf("start", "From."),
            edtf("end", "Until; empty while it continues or when unknown."),
            ref("place", "places", "Where."),
            count("strength_estimate", "Fighters led, as a lower bound."),
            Column("strength_note", TEXT, "The strength as the source says it."),
            claim_status(),
            internal_notes(),
        ),
    ),
    Table(
        "batch_memberships",
        BatchMembership,
        "Batch members",
        "Named people in a release batch: released, not released, or inclusion unknown.",
        (
            id_column("membership"),
            ref("batch", "release_batches", "The batch.", required=True),
            ref("person", "persons", "The person.", required=True),
            Column(
                "inclusion",
                ENUM,
                "Released in it, not released, or unknown.",
                required=True,
            ),
            Column("note", TEXT, "Public note."),
            claim_status(),
        ),
    ),
    Table(
        "relationships",
        Relationship,
        "Relationships",
        "Ties between two people (a parent and child, siblings, spouses, associates, people "
        "captured together), each stored once and shown on both people's pages. Retracted "
        "ones are not exported.",
        (
            id_column("relationship"),
            ref(
                "person",
                "persons",
                "The first person: the parent, grandparent, uncle or aunt in a directed kind.",
                required=True,
            ),
            ref(
                "other",
                "persons",
                "The second person: the child, grandchild, nephew or niece in a directed kind; "
                "never the first person.",
                required=True,
            ),
            Column(
                "kind",
                ENUM,
                "What the first person is to the second: `parent` (of), `grandparent` (of), "
                "`uncle_aunt` (of); the others read alike both ways. One link per pair and kind.",
                required=True,
            ),
            edtf("start", "From (a marriage, an association)."),
            edtf("end", "Until; empty while it continues or when unknown."),
            claim_status(),
            Column("note", TEXT, "Public note, e.g. born in captivity."),
            internal_notes(),
        ),
        extra_filter={"claim_status__in": [c for c in ClaimStatus if c != ClaimStatus.RETRACTED]},
    ),
    Table(
        "citations",
        Citation,
        "Citations",
        "Each ties one fact to one source: exactly one of the fact columns is filled.",
        (
            id_column("citation"),
            ref("source", "sources", "The source.", required=True),
            ref("person", "persons", "Fact: the person as a whole (biography, birth)."),
            ref("person_name", "person_names", "Fact: a name."),
            ref("nationality", "nationalities", "Fact: a nationality."),
            ref("affiliation", "affiliations", "Fact: an affiliation."),
            ref("event", "events", "Fact: an event."),
            ref("facility_control", "facility_controls", "Fact: a control period."),
            ref("batch", "release_batches", "Fact: a release batch."),
            ref("batch_membership", "batch_memberships", "Fact: a batch membership."),
            ref("relationship", "relationships", "Fact: a relationship between two people."),
            Column("aspect", TEXT, "Which part of the fact it supports."),
            Column("quote", TEXT, "The passage, word for word."),
            Column("locator", TEXT, "Page, paragraph or section."),
            Column("accessed_on", DATE, "When the source was read (YYYY-MM-DD)."),
            Column("attribution", TEXT, "Who said it inside the source."),
            internal_notes(),
        ),
        exactly_one_of=CITED_FACTS,
    ),
)

BY_NAME = {table.name: table for table in TABLES}
COUNTRY_CODES = frozenset(code for code, _ in countries)


def field_schema(column: Column) -> dict:
    """The Frictionless Table Schema field for a column."""
    schema = {
        "name": column.name,
        "type": FRICTIONLESS_TYPES[column.type],
        "description": column.description,
    }
    constraints = {}
    if column.type == ID:
        schema["format"] = "uuid"
        constraints["required"] = True
        constraints["unique"] = True
    elif column.type == REF:
        schema["format"] = "uuid"
    if column.required:
        constraints["required"] = True
    if column.choices and column.type == CODES:
        codes = "|".join(column.choices)
        constraints["pattern"] = f"({codes})({CODES_SEPARATOR}({codes}))*"
    elif column.choices:
        constraints["enum"] = list(column.choices)
    if column.type == COUNTRY:
        constraints["pattern"] = "[A-Z]{2}"
    if column.minimum is not None:
        constraints["minimum"] = column.minimum
    if column.maximum is not None:
        constraints["maximum"] = column.maximum
    if constraints:
        schema["constraints"] = constraints
    return schema


def table_schema(table: Table) -> dict:
    """The Frictionless Table Schema of a table as exported."""
    foreign_keys = [
        {
            "fields": column.name,
            "reference": {
                "resource": "" if column.ref == table.name else column.ref,
                "fields": "id",
            },
        }
        for column in table.exported_columns
        if column.type == REF
    ]
    schema = {
        "fields": [field_schema(c) for c in table.exported_columns],
        "missingValues": [""],
        "primaryKey": ["id"],
    }
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return schema


def _check_order() -> None:
    """Each table refers only to itself or to tables before it: the order of import."""
    seen = set()
    for table in TABLES:
        for column in table.refs():
            assert column.ref in seen or column.ref == table.name, (table.name, column.name)
        seen.add(table.name)


_check_order()


TYPE_WORDS = {
    ID: "id",
    TEXT: "text",
    COUNTRY: "country code",
    EDTF: "fuzzy date",
    INTEGER: "whole number",
    NUMBER: "number",
    BOOLEAN: "true/false",
    DATE: "day (YYYY-MM-DD)",
}


def _type_words(column: Column) -> str:
    if column.type == REF:
        return f"id in `{column.ref}`"
    if column.type == ENUM:
        return "one of " + ", ".join(f"`{c}`" for c in column.choices)
    if column.type == CODES:
        return "any of " + ", ".join(f"`{c}`" for c in column.choices) + ", `;`-separated"
    return TYPE_WORDS[column.type]


def spec_markdown() -> str:
    """The column specification as the README gives it (`manage.py export --spec` prints it)."""
    parts = []
    for table in TABLES:
        parts.append(f"#### `{table.name}`: {table.title}\n\n{table.description}\n")
        if table.exactly_one_of:
            names = ", ".join(f"`{n}`" for n in table.exactly_one_of)
            parts.append(f"Exactly one of {names} is filled.\n")
        parts.append("| column | type | required | meaning |\n|---|---|---|---|")
        for column in table.columns:
            required = "yes" if column.required or column.type == ID else ""
            parts.append(
                f"| `{column.name}` | {_type_words(column)} | {required} | {column.description} |"
            )
        parts.append("")
    return "\n".join(parts)
