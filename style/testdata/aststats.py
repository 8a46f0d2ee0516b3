"""Compute r2c's `style stats` counts with CPython's own ast module.

Reads file paths (one per line) on stdin and writes one JSON object per
file on stdout, in input order.  Files that CPython cannot parse are
reported as ``{"path": ..., "error": ...}`` so the Go side can list them.
"""

import ast
import json
import sys

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
TRY_NODES = tuple(
    getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name)
)


def has_docstring(node):
    """Return True when the first statement of node's body is a str constant."""
    body = getattr(node, "body", None)
    if not body:
        return False
    first = body[0]
    return (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )


def all_args(arguments):
    """Return every ast.arg of an ast.arguments, all kinds."""
    args = list(arguments.posonlyargs) + list(arguments.args)
    if arguments.vararg is not None:
        args.append(arguments.vararg)
    args.extend(arguments.kwonlyargs)
    if arguments.kwarg is not None:
        args.append(arguments.kwarg)
    return args


def stats(tree):
    """Return the counts for one parsed module."""
    counts = dict.fromkeys(
        (
            "functions", "classes", "comprehensions", "lambdas", "fstrings",
            "docstrings", "args", "annotated_args", "annotated_returns",
            "imports", "try_blocks", "bare_excepts", "loops", "withs",
            "decorators",
        ),
        0,
    )
    format_specs = set()
    functions = []
    classes = []
    if has_docstring(tree):
        counts["docstrings"] += 1
    for node in ast.walk(tree):
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            format_specs.add(id(node.format_spec))
    for node in ast.walk(tree):
        if isinstance(node, FUNCTIONS):
            counts["functions"] += 1
            functions.append(node)
            args = all_args(node.args)
            counts["args"] += len(args)
            counts["annotated_args"] += sum(a.annotation is not None for a in args)
            counts["annotated_returns"] += node.returns is not None
            counts["decorators"] += len(node.decorator_list)
            counts["docstrings"] += has_docstring(node)
        elif isinstance(node, ast.ClassDef):
            counts["classes"] += 1
            classes.append(node)
            counts["decorators"] += len(node.decorator_list)
            counts["docstrings"] += has_docstring(node)
        elif isinstance(node, COMPREHENSIONS):
            counts["comprehensions"] += 1
        elif isinstance(node, ast.Lambda):
            counts["lambdas"] += 1
        elif isinstance(node, ast.JoinedStr):
            counts["fstrings"] += id(node) not in format_specs
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            counts["imports"] += 1
        elif isinstance(node, TRY_NODES):
            counts["try_blocks"] += 1
        elif isinstance(node, ast.ExceptHandler):
            counts["bare_excepts"] += node.type is None
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            counts["loops"] += 1
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            counts["withs"] += 1
    by_position = lambda node: (node.lineno, node.col_offset)  # noqa: E731
    counts["function_names"] = [f.name for f in sorted(functions, key=by_position)]
    counts["class_names"] = [c.name for c in sorted(classes, key=by_position)]
    return counts


def main():
    """Read paths from stdin, print one JSON line per path."""
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            with open(path, "rb") as source:
                tree = ast.parse(source.read(), filename=path)
        except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError) as err:
            print(json.dumps({"path": path, "error": f"{type(err).__name__}: {err}"}))
            continue
        result = {"path": path}
        result.update(stats(tree))
        print(json.dumps(result))


if __name__ == "__main__":
    main()
