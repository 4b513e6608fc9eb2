"""筑城 Zhucheng: a city's social-governance platform."""

from .celery import app as celery_app

__all__ = ("celery_app",)
