from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "zhucheng.appeals"
    label = "appeals"
    verbose_name = _("民意诉求与信访")
    default_auto_field = "django.db.models.BigAutoField"
