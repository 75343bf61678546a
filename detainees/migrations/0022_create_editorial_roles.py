"""Create the Researcher, Editor and Admin groups with the permissions detainees/domain/roles.py lists.

The publish and withdraw permissions, and any other the groups need that Django has not created
yet (it does so only after all migrations ran), are created here first.
"""

from django.db import migrations


def create_roles(apps, schema_editor):
    from detainees.domain.roles import ensure_roles

    ensure_roles(apps, using=schema_editor.connection.alias, reset=True)


def remove_roles(apps, schema_editor):
    from detainees.domain.roles import ROLES

    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("detainees", "0021_add_review_comments_and_corrections"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
