"""Stored outputs are for every reader: no notebook in the repository (lessons, report sources, published pages)
keeps a `Warning` line or an absolute path of the machine that ran it (issue 24)."""
import re
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*ROOT.glob('nbs/*.ipynb'), *ROOT.glob('reports/*.ipynb'), *ROOT.glob('reports/_latest/*.ipynb')])
# an absolute path: a slash after a space, quote, bracket or line start, then at least two folder names
ABSOLUTE = re.compile(r"""(?:^|[\s'"(\[=,:])/(?:[\w.+-]+/)+[\w.+-]*""")

def output_lines(nb):
    "Every line of every text output, with its cell index."
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []):
            texts = [o.get('text', '')] + [v for k, v in o.get('data', {}).items() if k.startswith('text/') and isinstance(v, str)]
            for t in texts:
                for line in t.splitlines(): yield i, line

def noisy(nb) -> list:
    "(cell, line) of every output line holding a Warning or an absolute path."
    return [(i, l[:160]) for i, l in output_lines(nb) if 'Warning' in l or ABSOLUTE.search(l)]

def test_the_check_sees_noise():
    "Positive control: a warning under a cell and a machine path in a printed line are both found; a ratio is not a path."
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x', outputs=[
        nbformat.v4.new_output('stream', name='stderr', text='/work/main/.venv/lib/python3.11/site-packages/torch/jit/_script.py:1491: FutureWarning: x\n'),
        nbformat.v4.new_output('stream', name='stdout', text="run folder: /tmp/abc/toy/r1\n"),
        nbformat.v4.new_output('stream', name='stdout', text="throughput 512 img/s, 3/12 classes, reports/_runs/toy/r1\n")])])
    assert [i for i, _ in noisy(nb)] == [0, 0]

@pytest.mark.parametrize('path', NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_outputs_hold_no_warning_or_machine_path(path):
    assert noisy(nbformat.read(path, as_version=4)) == []
