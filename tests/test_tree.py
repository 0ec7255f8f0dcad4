"""Tree rules on plain data: totals, maxima, moves (property-based)."""

from dataclasses import dataclass
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from portal.services import tree as treelib


@dataclass(eq=False)
class N:
    id: int
    parent_id: int | None
    position: int
    kind: str = "scored"
    max_points: D | None = None


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
