import numpy as np
import pytest
import torch

from latentstudio.errors import ModelError, ParameterError
from latentstudio.soundscape.student import SoundscapeStudent, load_student


def test_shapes_and_deterministic_unit_embeddings(tiny_model_dir, tone):
    model, info = load_student(tiny_model_dir)
    assert len(info["id"]) == 12
    y = tone(440, 3.0)
    v1, p1 = model.embed_sound(y)
    v2, p2 = model.embed_sound(y)
    assert v1.shape == (16,) and p1.shape == (1000,)
    np.testing.assert_array_equal(v1, v2)                      # no random crops at inference
    assert np.linalg.norm(v1) == pytest.approx(1.0, abs=1e-5)
    assert p1.sum() == pytest.approx(1.0, abs=1e-4)


def test_query_vectors_live_in_the_embedding_space(tiny_config):
    torch.manual_seed(0)
    net = SoundscapeStudent(**tiny_config).eval()
    q = net.query_vectors(np.full((3, 1000), 1e-3, np.float32))
    assert tuple(q.shape) == (3, 16)
    assert torch.allclose(q.norm(dim=1), torch.ones(3), atol=1e-5)
    with pytest.raises(ParameterError, match="classes"):
        net.query_vectors(np.ones((1, 10), np.float32))


def test_wrong_input_shape_is_refused(tiny_config):
    net = SoundscapeStudent(**tiny_config)
    with pytest.raises(ParameterError, match="spectrogram"):
        net(torch.zeros(2, 32, 50))


def test_loading_something_else_fails(tmp_path):
    with pytest.raises((ModelError, ParameterError)):
        load_student(tmp_path / "nothing")
