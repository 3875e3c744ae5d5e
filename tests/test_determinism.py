"The same run, preset and seed on CPU gives identical metrics (timings excluded)."
import json
from fabkd.cli import quickstart

TIMING = ('latency', 'throughput', 'seconds', 'peak_memory')

def _strip(d):
    return {k: v for k, v in d.items() if not any(t in k for t in TIMING)}

def test_quickstart_twice_gives_identical_metrics(tmp_path):
    runs = [quickstart('smoke', seed=5, out_root=tmp_path/str(i), log=lambda *a: None) for i in range(2)]
    a, b = [json.loads((r/'results.json').read_text()) for r in runs]
    assert a['parameters'] == b['parameters']
    for name in a['metrics']:
        assert _strip(a['metrics'][name]) == _strip(b['metrics'][name]), name
    untimed = lambda h: {m: [{k: v for k, v in row.items() if k != 'time'} for row in rows] for m, rows in h.items()}
    assert untimed(a['history']) == untimed(b['history'])
