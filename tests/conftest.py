import os, subprocess, sys, tempfile
from pathlib import Path
import pytest
os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ.setdefault('OMP_NUM_THREADS', '2')
# one teacher bank for the whole session, never the user's ~/.cache: the smoke studies fill it, later runs load from it
os.environ['FABKD_CACHE'] = tempfile.mkdtemp(prefix='fabkd-cache-')

FABKD = str(Path(sys.executable).parent/'fabkd')

@pytest.fixture(scope='session')
def smoke_runs(tmp_path_factory):
    "Every registered study run once at the smoke preset (shared by the study, resume and site tests)."
    # two local jobs of one torch thread each: smoke runs are small models, kernel starts and exports, which two
    # threads barely speed up, so two at a time take less wall time (runs compared with these pass `-p threads 1`)
    root = tmp_path_factory.mktemp('smoke_runs')
    r = subprocess.run([FABKD, 'study', 'run', '--all', '--preset', 'smoke', '--jobs', '2', '--out-root', str(root)],
                       capture_output=True, text=True, timeout=1500)
    return root, r
