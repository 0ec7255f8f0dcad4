"""The criteria tree as plain data: ordering, maxima, totals, moves. No database here.

Nodes are any objects with `id`, `parent_id`, `position`, `kind` and `max_points`
(leaves only). A parent's maximum is the sum of its children's; the base total
adds up the scored sections; bonus and deduction totals are the sums of their caps.
A tree has at most MAX_DEPTH levels (section → criterion → sub-criteria, e.g.
I → 1 → 1.1 → a → a1 in a real 1,000-point table); the editor, the Excel import,
the offline scoring workbook and the results queries all take the limit from here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from portal.models.criteria import CriterionKind

ZERO = Decimal("0")
MAX_DEPTH = 5


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

    def paths(self) -> dict[int, str]:
        """Each node's full path as the table writes it (I.4.1.a), by id."""
        found: dict[int, str] = {}
        codes: list[str] = []
        for node, depth in self.walk():
            codes[depth - 1 :] = [node.code]
            found[node.id] = path_label(codes)
        return found

    def leaves(self) -> list:
        return [n for n, _ in self.walk() if self.is_leaf(n)]

    def total(self, kind: str) -> Decimal:
        return sum((self.maxima[n.id] for n in self.roots if n.kind == kind), ZERO)

    @property
    def base_total(self) -> Decimal:
        return self.total(CriterionKind.SCORED)


def bare_code(code: str) -> str:
    """A code without the punctuation the table puts around it: "I." → "I", "a)" → "a", "(b)" → "b"."""
    return code.strip().strip("()").rstrip(".").strip()


def _extends(child: str, parent: str) -> bool:
    """Whether the child's code already carries its parent's: 4.1 under 4, a1 under a (but not 12 under 1)."""
    if len(child) <= len(parent) or not child.casefold().startswith(parent.casefold()):
        return False
    following = child[len(parent)]
    return following == "." or (parent[-1].isalpha() and following.isdigit())


def path_label(codes) -> str:
    """The codes of a node and its ancestors, root first, as one label: ("I.", "4.", "4.1", "a)") → "I.4.1.a".

    Every level is kept; a code that already carries its parent's (4.1 under 4, a1 under a)
    stands for both, as the table writes it.
    """
    parts: list[str] = []
    for code in codes:
        bare = bare_code(code)
        if not bare:
            continue
        if parts and _extends(bare, parts[-1]):
            parts[-1] = bare
        else:
            parts.append(bare)
    return ".".join(parts)


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
