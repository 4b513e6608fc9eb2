"""Notifications go out after commit, never on rollback, and a failing channel does not break the act."""

from __future__ import annotations

import pytest
from django.db import transaction

from zhucheng.core import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def memory_channel(settings):
    settings.ZHUCHENG_NOTIFY_CHANNELS = ["memory"]
    notify.MemoryChannel.sent.clear()
    yield notify.MemoryChannel.sent
    notify.MemoryChannel.sent.clear()


def test_sent_after_commit(memory_channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(channel="memory", address="13800138000", text="您的诉求已受理")
        assert memory_channel == []
    assert memory_channel[0].text == "您的诉求已受理"


def test_not_sent_on_rollback(memory_channel):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify.notify(channel="memory", address="13800138000", text="不应发出")
        raise RuntimeError("act failed")
    assert memory_channel == []


def test_failing_channel_does_not_raise(settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.ZHUCHENG_NOTIFY_CHANNELS = ["memory"]

    def boom(self, message):
        raise ConnectionError("gateway down")

    monkeypatch.setattr(notify.MemoryChannel, "send", boom)
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(channel="memory", address="13800138000", text="x")


def test_unknown_or_disabled_channel_falls_back_to_console(settings, caplog, django_capture_on_commit_callbacks):
    settings.ZHUCHENG_NOTIFY_CHANNELS = ["console"]
    with django_capture_on_commit_callbacks(execute=True):
        notify.notify(channel="wechat", address="openid-1", text="模板消息")
    assert "模板消息" in caplog.text
