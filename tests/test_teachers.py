"""The teacher bank under real processes: two studies building the same teacher at once train it once and
both get it; a process killed while writing an entry leaves no entry (the next call trains and banks it);
a teacher file that is a pickle stops a study before anything is written."""
import json, os, subprocess, sys, time
from pathlib import Path
import torch
from conftest import FABKD

# a build that trains and banks in one epoch: these tests are about the bank, not the teacher
BUILD = """
import json, sys
from fabkd.data import load_splits
from fabkd.teachers import TeacherBank
res, info = TeacherBank(sys.argv[1]).get('compact_cnn', load_splits('digits', size=32, seed=0), epochs=1)
print(json.dumps(dict(source=info['source'], key=info['key'], test=res.test['accuracy'])))
"""

def build(root, env=None):
    return subprocess.Popen([sys.executable, '-c', BUILD, str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, 'OMP_NUM_THREADS': '1', **(env or {})})

def entries(root): return sorted(p.name for p in Path(root).iterdir() if p.is_dir())

def test_concurrent_builds_train_once(tmp_path):
    procs = [build(tmp_path), build(tmp_path)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e[-2000:] for _, e in outs]
    got = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
    assert sorted(g['source'] for g in got) == ['bank', 'trained']   # the second waited for the first, then loaded
    assert got[0]['key'] == got[1]['key'] and got[0]['test'] == got[1]['test']
    assert entries(tmp_path) == [got[0]['key']]                      # one entry, no temporary folder left

def test_kill_during_bank_write_leaves_no_entry(tmp_path):
    # a miss trains without checkpoints, so the process's first atomic write is the entry's weights: it dies half-way
    p = build(tmp_path, {'FABKD_CRASH_AT_WRITE': '1'})
    p.communicate(timeout=600)
    assert p.returncode != 0
    left = entries(tmp_path)
    assert len(left) == 1 and left[0].startswith('.tmp-'), left      # the half-written entry is a temporary folder only
    p = build(tmp_path); out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err[-2000:]
    got = json.loads(out.strip().splitlines()[-1])
    assert got['source'] == 'trained' and entries(tmp_path) == [got['key']]   # rebuilt; the stale folder is gone
    rec = json.loads((tmp_path/got['key']/'record.json').read_text())
    assert rec['spec']['arch'] == 'compact_cnn' and rec['test']['accuracy'] == got['test']

def test_pickled_teacher_file_stops_the_study_before_work(tmp_path):
    evil = tmp_path/'teacher.pt'
    torch.save({'w': torch.zeros(1), 'run': os.system}, evil)         # unpickling would import and reference os.system
    out = tmp_path/'runs'; out.mkdir()
    r = subprocess.run([FABKD, 'study', 'run', 'small_cnn_kd', '--preset', 'smoke', '-p', 'teacher_weights', str(evil), '--out-root', str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and f"teacher_weights='{evil}' is not valid" in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert list(out.iterdir()) == []
