# The days each people row's captures and custody episodes, and its releases, may have
# happened on, stored with the row as a datemultirange (GiST-indexed): the list's "captured" and
# "released" date filters overlap one column instead of searching each person's events.
# The next install of the refresh function (after migrate) recomputes every row, filling them.

import django.contrib.postgres.indexes
from django.db import migrations, models

import detainees.domain.models.listing


class Migration(migrations.Migration):
    dependencies = [
        ("detainees", "0044_store_deciding_events_in_people_listing"),
    ]

    operations = [
        migrations.AddField(
            model_name="personlisting",
            name="capture_spans",
            field=detainees.domain.models.listing.DateMultiRangeField(
                db_default=models.Value("{}"), default="{}"
            ),
        ),
        migrations.AddField(
            model_name="personlisting",
            name="release_spans",
            field=detainees.domain.models.listing.DateMultiRangeField(
                db_default=models.Value("{}"), default="{}"
            ),
        ),
        migrations.AddIndex(
            model_name="personlisting",
            index=django.contrib.postgres.indexes.GistIndex(
                fields=["capture_spans"], name="listing_capture_spans_gist"
            ),
        ),
        migrations.AddIndex(
            model_name="personlisting",
            index=django.contrib.postgres.indexes.GistIndex(
                fields=["release_spans"], name="listing_release_spans_gist"
            ),
        ),
    ]
