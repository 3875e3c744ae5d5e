import os, shutil, signal, subprocess, sys, tempfile, threading, time
from pathlib import Path
import pytest
os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ.setdefault('OMP_NUM_THREADS', '2')
# one teacher bank for the whole session, never the user's ~/.cache: the smoke studies fill it, later runs load from it
os.environ['FABKD_CACHE'] = tempfile.mkdtemp(prefix='fabkd-cache-')

FABKD = str(Path(sys.executable).parent/'fabkd')
# each smoke run's wall seconds, two side by side on 2 cores, one thread each, nothing else running (AMD EPYC with AVX-512, commit f64258e;
# fabgaurd_defects on one seed, 504441e, alone): a schedule, not a result
SMOKE_SECONDS = dict(cifar10_kd_quant=127, fabgaurd_defects=94, udacisense_pipelines=90, resnet_prune_quant=81, kd_controls=75,
                     small_cnn_kd=65, compress=61)
SMOKE_TIMEOUT = 1500
_smoke = {}   # the background smoke runs of this session: folder, process, log files

def _needs_smoke(item) -> bool: return 'smoke_runs' in getattr(item, 'fixturenames', ())

def pytest_collection_modifyitems(session, config, items):
    "The smoke runs start in the background as soon as a selected test needs them; those tests go last, the others run meanwhile."
    # most other tests are process starts and small single-threaded work: beside the two smoke jobs they fill the cores
    # the smoke runs leave idle (kernel starts, exports, file writes) instead of adding their time after them
    smoke = [i for i in items if _needs_smoke(i)]
    if not smoke or _smoke or config.option.collectonly: return
    items[:] = [i for i in items if not _needs_smoke(i)] + smoke
    base = Path(tempfile.mkdtemp(prefix='fabkd-smoke-'))
    root = base/'smoke_runs'; root.mkdir()
    from fabkd.studies import STUDIES
    # two local jobs of one torch thread each: smoke runs are small models, kernel starts and exports, which two
    # threads barely speed up, so two at a time take less wall time (runs compared with these pass `-p threads 1`);
    # started longest first, so the two jobs end together (a study not measured yet starts first)
    names = sorted(STUDIES, key=lambda n: -SMOKE_SECONDS.get(n, float('inf')))
    resume = any(getattr(getattr(i, 'module', None), '__name__', '') == 'test_resume' for i in smoke)
    # test_resume's study first: its kill-and-resume then runs beside the other smoke runs, not after them all; its run also
    # trains the ResNet18 teacher that resnet_prune_quant's and kd_controls' smoke runs load (test_resume expects 'trained' there)
    if resume:
        from test_resume import STUDY
        names.insert(1, names.pop(names.index(STUDY)))
    out, err = open(base/'stdout.txt', 'w'), open(base/'stderr.txt', 'w')
    proc = subprocess.Popen([FABKD, 'study', 'run', *names, '--preset', 'smoke', '--jobs', '2', '--out-root', str(root)],
                            stdout=out, stderr=err, text=True, start_new_session=True)
    _smoke.update(base=base, root=root, proc=proc, files=(out, err))
    if resume:
        _smoke['resume'] = threading.Thread(target=_resume_beside_smoke, daemon=True)
        _smoke['resume'].start()

def _resume_beside_smoke():
    "Waits for the smoke run of test_resume's study, then kills and resumes a copy of it (test_resume.kill_and_resume)."
    from test_resume import STUDY, kill_and_resume
    proc, folder = _smoke['proc'], _smoke['root']/STUDY
    try:
        while not (done := list(folder.glob('*/executed.ipynb'))):   # renamed into place when the run has finished
            if proc.poll() is not None: raise AssertionError(f'the smoke runs ended without a finished {STUDY} run')
            time.sleep(1)
        time.sleep(2)   # its last log line
        _smoke['resumed'] = kill_and_resume(done[0].parent, _smoke['base']/'resume')
    except BaseException as e: _smoke['resumed'] = e

def background_resume():
    "test_resume's kill-and-resume as it ran beside the smoke runs; its error is raised here."
    assert 'resume' in _smoke, 'the kill-and-resume starts at collection with the smoke runs (pytest_collection_modifyitems)'
    _smoke['resume'].join(SMOKE_TIMEOUT)
    res = _smoke.get('resumed')
    if isinstance(res, BaseException): raise res
    assert res is not None, 'the kill-and-resume beside the smoke runs did not finish'
    return res

def pytest_sessionfinish(session, exitstatus):
    "Smoke runs still going when the session ends (a failure with -x, an interrupt) are stopped; a passing session's folder is removed."
    if not _smoke: return
    proc = _smoke['proc']
    if proc.poll() is None: os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    for f in _smoke['files']: f.close()
    if exitstatus == 0: shutil.rmtree(_smoke['base'], ignore_errors=True)

@pytest.fixture(scope='session')
def smoke_runs():
    "Every registered study run once at the smoke preset (shared by the study, resume and site tests): waits for the background runs."
    assert _smoke, 'the smoke runs start at collection (conftest.pytest_collection_modifyitems)'
    proc = _smoke['proc']
    try: proc.wait(timeout=SMOKE_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    r = subprocess.CompletedProcess(proc.args, proc.returncode, (_smoke['base']/'stdout.txt').read_text(),
                                    (_smoke['base']/'stderr.txt').read_text())
    return _smoke['root'], r
