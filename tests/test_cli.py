"""The `fabkd` command as a user runs it: a study run shows its progress live, the same run twice gives the same
metrics, runs are listed and compared, and bad input stops before any work."""
import json, shutil, subprocess
import pytest
from fabkd.studies import STUDIES
from conftest import FABKD

TIMING = ('latency', 'throughput', 'seconds', '_ms', 'ips', 'peak_memory', 'efficiency', 'time')

STUDY = 'resnet_prune_quant'   # the quickest smoke study that trains several models: its teacher comes from the bank the second time

def fabkd(*args): return subprocess.run([FABKD, *args], capture_output=True, text=True, timeout=900)
def timed(key): return any(t in key for t in TIMING) or key == 'teacher.source'   # 'trained' the first time, 'bank' after
def timed_row(row): return any(isinstance(v, str) and v.endswith((' ms', ' img/s')) for v in row.values())   # a choice made by a timing

@pytest.fixture(scope='module')
def rerun(smoke_runs, tmp_path_factory):
    "STUDY at the smoke preset once more (one thread, as the shared smoke runs), in a folder beside a copy of the shared smoke run."
    root, r = smoke_runs
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path_factory.mktemp('rerun')
    (first,) = (root/STUDY).iterdir()
    shutil.copytree(first, out/STUDY/first.name)
    r = fabkd('study', 'run', STUDY, '--preset', 'smoke', '-p', 'threads', '1', '--out-root', str(out))
    assert r.returncode == 0, r.stderr[-3000:]
    (second,) = [p for p in (out/STUDY).iterdir() if p.name != first.name]
    return out, first.name, second.name, r

def test_study_run_shows_live_progress(rerun):
    out, first, second, r = rerun
    for line in ('teacher resnet18 (bank entry', '▶ training student_kd: resnet18', 'epoch 1/', 'valid acc', 'left in this training', 'recorded table', 'study ~'):
        assert line in r.stdout, line       # 'study ~': the earlier finished run gives a time estimate
    log = (out/STUDY/second/'log.txt').read_text()
    assert 'epoch 1/' in log and 'finished in' in log

def test_same_seed_same_metrics_and_diff_shows_only_timings(rerun):
    "The same study, preset and seed run twice on CPU gives identical metrics and tables (timings excluded)."
    out, a, b, _ = rerun
    ra, rb = (json.loads((out/STUDY/x/'results.json').read_text()) for x in (a, b))
    assert ra['parameters'] == rb['parameters']
    assert (ra['metrics']['teacher.source'], rb['metrics']['teacher.source']) == ('trained', 'bank')   # the rerun loads the banked teacher
    assert {k: v for k, v in ra['metrics'].items() if not timed(k)} == {k: v for k, v in rb['metrics'].items() if not timed(k)}
    untimed = lambda rows: [{k: v for k, v in row.items() if not timed(k)} for row in rows if not timed_row(row)]
    for name in ra['tables']: assert untimed(ra['tables'][name]) == untimed(rb['tables'][name]), name
    r = fabkd('runs', 'diff', a, f'{STUDY}/{b}', '--out-root', str(out))
    assert r.returncode == 0, r.stderr
    changed = [] if 'no parameter or metric differs' in r.stdout else [l.split()[1] for l in r.stdout.splitlines()[1:]]
    assert all(timed(k) for k in changed), changed

def test_runs_list_shows_every_smoke_run(smoke_runs):
    root, _ = smoke_runs
    r = fabkd('runs', 'list', '--out-root', str(root))
    assert r.returncode == 0, r.stderr
    for name in STUDIES: assert name in r.stdout
    assert r.stdout.count('finished') == len(STUDIES) and 'smoke' in r.stdout

@pytest.mark.parametrize('args, message', [
    (['runs', 'list', 'nosuch'], "study='nosuch' is not valid"),
    (['runs', 'diff', 'nosuch', 'other'], "run='nosuch' is not valid; allowed: a finished run id"),
    (['runs', 'diff', '../x', 'other'], "run='../x' is not valid"),
    (['bench', '--only', 'gpu'], "bench='gpu' is not valid"),
])
def test_bad_input_is_one_clear_error_and_writes_nothing(tmp_path, capsys, args, message):
    from fabkd.cli import main   # the command's entry point, in this process
    rc = main([*args, *(['--out-root', str(tmp_path)] if args[0] == 'runs' else [])])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and 'Traceback' not in err
    assert list(tmp_path.iterdir()) == [], 'nothing written for a bad input'
