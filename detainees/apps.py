from django.apps import AppConfig


class DetaineesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "detainees"
    verbose_name = "Detainee records"
