from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "zhucheng.care"
    label = "care"
    verbose_name = _("特殊人群关爱")
    default_auto_field = "django.db.models.BigAutoField"
