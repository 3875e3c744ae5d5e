"""Each `fabkd` module imports alone in a fresh interpreter, and no module imports itself back through another (issue 24)."""
import ast, subprocess, sys
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


# A fork of an interpreter that has loaded only third-party libraries: each child imports one fabkd module, with no other
# fabkd module loaded. Names are per module, so a module that uses torch without importing it still fails; what the
# fork saves is torch's and fastai's import time (25 fresh interpreters took 44 s on 2 cores, the forks a few seconds).
_ZYGOTE = r"""
import importlib, os, sys, traceback
import numpy, pandas, PIL.Image, torch, torchvision, fastai.vision.all   # third-party only
assert not [m for m in sys.modules if m.split('.')[0] == 'fabkd']
failed = []
for m in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try: importlib.import_module('fabkd.' + m); os._exit(0)
        except BaseException: traceback.print_exc(); os._exit(1)
    if os.waitpid(pid, 0)[1]: failed.append(m)
print('FAILED', *failed)
"""


def test_each_module_imports_alone():
    r = subprocess.run([sys.executable, '-c', _ZYGOTE, *MODULES], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    failed = r.stdout.split('FAILED', 1)[1].split()
    assert failed == [], f"modules that fail to import alone: {failed}\n{r.stderr[-3000:]}"


def test_a_module_that_fails_alone_is_seen(tmp_path):
    "The check itself: a module importing a name that does not exist fails in its fork, and the others pass."
    pkg = tmp_path/'fabkd'; pkg.mkdir()
    (pkg/'__init__.py').write_text(''); (pkg/'good.py').write_text('import torch\nX = torch.zeros(1)\n')
    (pkg/'bad.py').write_text('from fabkd.good import Y\n')
    r = subprocess.run([sys.executable, '-c', _ZYGOTE, 'good', 'bad'], capture_output=True, text=True, timeout=600,
                       cwd=tmp_path, env={**__import__('os').environ, 'PYTHONPATH': str(tmp_path)})
    assert r.stdout.split('FAILED', 1)[1].split() == ['bad'], r.stdout + r.stderr[-2000:]
