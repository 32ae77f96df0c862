"""A small stand-in for Nuke's ``nuke`` module: only what the sora_vfx shim calls.

Nodes with knobs, the node factory ``nuke.nodes``, menus, panels answered by the test,
a progress task, messages and ``executeInMainThread`` (which runs at once).
"""

from __future__ import annotations

import threading
import types

# The colour spaces of this fake Nuke's OCIO config (an ACES CG config, as Nuke 14+ ships).
COLORSPACES = ["ACEScg", "ACES2065-1", "scene_linear", "sRGB Encoded Rec.709 (sRGB)", "raw"]
DEFAULT_COLORSPACE = "default (ACEScg)"
_KNOBS = {
    "Read": {"file": "", "first": 1, "last": 1, "origfirst": 1, "origlast": 1,
             "colorspace": DEFAULT_COLORSPACE, "label": ""},
}


class Knob:
    def __init__(self, name: str, value, choices: list[str] | None = None):
        self._name, self._value, self._choices = name, value, choices

    def name(self) -> str:
        return self._name

    def value(self):
        return self._value

    def setValue(self, value) -> bool:  # noqa: N802  (Nuke's name)
        if self._choices is not None and value not in self._choices:
            raise ValueError(f"{self._name}: invalid value {value!r}")
        self._value = value
        return True


class Node:
    def __init__(self, node_class: str, name: str):
        self._class, self._name = node_class, name
        self._x, self._y = 0, 0
        self.selected = False
        self._knobs = {}
        for knob, value in _KNOBS.get(node_class, {}).items():
            choices = [DEFAULT_COLORSPACE, *COLORSPACES] if knob == "colorspace" else None
            self._knobs[knob] = Knob(knob, value, choices)

    def Class(self) -> str:  # noqa: N802
        return self._class

    def name(self) -> str:
        return self._name

    def setName(self, name: str, uniquify: bool = False) -> None:  # noqa: N802
        taken = {n.name() for n in _state.nodes if n is not self}
        if name in taken and not uniquify:
            raise ValueError(f"a node named {name} exists")
        candidate, number = name, 1
        while candidate in taken:
            candidate, number = f"{name}{number}", number + 1
        self._name = candidate

    def __getitem__(self, knob: str) -> Knob:
        try:
            return self._knobs[knob]
        except KeyError:
            raise NameError(f"{self._name} has no knob {knob}") from None

    def knobs(self) -> dict[str, Knob]:
        return dict(self._knobs)

    def xpos(self) -> int:
        return self._x

    def ypos(self) -> int:
        return self._y

    def setXYpos(self, x: int, y: int) -> None:  # noqa: N802
        self._x, self._y = int(x), int(y)


class Menu:
    def __init__(self, name: str):
        self._name = name
        self.children: dict[str, Menu | object] = {}

    def name(self) -> str:
        return self._name

    def addMenu(self, name: str) -> Menu:  # noqa: N802
        menu = self.children.get(name)
        if not isinstance(menu, Menu):
            menu = self.children[name] = Menu(name)
        return menu

    def addCommand(self, name: str, command=None, shortcut: str = "") -> object:  # noqa: N802
        self.children[name] = command
        return command

    def findItem(self, name: str):  # noqa: N802
        return self.children.get(name)


class ProgressTask:
    def __init__(self, title: str):
        self.title = title
        self.messages: list[str] = []
        self.progress: list[int] = []
        _state.tasks.append(self)

    def setMessage(self, text: str) -> None:  # noqa: N802
        self.messages.append(text)

    def setProgress(self, percent: int) -> None:  # noqa: N802
        if not 0 <= percent <= 100:
            raise ValueError(f"progress {percent} outside 0..100")
        self.progress.append(percent)

    def isCancelled(self) -> bool:  # noqa: N802
        return _state.cancel(self)


class Panel:
    def __init__(self, title: str):
        self.title = title
        self.defaults: dict[str, str] = {}
        _state.panels.append(self)

    def addSingleLineInput(self, name: str, value: str) -> None:  # noqa: N802
        self.defaults[name] = value

    def addFilenameSearch(self, name: str, value: str) -> None:  # noqa: N802
        self.defaults[name] = value

    def show(self) -> int:
        return 0 if _state.panel_answers is None else 1

    def value(self, name: str) -> str:
        answers = _state.panel_answers or {}
        return str(answers.get(name, self.defaults[name]))


class _State:
    def __init__(self):
        self.nodes: list[Node] = []
        self.messages: list[str] = []
        self.tasks: list[ProgressTask] = []
        self.panels: list[Panel] = []
        self.menus: dict[str, Menu] = {}
        self.panel_answers: dict[str, str] | None = {}
        self.cancel = lambda task: False
        self.main_thread_calls = 0
        self.lock = threading.Lock()


_state = _State()


def _create(node_class: str) -> Node:
    count = sum(n.Class() == node_class for n in _state.nodes) + 1
    node = Node(node_class, f"{node_class}{count}")
    _state.nodes.append(node)
    return node


nodes = types.SimpleNamespace(Read=lambda: _create("Read"))


def allNodes(filter: str | None = None) -> list[Node]:  # noqa: N802, A002
    return [n for n in _state.nodes if filter is None or n.Class() == filter]


def selectedNode() -> Node:  # noqa: N802
    chosen = [n for n in _state.nodes if n.selected]
    if not chosen:
        raise ValueError("no node selected")
    return chosen[-1]


def filename(node: Node) -> str:
    return node["file"].value()


def menu(name: str) -> Menu:
    return _state.menus.setdefault(name, Menu(name))


def message(text: str) -> None:
    _state.messages.append(text)


def executeInMainThread(call, args=(), kwargs=None) -> None:  # noqa: N802
    with _state.lock:
        _state.main_thread_calls += 1
        call(*args, **(kwargs or {}))


def reset() -> _State:
    """A fresh Nuke session: no nodes, menus, messages or tasks; panels answered with defaults."""
    global _state
    _state = _State()
    return _state
