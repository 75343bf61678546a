"""People, the names they go by, their nationalities and their affiliations."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Collate, Greatest, Least
from django.db.models.lookups import Regex
from django_countries.fields import CountryField

from detainees.domain.fuzzydates import fuzzy_date_constraints
from detainees.domain.links import UUID, record_url
from detainees.domain.names import fill_search_key

from .common import (
    ClaimStatus,
    Publishable,
    PublishableQuerySet,
    choices_check,
    claim_constraints,
    claim_status_field,
    fuzzy_date_fields,
    public_id_field,
    publication_constraints,
    search_key_field,
    search_key_index,
    unique_slug,
)
from .editorial import Correction
from .events import BatchMembership, ReleaseBatch, subject_events_prefetch
from .organizations import Organization
from .sources import citations_prefetch


def names_problem(
    primaries: list[bool], *, is_placeholder: bool, name_withheld: bool = False
) -> str | None:
    """The one rule on a person's names, for the admin, the API and the importer alike: a person
    has names, exactly one of them primary, unless the person is a placeholder (an unnamed
    person kept until identified) or one whose name the source withholds, who may have none.
    `primaries` holds each name's `is_primary`. Returns the problem, or None."""
    if not primaries:
        if is_placeholder or name_withheld:
            return None
        return (
            "A person needs at least one name. Record someone whose name is not known as a "
            "placeholder (is_placeholder), and one whose name the source withholds with "
            "withheld: name."
        )
    if sum(primaries) != 1:
        return "Mark exactly one name as primary."
    return None


# How many other members of each of a person's release batches the person page names.
RELATED_PER_BATCH = 20


class PersonQuerySet(PublishableQuerySet):
    def with_primary_name(self):
        """Prefetch names so `person.primary_name` costs no query per row."""
        return self.prefetch_related("names")

    def with_timeline(self, *, public: bool = False, batch_members: bool = False):
        """Everything a person's record reads (timeline, status line, warnings, the page's facts,
        footnotes and corrections) in a fixed number of queries.

        The one shape of that prefetch, for the admin (facts in any state: it shows drafts) and,
        with `public`, for the person page and the API (`detainees.read.person`): the same
        relations, loaded alike, holding published facts only and public linked records only;
        published events and affiliations that were retracted stay, for the timeline to show
        them marked. Citations are all loaded; a public reader keeps those whose source is
        public. With `batch_members`, also the first members of each of the person's batches
        (`batch.public_memberships`), which only the page lists: a batch can hold hundreds.
        """
        nationalities = Nationality.objects.all()
        affiliations = Affiliation.objects.all()
        # A relationship is stored once and shown from both sides: the person's own ties, and
        # those that name the person as the other one.
        ties = Relationship.objects.all()
        ties_as_other = Relationship.objects.all()
        memberships = BatchMembership.objects.all()
        members = BatchMembership.objects.all()
        corrections = Correction.objects.all()
        if public:
            nationalities = nationalities.exclude(claim_status=ClaimStatus.RETRACTED)
            affiliations = affiliations.published().filter(Organization.public_q("organization__"))
            # A relationship to someone not public is left out whole: the page never names them.
            ties = ties.filter(Relationship.public_q())
            ties_as_other = ties_as_other.filter(Relationship.public_q())
            memberships = memberships.filter(ReleaseBatch.public_q("batch__"))
            members = members.filter(Person.public_q("person__"))
            # The date and the note: who made a correction stays with the editors.
            corrections = corrections.public()
        memberships = memberships.select_related("batch__ordered_by").prefetch_related(
            citations_prefetch()
        )
        if batch_members:
            memberships = memberships.prefetch_related(
                models.Prefetch(
                    "batch__first_memberships",
                    # The first few only: a batch can name hundreds, who belong on its own page.
                    # One more than shown, and the person, to know whether there are more.
                    queryset=members.select_related("person")
                    .prefetch_related("person__names")
                    .order_by("pk")[: RELATED_PER_BATCH + 2],
                    to_attr="public_memberships",
                )
            )
        # The birthplace with the places it lies in, which the page names after it.
        return self.select_related("birthplace__parent__parent").prefetch_related(
            # Each name with its citations: where each alias comes from.
            models.Prefetch(
                "names", queryset=PersonName.objects.prefetch_related(citations_prefetch())
            ),
            models.Prefetch(
                "nationalities",
                queryset=nationalities.prefetch_related(citations_prefetch()).order_by("country"),
            ),
            models.Prefetch(
                "affiliations",
                queryset=affiliations.select_related("organization", "place")
                .prefetch_related(citations_prefetch())
                .order_by("start_earliest", "pk"),
            ),
            subject_events_prefetch(public=public),
            models.Prefetch("batch_memberships", queryset=memberships),
            models.Prefetch(
                "relationships",
                queryset=ties.select_related("other")
                .prefetch_related("other__names", citations_prefetch())
                .order_by("pk"),
            ),
            models.Prefetch(
                "relationships_as_other",
                queryset=ties_as_other.select_related("person")
                .prefetch_related("person__names", citations_prefetch())
                .order_by("pk"),
            ),
            citations_prefetch(),
            models.Prefetch("corrections", queryset=corrections),
        )


