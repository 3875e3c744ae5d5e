"""Fail when the notebooks are not the source of truth: re-run nbdev-export, nbdev-clean and the README
build, and report every tracked file they changed (fabkd/ out of date, a notebook not cleaned, a stale
README). Works on a clean clone (CI) and on a working tree with uncommitted edits alike."""
import hashlib, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WATCH = ['fabkd', 'nbs', 'reports', 'README.md']

def snapshot():
    files = [p for w in WATCH for p in ([ROOT/w] if (ROOT/w).is_file() else sorted((ROOT/w).rglob('*')))
             if p.is_file() and '__pycache__' not in p.parts and '_runs' not in p.parts and '.ipynb_checkpoints' not in p.parts]
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

before = snapshot()
# nbdev-export rewrites pyproject.toml on every call (nbdev.config.update_proj), even unchanged: its newer
# mtime would make `make` re-run the venv install (.venv/.fabkd-installed depends on it) at the next target
pyproject = ROOT/'pyproject.toml'
pyproject_bytes, pyproject_times = pyproject.read_bytes(), (pyproject.stat().st_atime_ns, pyproject.stat().st_mtime_ns)
for cmd in ([str(BIN/'nbdev-export')], [str(BIN/'nbdev-clean')], [str(BIN/'nbdev-clean'), '--fname', 'reports'],
            [sys.executable, str(ROOT/'tools'/'make_readme.py')]):
    subprocess.run(cmd, cwd=ROOT, check=True)
after = snapshot()
if pyproject.read_bytes() == pyproject_bytes: os.utime(pyproject, ns=pyproject_times)
changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
if changed:
    print('Out of sync with the notebooks (now regenerated; review and commit):', *changed, sep='\n  ')
    sys.exit(1)
print('nbdev-export, nbdev-clean and README are in sync.')
