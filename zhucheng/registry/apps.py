from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "zhucheng.registry"
    label = "registry"
    verbose_name = _("全员人口")
    default_auto_field = "django.db.models.BigAutoField"
