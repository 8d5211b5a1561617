"""The forbidden-import scan: which functions of a submission use a library that graded
code must not use (``torch`` in a "numpy only" answer), directly, through an alias, a
dynamic import or a function they call, and which cell defines each name.

Static, on the cells' syntax trees: nothing here runs student code. The sandbox refuses
the imports at run time too; the scan is what names them in the record.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from autograder.grading.notebooks import parse


@dataclass
class Scan:
    defined_in: dict  # top-level name -> index of the last cell that defines it
    forbidden: dict  # function name -> sorted forbidden modules it uses (directly or via calls)
    forbidden_cells: dict  # cell index -> forbidden modules imported at top level


def _module_of(node) -> list[tuple[str, str]]:
    """(module, the name it is bound to) of each module an import statement imports."""
    if isinstance(node, ast.Import):
        return [(a.name, a.asname or a.name.partition(".")[0]) for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [(node.module, a.asname or a.name) for a in node.names]
    return []


def _dynamic_import(node) -> str | None:
    """The module of ``__import__("m")`` or ``import_module("m")`` (else None)."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
            return node.args[0].value
    return None


def _walk_imports(node, names=None) -> tuple[list[str], list[str]]:
    """The modules imported anywhere inside ``node``: ``(by import statements, by
    __import__/import_module calls)``, in one walk; the identifiers it references are
    added to ``names`` if given."""
    static, dynamic = [], []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            if names is not None:
                names.add(sub.id)
        elif isinstance(sub, ast.Import | ast.ImportFrom):
            static += [module for module, _ in _module_of(sub)]
        elif isinstance(sub, ast.Call):
            module = _dynamic_import(sub)
            if module is not None:
                dynamic.append(module)
    return static, dynamic


def _may_use(code: str, forbidden_modules) -> bool:
    """False only if ``code`` cannot import or name any of ``forbidden_modules``: plain
    ASCII (identifiers are NFKC-normalised, so other letters may spell a module name)
    without any of the names or a dynamic import."""
    if not code.isascii():
        return True
    words = (*forbidden_modules, "__import__", "import_module")
    return any(word in code for word in words)


def scan(cells: list, forbidden_modules) -> Scan:
    """Which cell defines each name, and which functions use a forbidden library."""
    forbidden_modules = set(forbidden_modules)

    def root(module: str) -> str:
        return module.partition(".")[0]

    trees = []
    for cell in cells:
        if cell["origin"] != "student":
            continue
        try:
            trees.append((cell["index"], parse(cell["code"])))
        except (SyntaxError, ValueError):
            continue
    defined_in = {}
    for index, tree in trees:
        for node in tree.body:
            for target in _bound_names(node):
                defined_in[target] = index
    if not any(_may_use(c["code"], forbidden_modules) for c in cells if c["origin"] == "student"):
        return Scan(defined_in, {}, {})  # nothing below could find anything

    aliases, functions, forbidden_cells = {}, {}, {}
    for index, tree in trees:
        # A cell is flagged for its top-level import statements and for dynamic imports
        # anywhere in it; a function, for every import inside it.
        imported = []
        for node in tree.body:
            for module, alias in _module_of(node):
                imported.append(module)
                if root(module) in forbidden_modules:
                    aliases[alias] = root(module)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names = set()
                static, dynamic = _walk_imports(node, names)
                functions[node.name] = (static + dynamic, names)
            else:
                dynamic = _walk_imports(node)[1]
            imported += dynamic
        bad = {root(m) for m in imported} & forbidden_modules
        if bad:
            forbidden_cells[index] = bad
    direct, calls = {}, {}
    for name, (modules, names) in functions.items():
        used = {root(m) for m in modules} & forbidden_modules
        used |= {aliases[n] for n in names if n in aliases}
        direct[name], calls[name] = used, names & set(functions)
    forbidden = {}
    for name in functions:
        used, stack, visited = set(direct[name]), [name], {name}
        while stack:
            for callee in calls[stack.pop()]:
                if callee not in visited:
                    visited.add(callee)
                    used |= direct[callee]
                    stack.append(callee)
        if used:
            forbidden[name] = sorted(used)
    return Scan(defined_in, forbidden, {k: sorted(v) for k, v in forbidden_cells.items()})


def _bound_names(node) -> list[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [a.asname or a.name.partition(".")[0] for a in node.names]
    names = []
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    names.append(sub.id)
    return names


# ----------------------------------------------------------------------------- autograded copy
