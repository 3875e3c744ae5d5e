"""Build README.md from nbs/index.ipynb with nbconvert (nbdev-readme needs Quarto, which cannot be
installed here). Cells marked `#| hide` are dropped, `#| echo: false` cells keep only their output, and
nbdev directives are stripped."""
import re
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]
nb = nbformat.read(ROOT/'nbs'/'index.ipynb', as_version=4)
keep = []
for c in nb.cells:
    lines = c.source.splitlines()
    if c.cell_type == 'code' and any(re.match(r'#\|\s*hide\b', l) for l in lines): continue
    echo_off = c.cell_type == 'code' and any(re.match(r'#\|\s*echo:\s*false', l) for l in lines)
    if c.cell_type == 'code': c.source = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
    if echo_off: c.metadata.setdefault('tags', []).append('remove_input')
    keep.append(c)
nb.cells = keep
from traitlets.config import Config
cfg = Config(); cfg.TagRemovePreprocessor.remove_input_tags = {'remove_input'}; cfg.TagRemovePreprocessor.enabled = True
exporter = MarkdownExporter(config=cfg, exclude_input_prompt=True, exclude_output_prompt=True)
body, _ = exporter.from_notebook_node(nb)
body = re.sub(r'\n{3,}', '\n\n', body).strip() + '\n'
body = body.replace('](images/', '](nbs/images/')   # images sit beside the notebook, README at the root
(ROOT/'README.md').write_text('<!-- generated from nbs/index.ipynb by tools/make_readme.py: do not edit -->\n\n' + body)
