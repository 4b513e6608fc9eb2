"""Schemathesis against ``/api/schema/``, in process (WSGI): no 5xx, and every answer matches the schema.

Bounded so the whole run stays well under three minutes: a fixed number of examples per
operation, derandomized so a failure reproduces. Half the generated ``{id}``s are swapped for
appeals that exist (in every state a life cycle passes through), so the acts run against real
rows and not only the "not found" path.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from zhucheng.appeals import services
from zhucheng.appeals.models import Category, RoutingRule

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 20
IN_A = {"lat": 26.2, "lon": 106.1}


@dataclass
class World:
    token: str
    appeal_ids: list[int]
    turn: itertools.count = field(default_factory=itertools.count)

    def pick(self, generated: Any) -> Any:
        """Every other case: an existing appeal instead of the generated id."""
        n = next(self.turn)
        return self.appeal_ids[n // 2 % len(self.appeal_ids)] if n % 2 == 0 else generated


@pytest.fixture
def world(city: Any) -> World:
    lamp = Category.objects.get(code="CG01")
    RoutingRule.objects.create(category=lamp, department=city.department)
    phones = (f"1391234{n:04d}" for n in itertools.count())  # one petitioner each: no "same petitioner" duplicates

    def submit(title: str = "路灯不亮") -> Any:
        people = [services.PetitionerInput(name="张三", phone=next(phones))]
        return services.appeal_submit(
            actor=None, channel="hotline", title=title, description=f"{title}，已经一个月了。", category=lamp,
            petitioners=people, **IN_A,
        ).appeal

    submitted = submit()
    registered = services.appeal_register(actor=city.supervisor, appeal=submit(title="井盖"))
    assigned = services.appeal_assign(actor=city.supervisor, appeal=services.appeal_register(actor=city.supervisor, appeal=submit(title="噪音")))
    started = services.appeal_start(actor=None, appeal=services.appeal_assign(
        actor=None, appeal=services.appeal_register(actor=None, appeal=submit(title="漏水"))))
    replied = submit(title="垃圾")
    for act in (services.appeal_register, services.appeal_assign, services.appeal_start):
        replied = act(actor=None, appeal=replied)
    services.appeal_reply(actor=None, appeal=replied, outcome="support", text="已清理。")
    ids = [submitted.pk, registered.pk, assigned.pk, started.pk, replied.pk]
    token = Token.objects.create(user=city.supervisor)
    return World(token=token.key, appeal_ids=ids)


@pytest.fixture
def api_schema(world: World) -> Any:
    # As Django's test client does: the request signals must not close the test's connection
    # (and with it the transaction that holds the fixtures).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_match_the_schema(case: Any, world: World) -> None:
    if case.path_parameters and "id" in case.path_parameters:
        case.path_parameters["id"] = world.pick(case.path_parameters["id"])
    response = case.call(headers={"Authorization": f"Token {world.token}"})
    case.validate_response(response, checks=CHECKS)
