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


def test_guide_views_rescale_crop_and_mirror_but_keep_the_batch():
    gan = SeeingGAN(guide=1.0, guide_classes=[985], guide_jitter=0.4, generator={"base": 4, "blocks": 1})
    x = torch.arange(2 * 3 * 40 * 40, dtype=torch.float32).reshape(2, 3, 40, 40)
    torch.manual_seed(0)
    sides = set()
    for _ in range(20):
        v = gan._view(x)
        assert v.shape[:2] == (2, 3) and v.shape[-1] == v.shape[-2] <= 40
        sides.add(v.shape[-1])
    assert len(sides) > 3                                        # the scale varies step to step
    plain = SeeingGAN(guide=1.0, guide_classes=[985], generator={"base": 4, "blocks": 1})
    assert plain._view(x) is x                                   # no jitter: the batch as it is


def test_guide_nets_are_averaged_and_never_the_judge():
    with pytest.raises(ParameterError, match="judges"):
        SeeingGAN(guide=1.0, guide_classes=[985], guide_nets=("efficientnet_lite2",))
    with pytest.raises(ParameterError, match="guide_nets"):
        SeeingGAN(guide=1.0, guide_classes=[985], guide_nets=())
    with pytest.raises(ParameterError, match="guide_jitter"):
        SeeingGAN(guide=1.0, guide_classes=[985], guide_jitter=-0.1)
    one = SeeingGAN(guide=1.0, guide_classes=[985], generator={"base": 4, "blocks": 1})
    two = SeeingGAN(guide=1.0, guide_classes=[985], generator={"base": 4, "blocks": 1},
                    guide_nets=("efficientnet_lite0", "efficientnet_lite1"))
    x = torch.rand(2, 3, 64, 64) * 255
    a, b = one._world_nll(x), two._world_nll(x)
    _, lite1 = two._guide_nets()
    with torch.no_grad():
        want = -lite1(x).log_softmax(-1)[:, 985].mean()
    assert torch.allclose(b, (a + want) / 2, atol=1e-4)         # the mean of the two nets' terms
    assert two.config()["guide_nets"] == ["efficientnet_lite0", "efficientnet_lite1"]


def test_structure_loss_asks_the_degraded_output_to_give_back_the_input():
    from latentstudio.seeing.degrade import degrade
    from latentstudio.seeing.model import structure_loss

    g = torch.Generator().manual_seed(0)
    picture = torch.nn.functional.interpolate(torch.rand(2, 3, 8, 8, generator=g), size=(96, 96), mode="bilinear")
    given = degrade(picture)
    assert float(structure_loss(picture, given, 24.0)) < 0.05
    # brightness and contrast of the input are free: a dimmer, flatter input asks for the same layout
    assert float(structure_loss(picture, 0.2 + 0.5 * given, 24.0)) < 0.05
    # fine texture added to the output is free too (the comparison is at the degradation's scale)
    detailed = (picture + 0.2 * torch.rand(2, 3, 96, 96, generator=g)).clamp(0, 1)
    assert float(structure_loss(detailed, given, 24.0)) < 0.15
    # another layout is far
    assert float(structure_loss(picture.flip(-1).flip(-2), given, 24.0)) > 0.4


def test_off_world_inputs_get_the_world_and_structure_terms():
    gan = SeeingGAN(guide=1.0, guide_classes=[985], off_guide=2.0, off_keep=3.0, generator={"base": 4, "blocks": 1})
    assert gan.uses_off_world and gan.config()["off_guide"] == 2.0 and gan.config()["off_keep"] == 3.0
    x, y, off = torch.rand(2, 1, 32, 32), torch.rand(2, 3, 32, 32), torch.rand(2, 1, 32, 32)
    _, without = gan(x, y)
    assert "off_world_nll" not in without and "off_keep" not in without
    loss, metrics = gan(x, y, off)
    assert metrics["off_world_nll"] > 0 and metrics["off_keep"] > 0
    # the off-world terms reach the generator: with them the generator's gradient changes
    gan.zero_grad()
    gan(x, y)[0].backward()
    plain = [p.grad.clone() for p in gan.generator.parameters()]
    gan.zero_grad()
    loss.backward()
    assert any(not torch.allclose(a, p.grad) for a, p in zip(plain, gan.generator.parameters()))
    assert not SeeingGAN(generator={"base": 4, "blocks": 1}).uses_off_world


def test_off_world_terms_are_checked():
    with pytest.raises(ParameterError, match="off_guide"):
        SeeingGAN(guide=1.0, guide_classes=[985], off_guide=-1.0)
    with pytest.raises(ParameterError, match="off_guide"):
        SeeingGAN(guide=1.0, guide_classes=[985], off_keep=float("nan"))
    with pytest.raises(ParameterError, match="guide_classes"):
        SeeingGAN(off_guide=1.0)
