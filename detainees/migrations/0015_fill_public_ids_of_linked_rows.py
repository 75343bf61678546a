# One random UUID per existing row (RandomUUID is evaluated per row, unlike a Python default).
from django.contrib.postgres.functions import RandomUUID
from django.db import migrations

MODELS = [
    "PersonName",
    "Nationality",
    "OrganizationName",
    "FacilityControl",
    "EventPerson",
    "EventOrganization",
    "BatchMembership",
    "Citation",
]


def fill(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("detainees", name)
        model.objects.filter(public_id__isnull=True).update(public_id=RandomUUID())


class Migration(migrations.Migration):
    dependencies = [
        ("detainees", "0014_add_public_ids_to_linked_rows"),
    ]

    # Going back, 0007's reversal drops the column: nothing to undo here.
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
