"""A study killed with SIGKILL — mid-training, and half-way through a file write — leaves no truncated file
under its run folder, and `fabkd study run NAME --resume RUN_ID` finishes it with the same metrics as an
uninterrupted run of the same preset and seed (timings excluded)."""
import json, os, shutil, signal, subprocess, time
from pathlib import Path
import pytest
from conftest import FABKD

STUDY = 'small_cnn_kd'   # several trainings in a row: a kill lands between and inside them
TIMING = ('latency', 'throughput', 'second', 'time', 'memory', '_ms', ' ms', 'inference', 'fps', 'efficiency', 'train_s', 'wall')

def timed(s) -> bool:
    "A timing (it differs run to run), or where the teacher came from ('trained' the first time, 'bank' after)."
    return any(t in str(s).lower() for t in TIMING) or s == 'teacher.source'

def _untimed(obj):
    "Drop timing values and the teacher's source from nested results."
    if isinstance(obj, dict):
        if timed(obj.get('what', '')) or timed(obj.get('metric', '')): return None   # a claim or row about a timing
        return {k: _untimed(v) for k, v in obj.items() if not timed(k)}
    if isinstance(obj, list): return [_untimed(v) for v in obj]
    return obj

def _stale(p:Path): return (p.name.startswith('.') and p.name.endswith('.tmp')) or p.name.endswith('.part') or any(q.startswith('.tmp-') for q in p.parts)

def _assert_complete(run:Path):
    "Every file that is not a temporary one is whole: it parses with its own format's reader."
    from safetensors import safe_open
    from PIL import Image
    import onnx
    checked = 0
    for p in run.rglob('*'):
        if not p.is_file() or _stale(p.relative_to(run)): continue
        if p.suffix in ('.json', '.ipynb'): json.loads(p.read_text())
        elif p.suffix == '.safetensors':
            with safe_open(str(p), 'pt') as f: [f.get_tensor(k) for k in f.keys()]
        elif p.suffix == '.png': Image.open(p).verify()
        elif p.suffix == '.onnx': onnx.load(str(p))
        checked += 1
    return checked

def _wait_for(pred, proc, timeout=600):
    t0 = time.time()
    while not pred():
        assert proc.poll() is None, 'the run ended before the kill'
        assert time.time() - t0 < timeout, 'timed out waiting for the run'
        time.sleep(0.05)

def kill_and_resume(first:Path, out:Path):
    """STUDY at the smoke preset once more, killed twice and resumed, in `out` beside a copy of `first`, the shared smoke run
    of STUDY (so the same-seed check and the time estimate need no extra run); returns (out, smoke run, resumed run, last resume)."""
    shutil.copytree(first, out/STUDY/first.name)
    # 1. the kernel kills itself half-way through its 3rd atomic write. The teacher comes from the bank the smoke runs
    # filled (no write), so the writes are the first training's weights, its record, then the second training's weights.
    # Checkpoints are keyed by the trainings' names (a folder per name part), not by their order
    env = {**os.environ, 'FABKD_CRASH_AT_WRITE': '3'}
    r = subprocess.run([FABKD, 'study', 'run', STUDY, '--preset', 'smoke', '-p', 'threads', '1', '--out-root', str(out)],
                       capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 1 and '--resume' in r.stderr, r.stderr[-3000:]
    (run,) = [p for p in (out/STUDY).iterdir() if p.name != first.name]
    ck = run/'checkpoints'
    half = list(ck.rglob('.*.safetensors.*.tmp'))
    assert len(half) == 1 and half[0].stat().st_size > 0, 'the kill left no half-written temp file'
    dest = half[0].parent/(half[0].name[1:].split('.safetensors')[0] + '.safetensors')
    assert not dest.exists()   # the destination was never half-written
    assert len(list(ck.rglob('*.json'))) == 1   # one finished training
    _assert_complete(run)
    # 2. resumed, then SIGKILLed from outside once two more trainings have finished, the next under way
    proc = subprocess.Popen([FABKD, 'study', 'run', STUDY, '--resume', run.name, '--out-root', str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try: _wait_for(lambda: len(list(ck.rglob('*.json'))) >= 3, proc)
    finally: os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    assert not (run/'results.json').exists() and not (run/'executed.ipynb').exists()
    assert _assert_complete(run) >= 4
    # 3. resumed to the end
    r = subprocess.run([FABKD, 'study', 'run', STUDY, '--resume', run.name, '--out-root', str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return out, first.name, run.name, r

@pytest.fixture(scope='module')
def resumed(smoke_runs):
    "`kill_and_resume` of the shared smoke run, as it ran beside the other smoke runs (started by conftest)."
    from conftest import background_resume
    _, r = smoke_runs
    assert r.returncode == 0, r.stderr[-3000:]
    return background_resume()

def test_sigkill_mid_write_then_mid_training_then_resume(resumed):
    "One run killed twice: half-way through a file write, then (resumed) mid-training; resumed again, it ends as the reference."
    out, first, second, r = resumed
    run = out/STUDY/second
    assert 'finished training(s) will be loaded' in r.stdout
    assert not [p for p in run.rglob('*') if _stale(p.relative_to(run))], 'stale temporary files remain'
    _assert_complete(run)
    reference = json.loads((out/STUDY/first/'results.json').read_text())
    res = json.loads((run/'results.json').read_text())
    for part in ('parameters', 'metrics', 'tables', 'claims'):
        assert _untimed(res[part]) == _untimed(reference[part]), part

def test_study_run_shows_live_progress(resumed):
    "The terminal shows each training, its epochs and what is left, and a time estimate from the earlier finished run."
    out, first, second, r = resumed
    for line in ('teacher resnet18 (bank entry', '▶ training ', 'epoch 1/', 'valid acc', 'left in this training', 'recorded table', 'study ~'):
        assert line in r.stdout, line       # 'study ~': the earlier finished run gives a time estimate
    log = (out/STUDY/second/'log.txt').read_text()
    assert 'epoch 1/' in log and 'finished in' in log

def test_same_seed_same_metrics_and_diff_shows_only_timings(resumed):
    "The same study, preset and seed run twice on CPU (the shared smoke run, and this one) differ only in timings: `runs diff` says so."
    out, a, b, _ = resumed   # the metrics and tables themselves are compared in the first test
    ra, rb = (json.loads((out/STUDY/x/'results.json').read_text()) for x in (a, b))
    assert (ra['metrics']['teacher.source'], rb['metrics']['teacher.source']) == ('trained', 'bank')   # the second run loads the banked teacher
    r = subprocess.run([FABKD, 'runs', 'diff', a, f'{STUDY}/{b}', '--out-root', str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    changed = [] if 'no parameter or metric differs' in r.stdout else [l.split()[1] for l in r.stdout.splitlines()[1:]]
    assert changed and all(timed(k) for k in changed), changed   # teacher.source always differs ('trained', 'bank'): an empty diff is a broken diff
