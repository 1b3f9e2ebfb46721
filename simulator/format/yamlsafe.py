"""Safe YAML reading that remembers where every value came from, for ``file:line:col`` errors.

Refuses what a drill file never needs and an attacker would use: files over a size limit,
alias expansion past a bound (the "billion laughs"), duplicate keys, and non-standard tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator.format.durations import colon_hint, plain_number

MAX_BYTES = 1024 * 1024
"""Largest scenario or policy file accepted."""
MAX_NODES = 100_000
"""Most values a document may expand to, counting every alias use."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences accepted (a drill file needs under ten)."""

_C_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
"""libyaml's parser when PyYAML was built with it (:func:`compose` falls back to the pure-Python one)."""
_READ_DIFFERENTLY = "\t\x85\u2028\u2029\ufeff"
"""Characters libyaml and PyYAML's pure-Python parser read differently: tab, NEL, LS, PS, BOM."""

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_YAML11_BOOL = re.compile(r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a file, at a place in it."""

    file: str
    line: int
    """1-based line."""
    column: int
    """1-based column."""
    message: str
    level: str = "error"
    """``error`` or ``warning``."""

    def __str__(self) -> str:
        prefix = "" if self.level == "error" else "warning: "
        return f"{self.file}:{self.line}:{self.column}: {prefix}{self.message}"


class FileProblems(Exception):
    """A file could not be loaded; ``problems`` says every place and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Document:
    """A parsed YAML document: plain Python data and the node tree it came from."""

    file: str
    data: Any
    root: Node

    def node_at(self, path: tuple[Any, ...]) -> Node:
        """The deepest node along ``path`` (keys and indexes); parts that do not match are skipped."""
        return self.nodes_along(path)[-1]

    def nodes_along(self, path: tuple[Any, ...]) -> list[Node]:
        """The root, then each node ``path`` leads through (parts that do not match are skipped)."""
        nodes = [self.root]
        for part in path:
            child = child_of(nodes[-1], part)
            if child is not None:
                nodes.append(child)
        return nodes

    def key_node_at(self, path: tuple[Any, ...]) -> Node:
        """The key node of the last part of ``path`` when it names a mapping key, else :meth:`node_at`."""
        if not path:
            return self.root
        parent = self.node_at(path[:-1])
        if isinstance(parent, MappingNode):
            for key, _ in parent.value:
                if isinstance(key, ScalarNode) and key.value == str(path[-1]):
                    return key
        return self.node_at(path)

    def problem(self, node: Node, message: str, level: str = "error") -> Problem:
        """A problem located at ``node``."""
        mark = node.start_mark
        return Problem(self.file, mark.line + 1, mark.column + 1, message, level)

    def yaml11_hint(self, node: Node, wants: str = "text") -> str:
        """Explain a plain scalar that YAML 1.1 read as something other than the string written.

        ``wants`` is what the field expects: ``text`` (then quoting is the fix), ``duration`` (then
        the fix is a duration with units, never quotes: ``'10:05'`` is no duration either) or
        anything else (the hint only says how the value was read).
        """
        if not isinstance(node, ScalarNode) or node.style:
            return ""
        text = node.value
        if _YAML11_BOOL.match(text):
            reading = f"; YAML 1.1 reads the unquoted {text} as a boolean"
            return reading + (f": write '{text}' in quotes if you meant the text" if wants == "text" else "")
        if _SEXAGESIMAL.match(text):
            reading = f"; YAML 1.1 reads the unquoted {text} as the base-60 number {_base60(text)}"
            if wants == "text":
                return reading + f": write '{text}' in quotes"
            if wants == "duration":
                fix = colon_hint(text)
                return reading + (f": {fix}" if fix else ": write a duration such as 10m5s")
            return reading
        return ""


def is_base60(node: Node) -> bool:
    """Whether ``node`` is a plain scalar like ``10:05`` that YAML 1.1 reads as a base-60 number."""
    return isinstance(node, ScalarNode) and not node.style and bool(_SEXAGESIMAL.match(node.value))


def _base60(text: str) -> str:
    """The number YAML 1.1 makes of ``10:05`` (605), as plain text."""
    sign = -1 if text.startswith("-") else 1
    value = 0.0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        value = value * 60 + float(part)
    return plain_number(sign * value)


def child_of(node: Node, part: Any) -> Node | None:
    """The value under key ``part`` of a mapping node, or item ``part`` of a sequence node; else None."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == str(part):
                found: Node = value
                return found
    elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item: Node = node.value[part]
        return item
    return None


YAML_WORDS = {
    "expected <block end>, but found '?'":
        "this key does not line up with the lines above: check its indentation",
    "expected <block end>, but found '-'":
        "this list item does not line up with the lines above: check its indentation",
    "expected <block end>, but found '<block mapping start>'":
        "this line is indented deeper than the line above, which has its value already: check the "
        "indentation of both",
    "found character '\\t' that cannot start any token": "a tab: indent with spaces",
    "mapping values are not allowed here":
        "a ':' cannot start a value here: quote a value that contains ': ', or check the indentation",
}
"""The parser's problems a new author meets most, in words (the parser's own follow in brackets)."""


def yaml_words(problem: str | None) -> str:
    """The YAML parser's problem, said in words when it is one of :data:`YAML_WORDS`."""
    said = problem or "unreadable"
    words = YAML_WORDS.get(said)
    return f"{words} ({said})" if words else said


