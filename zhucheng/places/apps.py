from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "zhucheng.places"
    label = "places"
    verbose_name = _("区划与网格")

    def ready(self) -> None:
        from . import signals  # noqa: F401
