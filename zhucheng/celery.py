"""Celery application: Redis broker in production, eager (in-process) by default."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhucheng.settings")

app = Celery("zhucheng")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Periodic jobs, run by `celery beat` when Redis is configured; without it cron runs the commands.
app.conf.beat_schedule = {
    "appeals-sweep-deadlines": {
        "task": "zhucheng.appeals.tasks.sweep_deadlines_task",
        "schedule": crontab(minute="*/15"),  # `./zc manage sweep_deadlines` does the same
    },
    "mediation-open-screening-rounds": {
        "task": "zhucheng.mediation.tasks.open_screening_rounds_task",
        "schedule": crontab(minute=10, hour=0),  # `./zc manage open_screening_rounds`
    },
    "mediation-sweep": {
        "task": "zhucheng.mediation.tasks.mediation_sweep_task",
        "schedule": crontab(minute=0),  # `./zc manage mediation_sweep`
    },
    "registry-expire-permits": {
        "task": "zhucheng.registry.tasks.expire_permits_task",
        "schedule": crontab(minute=20, hour=0),  # `./zc manage expire_permits`
    },
    "participation-flags": {
        "task": "zhucheng.participation.tasks.participation_flags_task",
        "schedule": crontab(minute=20, hour=1),  # missed milestones → community staff
    },
}
