# The events each people row's dates and status come from, stored with the row: the row's
# citations are theirs, and reading them from the row spares a subquery per person per read.
# The next install of the refresh function (after migrate) recomputes every row.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("detainees", "0043_statistics_of_organization_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="personlisting",
            name="first_capture_event",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="personlisting",
            name="last_release_event",
            field=models.BigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="personlisting",
            name="status_event",
            field=models.BigIntegerField(null=True),
        ),
    ]