def read_document(text: str, file: str) -> Document:
    """Parse ``text`` safely into a :class:`Document`.

    Raises:
        FileProblems: the text is too large, not valid YAML, or uses a refused construct.
    """
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise FileProblems([Problem(file, 1, 1,
                                    f"file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes")])
    try:
        root = compose(text)
    except RecursionError:
        raise FileProblems([Problem(file, 1, 1, "values are nested too deeply to read; "
                                                "refusing the file")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise FileProblems([Problem(file, line, col, f"not valid YAML: {yaml_words(exc.problem)}")]) from None
    except yaml.YAMLError as exc:
        raise FileProblems([Problem(file, 1, 1, f"not valid YAML: {exc}")]) from None
    if root is None:
        raise FileProblems([Problem(file, 1, 1, "the file is empty; expected a mapping")])
    return document_of(root, file)


def compose(text: str) -> Node | None:
    """The node tree of a YAML document, exactly as PyYAML's pure-Python ``SafeLoader`` composes it.

    libyaml composes it ~20× faster, so it reads first; the pure-Python parser reads the text
    again whenever the two could disagree: the text has a character they treat differently, libyaml
    fails (the error then is PyYAML's, word for word), or the tree has a construct where they
    differ (:func:`_same_as_pure_python`). Either way the caller gets the same nodes, start marks
    and errors (end marks may differ: nothing reads them).

    Raises:
        yaml.YAMLError: not valid YAML (PyYAML's message and marks).
        RecursionError: nested too deeply for the pure-Python composer.
    """
    if _C_LOADER is not None and not _python_reads_differently(text):
        try:
            root: Node | None = yaml.compose(text, Loader=_C_LOADER)
        except (yaml.YAMLError, RecursionError):
            pass
        else:
            if root is None or _same_as_pure_python(root):
                return root
    found: Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    return found


def _python_reads_differently(text: str) -> bool:
    """Whether ``text`` has a character the two parsers read differently, or PyYAML refuses (controls)."""
    return (any(char in text for char in _READ_DIFFERENTLY)
            or yaml.reader.Reader.NON_PRINTABLE.search(text) is not None)


def _same_as_pure_python(root: Node) -> bool:
    """Whether a libyaml tree is the one PyYAML's pure-Python composer makes of the same text.

    It is, except where the two parsers differ (found by comparing both over mutated scenario
    files): an empty value in a flow collection (``{key: }``: libyaml marks the next token, PyYAML
    the colon's end), a plain scalar with ``?`` in a flow collection (PyYAML ends the scalar there)
    and nesting past :data:`MAX_DEPTH` (PyYAML may run out of stack). On the way, plain scalars get
    PyYAML's style (``None``; libyaml says ``''``).
    """
    seen: set[int] = set()
    stack: list[tuple[Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, in_flow = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if not node.style:
                node.style = None
                if in_flow and (not node.value or "?" in node.value):
                    return False
            continue
        if depth >= MAX_DEPTH or not isinstance(node, MappingNode | SequenceNode):
            return False
        flow = in_flow or bool(node.flow_style)
        children = [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else node.value
        stack.extend((child, depth + 1, flow) for child in children)
    return True


def document_of(root: Node, file: str) -> Document:
    """The :class:`Document` of a composed node tree: its data built with every check of the reader.

    Raises:
        FileProblems: duplicate keys, merge keys, unsupported tags or alias bombs in the tree.
    """
    builder = _Builder(file)
    data = builder.build(root)
    if builder.problems:
        raise FileProblems(builder.problems)
    return Document(file, data, root)


class _Builder:
    """Turns a node tree into Python data, counting alias expansion and catching duplicate keys."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.nodes = 0
        self.open: list[Node] = []
        """Collections being built, outermost first: an alias to one of them is a cycle."""
        self.problems: list[Problem] = []
        self.constructor = yaml.SafeLoader("")

    def build(self, node: Node) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            mark = node.start_mark
            raise FileProblems([Problem(
                self.file, mark.line + 1, mark.column + 1,
                f"the document expands to more than {MAX_NODES:,} values through aliases; "
                "refusing it (an alias bomb?)")])
        if not isinstance(node, MappingNode | SequenceNode):
            return self._scalar(node)
        if any(node is outer for outer in self.open):
            raise FileProblems([self._at(node, "an alias refers to a value that contains it; "
                                               "refusing the recursive structure")])
        if len(self.open) >= MAX_DEPTH:
            raise FileProblems([self._at(node, f"values are nested more than {MAX_DEPTH} levels "
                                               "deep; refusing the file")])
        self.open.append(node)
        try:
            return self._mapping(node) if isinstance(node, MappingNode) else self._sequence(node)
        finally:
            self.open.pop()

    def _sequence(self, node: SequenceNode) -> list[Any] | None:
        if node.tag != _SEQ_TAG:
            self._bad_tag(node)
            return None
        return [self.build(item) for item in node.value]

    def _mapping(self, node: MappingNode) -> dict[Any, Any]:
        if node.tag != _MAP_TAG:
            self._bad_tag(node)
            return {}
        out: dict[Any, Any] = {}
        seen: dict[Any, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(self._at(key_node, "merge keys (<<) are not supported; "
                                                        "write the fields out"))
                continue
            key = self.build(key_node)
            if not isinstance(key, str | int | float | bool):
                self.problems.append(self._at(key_node, "expected a plain key"))
                continue
            if key in seen:
                first = seen[key].start_mark
                self.problems.append(self._at(
                    key_node, f"duplicate key {key!r} (first at line {first.line + 1}, "
                              f"column {first.column + 1})"))
                continue
            seen[key] = key_node
            out[key] = self.build(value_node)
        return out

    def _scalar(self, node: Node) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            return self._bad_tag(node)
        except Exception:  # PyYAML's constructors fail in many ways on a bad tagged value
            return self._bad_tagged_value(node)

    def _bad_tag(self, node: Node) -> None:
        self.problems.append(self._at(node, f"unsupported tag {node.tag!r}; "
                                            "only plain YAML values are allowed"))
        return None

    def _bad_tagged_value(self, node: Node) -> None:
        """A value its explicit tag cannot read (``!!int sev3``): a problem at its place, not a crash."""
        tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
        self.problems.append(self._at(node, f"{node.value!r} is not a valid {tag} value; "
                                            "drop the tag or fix the value"))
        return None

    def _at(self, node: Node, message: str) -> Problem:
        mark = node.start_mark
        return Problem(self.file, mark.line + 1, mark.column + 1, message)
