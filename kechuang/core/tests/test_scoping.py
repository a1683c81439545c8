"""The subtree filter gives exactly the prefix-matching rows, whichever engine runs it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kechuang.core.scoping import subtree_q
from kechuang.regions.models import OrgUnit
from kechuang.regions.tree import ALPHABET, STEP_WIDTH


def test_subtree_q_matches_prefix_semantics_on_the_cast(cast: Any) -> None:
    for unit in OrgUnit.objects.all():
        by_q = set(
            OrgUnit.objects.filter(subtree_q("path", unit.path)).values_list("pk", flat=True)
        )
        by_prefix = {u.pk for u in OrgUnit.objects.all() if u.path.startswith(unit.path)}
        assert by_q == by_prefix, unit.name


steps = st.text(alphabet=ALPHABET, min_size=STEP_WIDTH, max_size=STEP_WIDTH)


# Each example empties the table first, so sharing the db fixture across examples is safe.
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    paths=st.lists(
        st.lists(steps, min_size=1, max_size=4).map("".join), min_size=1, max_size=30, unique=True
    ),
    probe=st.lists(steps, min_size=1, max_size=3).map("".join),
)
def test_subtree_q_agrees_with_startswith_for_any_paths(
    db: Any, paths: list[str], probe: str
) -> None:
    # Paths stored as the tree stores them (no parents needed for a pure path query).
    OrgUnit.objects.all().delete()
    OrgUnit.objects.bulk_create(
        [OrgUnit(path=p, level=1, code=f"{i:02d}", name=p) for i, p in enumerate(paths)]
    )
    found = set(OrgUnit.objects.filter(subtree_q("path", probe)).values_list("path", flat=True))
    assert found == {p for p in paths if p.startswith(probe)}
