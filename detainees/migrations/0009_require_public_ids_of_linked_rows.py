import uuid

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


class Migration(migrations.Migration):
    dependencies = [
        ("detainees", "0008_fill_public_ids_of_linked_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name=name,
            name="public_id",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="Permanent identifier used in exports and imports; never changes.",
                unique=True,
            ),
        )
        for name in MODELS
    ]
