"""The YAML reader reads with libyaml and answers exactly as PyYAML's pure-Python parser would."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator.format import yamlsafe
from simulator.format.yamlsafe import FileProblems, read_document
from tests.conftest import MINIMAL

REPO = Path(__file__).resolve().parents[1]
FILES = sorted(p for p in REPO.glob("**/*.y*ml") if ".venv" not in p.parts and ".git" not in p.parts)
"""Every YAML file of the checkout: the scenario library, policies and test fixtures."""

EDITS = [*" \n\t:-[]{},#&*!|>'\"%@`?a1.\\\x85\u2028\ufeff\x07\r\xe9\u2013\U0001F600\x00\x1b~=+$^",
         ", ", "? ", ": ", "- ", "&a ", "*a", "!!str ", "!!int ", "\n  ", "yes", "10:05", "~", "null"]
"""What a mutation inserts: YAML's indicators, characters the parsers treat differently, tags."""


def tree(node: Node | None) -> list[tuple[Any, ...]]:
    """A node tree in document order: kind, tag, value, style, start line and column (aliases once)."""
    out: list[tuple[Any, ...]] = []
    seen: set[int] = set()

    def walk(n: Node) -> None:
        mark = n.start_mark
        if id(n) in seen:
            out.append(("alias", mark.line, mark.column))
            return
        seen.add(id(n))
        if isinstance(n, ScalarNode):
            out.append(("scalar", n.tag, n.value, n.style, mark.line, mark.column))
            return
        assert isinstance(n, MappingNode | SequenceNode)
        out.append((type(n).__name__, n.tag, bool(n.flow_style), mark.line, mark.column, len(n.value)))
        for item in n.value:
            for child in item if isinstance(n, MappingNode) else (item,):
                walk(child)

    if node is not None:
        walk(node)
    return out


def outcome(text: str) -> tuple[Any, ...]:
    """What reading ``text`` gives: its data and tree, the located problems, or the exception."""
    try:
        document = read_document(text, "f.yaml")
    except FileProblems as exc:
        return ("problems", str(exc))
    except Exception as exc:  # a crash must be the same crash either way
        return ("crash", type(exc).__name__, str(exc))
    return ("read", repr(document.data), tree(document.root))


def pure_python_outcome(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """:func:`outcome` with libyaml switched off: what the reader answered before it used libyaml."""
    with monkeypatch.context() as patch:
        patch.setattr(yamlsafe, "_C_LOADER", None)
        return outcome(text)


def mutated(text: str, rng: random.Random) -> str:
    """``text`` with one to five characters deleted, inserted or replaced at random places."""
    chars = list(text)
    for _ in range(rng.randint(1, 5)):
        at = rng.randrange(len(chars) + 1)
        choice = rng.random()
        if choice < 0.4 and chars:
            del chars[min(at, len(chars) - 1)]
        elif choice < 0.8:
            chars.insert(at, rng.choice(EDITS))
        elif chars:
            chars[min(at, len(chars) - 1)] = rng.choice(EDITS)
    return "".join(chars)


def test_libyaml_is_what_reads_a_scenario(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain scenario file is composed by libyaml alone (the pure-Python parser costs ~20× more)."""
    loaders: list[type] = []
    compose = yaml.compose

    def recording(text: str, Loader: type) -> Node | None:  # yaml.compose's own parameter name
        loaders.append(Loader)
        found: Node | None = compose(text, Loader)
        return found

    monkeypatch.setattr(yaml, "compose", recording)
    read_document((REPO / "scenarios" / "jailbreak-wave.yaml").read_text(), "jailbreak-wave.yaml")
    assert loaders == [yaml.CSafeLoader]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_yaml_file_reads_the_same_as_with_the_pure_python_parser(
        path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file's data, nodes, tags, styles and start marks are what PyYAML's own parser gives."""
    text = path.read_text(encoding="utf-8", errors="replace")
    assert outcome(text) == pure_python_outcome(text, monkeypatch)


@pytest.mark.parametrize("text", [
    "a: {b: }\n",                  # libyaml marks an empty flow value at the next token
    "a: [x, {b: , c: 1}]\n",
    "a: {b:}\n",                   # libyaml refuses, PyYAML reads b: null
    "a: {audienc?: public}\n",     # PyYAML ends a flow scalar at '?' (and then fails)
    "a: [b?c]\n",
    "a:\tb\n",                     # tabs, NEL, BOM and controls are read differently or refused
    "a: b\x85c: d\n",
    "\ufeffa: b\nc: \ufeffd\n",
    "a: b\x07\n",
    "a: [x, , y]\n",               # both fail, each in its own words: PyYAML's are kept
    "a: b\n- c\n",
    "[" * 150 + "]" * 150,         # deeper than the reader allows
    "[" * 1001 + "]" * 1001,       # deeper than libyaml allows
    "a: &x [1]\nb: *y\n",
    "a: 1\n---\nb: 2\n",
    "",
    "# only a comment\n",
], ids=lambda text: repr(text[:24]))
def test_where_the_parsers_differ_the_pure_python_answer_is_given(
        text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every known difference between libyaml and PyYAML gives the pure-Python outcome."""
    assert outcome(text) == pure_python_outcome(text, monkeypatch)


def test_mutated_files_read_the_same_as_with_the_pure_python_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random edits of real files (seeded) read the same either way, broken or not.

    Run by hand with more cases while changing the reader: each mismatch found so far became a case
    of the test above (20,000 mutations of this kind found none after them).
    """
    rng = random.Random(20261201)
    texts = [MINIMAL, *(p.read_text(encoding="utf-8", errors="replace")[:3000] for p in FILES[:12])]
    for _ in range(150):
        text = mutated(rng.choice(texts), rng)
        assert outcome(text) == pure_python_outcome(text, monkeypatch), text
