"The `fabkd` command as a user runs it: a smoke quickstart end to end, and bad input stopping before work."
import json, subprocess, sys
from pathlib import Path
import pytest

FABKD = [str(Path(sys.executable).parent/'fabkd')]  # the console script pip installed

def run(args, tmp_path):
    return subprocess.run([*FABKD, *args, '--out-root', str(tmp_path)], capture_output=True, text=True, timeout=600)

def test_quickstart_smoke_writes_a_complete_run(tmp_path):
    r = run(['quickstart', '--preset', 'smoke', '-p', 'seed', '1'], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    (run_dir,) = (tmp_path/'quickstart').iterdir()
    res = json.loads((run_dir/'results.json').read_text())
    assert res['parameters']['seed'] == 1 and res['parameters']['preset'] == 'smoke'
    for name in ('teacher', 'student_alone', 'student_kd'):
        m = res['metrics'][name]
        assert 0 <= m['test_accuracy'] <= 1 and m['params'] > 0 and m['macs'] > 0 and m['bytes'] > 0
        assert m['latency_p50_ms'] > 0
    assert res['provenance']['packages']['torch'].startswith('2.14')
    assert 'run folder:' in r.stdout and 'student_kd' in r.stdout
    assert not list(run_dir.glob('.*.tmp')), 'no temporary files left behind'

@pytest.mark.parametrize('args, message', [
    (['quickstart', '--preset', 'huge'], "preset='huge' is not valid"),
    (['quickstart', '-p', 'alpha', '1.5'], 'alpha=1.5 is not valid'),
    (['quickstart', '-p', 'T', '0'], 'T=0.0 is not valid'),
    (['quickstart', '-p', 'data', 'imagenet'], "data='imagenet' is not valid"),
    (['quickstart', '-p', 'student', 'vgg'], "student='vgg' is not valid"),
    (['quickstart', '-p', 'colour', 'red'], "parameter 'colour' is not valid"),
    (['quickstart', '-p', 'seed', 'abc'], "seed='abc' is not valid"),
])
def test_bad_input_is_one_clear_error_and_writes_nothing(tmp_path, args, message):
    r = run(args, tmp_path)
    assert r.returncode == 2
    assert message in r.stderr and 'Traceback' not in r.stderr
    assert list(tmp_path.iterdir()) == [], 'nothing written for a bad input'