class PersonGender(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class PersonWithheld(models.TextChoices):
    """What a source withholds about a person (a name kept back for the person's protection),
    as opposed to what it does not know."""

    NAME = "name", "Name"
    BIRTH = "birth", "Birth date"
    BIRTHPLACE = "birthplace", "Birthplace"
    GENDER = "gender", "Gender"
    NATIONALITY = "nationality", "Nationality"


class PersonFate(models.TextChoices):
    ALIVE = "alive", "Alive"
    DEAD = "dead", "Dead"
    UNKNOWN = "unknown", "Unknown"


class Person(Publishable):
    """Someone the record is about: a detainee, an official who ordered a release, a relative."""

    Gender = PersonGender
    Withheld = PersonWithheld

    Fate = PersonFate

    slug = models.SlugField(max_length=100, unique=True, editable=False)
    gender = models.CharField(max_length=8, choices=Gender.choices, default=Gender.UNKNOWN)
    birth, birth_earliest, birth_latest, birth_as_written = fuzzy_date_fields("birth", "born")
    birthplace = models.ForeignKey(
        "detainees.Place",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where the person was born.",
    )
    withheld = ArrayField(
        models.CharField(max_length=16, choices=Withheld.choices),
        default=list,
        blank=True,
        help_text="What the source withholds (e.g. the name, for the person's protection), "
        "rather than does not know.",
    )
    biography = models.TextField(blank=True, help_text="Short public biography.")
    is_placeholder = models.BooleanField(
        default=False,
        help_text='An unnamed person ("one of two associates") kept until identified and merged.',
    )
    # What the record concludes of the person's fate, apart from the events: registers of the
    # disappeared distinguish a death proven (remains identified, a death certificate) from one
    # reported or inferred, which fate_claim_status says (confirmed for proven).
    fate = models.CharField(
        max_length=8,
        choices=Fate.choices,
        default=Fate.UNKNOWN,
        db_default=Fate.UNKNOWN,
        help_text="Alive, dead or unknown, as the record concludes.",
    )
    fate_claim_status = models.CharField(
        "fate claim status",
        max_length=10,
        choices=ClaimStatus.choices,
        default=ClaimStatus.REPORTED,
        db_default=ClaimStatus.REPORTED,
        help_text="How sure the fate is: confirmed for a death proven (remains identified, "
        "a death certificate); reported or inferred for one not proven.",
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "people"
        ordering = ["slug"]
        constraints = [
            *publication_constraints("person"),
            *fuzzy_date_constraints("birth", "person"),
            choices_check("gender", PersonGender, "person_gender_valid"),
            models.CheckConstraint(
                condition=Q(withheld__contained_by=PersonWithheld.values),
                name="person_withheld_valid",
                violation_error_message="Withheld lists only name, birth, birthplace, gender "
                "and nationality.",
            ),
            choices_check("fate", PersonFate, "person_fate_valid"),
            choices_check("fate_claim_status", ClaimStatus, "person_fate_claim_status_valid"),
        ]
        permissions = [("merge_person", "Can merge persons")]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return record_url("detainees:person-detail", self.slug)

    def get_permalink(self):
        return record_url("detainees:permalink", self.public_id, UUID)

    @property
    def primary_name(self):
        names = list(self.names.all())
        for name in names:
            if name.is_primary:
                return name
        return names[0] if names else None

    @property
    def display_name(self) -> str:
        if self.pk is None:
            return "New person"
        name = self.primary_name
        if name:
            return name.name
        if self.Withheld.NAME in self.withheld:
            return f"Name withheld by the source ({self.public_id.hex[:8]})"
        return f"Unnamed person {self.public_id.hex[:8]}"

    def is_withheld(self, what: str) -> bool:
        """Whether the source withholds this (a `Withheld` value) rather than not knowing it."""
        return what in self.withheld

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(
                self, f"person-{self.public_id.hex[:8]}", reserved=merged_slugs()
            )
        super().save(*args, **kwargs)

    def refresh_slug(self) -> None:
        """Give the slug the primary name once the person has one."""
        name = self.primary_name
        if name is not None and self.slug.startswith("person-"):
            self.slug = unique_slug(self, name.name, reserved=merged_slugs())
            self.save(update_fields=["slug"])


class PersonRedirectQuerySet(models.QuerySet):
    def public_target(self, **old) -> "Person | None":
        """The published person that a published, merged person's old id or slug leads to."""
        found = (
            self.filter(Person.public_q("person__"), was_published=True, **old)
            .select_related("person")
            .first()
        )
        return found.person if found else None


class PersonRedirect(models.Model):
    """A person merged into another: the old public id and slug, and who merged them, why, when.

    Written by `detainees.write.services.merge_persons`. The public person page, the permalink and the
    API's person detail answer the old identifiers with a 301 to the surviving person, but only
    for a person that was published when merged: a draft's identifiers stay unknown (404).
    """

    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="redirects",
        help_text="The surviving person the old identifiers lead to.",
    )
    old_public_id = models.UUIDField(unique=True)
    old_slug = models.SlugField(max_length=100, unique=True)
    old_name = models.CharField(max_length=200, blank=True)
    was_published = models.BooleanField(
        default=False, help_text="Only a person public when merged is redirected publicly."
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, help_text="Private: why the editor merged them.")
    merged_at = models.DateTimeField(auto_now_add=True)

    objects = PersonRedirectQuerySet.as_manager()

    class Meta:
        ordering = ["-merged_at", "pk"]
        verbose_name = "merged person"

    def __str__(self):
        return f"{self.old_name or self.old_slug} → {self.person}"


def merged_slugs():
    """Slugs of merged people: kept for their redirects, never given to another person."""
    return PersonRedirect.objects.annotate(slug=F("old_slug"))


class PersonNameKind(models.TextChoices):
    BIRTH = "birth", "Birth name (full name as registered)"
    MARRIED = "married", "Married name"
    COMMON = "common", "Commonly used name"
    ALIAS = "alias", "Alias"
    KUNYA = "kunya", "Kunya"
    NOM_DE_GUERRE = "nom_de_guerre", "Nom de guerre"
    SPELLING = "spelling", "Spelling or transliteration variant"
    ORIGINAL_SCRIPT = "original_script", "Name in original script"


class PersonName(models.Model):
    """One name a person goes by; exactly one is primary."""

    Kind = PersonNameKind

    public_id = public_id_field()
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(
        max_length=200, help_text="As written, with honorifics such as Qari or Mullah."
    )
    given = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="Given name(s), where the source separates them.",
    )
    family = models.CharField(
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text="Family name(s) or surname, where the source separates them: lists sort by it.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMMON)
    is_primary = models.BooleanField(default=False)
    language = models.CharField(
        max_length=20, blank=True, help_text="Language or script tag, e.g. uz-Cyrl, ps-Arab."
    )
    claim_status = claim_status_field()
    search_key = search_key_field()

    class Meta:
        ordering = ["-is_primary", "name"]
        indexes = [
            search_key_index("personname"),
            # Search finds the nearest keys in PersonNameKey, then their names by equality;
            # in the "C" collation, which the trigram index cannot serve, or the planner, which
            # prices the trigram index as cheap, takes it for `=` at 2-3 ms a key.
            models.Index(Collate("search_key", "C"), name="personname_key_idx"),
        ]
        constraints = [
            choices_check("kind", PersonNameKind, "personname_kind_valid"),
            *claim_constraints("personname"),
            models.CheckConstraint(condition=~Q(name=""), name="personname_not_empty"),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(is_primary=True),
                name="personname_one_primary_per_person",
                violation_error_message="A person has exactly one primary name.",
            ),
            models.UniqueConstraint(
                fields=["person", "name", "kind"],
                name="personname_unique_per_person",
                violation_error_message="This person already has this name.",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        kwargs["update_fields"] = fill_search_key(self, kwargs.get("update_fields"))
        super().save(*args, **kwargs)


class PersonNameKey(models.Model):
    """Each distinct search key of people's names, once. Names repeat (hundreds of thousands of
    names share a few tens of thousands of keys), so search finds the nearest keys here, then the
    names having them by equality. A trigger on PersonName adds new keys; a key whose names
    are all gone matches nobody."""

    key = models.TextField(primary_key=True)

    class Meta:
        indexes = [
            GistIndex(fields=["key"], opclasses=["gist_trgm_ops"], name="personnamekey_trgm")
        ]

    def __str__(self):
        return self.key


class Nationality(models.Model):
    """A nationality a source gives a person."""

    public_id = public_id_field()
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="nationalities")
    country = CountryField()
    claim_status = claim_status_field()

    class Meta:
        ordering = ["pk"]  # the order they were entered in
        verbose_name_plural = "nationalities"
        indexes = [models.Index(fields=["country"], name="nationality_country_idx")]
        constraints = [
            *claim_constraints("nationality"),
            models.CheckConstraint(
                condition=Regex(F("country"), r"^[A-Z]{2}$"),
                name="nationality_country_is_iso_code",
                violation_error_message="Country must be an ISO 3166 two-letter code.",
            ),
            models.UniqueConstraint(
                fields=["person", "country"],
                name="nationality_unique_per_person",
                violation_error_message="This person already has this nationality.",
            ),
        ]

    def __str__(self):
        return self.country.name


class Affiliation(Publishable):
    """A person's tie to an organization over a period, with a role and a strength estimate."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="affiliations")
    organization = models.ForeignKey(
        "detainees.Organization", on_delete=models.PROTECT, related_name="affiliations"
    )
    role = models.CharField(max_length=300, blank=True, help_text="e.g. top commander in Kunduz.")
    start, start_earliest, start_latest, start_as_written = fuzzy_date_fields("start", "from")
    end, end_earliest, end_latest, end_as_written = fuzzy_date_fields(
        "end", "until", help_text="Leave empty while it continues or its end is unknown."
    )
    place = models.ForeignKey(
        "detainees.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    strength_estimate = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fighters led, as a lower bound (300 for '300+')."
    )
    strength_note = models.CharField(max_length=200, blank=True, help_text="As the source says it.")
    claim_status = claim_status_field()

    class Meta:
        ordering = ["person", "start_earliest", "pk"]
        constraints = [
            *publication_constraints("affiliation"),
            *claim_constraints("affiliation"),
            *fuzzy_date_constraints("start", "affiliation"),
            *fuzzy_date_constraints("end", "affiliation"),
            models.CheckConstraint(
                condition=Q(strength_estimate__isnull=True) | Q(strength_estimate__gte=0),
                name="affiliation_strength_not_negative",
                violation_error_message="A strength estimate cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(start_earliest__isnull=True)
                | Q(end_latest__isnull=True)
                | Q(start_earliest__lte=F("end_latest")),
                name="affiliation_ends_after_start",
                violation_error_message="An affiliation cannot end before it starts.",
            ),
        ]

    def __str__(self):
        role = f", {self.role}" if self.role else ""
        return f"{self.organization}{role}"

    @classmethod
    def public_q(cls, prefix: str = "") -> Q:
        """Published, not retracted, between a public person and a public organization."""
        return (
            super().public_q(prefix)
            & ~Q(**{f"{prefix}claim_status": ClaimStatus.RETRACTED})
            & Person.public_q(f"{prefix}person__")
            & Organization.public_q(f"{prefix}organization__")
        )


class RelationshipKind(models.TextChoices):
    """How two people are tied. Directed kinds read from the first person (`person`): "parent"
    means the person is the other's parent; the others read alike from both sides."""

    PARENT = "parent", "Parent of"
    GRANDPARENT = "grandparent", "Grandparent of"
    UNCLE_AUNT = "uncle_aunt", "Uncle or aunt of"
    SIBLING = "sibling", "Sibling of"
    SPOUSE = "spouse", "Spouse or partner of"
    RELATIVE = "relative", "Other relative of"
    ASSOCIATE = "associate", "Associate of"
    CAPTURED_WITH = "captured_with", "Captured with (co-detainee)"


# Kind -> what each side is called, (as the first person, as the other), each as (whoever,
# a man, a woman): the gendered word when the record gives the gender, else the neutral one.
_SYMMETRIC = {
    RelationshipKind.SIBLING: ("sibling of", "brother of", "sister of"),
    RelationshipKind.SPOUSE: ("spouse or partner of",) * 3,
    RelationshipKind.RELATIVE: ("relative of",) * 3,
    RelationshipKind.ASSOCIATE: ("associate of",) * 3,
    RelationshipKind.CAPTURED_WITH: ("captured with",) * 3,
}
RELATIONSHIP_LABELS: dict[str, tuple[tuple[str, str, str], tuple[str, str, str]]] = {
    RelationshipKind.PARENT: (
        ("parent of", "father of", "mother of"),
        ("child of", "son of", "daughter of"),
    ),
    RelationshipKind.GRANDPARENT: (
        ("grandparent of", "grandfather of", "grandmother of"),
        ("grandchild of", "grandson of", "granddaughter of"),
    ),
    RelationshipKind.UNCLE_AUNT: (
        ("uncle or aunt of", "uncle of", "aunt of"),
        ("nephew or niece of", "nephew of", "niece of"),
    ),
    **{kind: (words, words) for kind, words in _SYMMETRIC.items()},
}


def relationship_label(kind: str, *, inverse: bool, gender: str) -> str:
    """What a person is to the other, in the person's words: "mother of", or, from the child's
    side of the same link (`inverse`), "son of"; neutral when the gender is not known."""
    whoever, man, woman = RELATIONSHIP_LABELS[kind][1 if inverse else 0]
    return {PersonGender.MALE: man, PersonGender.FEMALE: woman}.get(gender, whoever)


class RelationshipQuerySet(models.QuerySet):
    def public(self):
        return self.filter(Relationship.public_q())


class Relationship(models.Model):
    """A tie between two people (a mother and her child, siblings held together, a spouse who
    filed the complaint), stored once and shown on both people's pages, each side in its own
    words (`label_for`)."""

    Kind = RelationshipKind

    public_id = public_id_field()
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="relationships",
        help_text="The first person: the parent, grandparent, uncle or aunt in a directed kind.",
    )
    other = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,
        related_name="relationships_as_other",
        help_text="The second person: the child, grandchild, nephew or niece in a directed kind.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    start, start_earliest, start_latest, start_as_written = fuzzy_date_fields("start", "from")
    end, end_earliest, end_latest, end_as_written = fuzzy_date_fields(
        "end", "until", help_text="Leave empty while it continues or its end is unknown."
    )
    claim_status = claim_status_field()
    note = models.CharField(
        max_length=500, blank=True, help_text="Public, e.g. 'born in captivity at Bagram'."
    )
    internal_notes = models.TextField(
        blank=True, help_text="Private: never shown on the public site, API, exports or feeds."
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RelationshipQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]  # the order they were entered in
        constraints = [
            choices_check("kind", RelationshipKind, "relationship_kind_valid"),
            *claim_constraints("relationship"),
            *fuzzy_date_constraints("start", "relationship"),
            *fuzzy_date_constraints("end", "relationship"),
            models.CheckConstraint(
                condition=~Q(person=F("other")),
                name="relationship_not_self",
                violation_error_message="A person cannot be related to themselves.",
            ),
            models.UniqueConstraint(
                fields=["person", "other", "kind"],
                name="relationship_unique",
                violation_error_message="These two people already have this relationship.",
            ),
            # Each link once: not again from the other side (a sibling of a sibling), nor
            # turned round (each the parent of the other).
            models.UniqueConstraint(
                Least("person", "other"),
                Greatest("person", "other"),
                "kind",
                name="relationship_once_per_pair",
                violation_error_message=(
                    "This relationship between these two people is already recorded, "
                    "from the other person's side."
                ),
            ),
            models.CheckConstraint(
                condition=Q(start_earliest__isnull=True)
                | Q(end_latest__isnull=True)
                | Q(start_earliest__lte=F("end_latest")),
                name="relationship_ends_after_start",
                violation_error_message="A relationship cannot end before it starts.",
            ),
        ]

    def __str__(self):
        return f"{self.person} – {self.get_kind_display().lower()} – {self.other}"

    @classmethod
    def public_q(cls, prefix: str = "") -> Q:
        """Not retracted, between two public people."""
        return (
            ~Q(**{f"{prefix}claim_status": ClaimStatus.RETRACTED})
            & Person.public_q(f"{prefix}person__")
            & Person.public_q(f"{prefix}other__")
        )

    @property
    def is_public(self) -> bool:
        """`public_q()` for this one relationship, read from its loaded people."""
        return (
            self.claim_status != ClaimStatus.RETRACTED
            and self.person.is_public
            and self.other.is_public
        )

    def label_for(self, person: Person) -> str:
        """What `person` (either side) is to the other one: "mother of", "son of"."""
        inverse = person.pk == self.other_id
        return relationship_label(self.kind, inverse=inverse, gender=person.gender)

    def other_side(self, person: Person) -> Person:
        """The person at the other end from `person`."""
        return self.person if person.pk == self.other_id else self.other


__all__ = [
    "ClaimStatus",
    "Person",
    "PersonName",
    "PersonRedirect",
    "Nationality",
    "Affiliation",
    "Relationship",
]
