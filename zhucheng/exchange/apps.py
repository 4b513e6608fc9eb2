from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "zhucheng.exchange"
    label = "exchange"
    verbose_name = _("数据交换与比对")
    default_auto_field = "django.db.models.BigAutoField"
