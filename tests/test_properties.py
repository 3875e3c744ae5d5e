"Property tests (hypothesis) for the KD loss and the pruning-target arithmetic."
import math
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st, HealthCheck
from fabkd.distill import kd_loss
from fabkd.models import create_model, count_params
from fabkd.prune import prune_structured

logit_scale = st.sampled_from([1e-3, 1.0, 30.0, 1e3, 1e4])

@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 16), c=st.integers(2, 20), scale=logit_scale,
       T=st.floats(0.05, 50.0), alpha=st.floats(0.0, 1.0), half=st.booleans())
def test_kd_loss_is_finite_and_its_kl_term_non_negative(seed, n, c, scale, T, alpha, half):
    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(n, c, generator=g)*scale, torch.randn(n, c, generator=g)*scale
    y = torch.randint(0, c, (n,), generator=g)
    if half: s, t = s.clamp(-6e4, 6e4).half(), t.clamp(-6e4, 6e4).half()
    loss = kd_loss(s, t, y, T, alpha)
    assert torch.isfinite(loss)
    kl = kd_loss(s, t, y, T, 1.0)/(T*T)          # α = 1 isolates the KL term
    assert kl.item() >= -1e-5

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), c=st.integers(2, 12), T=st.floats(0.1, 20.0), ls=st.sampled_from([0.0, 0.1]))
def test_alpha_zero_is_cross_entropy(seed, c, T, ls):
    g = torch.Generator().manual_seed(seed)
    s, t, y = torch.randn(8, c, generator=g)*5, torch.randn(8, c, generator=g)*5, torch.randint(0, c, (8,), generator=g)
    assert math.isclose(kd_loss(s, t, y, T, 0.0, ls).item(), F.cross_entropy(s, y, label_smoothing=ls).item(), rel_tol=1e-6, abs_tol=1e-6)

@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(target=st.floats(0.05, 0.6))
def test_pruning_reaches_the_parameter_target(target):
    torch.manual_seed(0)
    base = create_model('compact_cnn', 10).eval()
    pruned, rec = prune_structured(base, target, 'l2', input_size=(3, 32, 32))
    assert abs(rec['removed_fraction'] - target) <= 0.01
    assert rec['params_after'] == count_params(pruned) < rec['params_before'] == count_params(base)
    assert abs(1 - rec['params_after']/rec['params_before'] - rec['removed_fraction']) < 1e-12
