from django.db import migrations

from detainees.read.search import refresh_search_keys

KEYED_MODELS = ["PersonName", "Organization", "OrganizationName", "Facility", "Place"]


def fill_search_keys(apps, schema_editor):
    models = [apps.get_model("detainees", name) for name in KEYED_MODELS]
    refresh_search_keys(models=models)


class Migration(migrations.Migration):

    dependencies = [
        ('detainees', '0002_add_search_keys'),
    ]

    operations = [
        # Backwards there is nothing to undo: the keys are derived, and reversing 0002 drops them.
        migrations.RunPython(fill_search_keys, migrations.RunPython.noop),
    ]
