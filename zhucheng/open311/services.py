"""The one write of the Open311 interface: a POSTed service request becomes an appeal.

``service_request_create`` checks what only the service can check (its attributes, the location
form), then calls ``appeals.services.appeal_submit`` (channel ``open311``) with a ``client_token``
derived from the submission's token, so a retry finds the appeal it already made; it stores
what the appeal has no field for (``ServiceRequest``, ``RequestAttributeValue``) — all in one
transaction. The submission's one audit event (``open311.request_create``) names the client's key
and id; a retry that creates nothing is audited too.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from zhucheng.appeals.intake import AuditAs
from zhucheng.appeals.models import Appeal, AppealKind, Category, Channel
from zhucheng.appeals.services import PetitionerInput, appeal_submit
from zhucheng.core.audit import audit_record
from zhucheng.places.models import OrgUnit

from .errors import Open311Error
from .models import LIST_DATATYPES, ApiClient, Datatype, RequestAttributeValue, ServiceAttribute, ServiceRequest
from .params import Submission, parse_when
from .selectors import attributes_of

TITLE_LENGTH = 40
AUDIT_ACT = "open311.request_create"  # the submission's audit event, naming the client's key
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class Created:
    appeal: Appeal
    request: ServiceRequest
    created: bool


def submission_token(*, client: ApiClient, key: str = "", body: str = "", day: str = "") -> str:
    """The stable token of a submission: from the client's idempotency key, else from the body and the day.

    Without a key, the same body from the same client on the same day is taken as a retry of
    the first (a reporter does not file the identical report twice in a day).
    """
    basis = f"{client.pk}\nkey\n{key}" if key else f"{client.pk}\nbody\n{body}\n{day}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:40]


def check_attributes(category: Category, sub: Submission) -> list[tuple[ServiceAttribute, str]]:
    """Each answer checked against its datatype; (attribute, stored value) pairs, or a 400 listing every problem."""
    defined = {a.code: a for a in attributes_of(category)}
    problems: list[str] = []
    answers: list[tuple[ServiceAttribute, str]] = []
    for code in sub.attributes:
        if code not in defined:
            problems.append(_("服务 %(service)s 没有属性 %(code)s。") % {"service": category.code, "code": code[:40]})
    for code, attribute in defined.items():
        if not attribute.variable:
            continue  # informational: nothing to answer
        given = sub.attributes.get(code, [])
        if not given:
            if attribute.required:
                problems.append(_("请填写必填属性 attribute[%(code)s]（%(label)s）。") % {"code": code, "label": attribute.description})
            continue
        if attribute.datatype != Datatype.MULTIVALUELIST and len(given) > 1:
            problems.append(_("属性 %(code)s 只能填写一个值。") % {"code": code})
            continue
        for text in given:
            try:
                answers.append((attribute, _attribute_value(attribute, text)))
            except ValueError as exc:
                problems.append(str(exc))
    if problems:
        raise Open311Error(400, *problems)
    return answers


def _attribute_value(attribute: ServiceAttribute, text: str) -> str:
    code = attribute.code
    if attribute.datatype == Datatype.STRING:
        if "\n" in text or "\r" in text:
            raise ValueError(_("属性 %(code)s 是单行文字，不能换行。") % {"code": code})
        if len(text) > 255:
            raise ValueError(_("属性 %(code)s 不能超过 255 个字符。") % {"code": code})
        return text
    if attribute.datatype == Datatype.NUMBER:
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or len(text) > 40:
            raise ValueError(_("属性 %(code)s 须为数字，不能是“%(v)s”。") % {"code": code, "v": text[:40]})
        return text
    if attribute.datatype == Datatype.DATETIME:
        try:
            return parse_when(text, f"attribute[{code}]").isoformat()
        except Open311Error as exc:
            raise ValueError(exc.descriptions[0]) from None
    if attribute.datatype in LIST_DATATYPES:
        keys = attribute.option_keys()
        if text not in keys:
            raise ValueError(
                _("属性 %(code)s 的取值须为 %(keys)s 之一，不能是“%(v)s”。") % {"code": code, "keys": ", ".join(keys), "v": text[:40]}
            )
        return text
    return text  # Datatype.TEXT: any text without HTML, up to the description limit


def _default_unit() -> OrgUnit | None:
    """Where a request located only by ``address_string`` goes: the dispatch level of the city."""
    code = getattr(settings, "ZHUCHENG_OPEN311_DEFAULT_UNIT", "")
    if code:
        return OrgUnit.objects.filter(code=code, is_active=True).first()
    roots = list(OrgUnit.objects.filter(parent__isnull=True, is_active=True)[:2])
    return roots[0] if len(roots) == 1 else None


def _location(sub: Submission) -> dict[str, Any]:
    """appeal_submit's location arguments: a point (placed in its grid), an address_id (a unit code), or the city."""
    if sub.lat is not None and sub.lon is not None:
        return {"lat": sub.lat, "lon": sub.lon}
    if sub.address_id:
        unit = OrgUnit.objects.filter(code=sub.address_id, is_active=True).first()
        if unit is None:
            raise Open311Error(400, _("address_id “%(v)s” 不是本市的区划或网格编码。") % {"v": sub.address_id})
        return {"unit": unit}
    if sub.address_string:
        unit = _default_unit()
        if unit is None:
            raise Open311Error(400, _("仅凭 address_string 无法定位，请同时提供 lat 和 long，或 address_id（区划编码）。"))
        return {"unit": unit}
    raise Open311Error(400, _("请提供位置：lat 和 long，或 address_string，或 address_id。"))


