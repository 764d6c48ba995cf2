"""DOT text that no name can break, and rendering it through Graphviz's ``dot`` program.

Every user-supplied string reaches DOT through `html` (for ``<...>`` labels) or `quoted` (for
``"..."`` attributes) and never as an id: node ids are opaque (``n0``, ``n1``, ...), so a layer
named ``"x"]; evil [shape=box]`` or ``graph`` is only ever text inside a label.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pydot

from .._errors import GraphvizError, GraphvizNotFound

#: Output formats by file extension; ``None`` means DOT text, written without Graphviz.
FORMATS: dict[str, str | None] = {".dot": None, ".gv": None, ".svg": "svg", ".png": "png", ".pdf": "pdf"}

INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH; it is needed to write {what}. Install "
    "Graphviz (Debian/Ubuntu: `apt-get install graphviz`, macOS: `brew install graphviz`, "
    "conda: `conda install graphviz`), or write a `.dot` file, which needs no Graphviz."
)


def visible(text: str) -> str:
    """``text`` with control characters shown as escapes (a newline as ``\\n``, ESC as
    ``\\x1b``), so a label or a terminal shows every character of a name and nothing in it acts
    as layout or as a terminal command. Escaped: C0 and C1 controls and DEL (terminal escape
    sequences start with ESC or CSI), the line and paragraph separators, and the bidirectional
    overrides (which can make text read in another order than it is)."""
    return "".join(_VISIBLE.get(char) or _escape(char) if _hidden(char) else char for char in text)


_VISIBLE = {"\n": "\\n"}
_BIDI = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _hidden(char: str) -> bool:
    code = ord(char)
    return code < 32 or 0x7F <= code <= 0x9F or char in _BIDI


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def html(text: str) -> str:
    """``text`` as the content of a Graphviz HTML-like label."""
    escaped = visible(text)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        escaped = escaped.replace(char, entity)
    return escaped


def quoted(text: str) -> str:
    """``text`` as a double-quoted DOT string for an escString attribute (``tooltip``, ...).

    Backslashes are doubled: Graphviz reads ``\\n``, ``\\N``, ``\\G``, ... in such attributes as
    commands, and a trailing backslash would swallow the closing quote.
    """
    return '"' + visible(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


class DotGraph:
    """A directed graph held as DOT statements: written as text by `text`, or as `to_pydot`.

    Attribute values are given already encoded (``html``/``quoted`` output wrapped as ``<...>``
    or ``"..."``, or plain numbers and keywords), so the text and the pydot object say the same.
    """

    def __init__(self, graph: dict[str, str], node: dict[str, str], edge: dict[str, str]) -> None:
        self.defaults = {"graph": graph, "node": node, "edge": edge}
        self.clusters: dict[str, dict[str, str]] = {}
        self.cluster_parent: dict[str, str | None] = {}
        self.nodes: dict[str, tuple[str | None, dict[str, str]]] = {}
        self.edges: list[tuple[str, str, dict[str, str]]] = []
        self.same_ranks: list[tuple[tuple[str, ...], str | None]] = []

    def add_cluster(self, attrs: dict[str, str], parent: str | None) -> str:
        name = f"cluster_{len(self.clusters)}"
        self.clusters[name] = attrs
        self.cluster_parent[name] = parent
        return name

    def add_node(self, attrs: dict[str, str], cluster: str | None) -> str:
        name = f"n{len(self.nodes)}"
        self.nodes[name] = (cluster, attrs)
        return name

    def add_same_rank(self, nodes: tuple[str, ...], cluster: str | None) -> None:
        """Ask Graphviz to put ``nodes`` (of ``cluster``) side by side."""
        self.same_ranks.append((nodes, cluster))

    def add_edge(self, source: str, dest: str, attrs: dict[str, str]) -> None:
        self.edges.append((source, dest, attrs))

    def text(self) -> str:
        lines = ["digraph model {"]
        for kind, attrs in self.defaults.items():
            lines.append(f"  {kind} [{_attributes(attrs)}];")
        self._write_members(None, lines, "  ")
        for source, dest, attrs in self.edges:
            lines.append(f"  {source} -> {dest}" + (f" [{_attributes(attrs)}]" if attrs else "") + ";")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _write_members(self, cluster: str | None, lines: list[str], indent: str) -> None:
        for name, (owner, attrs) in self.nodes.items():
            if owner == cluster:
                lines.append(f"{indent}{name} [{_attributes(attrs)}];")
        for nodes, owner in self.same_ranks:
            if owner == cluster:
                lines.append(f"{indent}{{rank=same; {'; '.join(nodes)};}}")
        for name, parent in self.cluster_parent.items():
            if parent == cluster:
                lines.append(f"{indent}subgraph {name} {{")
                lines.extend(f"{indent}  {key}={value};" for key, value in self.clusters[name].items())
                self._write_members(name, lines, indent + "  ")
                lines.append(f"{indent}}}")

    def to_pydot(self) -> pydot.Dot:
        dot = pydot.Dot("model", graph_type="digraph", **self.defaults["graph"])
        dot.set_node_defaults(**self.defaults["node"])
        dot.set_edge_defaults(**self.defaults["edge"])
        holders: dict[str | None, Any] = {None: dot}
        for name, parent in self.cluster_parent.items():
            # Clusters are added parents first, so every parent exists already.
            subgraph = pydot.Subgraph(name, **self.clusters[name])
            holders[parent].add_subgraph(subgraph)
            holders[name] = subgraph
        for name, (cluster, attrs) in self.nodes.items():
            holders[cluster].add_node(pydot.Node(name, **attrs))
        for nodes, cluster in self.same_ranks:
            same = pydot.Subgraph(rank="same")
            for node in nodes:
                same.add_node(pydot.Node(node))
            holders[cluster].add_subgraph(same)
        for source, dest, attrs in self.edges:
            dot.add_edge(pydot.Edge(source, dest, **attrs))
        return dot


def _attributes(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in attrs.items())


#: Graphviz scales an SVG's drawing by dpi/72 but not its viewBox, so at any dpi but 72 a
#: browser cuts the picture at the right and bottom (the title line first). The dpi is for
#: bitmaps: vector formats are drawn at 72, the command line overriding the graph's attribute.
_VECTOR = {"svg": ("-Gdpi=72",), "pdf": ("-Gdpi=72",)}


def render(text: str, fmt: str, *, what: str = "this format") -> bytes:
    """Run ``dot -T<fmt>`` on ``text`` and return what it wrote.

    Raises:
        GraphvizNotFound: there is no ``dot`` program on PATH.
        GraphvizError: ``dot`` exited non-zero; its stderr is on the error.
    """
    program = shutil.which("dot")
    if program is None:
        raise GraphvizNotFound(INSTALL_HINT.format(what=what))
    try:
        done = subprocess.run([program, f"-T{fmt}", *_VECTOR.get(fmt, ())], input=text.encode("utf-8"),
                              capture_output=True, check=False)
    except OSError as err:  # removed or not executable between `which` and the call
        raise GraphvizNotFound(INSTALL_HINT.format(what=what)) from err
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace").strip()
        raise GraphvizError(
            f"Graphviz `dot -T{fmt}` failed with exit status {done.returncode}: {stderr or '(no message)'}",
            stderr=stderr,
        )
    return done.stdout
