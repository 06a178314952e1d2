"""The GAN module: shapes, one backward gives each network only its own gradient, D learns, EMA, checkpoints."""

import torch

from latentstudio.gan.models import GAN
from latentstudio.train import TrainConfig, fit
from latentstudio.zoo.checkpoint import load_checkpoint, save_checkpoint


def tiny(**kw):
    torch.manual_seed(0)
    return GAN(image_size=16, latent_dim=8, width=8, max_channels=32, **kw)


def easy_batch(n=8):
    real = torch.ones(n, 3, 16, 16)
    real[:, :, 4:12, 4:12] = 0.0
    return real


def test_shapes_and_generator_protocol():
    gan = tiny()
    w = gan.G.sample_latents(3, generator=torch.Generator().manual_seed(0), truncation=0.5)
    x = gan.G_ema(w)
    assert x.shape == (3, 3, 16, 16) and float(x.min()) >= 0 and float(x.max()) <= 1
    assert gan.D(x * 2 - 1).shape == (3,)
    assert not any(p.requires_grad for p in gan.G_ema.parameters())
    assert torch.equal(gan.G.mean_latent(), torch.zeros(8))


def _grads(module):
    return {k: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for k, p in module.named_parameters()}


def test_one_backward_gives_each_network_only_its_own_gradient():
    gan = tiny(diffaugment="")
    gan.eval()                       # no EMA update, no power-iteration drift between the three passes
    real, z = easy_batch(), torch.randn(8, 8, generator=torch.Generator().manual_seed(1))
    total, _ = gan.losses(real, z)
    total.backward()
    g_total, d_total = _grads(gan.G), _grads(gan.D)
    gan.zero_grad()
    fake = gan.G(z)
    d_only = torch.relu(1 - gan.D(real * 2 - 1)).mean() + torch.relu(1 + gan.D(fake.detach() * 2 - 1)).mean()
    d_only.backward()
    d_ref = _grads(gan.D)
    assert all(p.grad is None or not p.grad.any() for p in gan.G.parameters())
    gan.zero_grad()
    (-gan.D(gan.G(z) * 2 - 1).mean()).backward()
    g_ref = _grads(gan.G)
    for k in d_ref:
        torch.testing.assert_close(d_total[k], d_ref[k])
    for k in g_ref:
        torch.testing.assert_close(g_total[k], g_ref[k])


def test_training_lowers_the_discriminators_loss_on_an_easy_set():
    gan = tiny(diffaugment="")
    real = easy_batch(16)

    def make_batch(step, g):
        return real, torch.randn(16, 8, generator=g)

    res = fit(gan, data=make_batch, loss_fn=lambda m, b: m(*b),
              config=TrainConfig(steps=12, lr=2e-3, betas=(0.0, 0.99), checkpoint_dir=None))
    d = res.metrics["d_loss"]
    assert d[0] > 1.9                                   # hinge loss of an untrained D is about 2
    assert sum(d[-4:]) / 4 < d[0] - 0.4
    assert int(gan.ema_updates) == 12


def test_ema_follows_the_generator_and_survives_a_checkpoint(tmp_path):
    gan = tiny()
    before = [p.clone() for p in gan.G_ema.parameters()]
    with torch.no_grad():
        for p in gan.G.parameters():
            p.add_(1.0)
    beta = gan.update_ema()
    assert beta == 0.1                                   # warm-up: (1 + 0) / (10 + 0)
    for b, pe, p in zip(before, gan.G_ema.parameters(), gan.G.parameters()):
        torch.testing.assert_close(pe, b + 0.9 * (p - b))
    save_checkpoint(tmp_path, gan, config=gan.config())
    back, _ = load_checkpoint(tmp_path)
    for (k, v), (k2, v2) in zip(gan.state_dict().items(), back.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    assert int(back.ema_updates) == 1


def test_resumed_training_continues_exactly(tmp_path):
    def run(steps, folder):
        gan = tiny()
        real = easy_batch()
        cfg = TrainConfig(steps=steps, lr=1e-3, betas=(0.0, 0.99), checkpoint_dir=folder, checkpoint_every=2,
                          model_config=gan.config())
        return fit(gan, data=lambda s, g: (real, torch.randn(8, 8, generator=g)), loss_fn=lambda m, b: m(*b),
                   config=cfg), gan

    straight, g1 = run(4, tmp_path / "a")
    run(2, tmp_path / "b")
    resumed, g2 = run(4, tmp_path / "b")
    assert resumed.resumed_from == 2
    assert resumed.losses == straight.losses
    for a, b in zip(g1.G_ema.parameters(), g2.G_ema.parameters()):
        torch.testing.assert_close(a, b)


def test_r1_and_logistic_variants_run():
    gan = tiny(r1_gamma=1.0, loss="logistic")
    loss, metrics = gan(easy_batch(4), torch.randn(4, 8))
    loss.backward()
    assert "r1" in metrics and metrics["r1"] >= 0
    assert gan.D.out.weight.grad is not None
