"""The registry's demo data: realistic, valid under the collection standard, consistent, idempotent."""

from __future__ import annotations

import io
import random
from collections import Counter

import pytest

from zhucheng.accounts.models import User
from zhucheng.core import demo
from zhucheng.registry import completeness, selectors, standard
from zhucheng.registry.models import HousingUnit, PermitState, Person, Residence, ResidencePermit

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):  # type: ignore[no-untyped-def]
    seeders = [s for s in demo.discover() if s.app_label in ("places", "accounts", "registry")]
    demo.run(size="small", stdout=io.StringIO(), seeders=seeders)
    return seeders


def test_small_demo_population(seeded) -> None:  # type: ignore[no-untyped-def]
    people = Person.objects.filter(source="demo")
    assert 3_990 <= people.count() <= 4_010
    current = Counter(Residence.objects.filter(person__source="demo", to_date__isnull=True).values_list("kind", flat=True))
    assert abs(current["migrant"] / sum(current.values()) - 0.2724) < 0.03
    assert set(ResidencePermit.objects.values_list("state", flat=True)) == set(PermitState.values)
    assert all(p.startswith("南明区") for p in HousingUnit.objects.values_list("building__door_plate", flat=True)[:50])
    sample = random.Random(5).sample(list(people.values_list("pk", flat=True)), 200)
    for p in Person.objects.filter(pk__in=sample):
        data = {f: getattr(p, f) for f in ("name", "id_number", "phone", "sex", "birth_date", "ethnicity", "education", "employment_status")}
        assert standard.validate_person(data) == [], (p.name, data)
    for unit in HousingUnit.objects.order_by("?")[:100]:
        assert completeness.compute_flags(unit) == completeness.unit_flags(unit)


def test_the_demo_resident_has_a_story_and_reseeding_changes_nothing(seeded) -> None:  # type: ignore[no-untyped-def]
    user = User.objects.get(kind="resident", display_name="王筑昀")
    record = selectors.my_record(user)
    assert record is not None and record.person.name == "王筑昀"
    assert [r.kind for r in record.residences] == ["migrant", "permanent"] and record.residences[0].to_date is not None
    assert [m.relation for m in record.members] == ["head", "spouse", "child"]
    assert record.permits[0].state == PermitState.REVOKED and record.points_applications[0].state == "approved"
    assert [c.state for c in record.corrections] == ["pending", "accepted"] and len(record.reads) == 3
    before = Person.objects.count()
    demo.run(size="small", stdout=io.StringIO(), seeders=seeded)
    assert Person.objects.count() == before
