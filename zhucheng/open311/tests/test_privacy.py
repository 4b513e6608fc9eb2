"""Nothing personal leaves through Open311: no reporter name, phone or e-mail in any read, typed-in numbers masked."""

from __future__ import annotations

from typing import Any

from django.test import Client

from zhucheng.appeals import services as appeal_services
from zhucheng.appeals.models import Appeal
from zhucheng.open311.selectors import public_text

from .conftest import BASE, Keyed, json_of, lamp_post, post

PHONE = "13987654321"
OTHER_PHONE = "13700001111"
ID_NUMBER = "11010519491231002X"
EMAIL = "wang.xiaoming@example.org"


def test_public_text_masks_identifiers() -> None:
    text = public_text(f"请打 {OTHER_PHONE} 或邮件 {EMAIL}，身份证 {ID_NUMBER}，门牌 12 号，订单 123456789012")
    assert OTHER_PHONE not in text and "137****1111" in text
    assert EMAIL not in text and "***@example.org" in text
    assert ID_NUMBER not in text and "1101**********002X" in text
    assert "门牌 12 号" in text and "123456789012" in text


def test_no_personal_data_in_any_read(city: Any, api: Keyed) -> None:
    data = lamp_post(
        api.key,
        phone=PHONE,
        first_name="小明",
        last_name="欧阳",
        email=EMAIL,
        device_id="device-secret-42",
        account_id="acct-777",
        description=f"路灯不亮。有事请打 {OTHER_PHONE} 联系我，身份证 {ID_NUMBER}。",
    )
    created = post(Client(), "json", data, HTTP_IDEMPOTENCY_KEY="privacy-1")
    assert created.status_code == 200
    code = json_of(created)[0]["service_request_id"]
    token = created["Open311-Token"]
    appeal = Appeal.objects.get(code=code)
    appeal_services.appeal_register(actor=None, appeal=appeal, note=f"已联系诉求人（{PHONE}）")
    appeal.refresh_from_db()
    appeal_services.appeal_assign(actor=None, appeal=appeal, department=city.department)

    client = Client()
    reads = [
        f"{BASE}/requests.{fmt}" for fmt in ("xml", "json")
    ] + [
        f"{BASE}/requests/{code}.{fmt}" for fmt in ("xml", "json")
    ] + [
        f"{BASE}/requests.json?service_request_id={code}",
        f"{BASE}/servicerequestupdates.xml",
        f"{BASE}/servicerequestupdates.json",
        f"{BASE}/tokens/{token}.json",
        f"{BASE}/services.json",
    ]
    for url in reads:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode("utf-8")
        for secret in (PHONE, OTHER_PHONE, ID_NUMBER, EMAIL, "欧阳", "小明", "device-secret-42", "acct-777"):
            assert secret not in body, (url, secret)
    # The masked forms are what the public sees (and they are really there: the test reads real output).
    listing = client.get(f"{BASE}/requests/{code}.json").content.decode()
    assert "137****1111" in listing
    updates = client.get(f"{BASE}/servicerequestupdates.json").content.decode()
    assert "139****4321" in updates
