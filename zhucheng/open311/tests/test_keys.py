"""API keys: issued once and stored hashed, listed, revoked (and refused from then on), limited to categories, audited."""

from __future__ import annotations

import hashlib
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from zhucheng.appeals.models import Appeal
from zhucheng.core.models import AuditEvent
from zhucheng.open311 import demo, keys
from zhucheng.open311.models import ApiClient

from .conftest import lamp_post, post


def run(*args: str) -> str:
    out = StringIO()
    call_command("open311_key", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_key_once_and_stores_only_its_hash(city: Any) -> None:
    output = run("create", "微信小程序", "--categories", "CG01,cg04")
    key = output.strip().splitlines()[-1]
    assert key.startswith("o311_") and len(key) > 40
    client = ApiClient.objects.get(name="微信小程序")
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(list(ApiClient.objects.values()))
    assert client.key_prefix == key[:13] and sorted(c.code for c in client.categories.all()) == ["CG01", "CG04"]
    assert AuditEvent.objects.filter(act="open311.key_create", object_id=str(client.pk)).exists()
    assert post(Client(), "json", lamp_post(key)).status_code == 200
    listing = run("list")
    assert "微信小程序" in listing and client.key_prefix in listing and "CG01,CG04" in listing and key not in listing


def test_create_refuses_bad_input(city: Any) -> None:
    run("create", "甲")
    with pytest.raises(CommandError, match="甲"):
        run("create", "甲")
    with pytest.raises(CommandError, match="ZZ99"):
        run("create", "乙", "--categories", "ZZ99")
    with pytest.raises(CommandError, match="CG01"):
        run("create", "丙", "--categories", "CG")
    with pytest.raises(CommandError):
        run("create", "丁", "--rate", "lots")
    assert ApiClient.objects.count() == 1


@pytest.mark.parametrize("by", ["name", "prefix"])
def test_revoke_by_name_or_prefix_then_refused(city: Any, by: str) -> None:
    key = run("create", "第三方应用").strip().splitlines()[-1]
    assert post(Client(), "json", lamp_post(key)).status_code == 200
    run("revoke", "第三方应用" if by == "name" else key[:13], "--reason", "合同到期")
    client = ApiClient.objects.get(name="第三方应用")
    assert not client.is_active and client.revoked_at is not None
    audit = AuditEvent.objects.get(act="open311.key_revoke", object_id=str(client.pk))
    assert audit.reason == "合同到期"
    response = post(Client(), "json", lamp_post(key, phone="13912345670", description="又一盏路灯不亮。"))
    assert response.status_code == 403
    assert Appeal.objects.count() == 1
    assert "revoked" in run("list")
    with pytest.raises(CommandError):
        run("revoke", "第三方应用")
    with pytest.raises(CommandError):
        run("revoke", "nobody")


def test_rate_override_is_validated_and_stored(city: Any) -> None:
    run("create", "压测", "--rate", "6000/min")
    assert ApiClient.objects.get(name="压测").rate_limit == "6000/min"


def test_demo_key(city: Any, settings: Any) -> None:
    output = run("demo", "--base", "http://127.0.0.1:8000")
    assert "zc-demo-open311-key" in output and "http://127.0.0.1:8000/open311/v2/discovery.json" in output
    run("demo")  # idempotent
    assert ApiClient.objects.filter(name=demo.DEMO_CLIENT).count() == 1
    assert post(Client(), "json", lamp_post(demo.DEMO_KEY)).status_code == 200
    settings.PRODUCTION = True
    assert "no demo" in run("demo")


def test_demo_seeder_is_idempotent(city: Any) -> None:
    from zhucheng.core.demo import DemoContext, rng_for

    out = StringIO()
    ctx = DemoContext(size="small", rng=rng_for("zhucheng.open311.demo"), stdout=out)  # type: ignore[arg-type]
    demo.seed(ctx)
    demo.seed(ctx)
    demo.report(ctx)
    assert ApiClient.objects.filter(name=demo.DEMO_CLIENT, is_active=True).count() == 1
    assert keys.authenticate(demo.DEMO_KEY) is not None and "zc-demo-open311-key" in out.getvalue()


def test_admin_add_shows_the_key_once(city: Any, admin_client: Any) -> None:
    response = admin_client.post("/admin/open311/apiclient/add/", {"name": "后台签发", "rate_limit": "", "is_active": "on", "note": ""}, follow=True)
    assert response.status_code == 200
    client = ApiClient.objects.get(name="后台签发")
    shown = [str(m) for m in response.context["messages"]]
    key = next(m.split("：", 1)[1] for m in shown if "o311_" in m)
    assert keys.hash_key(key) == client.key_hash


def test_admin_pages_open(city: Any, admin_client: Any) -> None:
    key = run("create", "页面").strip().splitlines()[-1]
    code = post(Client(), "json", lamp_post(key)).json()[0]["service_request_id"]
    from zhucheng.open311.models import ServiceAttribute, ServiceRequest

    request = ServiceRequest.objects.get(appeal__code=code)
    attribute = ServiceAttribute.objects.first()
    assert attribute is not None
    for url in (
        "/admin/open311/apiclient/", "/admin/open311/apiclient/add/", f"/admin/open311/apiclient/{request.client_id}/change/",
        "/admin/open311/serviceattribute/", f"/admin/open311/serviceattribute/{attribute.pk}/change/",
        "/admin/open311/servicerequest/", f"/admin/open311/servicerequest/{request.pk}/change/",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert "13912345678" not in response.content.decode()
