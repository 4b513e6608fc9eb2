"""The scoping matrix: a worker of one community reaches nothing of a sibling community,
whether listing, reading, exporting or updating; a district supervisor reaches both."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from zhucheng.core.models import AuditEvent
from zhucheng.places import selectors, services
from zhucheng.places.models import Membership

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


# who → which community codes they must see (A = 990101001, B = 990101002)
MATRIX = [
    ("worker_a", {"990101001"}, {"990101002"}),
    ("worker_b", {"990101002"}, {"990101001"}),
    ("supervisor", {"990101001", "990101002"}, set()),
    ("grid_worker_a", set(), {"990101001", "990101002"}),
    ("nobody", set(), {"990101001", "990101002"}),
]


@pytest.mark.parametrize(("who", "sees", "hidden"), MATRIX)
def test_units_for_matrix(city, who, sees, hidden):
    user = getattr(city, who)
    codes = set(selectors.units_for(user).values_list("code", flat=True))
    assert sees <= codes
    assert not (hidden & codes)


@pytest.mark.parametrize(("who", "sees", "hidden"), MATRIX)
def test_list_page_matrix(city, who, sees, hidden):
    response = client_for(getattr(city, who)).get(reverse("places:unit_list"), {"kind": "community"})
    assert response.status_code == 200
    body = response.content.decode()
    for code in sees:
        assert code in body
    for code in hidden:
        assert code not in body


@pytest.mark.parametrize(("who", "sees", "hidden"), MATRIX)
def test_detail_matrix(city, who, sees, hidden):
    from zhucheng.places.models import OrgUnit

    c = client_for(getattr(city, who))
    for code in sees:
        assert c.get(reverse("places:unit_detail", args=[OrgUnit.objects.get(code=code).pk])).status_code == 200
    for code in hidden:
        unit = OrgUnit.objects.get(code=code)
        assert c.get(reverse("places:unit_detail", args=[unit.pk])).status_code == 404
        assert c.get(reverse("places:unit_boundary", args=[unit.pk])).status_code == 404


@pytest.mark.parametrize(("who", "sees", "hidden"), MATRIX)
def test_export_matrix(city, who, sees, hidden):
    response = client_for(getattr(city, who)).get(reverse("places:unit_export"))
    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    rows = {line.split(",")[0] for line in body.splitlines()[1:]}
    assert sees <= rows
    assert not (hidden & rows)
    assert AuditEvent.objects.filter(act="places.unit_export").exists()


def test_worker_cannot_update_sibling_community(city):
    c = client_for(city.worker_a)
    response = c.post(
        reverse("places:unit_edit", args=[city.community_b.pk]),
        {"name": "改名", "boundary": "", "reason": "试图越权"},
    )
    assert response.status_code == 404
    city.community_b.refresh_from_db()
    assert city.community_b.name == "威清社区"
    with pytest.raises(services.PlacesError) as err:
        services.unit_update(actor=city.worker_a, unit=city.community_b, name="改名")
    assert err.value.code == "forbidden"


def test_worker_updates_own_community_with_audit(city):
    c = client_for(city.worker_a)
    response = c.post(
        reverse("places:unit_edit", args=[city.community_a.pk]),
        {"name": "中华北社区", "boundary": "", "reason": "更名公告"},
    )
    assert response.status_code == 302
    city.community_a.refresh_from_db()
    assert city.community_a.name == "中华北社区"
    event = AuditEvent.objects.get(act="places.unit_update", object_id=str(city.community_a.pk))
    assert event.actor_id == city.worker_a.pk
    assert event.changed_fields == ["name"]
    assert event.reason == "更名公告"
    assert "中华北社区" not in str(event.changed_fields)


def test_grid_worker_cannot_edit_units(city):
    with pytest.raises(services.PlacesError):
        services.unit_update(actor=city.grid_worker_a, unit=city.grid_a, name="改名")


def test_supervisor_reaches_both_communities(city):
    c = client_for(city.supervisor)
    for unit in (city.community_a, city.community_b, city.grid_a, city.grid_b):
        assert c.get(reverse("places:unit_detail", args=[unit.pk])).status_code == 200


def test_staff_directory_is_scoped(city):
    body_a = client_for(city.worker_a).get(reverse("places:staff_list")).content.decode()
    assert "李社区" in body_a and "张网格" in body_a
    assert "王社区" not in body_a and "赵督办" not in body_a
    body_sup = client_for(city.supervisor).get(reverse("places:staff_list")).content.decode()
    assert "李社区" in body_sup and "王社区" in body_sup
    # phones are shown masked, never in full
    assert "13800000001" not in body_a
    assert "138****0001" in body_a
    export = client_for(city.worker_a).get(reverse("places:staff_export")).content.decode("utf-8-sig")
    assert "李社区" in export and "王社区" not in export and "13800000001" not in export


def test_department_handler_sees_only_their_department(city):
    from zhucheng.places.services import membership_grant

    colleague = type(city.handler).objects.create(username="colleague", display_name="周同事")
    stranger = type(city.handler).objects.create(username="stranger", display_name="吴民政")
    membership_grant(actor=None, user=colleague, role="department_handler", department=city.department)
    membership_grant(actor=None, user=stranger, role="department_handler", department=city.other_department)
    seen = set(selectors.memberships_visible_to(city.handler).values_list("user__username", flat=True))
    assert seen == {"handler", "colleague"}
    assert not selectors.units_for(city.handler).exists()


def test_missing_and_forbidden_look_the_same(city):
    c = client_for(city.worker_a)
    forbidden = c.get(reverse("places:unit_detail", args=[city.community_b.pk]))
    missing = c.get(reverse("places:unit_detail", args=[999999]))
    assert forbidden.status_code == missing.status_code == 404


def test_anonymous_is_sent_to_login(city):
    response = Client().get(reverse("places:unit_list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_revoked_membership_removes_scope(city):
    membership = Membership.objects.get(user=city.worker_a)
    services.membership_revoke(actor=None, membership=membership, reason="调岗")
    user = type(city.worker_a).objects.get(pk=city.worker_a.pk)
    assert not selectors.units_for(user).exists()


def test_scoped_requires_declared_fields(city):
    from zhucheng.places.models import Department

    with pytest.raises(TypeError):
        selectors.scoped(Department.objects.all(), city.worker_a)


def test_subtree_is_one_prefix_query(city, django_assert_max_num_queries):
    user = type(city.supervisor).objects.get(pk=city.supervisor.pk)
    with django_assert_max_num_queries(2):  # the scope (once) and the list
        codes = list(selectors.units_for(user).values_list("code", flat=True))
    assert len(codes) == 7  # district, two communities, two committees, two grids
