"""Salvage what validates in a file with schema errors, so its cross-reference checks run in the same pass.

A file with a schema error (a misspelt field, a bare number for a duration) used to stop there: an
unknown signal or a trigger cycle elsewhere in it showed only after the schema errors were fixed.
Salvaging cuts what each schema error points at from a copy of the document (then the mapping
left without a required field, and so on up), puts a stand-in where a required top-level field is
gone, and repeats until the rest validates. The checks then run on what is left; the
:class:`Damage` says which of their findings may only be an echo of a cut, so those stay quiet.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator.format.yamlsafe import Document, FileProblems, child_of, document_of

M = TypeVar("M", bound=BaseModel)

MAX_ROUNDS = 64
"""Most validate-and-cut rounds before giving up (each round cuts at least one value)."""

Ref = tuple[str, ...]
"""What a finding reads besides its own place: ``("injects", "first")`` (one item, by id or key)
or ``("duration",)`` (a whole top-level field or section)."""


@dataclass
class Damage:
    """What salvaging cut from a document, to tell which findings on the rest can be trusted."""

    original: Document
    """The document as written, before any cut."""
    cut_from: dict[int, Node] = field(default_factory=dict)
    """Every node (in the salvaged tree) that lost a child, by ``id()`` (held, so ids stay unique)."""
    stand_ins: dict[int, Node] = field(default_factory=dict)
    """The stand-in values put in for required top-level fields, by ``id()``."""
    touched: set[Ref] = field(default_factory=set)
    """Top-level fields with anything cut inside, and ``(section, name)`` of each item cut or cut into."""
    replaced: set[str] = field(default_factory=set)
    """Top-level fields that are stand-ins as a whole."""

    def hides(self, doc: Document, path: tuple[Any, ...], about: Iterable[Ref] = ()) -> bool:
        """Whether a finding at ``path`` that reads ``about`` may be an echo of a cut.

        It may when it sits in a stand-in, when its own value or the object it belongs to lost
        something, or when it reads an item or field that was cut into.
        """
        along = doc.nodes_along(path)
        if any(id(node) in self.stand_ins for node in along):
            return True
        owner = along[-2] if len(along) > 1 else along[-1]
        if id(owner) in self.cut_from or any(id(n) in self.cut_from for n in _subtree(along[-1])):
            return True
        return any(ref in self.touched or ref[0] in self.replaced for ref in about)


def salvage(model: type[M], document: Document,
            stand_ins: Mapping[str, Any]) -> tuple[M, Document, Damage] | None:
    """The part of ``document`` that validates as ``model``, the document it came from, and the damage.

    ``stand_ins`` gives a valid value for each required top-level field that may have to be
    cut. None when nothing useful is left (the top level itself is wrong, or a required field
    has no stand-in).
    """
    root = copy.deepcopy(document.root)
    damage = Damage(document)
    for _ in range(MAX_ROUNDS):
        try:
            salvaged = document_of(root, document.file)
            return model.model_validate(salvaged.data), salvaged, damage
        except ValidationError as exc:
            locations = [tuple(error["loc"]) for error in exc.errors()]
        except FileProblems:
            return None
        if not _cut_round(root, locations, stand_ins, damage):
            return None
    return None


def _cut_round(root: Node, locations: list[tuple[Any, ...]], stand_ins: Mapping[str, Any],
               damage: Damage) -> bool:
    """Cut what each error location points at (or put a stand-in in); False when one cannot be handled."""
    targets: dict[int, tuple[Node, Node]] = {}
    for loc in locations:
        target = _deepest(root, loc)
        if target is not None:
            parent, child, path = target
            targets.setdefault(id(child), (parent, child))
            damage.touched |= _touched(root, path)
        elif loc and isinstance(loc[0], str) and loc[0] in stand_ins and loc[0] not in damage.replaced:
            _put_stand_in(root, loc[0], stand_ins[loc[0]], damage)
        else:
            return False
    for parent, child in targets.values():  # found first, cut after: a cut shifts the indexes
        _cut(parent, child)
        damage.cut_from[id(parent)] = parent
    return True


def _deepest(root: Node, loc: tuple[Any, ...]) -> tuple[Node, Node, tuple[Any, ...]] | None:
    """(parent, node, path) of the deepest node ``loc`` reaches, skipping parts that match nothing
    (union tags, ``[key]``, a missing field's name); None when it reaches no further than the root."""
    node, found = root, None
    path: tuple[Any, ...] = ()
    for part in loc:
        child = child_of(node, part)
        if child is not None:
            found, path = (node, child), (*path, part)
            node = child
    return None if found is None else (found[0], found[1], path)


def _cut(parent: Node, child: Node) -> None:
    if isinstance(parent, MappingNode):
        parent.value = [(k, v) for k, v in parent.value if v is not child]
    elif isinstance(parent, SequenceNode):
        parent.value = [item for item in parent.value if item is not child]


def _touched(root: Node, path: tuple[Any, ...]) -> set[Ref]:
    """The top-level field, and the item of it (by key or ``id``), that a cut at ``path`` touches."""
    section = str(path[0])
    if len(path) == 1:
        return {(section,)}
    item = child_of(child_of(root, path[0]) or root, path[1])
    name = _item_id(item) if isinstance(path[1], int) else str(path[1])
    return {(section,)} if name is None else {(section,), (section, name)}


def _item_id(item: Node | None) -> str | None:
    """The ``id`` written in a list item (injects, actions, clocks), if any."""
    id_node = child_of(item, "id") if item is not None else None
    return id_node.value if isinstance(id_node, ScalarNode) else None


def _put_stand_in(root: Node, name: str, value: Any, damage: Damage) -> None:
    """Add ``name: value`` to the top-level mapping, marked as a stand-in."""
    if not isinstance(root, MappingNode):
        return
    composed = yaml.compose(yaml.safe_dump({name: value}), Loader=yaml.SafeLoader)
    assert isinstance(composed, MappingNode)
    pair = composed.value[0]
    root.value.append(pair)
    damage.stand_ins.update((id(node), node) for node in _subtree(pair[1]))
    damage.replaced.add(name)


def _subtree(node: Node) -> list[Node]:
    """``node`` and every node under it."""
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        if isinstance(current, MappingNode):
            stack.extend(v for _, v in current.value)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
    return out
