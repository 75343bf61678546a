"""Sources and the citations that tie each fact to the passage that says it."""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Upper
from django.db.models.lookups import Exact

from detainees.domain.fuzzydates import fuzzy_date_constraints
from detainees.domain.links import UUID, record_url

from .common import (
    Publishable,
    choices_check,
    fuzzy_date_fields,
    public_id_field,
    publication_constraints,
)

# The text search configuration (migration 0002): English stemming, accents ignored.
SEARCH_CONFIG = "detainees_search"


class SourceKind(models.TextChoices):
    PRESS_RELEASE = "press_release", "Press release"
    NEWS_REPORT = "news_report", "News report"
    ANALYSIS = "analysis", "Analysis or research article"
    OFFICIAL_STATEMENT = "official_statement", "Official statement"
    COURT_DOCUMENT = "court_document", "Court document"
    GOVERNMENT_DOCUMENT = "government_document", "Government document"
    DETAINEE_LIST = "detainee_list", "Detainee list"
    NGO_REPORT = "ngo_report", "NGO report"
    INTERVIEW = "interview", "Interview"
    OTHER = "other", "Other"


class HttpsURLField(models.URLField):
    """A URL typed without a scheme is taken as https (Django 6.0's default, chosen now)."""

    def formfield(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        return super().formfield(**kwargs)


class Source(Publishable):
    """A document a fact comes from: press release, news report, statement, list, interview."""

    Kind = SourceKind

    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=500)
    publisher = models.ForeignKey(
        "detainees.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="published_sources",
    )
    author = models.CharField(max_length=300, blank=True)
    url = HttpsURLField(max_length=1000, blank=True)
    archived_url = HttpsURLField(max_length=1000, blank=True)
    published, published_earliest, published_latest, published_as_written = fuzzy_date_fields(
        "published", "publication date"
    )
    language = models.CharField(max_length=20, blank=True, help_text="Language tag, e.g. en, ps.")
    reference_number = models.CharField(
        max_length=100, blank=True, help_text="The publisher's own reference, e.g. 2011-04-S-034."
    )
    is_confidential = models.BooleanField(
        default=False,
        help_text="Private: a confidential source is never published or shown publicly, "
        "nor are its citations.",
    )
    summary = models.TextField(blank=True)
    full_text = models.TextField(
        blank=True, help_text="The whole text, where its licence lets us keep and show it."
    )
    rights = models.TextField(
        "attribution and licence",
        blank=True,
        help_text="Whom to credit and under which licence, wherever the text or data is shown.",
    )
    import_key = models.CharField(
        max_length=120,
        blank=True,
        default="",
        editable=False,
        help_text="Identifies the source in the file an importer read, so a second run finds it: "
        "the publisher's reference, or the date and a hash of the text where there is none.",
    )
    search_vector = models.GeneratedField(
        expression=SearchVector("title", "reference_number", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["title"]
        # Serves detainees.read.search.search_sources.
        indexes = [
            GinIndex(fields=["search_vector"], name="source_search_vector"),
            # Search also matches a reference number typed whole, in any case.
            models.Index(Upper("reference_number"), name="source_reference_upper"),
        ]
        constraints = [
            *publication_constraints("source"),
            *fuzzy_date_constraints("published", "source"),
            choices_check("kind", SourceKind, "source_kind_valid"),
            models.CheckConstraint(condition=~Q(title=""), name="source_title_not_empty"),
            models.CheckConstraint(
                condition=~Q(is_confidential=True, status="published"),
                name="source_confidential_never_published",
                violation_error_message="A confidential source cannot be published.",
            ),
            models.UniqueConstraint(
                fields=["publisher", "reference_number"],
                condition=~Q(reference_number=""),
                name="source_unique_reference_per_publisher",
                violation_error_message="This publisher already has a source with this reference.",
            ),
            models.UniqueConstraint(
                fields=["import_key"],
                condition=~Q(import_key=""),
                name="source_unique_import_key",
                violation_error_message="Another source was imported with the same key.",
            ),
            models.UniqueConstraint(
                fields=["url"],
                condition=~Q(url=""),
                name="source_unique_url",
                violation_error_message="A source with this URL already exists.",
            ),
        ]

    def get_absolute_url(self):
        return record_url("detainees:source-detail", self.public_id, UUID)

    @classmethod
    def public_q(cls, prefix: str = "") -> Q:
        """Published and not confidential (a confidential source cannot be published either:
        a database constraint; this says it where every reader looks)."""
        return super().public_q(prefix) & Q(**{f"{prefix}is_confidential": False})

    @property
    def is_public(self) -> bool:
        return self.is_published and not self.is_confidential

    def __str__(self):
        return self.title


# The fact: exactly one of these is set (checked in the database).
CITED_FACTS = (
    "person",
    "person_name",
    "nationality",
    "affiliation",
    "event",
    "facility_control",
    "batch",
    "batch_membership",
    "relationship",
)


def citations_prefetch(lookup: str = "citations") -> models.Prefetch:
    """A row's citations with their sources and publishers, in one query whatever they hold.

    Three chained prefetches ("citations__source__publisher") run a query per level only where
    the level above found rows, so the count of queries would depend on the data; a join does
    not. A new Prefetch each time: Django rewrites a Prefetch nested in another's queryset.
    """
    return models.Prefetch(lookup, queryset=Citation.objects.select_related("source__publisher"))


class Citation(models.Model):
    """Ties one fact to one source: the quoted passage, where it is, and who said it."""

    FACT_FIELDS = CITED_FACTS
    public_id = public_id_field()
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations")
    person = models.ForeignKey(
        "detainees.Person",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
        help_text="For facts about the person as a whole (biography, gender, birth).",
    )
    person_name = models.ForeignKey(
        "detainees.PersonName",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    nationality = models.ForeignKey(
        "detainees.Nationality",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    affiliation = models.ForeignKey(
        "detainees.Affiliation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    event = models.ForeignKey(
        "detainees.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    facility_control = models.ForeignKey(
        "detainees.FacilityControl",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    batch = models.ForeignKey(
        "detainees.ReleaseBatch",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    batch_membership = models.ForeignKey(
        "detainees.BatchMembership",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    relationship = models.ForeignKey(
        "detainees.Relationship",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citations",
    )
    aspect = models.CharField(
        max_length=200,
        blank=True,
        help_text="Which part of the fact this supports, e.g. 'names the captive'.",
    )
    quote = models.TextField(blank=True, help_text="The passage, word for word.")
    locator = models.CharField(max_length=100, blank=True, help_text="Page, paragraph or section.")
    accessed_on = models.DateField(null=True, blank=True)
    attribution = models.CharField(
        max_length=300,
        blank=True,
        help_text="Who said it inside the source, e.g. 'Kunduz police chief, to Pajhwok'.",
    )
    internal_notes = models.TextField(blank=True, help_text="Private.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Exact(
                    Func(
                        *[F(f"{name}_id") for name in CITED_FACTS],
                        function="num_nonnulls",
                        output_field=models.IntegerField(),
                    ),
                    1,
                ),
                name="citation_cites_exactly_one_fact",
                violation_error_message="A citation supports exactly one fact.",
            ),
        ]

    def __str__(self):
        where = f", {self.locator}" if self.locator else ""
        return f"{self.source}{where}"

    @property
    def fact(self):
        for name in self.FACT_FIELDS:
            if getattr(self, f"{name}_id") is not None:
                return getattr(self, name)
        return None
