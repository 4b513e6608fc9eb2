from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "zhucheng.exchange"
    label = "exchange"
    verbose_name = _("数据交换与比对")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A person merged into another (人员合并) leaves the registry's lists and searches while the
        # merge stands; undoing the merge brings the record back.
        from zhucheng.registry import selectors as registry_selectors

        from .merge import merged_away_ids, survivor_of

        registry_selectors.register_merges(merged_away=merged_away_ids, merged_into=survivor_of)
