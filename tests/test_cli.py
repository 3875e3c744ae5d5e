"""The `fabkd` command as a user runs it: runs are listed, and bad input stops before any work (live progress, the same
run twice and `runs diff` are checked in test_resume.py, on the run it kills and resumes)."""
import subprocess
import pytest
from fabkd.studies import STUDIES
from conftest import FABKD

def fabkd(*args): return subprocess.run([FABKD, *args], capture_output=True, text=True, timeout=900)

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
