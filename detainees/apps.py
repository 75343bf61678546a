from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate

from detainees.domain.roles import ensure_roles  # imports no model: safe before the registry


def add_role_permissions(sender, app_config, using="default", apps=global_apps, **kwargs):
    """Give the groups any permission roles.py lists that an earlier migrate had not created.

    Also recreates the groups after a test database is flushed (transactional tests); `flush`
    sends the signal without `apps`, as it does to Django's own permission step.
    """
    ensure_roles(apps, using=using)


def install_listing(sender, app_config, using="default", verbosity=1, **kwargs):
    """Keep the stored people list's refresh function in step with its definitions."""
    # Imported on use: Django imports apps.py before the models are ready, and listing_store
    # imports the models.
    from detainees.read import listing_store  # noqa: PLC0415

    listing_store.install(using=using, verbosity=verbosity)


class DetaineesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "detainees"
    verbose_name = "Detainee records"

    def ready(self):
        post_migrate.connect(add_role_permissions, sender=self)
        post_migrate.connect(install_listing, sender=self)
