from django.db import migrations

# An organization's page lists the events it had each role in ("ordered by", "custodian"...).
# PostgreSQL estimated an organization's links in one role as its share of all links times
# that role's share: 27,827 releases ordered by an interior ministry that ordered none, at
# 1,000,000 events, so it walked every release in date order looking for them (7 s). The
# combinations' own frequencies (an MCV list long enough to hold every organization's roles)
# give it the real number; ANALYZE, which fills them, runs here once and then as autovacuum
# decides.
FORWARD = [
    "CREATE STATISTICS eventorg_org_role_stats (mcv, dependencies) "
    "ON organization_id, role FROM detainees_eventorganization",
    "ALTER STATISTICS eventorg_org_role_stats SET STATISTICS 1000",
    "ANALYZE detainees_eventorganization",
]
BACKWARD = ["DROP STATISTICS eventorg_org_role_stats"]


class Migration(migrations.Migration):
    dependencies = [("detainees", "0042_store_one_value_facet_counts")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
