"""The test loop's own machinery (tests/conftest.py): the shared demo, rolled back for other tests
and loaded again, and the quick flush after a test that commits, which must leave every table as
Django's TRUNCATE does."""

import pytest
from django.apps import apps
from django.core.management import call_command

from detainees.domain.models import Person
from detainees.write.demo import load_demo
from tests.conftest import SharedDemo


def test_the_shared_demo_is_rolled_back_and_loaded_again(django_db_setup, django_db_blocker):
    shared = SharedDemo(django_db_blocker)

    def people() -> int:
        with django_db_blocker.unblock():
            return Person.objects.count()

    try:
        shared.load()
        shared.load()  # already loaded: nothing is written twice
        assert people() > 0
        assert shared.loads == 1
        shared.drop()
        assert people() == 0
        shared.load()
        assert people() > 0
        assert shared.loads == 2
    finally:
        shared.drop()
    assert people() == 0


@pytest.mark.django_db(transaction=True)
def test_the_flush_after_a_committing_test_empties_every_table_history_included():
    load_demo()
    models = list(apps.get_app_config("detainees").get_models())
    history = [model for model in models if model.__name__.endswith("History")]
    assert any(model._base_manager.exists() for model in history)

    call_command("flush", verbosity=0, interactive=False)

    assert [model for model in models if model._base_manager.exists()] == []
    # What migrations put in (the editorial groups) comes back, as after Django's own flush.
    assert apps.get_model("auth", "Group").objects.filter(name="Editor").exists()
