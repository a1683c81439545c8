"""Materialized-path arithmetic: steps and paths, checked as properties."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kechuang.regions.tree import (
    ALPHABET,
    MAX_STEP,
    STEP_WIDTH,
    ancestor_paths,
    child_path,
    decode_step,
    depth_of,
    encode_step,
    last_step_number,
    parent_path_of,
)

steps = st.integers(min_value=1, max_value=MAX_STEP)
# A path is written down as the child numbers taken from the root: [1, 3, 2] is the second
# child of the third child of the root. Sixteen steps fill OrgUnit.path (64 characters).
step_lists = st.lists(steps, min_size=1, max_size=64 // STEP_WIDTH)
# Where a base-36 digit carries over, and both ends of the range.
CARRIES = (1, 35, 36, 37, 36**2 - 1, 36**2, 36**3 - 1, 36**3, MAX_STEP - 1, MAX_STEP)


def path_of(numbers: list[int]) -> str:
    path = ""
    for number in numbers:
        path = child_path(path, number)
    return path


def test_a_step_is_four_base_36_digits_so_a_parent_can_have_1_679_615_children() -> None:
    assert MAX_STEP == 36**STEP_WIDTH - 1 == 1_679_615
    assert len(ALPHABET) == len(set(ALPHABET)) == 36
    # Far more than the ~41,000 townships of the whole country under one parent.
    assert MAX_STEP > 41_352


@given(steps)
@example(1)
@example(MAX_STEP)
def test_a_step_decodes_to_the_number_it_encodes(number: int) -> None:
    assert decode_step(encode_step(number)) == number


@given(steps)
@example(1)
@example(MAX_STEP)
def test_every_step_has_the_same_width_and_uses_only_the_alphabet(number: int) -> None:
    step = encode_step(number)
    assert len(step) == STEP_WIDTH
    assert set(step) <= set(ALPHABET)


@given(steps, steps)
def test_steps_sort_as_text_exactly_as_their_numbers_sort(a: int, b: int) -> None:
    assert (encode_step(a) < encode_step(b)) == (a < b)
    assert (encode_step(a) == encode_step(b)) == (a == b)


@pytest.mark.parametrize("number", CARRIES[:-1])
def test_the_next_child_always_sorts_after_the_previous_one_even_across_a_carry(
    number: int,
) -> None:
    assert encode_step(number) < encode_step(number + 1)


@given(st.integers(max_value=0) | st.integers(min_value=MAX_STEP + 1))
@example(0)
@example(-1)
@example(MAX_STEP + 1)
def test_a_step_outside_1_to_max_step_is_refused(number: int) -> None:
    with pytest.raises(ValueError, match=str(MAX_STEP)):
        encode_step(number)


@given(step_lists)
def test_a_path_knows_its_depth_its_last_step_and_its_parent(numbers: list[int]) -> None:
    path = path_of(numbers)
    assert len(path) == STEP_WIDTH * len(numbers)
    assert depth_of(path) == len(numbers) - 1
    assert last_step_number(path) == numbers[-1]
    assert parent_path_of(path) == path_of(numbers[:-1])
    assert child_path(parent_path_of(path), last_step_number(path)) == path


@given(step_lists)
def test_ancestor_paths_are_every_proper_prefix_root_first(numbers: list[int]) -> None:
    path = path_of(numbers)
    ancestors = ancestor_paths(path)
    assert ancestors == [path_of(numbers[:end]) for end in range(1, len(numbers))]
    assert [depth_of(a) for a in ancestors] == list(range(depth_of(path)))
    assert all(path.startswith(a) and a != path for a in ancestors)
    if ancestors:
        assert ancestors[-1] == parent_path_of(path)


@given(step_lists, step_lists)
def test_a_path_is_inside_another_exactly_when_it_starts_with_it(
    inner: list[int], outer: list[int]
) -> None:
    is_descendant_or_self = inner[: len(outer)] == outer
    assert path_of(inner).startswith(path_of(outer)) == is_descendant_or_self
    assert (path_of(outer) in ancestor_paths(path_of(inner))) == (
        is_descendant_or_self and len(inner) > len(outer)
    )


@given(step_lists, step_lists)
@example([1, 36], [1, 35, 1])
@example([1, 2], [1, 10])
def test_ordering_by_path_lists_the_tree_depth_first(a: list[int], b: list[int]) -> None:
    # A list of child numbers compares like a depth-first walk: a parent before its
    # children, a whole subtree before the next sibling. Paths must sort the same way.
    assert (path_of(a) < path_of(b)) == (a < b)
