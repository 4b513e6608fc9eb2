"""The agreement PDF: a Chinese 人民调解协议书 whose text (extracted with pypdf) has the parties' masked
identifiers — never the full ones — the terms, deadlines and signature places; stored under MEDIA_ROOT
and downloadable only within scope."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from zhucheng.core.models import AuditEvent
from zhucheng.mediation import outcomes
from zhucheng.mediation.models import Agreement

from .conftest import ID_A, ID_B, PHONE_A, PHONE_B, World, as_user, make_dispute

pytestmark = pytest.mark.django_db


def _agreement(world: World) -> Agreement:
    dispute = make_dispute(world)
    respondent = dispute.parties.get(side="respondent")
    due = timezone.localdate() + timedelta(days=30)
    return outcomes.agreement_create(
        actor=world.mediator_user,
        dispute=dispute,
        facts="张三在某某建筑公司工地务工三个月，公司拖欠工资 12000 元。",
        terms=[
            outcomes.TermInput(text="某某建筑公司向张三支付拖欠工资", amount_fen=1_200_000, due_on=due, obligor_id=respondent.pk),
            outcomes.TermInput(text="双方就本纠纷再无其他争议"),
        ],
    )


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_agreement_pdf_has_masked_identifiers_terms_and_signature_places(world: World, media: Path) -> None:
    agreement = _agreement(world)
    assert agreement.pdf.name.startswith("mediation/agreements/")
    path = Path(agreement.pdf.path)
    assert path.is_file() and media in path.parents
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    text = _text(data)
    compact = "".join(text.split())

    assert "人民调解协议书" in compact and agreement.number in compact
    # Parties by name, identifiers masked with core.masking; the full ones never appear.
    assert "张三" in compact and "某某建筑公司" in compact
    assert "5201**********1234" in compact and "139****5678" in compact
    assert "5201**********002X" in compact and "136****4321" in compact
    for full in (ID_A, PHONE_A, ID_B, PHONE_B, "13511112222"):
        assert full not in compact
    # Facts, terms with amount and deadline, and the standard clauses.
    assert "拖欠工资12000元" in compact
    assert "某某建筑公司向张三支付拖欠工资" in compact and "12,000.00" in compact
    due = agreement.terms.get(seq=1).due_on
    assert f"{due.year}年{due.month}月{due.day}日前" in compact
    assert "签订协议时当场履行" in compact
    assert "三十日内共同向人民法院申请司法确认" in compact
    # Signature places for parties, mediator, the committee's seal and the date.
    assert "当事人（签名、盖章）" in compact
    assert "人民调解员（签名）" in compact and "杨调解" in compact
    assert "人民调解委员会（印章）" in compact and "劳动争议人民调解委员会" in compact
    signed = agreement.signed_on
    assert "签订日期" in compact and f"{signed.year}年{signed.month}月{signed.day}日" in compact
    assert len(agreement.pdf_sha256) == 64


def test_pdf_download_is_scoped_and_audited(world: World) -> None:
    agreement = _agreement(world)
    url = reverse("mediation:agreement_pdf", args=[agreement.pk])
    response = as_user(world.city.worker_a).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert "某某建筑公司向张三支付拖欠工资" in "".join(_text(body).split())
    assert AuditEvent.objects.filter(act="mediation.agreement_download", object_id=str(agreement.pk)).count() == 1
    # The mediator (own dispute) and the district supervisor may; community B and nobody may not.
    assert as_user(world.mediator_user).get(url).status_code == 200
    assert as_user(world.city.supervisor).get(url).status_code == 200
    assert as_user(world.city.worker_b).get(url).status_code == 404
    assert as_user(world.city.nobody).get(url).status_code == 404
    assert as_user(world.city.grid_worker_a).get(url).status_code == 200  # the dispute lies in grid A
    # Media is not served publicly.
    assert as_user(world.city.worker_a).get("/media/" + agreement.pdf.name).status_code == 404


def test_missing_file_is_rendered_again(world: World) -> None:
    agreement = _agreement(world)
    first = Path(agreement.pdf.path).read_bytes()
    Path(agreement.pdf.path).unlink()
    response = as_user(world.city.worker_a).get(reverse("mediation:agreement_pdf", args=[agreement.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == first  # invariant output: same bytes, same stored hash
