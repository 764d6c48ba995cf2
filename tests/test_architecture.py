"""The package's layout is its architecture: four parts whose imports flow one way, each used
by the others only through what its ``__init__`` re-exports, and library internals named in one
module. Read the source, not the running package, so a violation anywhere fails here."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "compose"
#: Each part and the parts it may import from: blocks <- trace <- show, reuse.
PARTS = {
    "_blocks": set(),
    "_trace": {"_blocks"},
    "_show": {"_blocks", "_trace"},
    "_reuse": {"_blocks", "_trace"},
}
#: Modules every part may use: errors, library internals, quiet import.
SHARED = {"compose._errors", "compose._compat", "compose._quiet"}
#: The only module allowed to import private pieces of Keras and TensorFlow.
INTERNALS = ("keras.src", "tensorflow.python", "tensorflow.core")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path.name == "__init__.py", ast.parse(path.read_text(encoding="utf-8"))


def _imports(name, is_package, module):
    """``(imported module, names)`` for every import in ``module``, made absolute."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            yield target, [alias.name for alias in node.names]


def _part(module):
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[0] == "compose" and pieces[1] in PARTS else None


MODULES = list(_modules())


@pytest.mark.parametrize("name,is_package,module", MODULES, ids=[m[0] for m in MODULES])
def test_imports_flow_one_way_through_each_parts_api(name, is_package, module):
    mine = _part(name)
    for target, names in _imports(name, is_package, module):
        theirs = _part(target)
        if mine is not None:
            assert target != "compose", f"{name} imports compose itself (an import cycle)"
            assert not (target.startswith("compose.") and theirs is None and target not in SHARED), (
                f"{name} imports {target}, which is above the parts"
            )
        if theirs is None or theirs == mine:
            continue
        assert mine is None or theirs in PARTS[mine], f"{name} ({mine}) may not import {theirs}: imports flow blocks <- trace <- show, reuse"
        assert target == f"compose.{theirs}", f"{name} reaches into {target}; use what compose.{theirs} re-exports"
        private = [n for n in names if n.startswith("_")]
        assert not private, f"{name} imports private names {private} from {target}"


@pytest.mark.parametrize("name,is_package,module", MODULES, ids=[m[0] for m in MODULES])
def test_library_internals_are_named_only_in_compat(name, is_package, module):
    if name == "compose._compat":
        return
    for target, _ in _imports(name, is_package, module):
        assert not target.startswith(INTERNALS), f"{name} imports {target}: name it in compose/_compat.py"


def test_shared_modules_import_no_part():
    for name, is_package, module in MODULES:
        if name in SHARED:
            assert not [t for t, _ in _imports(name, is_package, module) if _part(t)], name
