"""WSGI entry point (gunicorn ``zhucheng.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhucheng.settings")
application = get_wsgi_application()
