# Records withdrawn before reasons were asked for get a neutral public reason, so that the
# constraint of 0009 holds. Editors can replace it with the real one.

from django.db import migrations

PUBLISHABLE = (
    "Affiliation",
    "Event",
    "Facility",
    "Organization",
    "Person",
    "Place",
    "ReleaseBatch",
    "Source",
)
FILLER = "Withdrawn before reasons were recorded."


def fill(apps, schema_editor):
    for name in PUBLISHABLE:
        model = apps.get_model("detainees", name)
        model.objects.filter(status="withdrawn", withdrawal_reason="").update(
            withdrawal_reason=FILLER
        )


def unfill(apps, schema_editor):
    for name in PUBLISHABLE:
        model = apps.get_model("detainees", name)
        model.objects.filter(withdrawal_reason=FILLER).update(withdrawal_reason="")


class Migration(migrations.Migration):

    dependencies = [
        ("detainees", "0007_add_withdrawal_reason"),
    ]

    operations = [migrations.RunPython(fill, unfill)]
