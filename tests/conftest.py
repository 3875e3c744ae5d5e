import os, subprocess, sys, tempfile
from pathlib import Path
import pytest
os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ.setdefault('OMP_NUM_THREADS', '2')
# one teacher bank for the whole session, never the user's ~/.cache: the smoke studies fill it, later runs load from it
os.environ['FABKD_CACHE'] = tempfile.mkdtemp(prefix='fabkd-cache-')

FABKD = str(Path(sys.executable).parent/'fabkd')
# each smoke run's wall seconds, two side by side on 2 cores, one thread each (AMD EPYC, commit e2f0a96): a schedule, not a result
SMOKE_SECONDS = dict(fabgaurd_defects=207, cifar10_kd_quant=141, udacisense_pipelines=113, resnet_prune_quant=103, small_cnn_kd=76,
                     kd_controls=75, compress=69)

@pytest.fixture(scope='session')
def smoke_runs(tmp_path_factory):
    "Every registered study run once at the smoke preset (shared by the study, resume and site tests)."
    # two local jobs of one torch thread each: smoke runs are small models, kernel starts and exports, which two
    # threads barely speed up, so two at a time take less wall time (runs compared with these pass `-p threads 1`)
    # started longest first, so the two jobs end together (in registry order the longest ran alone at the end: 7.8 min)
    from fabkd.studies import STUDIES
    names = sorted(STUDIES, key=lambda n: -SMOKE_SECONDS.get(n, float('inf')))   # a study not measured yet starts first
    root = tmp_path_factory.mktemp('smoke_runs')
    r = subprocess.run([FABKD, 'study', 'run', *names, '--preset', 'smoke', '--jobs', '2', '--out-root', str(root)],
                       capture_output=True, text=True, timeout=1500)
    return root, r
