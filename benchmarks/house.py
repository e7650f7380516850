"""How the package's house is laid out: the measures of issue 23.

    python benchmarks/house.py           prints the four measures

* import circles: the graph of which package module imports which, with
  imports inside functions counted too (a lazy import is still a
  dependency), and every cycle of it (strongly connected components);
* the package's top-level modules (``minicnn/*.py`` besides ``__init__``);
* the files of ``functional/`` that import numba or threadpoolctl;
* the package files one ``fit`` epoch of seed 004's CNN executes after a
  warm-up epoch (a small random data set: what counts is which files run).
"""
import ast
import os
import sys

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'minicnn')


def module_files(root=PACKAGE):
    """{dotted module name: file path} for every .py file of the package."""
    found = {}
    base = os.path.dirname(root)
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                dotted = os.path.relpath(path, base)[:-3].replace(os.sep, '.')
                found[dotted.removesuffix('.__init__')] = path
    return found


def imported_names(path, module, is_package):
    """Every module name the file imports, at any depth (functions included)."""
    tree = ast.parse(open(path, encoding='utf-8').read(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split('.')
                parent = parts if is_package else parts[:-1]
                parent = parent[:len(parent) - node.level + 1]
                base = '.'.join(parent + ([node.module] if node.module else []))
            else:
                base = node.module
            names.add(base)
            names.update(f'{base}.{alias.name}' for alias in node.names)
    return names


def import_graph(files=None):
    """{module: set of package modules it imports}; ``from pkg import sub``
    counts as importing ``pkg.sub`` when that is a module, else ``pkg``."""
    files = files or module_files()
    graph = {}
    for module, path in files.items():
        targets = set()
        for name in imported_names(path, module, path.endswith('__init__.py')):
            if name in files:
                targets.add(name)
            elif name.rsplit('.', 1)[0] in files:
                targets.add(name.rsplit('.', 1)[0])
        # A package's __init__ importing its own submodules is not a circle of
        # concepts: each submodule would otherwise close a loop with its parent.
        graph[module] = {t for t in targets if t != module}
    return graph


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan),
    with imports of a module's own parent packages left out: importing
    ``a.b`` runs ``a/__init__`` first by Python's rule, not by design."""
    def edges(m):
        return [t for t in graph[m] if not m.startswith(t + '.')]
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def top_level_modules(root=PACKAGE):
    return sorted(n for n in os.listdir(root) if n.endswith('.py') and n != '__init__.py')


def functional_importing_threads(root=PACKAGE):
    """functional/ files that import numba or threadpoolctl."""
    files = module_files()
    return sorted(m for m, path in files.items() if m.startswith('minicnn.functional')
                  and any(n.split('.')[0] in ('numba', 'threadpoolctl')
                          for n in imported_names(path, m, path.endswith('__init__.py'))))


def files_run_by_fit_epoch(samples=256, batch_size=128):
    """Package files whose code runs during one fit epoch of seed 004's CNN,
    after a warm-up epoch (so that compiling and first-call imports are done)."""
    import numpy as np
    sys.path.insert(0, os.path.dirname(PACKAGE))
    from minicnn.recipes.zoo import cnn_seed004
    from minicnn.optimizers import Adam
    rng = np.random.default_rng(0)
    x = rng.random((samples, 32, 32, 3), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, samples)]
    model = cnn_seed004()
    model.compile(loss='categorical_crossentropy', optimizer=Adam(lr=0.0001, decay=1e-6),
                  metrics=['accuracy'])
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    seen = set()

    def profile(frame, event, arg):
        seen.add(frame.f_code.co_filename)
    sys.setprofile(profile)
    try:
        model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
    finally:
        sys.setprofile(None)
    return sorted(os.path.relpath(f, os.path.dirname(PACKAGE)) for f in seen
                  if os.path.abspath(f).startswith(PACKAGE + os.sep))


def main():
    found = cycles(import_graph())
    print(f'import circles: {len(found)}')
    for component in found:
        print('   ', ' '.join(component))
    modules = top_level_modules()
    print(f'top-level modules: {len(modules)}: {" ".join(modules)}')
    print(f'functional/ files importing numba or threadpoolctl: {functional_importing_threads()}')
    files = files_run_by_fit_epoch()
    print(f'files a fit epoch runs: {len(files)}')
    for f in files:
        print('   ', f)


if __name__ == '__main__':
    main()
