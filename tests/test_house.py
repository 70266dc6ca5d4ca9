"""The house: one direction of flow, so no module of the package imports one that imports it back."""

import ast

from conftest import REPO

PACKAGE = REPO / "loaders"


def import_graph() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports, lazily imported ones included."""
    files = {}
    for path in (PACKAGE / "newscorpus").rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
                imported.update(f"{target}.{a.name}" if f"{target}.{a.name}" in files else target for a in node.names)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
        graph[name] = {m for m in imported if m in files and m != name}
    return graph


def test_no_module_of_the_package_imports_one_that_imports_it_back():
    graph = import_graph()
    assert {"newscorpus.exports.records", "newscorpus.exports.carry", "newscorpus.hf_builder.builder"} <= set(graph)
    assert "newscorpus.exports.records" in graph["newscorpus.exports.carry"]  # the graph sees relative imports

    def reachable(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for module in graph[todo.pop()] - seen:
                seen.add(module)
                todo.append(module)
        return seen

    assert [module for module in sorted(graph) if module in reachable(module)] == []
