"""The shared `demo` fixture (tests/conftest.py): loaded once per file, never seen outside it."""

import pytest

from detainees.domain.models import Event, Person
from detainees.write.demo import PERSON_SLUG

pytestmark = pytest.mark.django_db


def test_a_demo_test_gets_the_whole_case_published(demo):
    bilal = Person.objects.published().get(slug=PERSON_SLUG)
    assert bilal.event_roles.exists()
    assert not Person.objects.exclude(pk__in=Person.objects.published()).exists()


def test_a_demo_test_may_change_the_case(demo):
    Person.objects.filter(slug=PERSON_SLUG).update(slug="changed")
    assert not Person.objects.filter(slug=PERSON_SLUG).exists()


def test_the_next_demo_test_finds_the_case_as_loaded(demo):
    """Runs after the one above in the same file: its changes were undone, not the demo."""
    assert Person.objects.filter(slug=PERSON_SLUG).exists()
    assert not Person.objects.filter(slug="changed").exists()


def test_a_test_without_the_demo_finds_an_empty_database():
    """Written last, run first: the file's demo tests run after every other test in it."""
    assert not Person.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_in_the_same_file_finds_an_empty_database():
    assert not Person.objects.exists()
