from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "zhucheng.participation"
    label = "participation"
    verbose_name = _("群众点菜")
    default_auto_field = "django.db.models.BigAutoField"
