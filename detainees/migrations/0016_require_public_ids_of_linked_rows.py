import uuid

import django.contrib.postgres.functions
from django.db import migrations, models

MODELS = [
    "personname",
    "nationality",
    "organizationname",
    "facilitycontrol",
    "eventperson",
    "eventorganization",
    "batchmembership",
    "citation",
]


# Rows inserted in SQL (scripts, bulk loads) get a UUID from the database's default.
class Migration(migrations.Migration):
    dependencies = [
        ("detainees", "0015_fill_public_ids_of_linked_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name=name,
            name="public_id",
            field=models.UUIDField(
                db_default=django.contrib.postgres.functions.RandomUUID(),
                default=uuid.uuid4,
                editable=False,
                help_text="Permanent identifier used in exports and imports; never changes.",
                unique=True,
            ),
        )
        for name in MODELS
    ]
