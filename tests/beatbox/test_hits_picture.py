"""``beatbox.hits_picture.draw_hits``: a recording's sounds, shaded in their class colours."""

import numpy as np
import pytest

from latentstudio.beatbox.hits_picture import COLOURS, draw_hits
from latentstudio.beatbox.jam import DetectedHit
from latentstudio.errors import ParameterError

SR = 22050


def _hit(label, time, end):
    return DetectedHit("voice.wav", time, end, label, 0.9, np.zeros(10, np.float32))


def test_each_hit_is_shaded_in_its_class_colour_from_start_to_end(voice_like):
    y, _ = voice_like                                     # 2.4 s
    img = draw_hits(y, SR, [_hit("kick", 0.24, 0.48), _hit("closed_hat", 1.2, 1.44)], width=100, height=60)
    assert img.shape == (60, 100, 3) and img.dtype == np.uint8
    bottom = img[-1]                                      # below the waveform: only the shading
    kick, hat = np.array(COLOURS["kick"]), np.array(COLOURS["closed_hat"])
    assert (bottom[10] == kick).all() and (bottom[50] == hat).all()        # the onset lines
    assert (bottom[15] == kick // 4).all() and (bottom[55] == hat // 4).all()
    assert (bottom[30] == 17).all() and (bottom[80] == 17).all()           # no sound there
    # the waveform is drawn: its loudest column reaches further from the middle than a silent one
    nothing = draw_hits(np.zeros_like(y), SR, [], width=100, height=60)
    assert (draw_hits(y, SR, [], width=100, height=60) != nothing).any()


def test_refuses_nothing_to_draw():
    with pytest.raises(ParameterError, match="empty"):
        draw_hits(np.zeros(0, np.float32), SR, [])
    with pytest.raises(ParameterError, match="at least"):
        draw_hits(np.ones(100, np.float32), SR, [], height=10)
