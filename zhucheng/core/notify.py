"""One notification interface with pluggable channels (console, SMS, e-mail, WeChat, in-app).

``notify(recipient=…, text=…)`` is called inside a service's transaction; sending happens
after commit through a Celery task (eager by default), retried on failure, and a failed send
never undoes or blocks the act that caused it.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from celery import shared_task
from django.conf import settings
from django.db import transaction

logger = logging.getLogger("zhucheng.notify")


@dataclass(frozen=True)
class Message:
    channel: str
    address: str
    text: str
    subject: str = ""


class Channel(Protocol):
    def send(self, message: Message) -> None: ...


class ConsoleChannel:
    def send(self, message: Message) -> None:
        logger.warning("[%s → %s] %s %s", message.channel, message.address, message.subject, message.text)


class SmsChannel:
    def send(self, message: Message) -> None:
        from zhucheng.accounts.sms import get_backend

        get_backend().send(message.address, message.text)


class MemoryChannel:
    """Collects messages (tests)."""

    sent: list[Message] = []

    def send(self, message: Message) -> None:
        MemoryChannel.sent.append(message)


CHANNELS: dict[str, type] = {"console": ConsoleChannel, "sms": SmsChannel, "memory": MemoryChannel}


def _deliver(message: Message) -> None:
    enabled = settings.ZHUCHENG_NOTIFY_CHANNELS
    name = message.channel if message.channel in enabled else "console"
    CHANNELS[name]().send(message)


@shared_task(bind=True, max_retries=5, default_retry_delay=60, ignore_result=True)
def deliver_task(self: Any, channel: str, address: str, text: str, subject: str = "") -> None:
    try:
        _deliver(Message(channel, address, text, subject))
    except Exception as exc:
        if getattr(self.request, "is_eager", False):
            logger.exception("notification via %s to %s failed; not retried in eager mode", channel, address)
            return
        raise self.retry(exc=exc) from exc


_muted: contextvars.ContextVar[bool] = contextvars.ContextVar("zhucheng_notify_muted", default=False)


@contextmanager
def muted() -> Iterator[None]:
    """Send nothing inside this block (demo seeding, bulk imports of historical records)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def notify(*, channel: str, address: str, text: str, subject: str = "") -> None:
    """Queue a notification to go out after the current transaction commits."""
    if _muted.get():
        return

    def send() -> None:
        try:
            deliver_task.delay(channel, address, text, subject)
        except Exception:  # a broker outage must not break the act that caused the message
            logger.exception("could not queue a notification via %s", channel)

    transaction.on_commit(send)
