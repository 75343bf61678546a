"""Minimal valid records; tests set only what they are about."""

import factory

from detainees.domain.models import (
    Affiliation,
    BatchMembership,
    Citation,
    Event,
    EventPerson,
    Facility,
    FacilityControl,
    Nationality,
    Organization,
    Person,
    PersonName,
    Place,
    Relationship,
    ReleaseBatch,
    Source,
)


class RecordFactory(factory.django.DjangoModelFactory):
    """A withdrawn record needs a public reason (a database constraint); tests get one."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("status") == "withdrawn":
            kwargs.setdefault("withdrawal_reason", "Withdrawn in a test.")
        return super()._create(model_class, *args, **kwargs)


class OrganizationFactory(RecordFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    kind = Organization.Kind.ARMED_GROUP


class CountryFactory(RecordFactory):
    class Meta:
        model = Place
        django_get_or_create = ("country", "kind")

    name = "Afghanistan"
    kind = Place.Kind.COUNTRY
    country = "AF"


class PlaceFactory(RecordFactory):
    class Meta:
        model = Place

    name = factory.Sequence(lambda n: f"Province {n}")
    kind = Place.Kind.PROVINCE
    parent = factory.SubFactory(CountryFactory)
    country = "AF"


class FacilityFactory(RecordFactory):
    class Meta:
        model = Facility

    name = factory.Sequence(lambda n: f"Facility {n}")


class FacilityControlFactory(RecordFactory):
    class Meta:
        model = FacilityControl

    facility = factory.SubFactory(FacilityFactory)
    controller = factory.SubFactory(OrganizationFactory)


class PersonFactory(RecordFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    @factory.post_generation
    def name(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            PersonName.objects.create(
                person=obj, name=extracted or f"Person {obj.pk}", is_primary=True
            )


class NationalityFactory(RecordFactory):
    class Meta:
        model = Nationality

    person = factory.SubFactory(PersonFactory)
    country = "UZ"


class AffiliationFactory(RecordFactory):
    class Meta:
        model = Affiliation

    person = factory.SubFactory(PersonFactory)
    organization = factory.SubFactory(OrganizationFactory)


class EventFactory(RecordFactory):
    class Meta:
        model = Event

    kind = Event.Kind.CAPTURE
    date = "2011-04-20"


class EventPersonFactory(RecordFactory):
    class Meta:
        model = EventPerson

    event = factory.SubFactory(EventFactory)
    person = factory.SubFactory(PersonFactory)
    role = EventPerson.Role.SUBJECT


class ReleaseBatchFactory(RecordFactory):
    class Meta:
        model = ReleaseBatch

    title = factory.Sequence(lambda n: f"Batch {n}")
    date = "2014-02"


class BatchMembershipFactory(RecordFactory):
    class Meta:
        model = BatchMembership

    batch = factory.SubFactory(ReleaseBatchFactory)
    person = factory.SubFactory(PersonFactory)
    inclusion = BatchMembership.Inclusion.UNKNOWN


class RelationshipFactory(RecordFactory):
    class Meta:
        model = Relationship

    person = factory.SubFactory(PersonFactory)
    other = factory.SubFactory(PersonFactory)
    kind = Relationship.Kind.SIBLING


class SourceFactory(RecordFactory):
    class Meta:
        model = Source

    kind = Source.Kind.NEWS_REPORT
    title = factory.Sequence(lambda n: f"Report {n}")


class CitationFactory(RecordFactory):
    class Meta:
        model = Citation

    source = factory.SubFactory(SourceFactory)
    event = factory.SubFactory(EventFactory)
    quote = "a quoted passage"