def _name(sub: Submission) -> str:
    first, last = sub.first_name, sub.last_name
    if _CJK.search(first + last):
        return f"{last}{first}"
    return f"{first} {last}".strip()


def _title(description: str, service_name: str) -> str:
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    title = first_line or service_name
    return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1] + "…"


def service_request_create(
    *, client: ApiClient, category: Category, sub: Submission, token: str
) -> Created:
    """POST Service Request: validate, then submit the appeal and keep the Open311 extras, in one transaction."""
    problems: list[str] = []
    answers: list[tuple[ServiceAttribute, str]] = []
    location: dict[str, Any] = {}
    try:
        answers = check_attributes(category, sub)
    except Open311Error as exc:
        problems.extend(exc.descriptions)
    try:
        location = _location(sub)
    except Open311Error as exc:
        problems.extend(exc.descriptions)
    if problems:
        raise Open311Error(400, *problems)
    if sub.description:
        description = sub.description
    else:
        with translation.override(settings.LANGUAGE_CODE):  # stored text is in the platform's language
            description = _("%(service)s（通过 Open311 提交，未填写描述）") % {"service": category.name}
    if sub.address_string and not sub.description:
        description = f"{description}\n{sub.address_string}"
    people = [PetitionerInput(name=_name(sub), phone=sub.phone)] if (sub.phone or sub.first_name or sub.last_name) else []
    with transaction.atomic():
        result = appeal_submit(
            actor=None,
            channel=Channel.OPEN311,
            kind=AppealKind.APPEAL,
            title=_title(description, category.name),
            description=description,
            category=category,
            address=sub.address_string,
            petitioners=people,
            client_token=f"open311:{token}",
            audit_as=AuditAs(actor=f"open311:{client.key_prefix}", act=AUDIT_ACT, reason=f"api_client={client.pk}; created=yes"),
            **location,
        )
        appeal = result.appeal
        if result.created:
            request = ServiceRequest.objects.create(
                appeal=appeal,
                client=client,
                token=token,
                media_url=sub.media_url,
                address_id=sub.address_id,
                device_id=sub.device_id,
                account_id=sub.account_id,
                email=sub.email,
            )
            RequestAttributeValue.objects.bulk_create(
                [RequestAttributeValue(request=request, attribute=a, code=a.code, value=v) for a, v in answers]
            )
        else:
            request = ServiceRequest.objects.get(appeal=appeal)
            # A retry creates nothing, but the key's use is on record all the same.
            audit_record(
                actor=f"open311:{client.key_prefix}", act=AUDIT_ACT, obj=appeal, reason=f"api_client={client.pk}; created=no (retry)"
            )
    return Created(appeal, request, result.created)
