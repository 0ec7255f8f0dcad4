"""Tree rules on plain data: totals, maxima, moves (property-based), path labels."""

from dataclasses import dataclass
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.models.criteria import code_label
from portal.services.criteria import tree as treelib


@dataclass(eq=False)
class N:
    id: int
    parent_id: int | None
    position: int
    kind: str = "scored"
    max_points: D | None = None
    code: str = ""


def test_parent_maximum_is_the_sum_and_bonus_on_top():
    nodes = [
        N(1, None, 1),
        N(2, 1, 1, max_points=D(30)),
        N(3, 1, 2),
        N(4, 3, 1, max_points=D("12.5")),
        N(5, 3, 2, max_points=D("7.5")),
        N(6, None, 2, max_points=D(50)),
        N(7, None, 3, kind="bonus"),
        N(8, 7, 1, kind="bonus", max_points=D(10)),
        N(9, None, 4, kind="deduction"),
        N(10, 9, 1, kind="deduction", max_points=D(5)),
    ]
    t = treelib.build(nodes)
    assert t.maxima[3] == D(20) and t.maxima[1] == D(50)
    assert t.base_total == D(100) and t.total("bonus") == D(10) and t.total("deduction") == D(5)
    assert [n.id for n, _ in t.walk()] == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert [n.id for n in t.leaves()] == [2, 4, 5, 6, 8, 10]


@st.composite
def forests(draw):
    count = draw(st.integers(1, 40))
    nodes = []
    for i in range(1, count + 1):
        parent = draw(st.one_of(st.none(), st.integers(1, i - 1))) if i > 1 else None
        nodes.append(N(i, parent, draw(st.integers(0, 5)), max_points=draw(st.decimals(0, 100, places=2))))
    return nodes


@given(forests())
def test_totals_are_the_sum_of_leaves(nodes):
    t = treelib.build(nodes)
    assert t.base_total == sum((n.max_points for n in t.leaves()), D(0))
    assert len(list(t.walk())) == len(nodes)  # every node reached exactly once
    for node, _ in t.walk():
        if not t.is_leaf(node):
            assert t.maxima[node.id] == sum((t.maxima[k.id] for k in t.kids(node)), D(0))


@given(st.lists(st.integers(), min_size=1, max_size=30, unique=True), st.data())
def test_move_keeps_every_sibling_once(ids, data):
    siblings = [N(i, None, p) for p, i in enumerate(ids)]
    node = data.draw(st.sampled_from(siblings))
    step = data.draw(st.integers(-40, 40))
    after = treelib.moved(siblings, node, step)
    assert sorted(n.id for n in after) == sorted(ids)
    i = siblings.index(node)
    assert after.index(node) == max(0, min(len(ids) - 1, i + step))
    others_before = [n for n in siblings if n is not node]
    assert [n for n in after if n is not node] == others_before  # the rest keep their order
    back = treelib.moved(after, node, i - after.index(node))
    assert back == siblings


# --- path labels ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "codes, label",
    [
        (["I."], "I"),
        (["I.", "4."], "I.4"),
        (["I.", "4.", "4.1"], "I.4.1"),  # 4.1 already carries its parent 4
        (["I.", "4.", "4.1", "a)"], "I.4.1.a"),  # no doubled dot, no bracket, every level kept
        (["I.", "4.", "4.1", "a)", "a1"], "I.4.1.a1"),  # a1 already carries its parent a
        (["I", "4", "1", "a"], "I.4.1.a"),  # codes written without their parent's
        (["II", "1", "12"], "II.1.12"),  # 12 under 1 is its own number, not an extension of 1
        (["I", "(b)"], "I.b"),
        (["I", "2", "2.1", "2.1.3", "a", "a.2"], "I.2.1.3.a.2"),
    ],
)
def test_path_label_is_the_path_as_the_table_writes_it(codes, label):
    assert treelib.path_label(codes) == label


@pytest.mark.parametrize("code, label", [("I", "I."), ("I.", "I."), ("4.1", "4.1."), ("a)", "a)"), ("a1", "a1.")])
def test_code_label_never_doubles_a_dot(code, label):
    assert code_label(code) == label


def test_paths_of_a_five_level_tree():
    rows = [
        N(1, None, 1, code="I."),
        N(2, 1, 1, code="4."),
        N(3, 2, 1, code="4.1"),
        N(4, 3, 1, code="a)"),
        N(5, 4, 1, max_points=D(1), code="a1"),
        N(6, 4, 2, max_points=D(2), code="a2"),
        N(7, 3, 2, max_points=D(3), code="b)"),
    ]
    built = treelib.build(rows)
    assert [depth for _, depth in built.walk()] == [1, 2, 3, 4, 5, 5, 4]
    assert built.paths() == {
        1: "I",
        2: "I.4",
        3: "I.4.1",
        4: "I.4.1.a",
        5: "I.4.1.a1",
        6: "I.4.1.a2",
        7: "I.4.1.b",
    }
    assert built.maxima[1] == D(6) and treelib.MAX_DEPTH == 5
