"""Each `fabkd` module imports alone in a fresh interpreter, and no module imports itself back through another (issue 24)."""
import ast, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]/'fabkd'
MODULES = sorted(p.stem for p in PKG.glob('*.py') if p.stem not in ('__init__', '_modidx'))


def fabkd_imports(name: str) -> set:
    "The fabkd modules `name` imports, at the top or inside a function (a cycle through a function is still a cycle)."
    out = set()
    for node in ast.walk(ast.parse((PKG/f'{name}.py').read_text())):
        if isinstance(node, ast.ImportFrom):
            pkg = node.level == 1 or (node.module or '').split('.')[0] == 'fabkd'
            if not pkg: continue
            mod = node.module[len('fabkd.'):] if (node.module or '').startswith('fabkd.') else None if node.module == 'fabkd' else node.module
            out |= {mod} if mod else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name.split('.')[1] for a in node.names if a.name.startswith('fabkd.')}
    return {m for m in out if m in MODULES and m != name}


def find_cycle(graph: dict) -> list:
    "One import cycle as a list of modules (empty when the graph has none)."
    state, stack = {}, []
    def visit(m):
        state[m] = 'open'; stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 'open': return stack[stack.index(n):] + [n]
            if n not in state and (c := visit(n)): return c
        state[m] = 'done'; stack.pop()
        return []
    for m in sorted(graph):
        if m not in state and (c := visit(m)): return c
    return []


def test_cycle_finder_sees_a_cycle():
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': set()}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': {'b'}, 'b': set()}) == []


def test_no_import_cycle():
    graph = {m: fabkd_imports(m) for m in MODULES}
    assert graph['ddp'] >= {'learner'} and 'train' not in graph['ddp']   # the walk sees real edges
    assert find_cycle(graph) == [], f"import cycle: {' → '.join(find_cycle(graph))}"


def test_each_module_imports_alone():
    def one(m):
        r = subprocess.run([sys.executable, '-c', f'import fabkd.{m}'], capture_output=True, text=True, timeout=300)
        return m, r.returncode, r.stderr.strip().splitlines()[-1:] if r.returncode else []
    with ThreadPoolExecutor(2) as pool: failed = [x for x in pool.map(one, MODULES) if x[1]]
    assert failed == [], f"modules that fail to import alone: {failed}"
