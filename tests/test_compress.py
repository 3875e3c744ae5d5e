"""`fabkd compress` as a user runs it: the smoke run ships an ONNX artifact that `fabkd predict` runs with ONNX Runtime
alone and that reproduces the accuracy its manifest records; bad input stops before any work and writes nothing."""
import json, subprocess, sys
import pytest
from conftest import FABKD

def _run(root):
    (run,) = (root/'compress').iterdir()
    return run

def test_compress_smoke_ships_a_verified_artifact(smoke_runs):
    root, r = smoke_runs
    assert r.returncode == 0, r.stderr[-3000:]
    run = _run(root)
    res = json.loads((run/'results.json').read_text())
    m, cands = res['metrics'], res['tables']['candidates']
    names = [c['candidate'] for c in cands]
    for kind in ('original', 'original → ONNX', 'FP16', 'INT8 dynamic', 'INT8 static', 'prune 50%', 'prune 50% → INT8'):
        assert kind in names, kind
    assert any(n.startswith('KD → ') for n in names) and any(n.endswith('→ prune 50% → INT8') and n.startswith('KD') for n in names)
    assert m['choice.candidate'] in names and m['original.accuracy'] > 0.3   # digits, 10 classes: a 2-epoch ResNet18 is far above chance
    man = json.loads((run/'artifact'/'manifest.json').read_text())
    assert man['measured']['accuracy'] == m['chosen.accuracy'] and man['classes'] == [str(i) for i in range(10)]
    assert json.loads((run/'split.json').read_text())['layout'] == 'split'

def test_predict_reproduces_the_manifest_accuracy_without_torch(smoke_runs):
    "`fabkd predict` on the test split's files: the manifest's accuracy exactly, and neither torch nor fastai imported."
    root, _ = smoke_runs
    run = _run(root)
    split, man = json.loads((run/'split.json').read_text()), json.loads((run/'artifact'/'manifest.json').read_text())
    files = [str(run/'data'/rel) for rel in split['test']]
    code = ("import sys; from fabkd.cli import main; rc = main(sys.argv[1:]); "
            "assert 'torch' not in sys.modules and 'fastai' not in sys.modules, 'predict imported training code'; sys.exit(rc)")
    r = subprocess.run([sys.executable, '-c', code, 'predict', str(run/'artifact'), *files], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [l.split('\t') for l in r.stdout.splitlines()]
    assert len(lines) == len(files)
    truth = [rel.split('/')[1] for rel in split['test']]   # test/<class>/<file>
    acc = sum(l[1] == t for l, t in zip(lines, truth))/len(files)
    assert acc == man['measured']['accuracy'], (acc, man['measured']['accuracy'])

def _images(root, counts, mode='RGB', size=32):
    from PIL import Image
    for c, n in counts.items():
        (root/c).mkdir(parents=True, exist_ok=True)
        for i in range(n): Image.new(mode, (size, size)).save(root/c/f'{i}.png')
    return root

@pytest.fixture
def folders(tmp_path):
    import torch
    from fabkd.models import create_model
    d = tmp_path/'in'
    _images(d/'ok', {'a': 12, 'b': 12}); (d/'empty').mkdir(parents=True); _images(d/'few', {'a': 12, 'b': 4})
    torch.save(create_model('resnet18', 3).state_dict(), d/'three_classes.pt')       # weights for another class count
    torch.save(create_model('compact_cnn', 2), d/'pickled_model.pt')                    # a whole pickled module: never unpickled
    return d

@pytest.mark.parametrize('args, message', [
    (['--data', '{d}/nope', '--model', 'resnet18'], "data_root='{d}/nope' is not valid"),
    (['--data', '{d}/empty', '--model', 'resnet18'], 'is empty (no class folders)'),
    (['--data', '{d}/few', '--model', 'resnet18'], "class 'b' has 4 readable image(s)"),
    (['--data', '{d}/ok', '--model', 'resnet18', '--weights', '{d}/three_classes.pt'], "weights='{d}/three_classes.pt' is not valid: tensor 'fc.weight'"),
    (['--data', '{d}/ok', '--model', 'compact_cnn', '--weights', '{d}/pickled_model.pt'], "weights='{d}/pickled_model.pt' is not valid; allowed: a file of tensors"),
    (['--data', '{d}/ok', '--model', 'resnet18', '--max-mb', '5 GB'], "max_mb='5 GB' is not valid"),
    (['--data', '{d}/ok', '--model', 'nosuchnet'], "model='nosuchnet' is not valid"),
])
def test_bad_compress_input_is_one_error_and_writes_nothing(folders, tmp_path, capsys, args, message):
    "In this process (the `fabkd` command's own entry point), so each case costs no fresh interpreter."
    from fabkd.cli import main
    out = tmp_path/'runs'
    rc = main(['compress', *[a.format(d=folders) for a in args], '--preset', 'smoke', '--out', str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and message.format(d=folders) in err and 'Traceback' not in err, err[-2000:]
    assert not out.exists()
