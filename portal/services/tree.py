"""The criteria tree as plain data: ordering, maxima, totals, moves. No database here.

Nodes are any objects with `id`, `parent_id`, `position`, `kind` and `max_points`
(leaves only). A parent's maximum is the sum of its children's; the base total
adds up the scored sections; bonus and deduction totals are the sums of their caps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

ZERO = Decimal("0")


class Node(Protocol):
    id: int
    parent_id: int | None
    position: int
    kind: str
    max_points: Decimal | None


@dataclass
class Tree:
    roots: list
    children: dict[int | None, list] = field(default_factory=dict)
    maxima: dict[int, Decimal] = field(default_factory=dict)

    def kids(self, node) -> list:
        return self.children.get(node.id, [])

    def is_leaf(self, node) -> bool:
        return not self.children.get(node.id)

    def walk(self, nodes=None, depth: int = 1):
        """Depth-first, in order: (node, depth)."""
        for node in self.roots if nodes is None else nodes:
            yield node, depth
            yield from self.walk(self.kids(node), depth + 1)

    def leaves(self) -> list:
        return [n for n, _ in self.walk() if self.is_leaf(n)]

    def total(self, kind: str) -> Decimal:
        return sum((self.maxima[n.id] for n in self.roots if n.kind == kind), ZERO)

    @property
    def base_total(self) -> Decimal:
        return self.total("scored")


def build(nodes) -> Tree:
    children: dict[int | None, list] = defaultdict(list)
    for node in nodes:
        children[node.parent_id].append(node)
    for siblings in children.values():
        siblings.sort(key=lambda n: (n.position, n.id))
    tree = Tree(roots=children.get(None, []), children=dict(children))
    for node, _ in reversed(list(tree.walk())):  # children before parents
        kids = tree.kids(node)
        tree.maxima[node.id] = sum((tree.maxima[k.id] for k in kids), ZERO) if kids else (node.max_points or ZERO)
    return tree


def moved(siblings: list, node, step: int) -> list:
    """The siblings in their new order after moving `node` by `step` places (clamped)."""
    order = list(siblings)
    i = order.index(node)
    j = max(0, min(len(order) - 1, i + step))
    order.insert(j, order.pop(i))
    return order
