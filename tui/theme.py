"""The light/dark switch (``d``) made cheap: each theme's rules parsed once, each widget redrawn once.

Textual answers a theme change by parsing every stylesheet source again with the new theme's
variables and restyling every node, and each colour a node's restyle changes asks the node and all
of its descendants to redraw: thousands of redraw requests per press on our screens. Over an SSH
seat that was most of the time between ``d`` and the screen's update (issue 11).
:class:`ThemeStylesheet` keeps the parsed rules of every set of variables it has seen, so a theme
seen before is not parsed again, and restyles a whole tree asking each node to redraw once. What is
drawn is the same: a toggled screen matches one started in the other theme, cell for cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from textual.app import App
from textual.cache import LRUCache
from textual.css.model import RuleSet
from textual.css.styles import Styles
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode

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

    def refresh_css(self, animate: bool = True) -> None:
        """Restyle every screen for the current theme and CSS; the current screen is drawn on its
        next update, laid out again only if a changed rule sizes or places a widget (a theme changes
        colours only). Textual's own also lays it out and draws it at once."""
        stylesheet = self.stylesheet
        stylesheet.set_variables(self.get_css_variables())
        stylesheet.reparse()
        stylesheet.update(self, animate=animate)
        if not self.screen_stack:
            return
        if self.screen.is_mounted:
            self.screen.refresh()
            self.screen._css_update_count = self._css_update_count  # as Textual's refresh_css notes
        for screen in self.screen_stack:
            if screen is not self.screen:
                stylesheet.update(screen, animate=animate)
                screen._css_update_count = self._css_update_count

    def on_ready(self) -> None:
        """The first screen is up: what is alive now lives on (see :mod:`tui.heap`)."""
        freeze_what_is_alive()

    async def on_unmount(self) -> None:
        """The app has ended: what it froze can be collected again. (Textual calls each class's
        handler, so a subclass's own ``on_unmount`` does not replace this one.)"""
        thaw()


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
        """Restyle ``root`` and every node under it; each node changed is asked to redraw once."""
        with redraws_coalesced():
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
