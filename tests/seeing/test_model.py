import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.seeing.model import LeanUNet, Pix2PixUNet, SeeingGAN, build_generator


@pytest.mark.parametrize("hw", [(32, 32), (48, 80), (64, 96)])
def test_lean_unet_keeps_size(hw):
    g = LeanUNet(base=4, blocks=1).eval()
    with torch.no_grad():
        y = g(torch.rand(1, 1, *hw))
    assert y.shape == (1, 3, *hw) and float(y.min()) >= 0 and float(y.max()) <= 1


def test_lean_is_much_smaller_than_pix2pix():
    lean = sum(p.numel() for p in LeanUNet().parameters())
    p2p = sum(p.numel() for p in Pix2PixUNet().parameters())
    assert lean * 50 < p2p
    assert Pix2PixUNet(ngf=4, levels=5).eval()(torch.rand(1, 1, 64, 64)).shape == (1, 3, 64, 64)


def test_bad_generator_arguments():
    with pytest.raises(ParameterError, match="arch"):
        build_generator("vgg")
    with pytest.raises(ParameterError, match="base"):
        LeanUNet(base=2)


def test_critic_gets_no_gradient_from_the_generator_term():
    torch.manual_seed(0)
    m = SeeingGAN(generator={"base": 4, "blocks": 1}, ndf=8).eval()   # eval: no power-iteration step between passes
    x, t = torch.rand(2, 1, 32, 32), torch.rand(2, 3, 32, 32)
    loss, metrics = m(x, t)
    assert set(metrics) == {"d", "g_adv", "l1"}
    loss.backward()
    d_grads = [p.grad.clone() for p in m.discriminator.parameters()]
    g_grads = [p.grad.clone() for p in m.generator.parameters()]
    # the critic's gradient is the gradient of its own loss only; the generator's of its own terms only
    m.zero_grad()
    torch.manual_seed(0)
    fake = m.generator(x)
    d = m.discriminator
    d_loss = 0.5 * ((d(torch.cat([x, t], 1)) - 1).pow(2).mean() + d(torch.cat([x, fake.detach()], 1)).pow(2).mean())
    d_loss.backward()
    for a, p in zip(d_grads, d.parameters()):
        assert torch.allclose(a, p.grad, atol=1e-6)
    assert all(p.grad is None for p in m.generator.parameters())
    assert any(float(g.abs().sum()) > 0 for g in g_grads)
    assert all(p.requires_grad for p in d.parameters())
