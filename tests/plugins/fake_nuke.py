"""A small stand-in for Nuke's ``nuke`` module: only what the sora_vfx plugin calls.

Nodes with knobs (built-in ones for Read, Write, Group; user knobs added with ``addKnob``),
Groups with nodes inside, ``nuke.nodes``/``createNode``, menus, panels answered by the test, a
progress task, messages, ``executeInMainThread`` (which runs at once), knobChanged callbacks,
``execute`` of a Write (it copies the frames of the Read upstream: rendering is Nuke's, not ours),
and ``scriptSave``/``scriptOpen`` of a script as text. The text is this stand-in's own simple
form of a .nk (a line per knob, values as JSON), not Nuke's; what it shows is that every setting
lives in knobs, so a script saved and reopened gets it back.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import threading

GUI = True
STARTLINE, INVISIBLE = 0x1000, 0x400
# The colour spaces of this fake Nuke's OCIO config (an ACES CG config, as Nuke 14+ ships).
COLORSPACES = ["ACEScg", "ACES2065-1", "scene_linear", "sRGB Encoded Rec.709 (sRGB)", "raw"]
DEFAULT_COLORSPACE = "default (ACEScg)"
_BUILTIN = {
    "Read": {"file": "", "first": 1, "last": 1, "origfirst": 1, "origlast": 1, "colorspace": DEFAULT_COLORSPACE},
    "Write": {"file": "", "file_type": "", "datatype": "16 bit half", "compression": "Zip (16 scanlines)",
              "metadata": "default metadata", "colorspace": DEFAULT_COLORSPACE, "channels": "rgb"},
}


class Knob:
    def __init__(self, kind: str, name: str, label: str | None = None, value=None, values=None):
        self.kind, self._name, self._label = kind, name, label if label is not None else name
        self._values = list(values) if values is not None else None
        self._value = value
        self.flags, self.tooltip, self.enabled = 0, "", True

    def Class(self) -> str:  # noqa: N802  (Nuke's names)
        return self.kind

    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label

    def value(self):
        return self._value

    def evaluate(self):
        return self._value

    def setValue(self, value) -> bool:  # noqa: N802
        if self._values is not None and value not in self._values:
            raise ValueError(f"{self._name}: invalid value {value!r}")
        caster = {"Int_Knob": int, "Double_Knob": float, "Boolean_Knob": bool}.get(self.kind, str)
        self._value = caster(value)
        return True

    def values(self) -> list[str]:
        return list(self._values or [])

    def setValues(self, values) -> None:  # noqa: N802
        self._values = [str(v) for v in values]

    def setFlag(self, flag: int) -> None:  # noqa: N802
        self.flags |= flag

    def clearFlag(self, flag: int) -> None:  # noqa: N802
        self.flags &= ~flag

    def setTooltip(self, text: str) -> None:  # noqa: N802
        self.tooltip = text

    def setEnabled(self, enabled: bool) -> None:  # noqa: N802
        self.enabled = bool(enabled)


def _knob_factory(kind: str, default):
    def make(name: str, label: str | None = None, extra=None):
        if kind == "Enumeration_Knob":
            values = list(extra or [])
            return Knob(kind, name, label, values[0] if values else "", values)
        return Knob(kind, name, label, extra if extra is not None else default)
    return make


for _kind, _default in (("Tab_Knob", ""), ("String_Knob", ""), ("Multiline_Eval_String_Knob", ""),
                        ("File_Knob", ""), ("Int_Knob", 0), ("Double_Knob", 0.0), ("Boolean_Knob", False),
                        ("Enumeration_Knob", ""), ("PyScript_Knob", ""), ("Text_Knob", "")):
    globals()[_kind] = _knob_factory(_kind, _default)


class Node:
    def __init__(self, node_class: str, name: str, parent: Node | None):
        self._class, self._name, self.parent = node_class, name, parent
        self._x, self._y = 0, 0
        self.selected = False
        self.children: list[Node] = []
        self._inputs: dict[int, Node] = {}
        self._knobs = {"label": Knob("String_Knob", "label", value="")}
        for knob, value in _BUILTIN.get(node_class, {}).items():
            choices = [DEFAULT_COLORSPACE, *COLORSPACES] if knob == "colorspace" else None
            kind = "Int_Knob" if isinstance(value, int) else "String_Knob"
            self._knobs[knob] = Knob(kind, knob, value=value, values=choices)
        self.user_knobs: list[str] = []

    def Class(self) -> str:  # noqa: N802
        return self._class

    def name(self) -> str:
        return self._name

    def fullName(self) -> str:  # noqa: N802
        names, node = [], self
        while node is not None and node is not _state.root:
            names.append(node.name())
            node = node.parent
        return ".".join(reversed(names))

    def setName(self, name: str, uncollide: bool = True, updateExpressions: bool = False) -> None:  # noqa: N802, N803
        taken = {n.name() for n in self.parent.children if n is not self}
        if name in taken and not uncollide:
            raise ValueError(f"a node named {name} exists")
        stem, number = re.match(r"(.*?)(\d*)$", name).groups()
        number = int(number or 0)
        while name in taken:
            number += 1
            name = f"{stem}{number}"
        self._name = name

    def __getitem__(self, knob: str) -> Knob:
        try:
            return self._knobs[knob]
        except KeyError:
            raise NameError(f"{self._name} has no knob {knob}") from None

    def knob(self, name: str) -> Knob | None:
        return self._knobs.get(name)

    def knobs(self) -> dict[str, Knob]:
        return dict(self._knobs)

    def addKnob(self, knob: Knob) -> None:  # noqa: N802
        self._knobs[knob.name()] = knob
        self.user_knobs.append(knob.name())

    def xpos(self) -> int:
        return self._x

    def ypos(self) -> int:
        return self._y

    def setXYpos(self, x: int, y: int) -> None:  # noqa: N802
        self._x, self._y = int(x), int(y)

    def input(self, index: int) -> Node | None:
        return self._inputs.get(index)

    def setInput(self, index: int, node: Node | None) -> bool:  # noqa: N802
        if node is None:
            self._inputs.pop(index, None)
        else:
            self._inputs[index] = node
        return True

    def firstFrame(self) -> int:  # noqa: N802
        return int(self["first"].value()) if self._class == "Read" else self.input(0).firstFrame()

    def lastFrame(self) -> int:  # noqa: N802
        return int(self["last"].value()) if self._class == "Read" else self.input(0).lastFrame()

    def begin(self) -> Node:
        _state.context.append(self)
        return self

    def end(self) -> None:
        assert _state.context[-1] is self, "end() of a group that was not begun last"
        _state.context.pop()

    def __enter__(self):
        return self.begin()

    def __exit__(self, *exc) -> None:
        self.end()


class Menu:
    def __init__(self, name: str):
        self._name = name
        self.children: dict[str, Menu | object] = {}

    def name(self) -> str:
        return self._name

    def addMenu(self, name: str, **kwargs) -> Menu:  # noqa: N802
        menu = self.children.get(name)
        if not isinstance(menu, Menu):
            menu = self.children[name] = Menu(name)
        return menu

    def addCommand(self, name: str, command=None, shortcut: str = "", **kwargs) -> object:  # noqa: N802
        self.children[name] = command
        return command

    def addSeparator(self) -> None:  # noqa: N802
        self.children[f"-{len(self.children)}"] = None

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
        self.root = Node("Root", "Root", None)
        self.context: list[Node] = [self.root]
        self.messages: list[str] = []
        self.tasks: list[ProgressTask] = []
        self.panels: list[Panel] = []
        self.menus: dict[str, Menu] = {}
        self.knob_changed: list = []
        self.this: tuple[Node | None, Knob | None] = (None, None)
        self.panel_answers: dict[str, str] | None = {}
        self.cancel = lambda task: False
        self.main_thread_calls = 0
        self.executed: list[tuple[str, int, int]] = []
        self.lock = threading.RLock()

    @property
    def nodes(self) -> list[Node]:
        return self.root.children


_state = _State()


def _create(node_class: str, **knob_values) -> Node:
    parent = _state.context[-1]
    count = sum(n.Class() == node_class for n in parent.children) + 1
    node = Node(node_class, f"{node_class}{count}", parent)
    parent.children.append(node)
    for index, source in enumerate(knob_values.pop("inputs", []) or []):
        node.setInput(index, source)
    if "name" in knob_values:
        node.setName(knob_values.pop("name"))
    for knob, value in knob_values.items():
        node[knob].setValue(value)
    return node


class _Nodes:
    def __getattr__(self, node_class: str):
        return lambda **knob_values: _create(node_class, **knob_values)


nodes = _Nodes()


def createNode(node_class: str, knobs: str = "", inpanel: bool = True) -> Node:  # noqa: N802
    """Like Nuke's: the new node's input 0 is the selected node."""
    chosen = [n for n in _state.context[-1].children if n.selected]
    node = _create(node_class)
    if chosen:
        node.setInput(0, chosen[-1])
    return node


def allNodes(filter: str | None = None, group: Node | None = None, recurseGroups: bool = False) -> list[Node]:  # noqa: N802, A002, N803
    found = []

    def walk(parent: Node) -> None:
        for node in parent.children:
            if filter is None or node.Class() == filter:
                found.append(node)
            if recurseGroups and node.children:
                walk(node)
    walk(group or _state.context[-1])
    return found


def toNode(name: str) -> Node | None:  # noqa: N802
    return next((n for n in _state.context[-1].children if n.name() == name), None)


def delete(node: Node) -> None:
    node.parent.children.remove(node)


def root() -> Node:
    return _state.root


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


def addKnobChanged(call, args=(), kwargs=None, nodeClass: str = "*") -> None:  # noqa: N802, N803
    _state.knob_changed.append((call, nodeClass))


def thisNode() -> Node | None:  # noqa: N802
    return _state.this[0]


def thisKnob() -> Knob | None:  # noqa: N802
    return _state.this[1]


def change(node: Node, knob: str, value) -> None:
    """The artist sets a knob in the panel: the value, then the knobChanged callbacks."""
    node[knob].setValue(value)
    _fire(node, node[knob])


def press(node: Node, knob: str) -> None:
    """The artist presses a button: its Python runs with ``nuke.thisNode()`` set."""
    _state.this = (node, node[knob])
    try:
        exec(node[knob].value(), {"nuke": sys.modules[__name__]})  # noqa: S102
    finally:
        _state.this = (None, None)


def _fire(node: Node, knob: Knob) -> None:
    _state.this = (node, knob)
    try:
        for call, node_class in _state.knob_changed:
            if node_class in ("*", node.Class()):
                call()
    finally:
        _state.this = (None, None)


def execute(node: Node, first: int, last: int, incr: int = 1) -> None:
    """Render a Write: here, copy the frames of the Read it reads (through a Group's Input), as
    they are (the Write's channels, colour space and type are Nuke's business)."""
    source = node.input(0)
    while source is not None and source.Class() != "Read":
        if source.Class() == "Input":
            group = source.parent
            index = [n for n in group.children if n.Class() == "Input"].index(source)
            source = group.input(index)
        else:
            source = source.input(0)
    if source is None:
        raise RuntimeError(f"{node.name()}: nothing to render (no Read upstream in this stand-in)")
    _state.executed.append((node.fullName(), first, last))
    for frame in range(first, last + 1, incr):
        shutil.copyfile(_frame(source["file"].value(), frame), _frame(node["file"].value(), frame))


def _frame(pattern: str, frame: int) -> str:
    return re.sub(r"#+", lambda m: f"{frame:0{len(m.group())}d}", pattern)


# --- scripts as text ------------------------------------------------------------------------

def _name_script(path: str) -> None:
    _state.root._name = path
    _state.root._knobs["name"] = Knob("builtin", "name", value=path)


def scriptSave(path: str | None = None) -> None:  # noqa: N802
    path = path or _state.root.name()
    _name_script(path)
    lines = ["# sora_vfx tests: a stand-in Nuke script (one knob per line, values as JSON)"]
    _write_nodes(_state.root, lines, 0)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def _write_nodes(parent: Node, lines: list[str], depth: int) -> None:
    pad = " " * depth
    for node in parent.children:
        lines.append(f"{pad}{node.Class()} {{")
        lines.append(f"{pad} name {json.dumps(node.name())}")
        for index, source in sorted(node._inputs.items()):
            lines.append(f"{pad} input{index} {json.dumps(source.name())}")
        lines.append(f"{pad} xpos {node.xpos()}\n{pad} ypos {node.ypos()}")
        for name, knob in node._knobs.items():
            if name in node.user_knobs:
                declaration = {"class": knob.kind, "name": name, "label": knob.label(), "flags": knob.flags,
                               "tooltip": knob.tooltip, "enabled": knob.enabled}
                if knob.kind == "Enumeration_Knob":
                    declaration["values"] = knob.values()
                lines.append(f"{pad} addUserKnob {json.dumps(declaration)}")
            lines.append(f"{pad} {name} {json.dumps(knob.value())}")
        lines.append(f"{pad}}}")
        if node.Class() == "Group":
            _write_nodes(node, lines, depth + 1)
            lines.append(f"{pad}end_group")


def scriptOpen(path: str) -> None:  # noqa: N802
    """A new session with the saved script's nodes (knob callbacks and menus are kept)."""
    global _state
    callbacks, menus = _state.knob_changed, _state.menus
    _state = _State()
    _state.knob_changed, _state.menus = callbacks, menus
    _name_script(path)
    with open(path, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    wiring: list[tuple[Node, int, str]] = []
    stack, node = [_state.root], None
    for line in lines:
        if line.endswith("{"):
            node = Node(line[:-1].strip(), "", stack[-1])
            stack[-1].children.append(node)
        elif line == "}":
            stack.append(node) if node.Class() == "Group" else None
            node = None
        elif line == "end_group":
            stack.pop()
        else:
            key, _, text = line.partition(" ")
            value = json.loads(text)
            if key == "name":
                node._name = value
            elif key.startswith("input"):
                wiring.append((node, int(key[5:]), value))
            elif key in ("xpos", "ypos"):
                node.setXYpos(value if key == "xpos" else node.xpos(), value if key == "ypos" else node.ypos())
            elif key == "addUserKnob":
                knob = Knob(value["class"], value["name"], value["label"], values=value.get("values"))
                knob.flags, knob.tooltip, knob.enabled = value["flags"], value["tooltip"], value["enabled"]
                node.addKnob(knob)
            else:
                node[key]._value = value
    for target, index, name in wiring:
        siblings = target.parent.children
        target.setInput(index, next(n for n in siblings if n.name() == name))


def reset() -> _State:
    """A fresh Nuke session: no nodes, menus, messages or tasks; panels answered with defaults."""
    global _state
    _state = _State()
    _name_script("Root")
    return _state
