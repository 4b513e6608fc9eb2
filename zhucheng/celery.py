"""Celery application: Redis broker in production, eager (in-process) by default."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhucheng.settings")

app = Celery("zhucheng")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
