"Every registered study report runs at the smoke preset through papermill and writes a valid results.json."
import json, os, re, subprocess
import pytest
from fabkd.studies import STUDIES
from fabkd.report import load_results, kd_meaningful
from conftest import FABKD

def test_study_list_names_every_study():
    out = subprocess.run([FABKD, 'study', 'list'], capture_output=True, text=True, timeout=120).stdout
    for name in STUDIES: assert name in out

def test_all_studies_at_smoke_preset(smoke_runs):
    root, r = smoke_runs
    assert r.returncode == 0, r.stderr[-3000:]
    for name in STUDIES:
        (run,) = (root/name).iterdir()
        res = load_results(run)                       # schema-checked
        assert res['study'] == name and res['preset'] == 'smoke'
        assert (run/'executed.ipynb').is_file() and not (run/'executed.ipynb.part').exists()
        assert res['figures'] and all((run/f).is_file() for f in res['figures'])
        assert json.loads((run/'params.json').read_text())['preset'] == 'smoke'
        assert f'{name}: finished (new' in r.stdout

@pytest.mark.parametrize('args, message', [
    (['study', 'run', 'nosuch'], "study='nosuch' is not valid"),
    (['study', 'run', 'small_cnn_kd', '--preset', 'smoke', '-p', 'alpha', '2'], 'alpha=2.0 is not valid'),
    (['study', 'run', 'small_cnn_kd', '--preset', 'smoke', '-p', 'colour', 'red'], "parameter 'colour' is not valid"),
    (['study', 'run', 'small_cnn_kd', '--preset', 'full'], 'data_root=None is not valid'),
    (['study', 'run', 'small_cnn_kd', '--preset', 'smoke', '-p', 'pretrained', 'true'], "pretrained=True is not valid at preset 'smoke'"),
    (['study', 'run', 'small_cnn_kd', '--preset', 'smoke', '-p', 'kd_modes', 'online'], "kd_modes='online' is not valid"),
    (['study', 'run', 'small_cnn_kd', '--preset', 'smoke', '-p', 'nproc', '3'], 'bs=16 is not valid with nproc=3'),
    (['study', 'run', 'small_cnn_kd', '--preset', 'smoke', '-p', 'teacher_seeds', '0,-1'], 'teacher_seeds=-1 is not valid'),
    (['study', 'run', '--all', '--preset', 'huge'], "preset='huge' is not valid"),
    (['study', 'run', 'kd_controls', '--preset', 'smoke', '-p', 'unlabeled_root', '/no/such/folder'], "unlabeled_root='/no/such/folder' is not valid"),
    (['study', 'run', 'kd_controls', '--preset', 'smoke', '-p', 'experiments', 'budgets,magic'], "experiments='magic' is not valid"),
    (['study', 'run', 'small_cnn_kd', '--preset', 'smoke', '-p', 'unlabeled_n', '10'], "unlabeled_n=10 is not valid for data='digits'"),
    (['study', 'run', 'fabgaurd_defects', '--preset', 'smoke', '-p', 'arms', 'alone,teacher'], "arms='teacher' is not valid"),
    (['study', 'run', 'small_cnn_kd', '--resume', 'nosuch-run'], "run_id='nosuch-run' of study 'small_cnn_kd' is not found"),
    (['study', 'run', 'small_cnn_kd', '--resume', 'x', '-p', 'alpha', '0.5'], '--resume continues one run with its own preset'),
])
def test_bad_study_input_runs_nothing(tmp_path, capsys, args, message):
    "Through the `fabkd` command's entry point in this process (a fresh interpreter per case costs seconds each)."
    from fabkd.cli import main
    rc = main([*args, '--out-root', str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and 'Traceback' not in err, err
    assert list(tmp_path.iterdir()) == []

def test_pretrained_offline_is_one_error(tmp_path):
    "At the full preset, ImageNet weights that cannot be downloaded stop the study before any folder is made."
    from fabkd.data import write_fake_cifar
    data, out = tmp_path/'cifar', tmp_path/'runs'
    write_fake_cifar(data, 'cifar10')
    env = {**os.environ, 'TORCH_HOME': str(tmp_path/'torch'), 'https_proxy': 'http://127.0.0.1:9', 'HTTPS_PROXY': 'http://127.0.0.1:9', 'no_proxy': ''}
    r = subprocess.run([FABKD, 'study', 'run', 'small_cnn_kd', '--preset', 'full', '-p', 'data_root', str(data), '-p', 'pretrained', 'true',
                        '--out-root', str(out)], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 2 and "drop '-p pretrained true'" in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert not out.exists() or list(out.iterdir()) == []
    assert not list((tmp_path/'torch').rglob('*.pth'))

KD_KEYS = ('teacher_valid_accuracy', 'teacher_test_accuracy', 'alone_test_accuracy', 'kd_test_accuracy',
           'teacher_minus_alone', 'kd_minus_alone', 'verdict')

def test_smoke_studies_record_meaningful_checks(smoke_runs):
    "Every study records each teacher -> student pair's KD gate and states unit and tolerance of every claim."
    root, r = smoke_runs
    assert r.returncode == 0, r.stderr[-3000:]
    for name in STUDIES:
        if STUDIES[name].seed_doc == 'user': continue   # `compress` regenerates no seed: no claims, no KD comparison
        (run,) = (root/name).iterdir()
        res = load_results(run)
        pairs = {k[3:-8] for k in res['metrics'] if k.startswith('kd.') and k.endswith('.verdict')}
        assert pairs, f'{name} records no KD pair'
        for pair in pairs:
            for k in KD_KEYS: assert f'kd.{pair}.{k}' in res['metrics'], (name, pair, k)
        assert res['claims'] and all(c['unit'] and c['tolerance'] for c in res['claims']), name

def test_smoke_models_learn(smoke_runs):
    "Every study's smoke preset beats chance with a margin (3× chance) for every model it compares: a broken pipeline shows."
    root, _ = smoke_runs
    checked = {}
    for run in sorted(root.glob('*/*/results.json')):
        res = load_results(run.parent); m, p = res['metrics'], res['parameters']
        chance = 1/{'digits': 10, 'defects10': 10, 'defects': 12}.get(p['data'], 10)
        keys = [k for k in m if k.startswith('kd.') and k.endswith(('.teacher_test_accuracy', '.alone_test_accuracy', '.kd_test_accuracy'))]
        keys += [k for k in ('original.accuracy', 'chosen.accuracy') if k in m]   # compress: the user's model and the shipped one
        low = {k: round(m[k], 3) for k in keys if not m[k] >= 3*chance}
        assert not low, (res['study'], p['data'], low)
        checked[res['study']] = len(keys)
    assert set(checked) == set(STUDIES) and min(checked.values()) > 0, checked

def test_smoke_pairs_keep_their_seeds(smoke_runs):
    "udacisense_pipelines repeats each student's comparison over its own seed list (`seeds`, `tiny_seeds`): the table and the KD pair say so."
    root, _ = smoke_runs
    (run,) = (root/'udacisense_pipelines').iterdir()
    res = load_results(run); p, m, rows = res['parameters'], res['metrics'], res['tables']['training']
    assert len(p['tiny_seeds']) != len(p['seeds'])   # the smoke preset gives the two pairs seed lists of different lengths
    for name, seeds, pair in (('student', p['seeds'], f"mobilenet_v3_small->mnv3s_w{p['width_mult']}"),
                              ('tiny', p['tiny_seeds'], 'mobilenet_v3_small->tiny')):
        want = sorted({p['seed'], *seeds})
        for kind in ('alone', 'kd'): assert sorted(r['seed'] for r in rows if r['model'] == f'{name}_{kind}') == want, (name, kind)
        assert m[f'kd.{pair}.seeds'] == len(want), pair

def test_smoke_budget_curve(smoke_runs):
    "small_cnn_kd records KD − alone per (mode, budget), paired by seed, and the cached-view comparison."
    root, _ = smoke_runs
    (run,) = (root/'small_cnn_kd').iterdir()
    res = load_results(run)
    p, m, curve = res['parameters'], res['metrics'], res['tables']['budget_curve']
    budgets = sorted(set(p['budgets']) | {p['epochs']})
    assert [(r['mode'], r['epochs']) for r in curve] == [(mo, b) for mo in p['kd_modes'] for b in budgets]
    runs = res['tables']['student_runs']
    for r in curve:
        assert r['seeds'] == len(p['seeds']) and r['verdict']
        assert m[f"budget.{r['mode']}.{r['epochs']}.kd_minus_alone_mean"] == r['gain_mean']
    # the headline comparison is the curve's cache row at `epochs`: the same runs, not a second training
    main = next(r for r in curve if r['mode'] == 'cache' and r['epochs'] == p['epochs'])
    kd = [r['test_accuracy'] for r in runs if r['kind'] == 'kd']; alone = [r['test_accuracy'] for r in runs if r['kind'] == 'alone']
    assert abs(main['gain_mean'] - (sum(kd) - sum(alone))/len(kd)) < 1e-9
    views = [r['views'] for r in res['tables']['view_counts']]
    assert any('unlimited' in v for v in views) and len(views) == len(set(p['variant_counts']) | {p['aug_variants']}) + 1

def test_unreadable_unlabeled_folder_runs_nothing(tmp_path):
    "A folder of unlabeled images with no readable image (or > 5 % bad files) stops kd_controls before any run folder."
    bad, out = tmp_path/'unlabeled', tmp_path/'runs'
    bad.mkdir()
    for i in range(3): (bad/f'{i}.txt').write_text('not an image')
    r = subprocess.run([FABKD, 'study', 'run', 'kd_controls', '--preset', 'smoke', '-p', 'unlabeled_root', str(bad), '--out-root', str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'has no readable image (3 file(s))' in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert not out.exists() or list(out.iterdir()) == []

def test_kd_controls_smoke(smoke_runs):
    "kd_controls at smoke: the omitted-class control, the four transfer arms with matched steps, and converged-or-not KD pairs."
    root, _ = smoke_runs
    (run,) = (root/'kd_controls').iterdir()
    res = load_results(run); m, t = res['metrics'], res['tables']
    assert m['teacher.digits.test_accuracy'] > 0.5
    # the student trained alone without the class cannot name it; the correction never lowers the unseen class
    assert m['omitted.digits.alone_unseen_mean'] == 0.0
    assert m['omitted.digits.unseen_after_mean'] >= m['omitted.digits.unseen_before_mean']
    # the ranking of the unseen class (ROC AUC, no threshold) for the distilled student, the student alone and the teacher
    assert all(0 <= m[f'omitted.digits.{k}'] <= 1 for k in ('unseen_auc_mean', 'alone_unseen_auc_mean', 'teacher_unseen_auc'))
    assert m['omitted.digits.teacher_unseen_auc'] > 0.9   # a teacher above 0.5 test accuracy ranks a class it was trained on
    # the same correction on the student alone is the control; the summary says whether KD beat it, and whether the class reached 90 %
    assert {'reaches_0_9', 'beats_control', 'alone_unseen_after_mean'} <= set(t['omitted_class_summary'][0]), t['omitted_class_summary'][0]
    assert {r['data'] for r in t['omitted_class']} == {'digits'} and len(t['omitted_class']) == len(res['seeds'])
    # the bias chosen on test (Hinton's choice, a ceiling) makes at least as many test images right as the one chosen on the transfer set
    assert all(r['accuracy_after_bias_on_test'] >= r['accuracy_after'] - 1e-6 for r in t['omitted_class']), t['omitted_class']
    runs = t['transfer_runs']
    assert sorted({r['arm'] for r in runs}) == ['alone', 'kd_labeled', 'kd_unlabeled', 'pseudo_label']
    assert all(r['test_accuracy'] > 0.3 for r in runs), [(r['arm'], r['test_accuracy']) for r in runs]   # chance is 0.1
    cap = {r['arm']: (r['epochs_cap'], r['n_train']) for r in runs}
    steps = {a: c*max(1, n//res['parameters']['bs']) for a, (c, n) in cap.items()}
    assert abs(steps['alone'] - steps['kd_unlabeled']) <= max(1, cap['alone'][1]//res['parameters']['bs']), steps   # same steps, to one epoch
    for pair in ('digits:kd_labeled', 'digits:kd_unlabeled'):
        for k in ('alone_best_epoch', 'kd_best_epoch', 'epochs_cap', 'converged', 'verdict'): assert f'kd.{pair}.{k}' in m, (pair, k)
        # an arm still improving at its cap never yields a KD finding (the teacher gate may speak first)
        assert m[f'kd.{pair}.converged'] or not kd_meaningful(m[f'kd.{pair}.verdict']), (pair, m[f'kd.{pair}.verdict'])

def test_literal_and_teacher_knows_more_verdicts_side_by_side(smoke_runs):
    "fabgaurd_defects and small_cnn_kd keep the seed's literal comparison and add the teacher-knows-more one, each its own KD pair."
    root, _ = smoke_runs
    for name, pair, classes in (('fabgaurd_defects', 'efficientnet_b0->mobilenet_v3_small', 10), ('small_cnn_kd', 'resnet18->compact_cnn', 10)):
        (run,) = (root/name).iterdir()
        res = load_results(run); m, t, p = res['metrics'], res['tables'], res['parameters']
        for k in (pair, f'{pair}:kd_unlabeled'):
            for key in ('epochs_cap', 'converged', 'verdict'): assert f'kd.{k}.{key}' in m, (name, k, key)
            assert m[f'kd.{k}.converged'] or not kd_meaningful(m[f'kd.{k}.verdict']), (name, k)
        assert f'transfer.{pair}.kd_minus_pseudo_mean' in m
        runs = t['transfer_runs']
        assert sorted({r['arm'] for r in runs}) == sorted(p['arms']) and len(runs) == len(p['arms'])*len(p['seeds'])
        assert {r['n_train'] for r in runs if r['arm'] == 'alone'} == {p['labeled_per_class']*classes}
    (run,) = (root/'fabgaurd_defects').iterdir()
    verdicts = load_results(run)['tables']['kd_verdicts']
    assert [r['comparison'].split(':')[0] for r in verdicts] == ['literal', 'teacher knows more']


def _namespace(study, injected:str) -> dict:
    "A report's globals when its validation cell runs: its parameters cell, then papermill's injected cell (and IPython's `In`)."
    import nbformat
    cell = next(c.source for c in nbformat.read(study.path, 4).cells if 'parameters' in c.metadata.get('tags', []))
    ns = {}; exec(cell, ns); exec(injected, ns); ns['In'] = ['', cell, injected]
    return ns

@pytest.mark.parametrize('name', list(STUDIES))
def test_papermill_alone_runs_the_preset(name):
    "papermill with `-p preset smoke`, or with the preset's file (`-f reports/presets/X/smoke.yaml`), gives the smoke preset, as `fabkd study run` does."
    import yaml
    from fabkd.studies import validate, study_parameters
    from fabkd.runner import injected
    st = STUDIES[name]
    assert study_parameters(name, _namespace(st, '')) == validate(st, 'cpu')   # the parameters cell alone: the cpu preset
    smoke = validate(st, 'smoke')
    preset_file = yaml.safe_load((st.path.parent/'presets'/name/'smoke.yaml').read_text())
    for injected_cell in ({'preset': 'smoke'}, preset_file, injected(st, smoke)):
        ns = _namespace(st, '# Parameters\n' + ''.join(f'{k} = {v!r}\n' for k, v in injected_cell.items()))
        assert study_parameters(name, ns) == smoke
        assert all(ns[k] == v for k, v in smoke.items() if k != 'preset')   # the notebook's variables are the smoke values

def test_a_study_is_one_notebook(tmp_path):
    """A user's study is one notebook (and a preset file) in a folder named by FABKD_STUDIES: `fabkd study run`, `runs list`
    and the site take it, and papermill alone with the preset's file gives the same results."""
    import math
    from pathlib import Path
    from fabkd.sweeps import example_study
    folder = example_study(tmp_path/'mine')
    env = {**os.environ, 'FABKD_STUDIES': str(folder)}
    run = lambda *a, cwd=tmp_path: subprocess.run(list(a), capture_output=True, text=True, timeout=300, env=env, cwd=cwd)
    r = run(FABKD, 'study', 'run', 'toy', '--preset', 'cpu', '--out-root', str(tmp_path/'runs'))
    assert r.returncode == 0, r.stderr[-2000:]
    (study_run,) = (tmp_path/'runs'/'toy').iterdir()
    r = run(str(Path(FABKD).parent/'papermill'), str(folder/'toy.ipynb'), str(tmp_path/'alone.ipynb'), '-f', str(folder/'presets'/'toy'/'cpu.yaml'),
            '-p', 'run_dir', str(tmp_path/'alone'), '-k', 'python3')
    assert r.returncode == 0, r.stderr[-2000:]
    ref, alone = load_results(study_run), load_results(tmp_path/'alone')
    assert alone['preset'] == ref['preset'] == 'cpu' and alone['parameters'] == ref['parameters']
    assert alone['metrics']['accuracy'] == ref['metrics']['accuracy'] == round(0.5 + 0.4*math.sin(1.0), 6)   # x = 1.0: the preset's
    r = run(FABKD, 'runs', 'list', 'toy', '--out-root', str(tmp_path/'runs'))
    assert r.returncode == 0 and study_run.name in r.stdout and 'finished' in r.stdout, r.stdout + r.stderr
    from fabkd.studies import load_study_folders
    from fabkd.site import publish_latest, studies_summary
    load_study_folders(str(folder))   # here too, as in every process with FABKD_STUDIES set (`fabkd site` renders the same pages)
    try:
        assert publish_latest(tmp_path/'runs', tmp_path/'latest') == [tmp_path/'latest'/'toy.ipynb']
        assert studies_summary(tmp_path/'latest').study.tolist() == ['toy']
    finally: STUDIES.pop('toy', None)

def test_portable_kernels_reach_the_report(tmp_path):
    """`-p kernels portable`: `fabkd study run` starts the report's process with them, and its provenance says so
    (a report asked for kernels its process does not run stops: `50_report`)."""
    import platform
    from fabkd.sweeps import example_study
    folder = example_study(tmp_path/'mine')
    env = {**os.environ, 'FABKD_STUDIES': str(folder)}
    r = subprocess.run([FABKD, 'study', 'run', 'toy', '--preset', 'cpu', '-p', 'kernels', 'portable', '--out-root', str(tmp_path/'runs')],
                       capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    (run,) = (tmp_path/'runs'/'toy').iterdir()
    res = load_results(run)
    assert json.loads((run/'params.json').read_text())['kernels'] == res['provenance']['cpu_isa']['kernels'] == 'portable'
    if platform.machine() == 'x86_64': assert res['provenance']['cpu_isa']['torch_capability'] == 'AVX2'

_TRAINING_CALL = re.compile(r'(?<![\w.])(train_model|kd_sweep|budget_curve|transfer_arms|omitted_class_run|recover|Compressor|teacher_for)\(')

def _call_args(src:str, open_at:int) -> str:
    "The text between the parenthesis at `open_at` and the one closing it (strings and comments skipped)."
    depth, i, quote = 0, open_at, None
    while i < len(src):
        ch = src[i]
        if quote:
            if ch == '\\': i += 1
            elif ch == quote: quote = None
        elif ch in '\'"': quote = ch
        elif ch == '#':   # a comment runs to the end of its line
            end = src.find('\n', i)
            i = (len(src) if end < 0 else end) - 1
        elif ch in '([{': depth += 1
        elif ch in ')]}':
            depth -= 1
            if depth == 0: return src[open_at + 1:i]
        i += 1
    raise AssertionError(src[open_at:open_at + 80])

@pytest.mark.parametrize('name', list(STUDIES))
def test_reports_name_and_pass_their_run_to_every_training(name):
    """A training a report starts without its run's context (`run=rep.run`) would not be checkpointed, resumed or shown in progress;
    one without a `name` would get a key from what it trains, which its author cannot read in the progress or the run folder."""
    import nbformat
    no_run, no_name = [], []
    for c in nbformat.read(STUDIES[name].path, 4).cells:
        if c.cell_type != 'code': continue
        for m in _TRAINING_CALL.finditer(c.source):
            args = _call_args(c.source, m.end() - 1)
            if 'run=' not in args and not (m[1] == 'teacher_for' and re.search(r',\s*rep\s*$', args)):
                no_run.append(f'{m[1]}({args[:60]}...)')
            # a teacher is named by its bank entry; Compressor trains nothing itself (its run carries progress)
            if 'name=' not in args and m[1] not in ('teacher_for', 'Compressor'):
                no_name.append(f'{m[1]}({args[:60]}...)')
    assert not no_run, no_run
    assert not no_name, no_name
