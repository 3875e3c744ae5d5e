"Never unpickle untrusted files: crafted pickles that would write a marker file are refused before they run."
import os, pickle
import pytest
import torch
from fabkd.core import FabkdError, load_weights, save_weights
from fabkd.data import load_cifar, write_fake_cifar
from fabkd.models import create_model

class Payload:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))

def test_malicious_checkpoint_is_refused(tmp_path):
    marker = tmp_path/'pwned'
    torch.save({'fc.weight': Payload(marker)}, tmp_path/'evil.pth')
    with pytest.raises(FabkdError, match='weights-only'):
        load_weights(tmp_path/'evil.pth')
    with pytest.raises(FabkdError):
        create_model('resnet18', 10, weights_path=tmp_path/'evil.pth')
    assert not marker.exists()

def test_malicious_cifar_batch_is_refused(tmp_path):
    marker = tmp_path/'pwned'
    root = write_fake_cifar(tmp_path/'c10', 'cifar10', n=8)
    with open(root/'cifar-10-batches-py'/'data_batch_3', 'wb') as f:
        pickle.dump({b'data': Payload(marker), b'labels': [0]}, f, protocol=2)
    with pytest.raises(FabkdError, match='not allowed'):
        load_cifar(root, 'cifar10')
    assert not marker.exists()

def test_weights_round_trip_is_exact(tmp_path):
    m = create_model('mobilenet_v3_small', 12)
    p = save_weights(m, tmp_path/'m.safetensors')
    m2 = create_model('mobilenet_v3_small', 12, weights_path=p).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad(): assert torch.equal(m.eval()(x), m2(x))
