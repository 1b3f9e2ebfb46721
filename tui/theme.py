"""The light/dark switch (``d``) made cheap: each theme's rules parsed once, each widget redrawn once.

Textual answers a theme change by parsing every stylesheet source again with the new theme's
variables and restyling every node, and each colour a node's restyle changes asks the node and all
of its descendants to redraw: thousands of redraw requests per press on our screens. Over an SSH
seat that was most of the time between ``d`` and the screen's update (issue 11).
:class:`ThemeStylesheet` keeps the parsed rules of every set of variables it has seen, so a theme
seen before is not parsed again, and restyles a whole tree asking each node to redraw once, with no
layout pass for a keyline that only changed colour. :class:`ThemedApp` restyles a screen hidden
under the current one when it is shown again, not at the switch: Textual repaints the whole
current screen a second time for every screen restyled below it, seen or not. What is drawn is the
same: a toggled screen matches one started in the other theme, cell for cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakSet

from textual.app import App
from textual.cache import LRUCache
from textual.css._style_properties import KeylineProperty
from textual.css.model import RuleSet
from textual.css.styles import Styles, StylesBase
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget

from tui.heap import freeze_what_is_alive, thaw

PARSED_SOURCES = 512
"""How many parsed sources (a stylesheet file or one widget's default CSS, one set of variables)
each set of variables keeps; Textual keeps 64, fewer than our screens' sources in two themes."""

Variables = tuple[tuple[str, str], ...]
"""A set of theme variables as a hashable key: (name, value) pairs in name order."""

Redraws = dict[DOMNode, tuple[bool, bool]]
"""The nodes asked to redraw: node → (with a layout pass, with a repaint)."""


class ThemedApp(App[None]):
    """An app whose theme switch parses nothing it has parsed before, asks each widget to redraw
    once, and leaves drawing to the screen's next update (Textual lays it out and draws it at once
    too), and whose objects alive once a screen is up are frozen (:mod:`tui.heap`)."""

    def __init__(self) -> None:
        super().__init__()
        self.stylesheet = ThemeStylesheet(variables=self.get_css_variables())
        self.restyle_owed: WeakSet[Screen[Any]] = WeakSet()
        """The screens hidden under the current one at the last restyle: restyled when shown again."""

    def refresh_css(self, animate: bool = True) -> None:
        """Restyle the screens on the terminal for the current theme and CSS (the current one and any
        seen through it) and owe the others a restyle (:meth:`restyle_if_owed`). The current screen is
        drawn on its next update, laid out again only if a changed rule sizes or places a widget (a
        theme changes colours only). Textual's own lays it out and draws it at once, and restyles
        every screen in the stack, each asking the current one to be drawn again."""
        stylesheet = self.stylesheet
        stylesheet.set_variables(self.get_css_variables())
        stylesheet.reparse()
        stylesheet.update(self, animate=animate)
        if not self.screen_stack:
            return
        if self.screen.is_mounted:
            self.screen.refresh()
            drawn_with_the_screen(self.screen)
            self.screen._css_update_count = self._css_update_count  # as Textual's refresh_css notes
        shown = self.screens_shown()
        for screen in self.screen_stack:
            if screen is self.screen:
                continue
            if screen in shown:
                self.restyle(screen, animate=animate)
            else:
                self.restyle_owed.add(screen)

    def screens_shown(self) -> list[Screen[Any]]:
        """The screens on the terminal: the current one and those seen through its background."""
        if self.screen.styles.background.a == 1:
            return [self.screen]
        return [self.screen, *self._background_screens]

    def restyle(self, screen: Screen[Any], animate: bool = False) -> None:
        """Restyle ``screen`` (not the current one) for the current theme and CSS."""
        self.restyle_owed.discard(screen)
        self.stylesheet.update(screen, animate=animate)
        screen._css_update_count = self._css_update_count

    def restyle_if_owed(self, _current: Screen[Any]) -> None:
        """A screen has become current: restyle the screens now shown that missed a theme change."""
        for screen in self.screens_shown():
            if screen in self.restyle_owed:
                self.restyle(screen)

    def on_mount(self) -> None:
        """Watch for a screen being shown again (popped back to, switched or pushed)."""
        self.screen_change_signal.subscribe(self, self.restyle_if_owed, immediate=True)

    def on_ready(self) -> None:
        """The first screen is up: what is alive now lives on (see :mod:`tui.heap`)."""
        freeze_what_is_alive()

    async def on_unmount(self) -> None:
        """The app has ended: what it froze can be collected again. (Textual calls each class's
        handler, so a subclass's own ``on_unmount`` does not replace this one.)"""
        thaw()


def drawn_with_the_screen(screen: Screen[Any]) -> None:
    """``screen`` is drawn whole on its next update: its widgets restyled need not each ask to be
    drawn again (their lines are drawn afresh with it), which would be a second update of nearly
    every cell, sent to an SSH seat after the first. Their scrollbars (outside the DOM) too."""
    for widget in screen.walk_children(Widget):
        scrollbars = widget._vertical_scrollbar, widget._horizontal_scrollbar, widget._scrollbar_corner
        for part in (widget, *scrollbars):
            if part is not None:
                part._repaint_required = False


class ThemeStylesheet(Stylesheet):
    """A :class:`Stylesheet` that keeps each theme's parsed rules and redraws each node once per
    restyle of a tree."""

    def __init__(self, *, variables: dict[str, str] | None = None) -> None:
        super().__init__(variables=variables)
        self._parse_cache = self._new_parse_cache()
        self._parsed: dict[Variables, LRUCache[tuple[Any, ...], list[RuleSet]]] = {}
        """The parsed sources of each set of variables seen, the current one's included."""

    @staticmethod
    def _new_parse_cache() -> LRUCache[tuple[Any, ...], list[RuleSet]]:
        """An empty cache of parsed sources (Textual's own, larger)."""
        return LRUCache(PARSED_SOURCES)

    def set_variables(self, variables: dict[str, str]) -> None:
        """Use ``variables`` (a theme's), keeping what was parsed with the ones they replace."""
        self._parsed[variables_key(self._variables)] = self._parse_cache
        self._parse_cache = self._new_parse_cache()  # the one Textual's set_variables clears
        super().set_variables(variables)
        self._parse_cache = self._parsed.get(variables_key(variables), self._parse_cache)

    def reparse(self) -> None:
        """Parse the sources with the current variables, reusing every source parsed with them before;
        on an error the rules in use stay (as Textual's reparse keeps them)."""
        self.parse()

    def update(self, root: DOMNode, animate: bool = False) -> None:
        """Restyle ``root`` and every node under it; each node changed is asked to redraw once, and
        laid out again only for a change other than a keyline's colour."""
        with redraws_coalesced(), keylines_recoloured_in_place():
            super().update(root, animate=animate)


def variables_key(variables: dict[str, str]) -> Variables:
    """``variables`` as a key: the same theme gives the same key."""
    return tuple(sorted(variables.items()))


@contextmanager
def redraws_coalesced() -> Iterator[Redraws]:
    """While inside, a style change asks nothing to redraw but notes who would have been asked
    (Textual's ``Styles.refresh``: the node, its descendants for a colour, its parent for some
    rules); on leaving, each node noted is asked once, with every layout pass or repaint it was
    owed. Textual's way asks a node's whole subtree again for every colour the restyle changes."""
    noted: Redraws = {}
    refresh = Styles.refresh

    def note(styles: Styles, *, layout: bool = False, children: bool = False, parent: bool = False,
             repaint: bool = True) -> None:
        node = styles.node
        if node is None or not node._is_mounted:  # Textual's own test, kept exactly
            return
        if parent and node.parent is not None:
            owe(noted, node.parent, False, repaint)
        owe(noted, node, layout, True)
        if children:
            for child in node.walk_children(with_self=False):
                owe(noted, child, layout, repaint)

    Styles.refresh = note  # type: ignore[method-assign, assignment]
    try:
        yield noted
    finally:
        Styles.refresh = refresh  # type: ignore[method-assign]
        for node, (layout, repaint) in noted.items():
            node.refresh(layout=layout, repaint=repaint)


def owe(noted: Redraws, node: DOMNode, layout: bool, repaint: bool) -> None:
    """Note that ``node`` is owed a redraw (with a layout pass, with a repaint), merged with what
    it was owed already."""
    owed_layout, owed_repaint = noted.get(node, (False, False))
    noted[node] = (owed_layout or layout, owed_repaint or repaint)


class KeylineRecolouredInPlace(KeylineProperty):
    """Textual's ``keyline`` style, except that a new colour on the same kind of line asks its widget
    to repaint, not to be laid out again: the line is drawn where the layout put it (the widget's
    ``render``), and only whether one is drawn changes the layout (a grid's gutter)."""

    def __set__(self, obj: StylesBase, keyline: tuple[str, Any] | None) -> None:
        before = keyline_kind(obj)
        changed = obj.clear_rule("keyline") if keyline is None else obj.set_rule("keyline", keyline)
        if changed:
            obj.refresh(layout=keyline_kind(obj) != before)


def keyline_kind(styles: StylesBase) -> str:
    """The kind of line ``styles`` draw around their widget's children (``"none"``: no keyline)."""
    kind, _colour = styles.keyline
    return kind


@contextmanager
def keylines_recoloured_in_place() -> Iterator[None]:
    """While inside, a widget whose keyline changes only colour is not laid out again
    (:class:`KeylineRecolouredInPlace` stands in for Textual's descriptor on :class:`Styles`)."""
    setattr(Styles, "keyline", KeylineRecolouredInPlace())  # noqa: B010 (a descriptor, set on the class)
    try:
        yield
    finally:
        delattr(Styles, "keyline")  # StylesBase's own is seen again
