# Names, nationalities, links, controls, memberships and citations get a permanent UUID, so data
# packages and imports can refer to every row (a citation to the name it supports). Added
# nullable here, filled by 0008 and made unique and required by 0009.
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
        ("detainees", "0013_track_merge_redirects"),
    ]

    operations = [
        migrations.AddField(
            model_name=name,
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        )
        for name in MODELS
    ]
