"""core.filters: blur, Canny, adaptive threshold, the filter spec language, optical flow and warping;
and core.video's camera input (its error paths: there is no camera on a test machine)."""

import os

import numpy as np
import pytest
from scipy import ndimage

from latentstudio.core import filters, video
from latentstudio.core.filters import (adaptive_threshold, apply_filter, canny_edges, gaussian_blur, optical_flow,
                                       parse_filters, warp)
from latentstudio.errors import ParameterError


def _noise(shape=(64, 64, 3), seed=0):
    return np.random.default_rng(seed).random(shape).astype(np.float32)


def _astronaut_pair(dy: int, dx: int, n: int = 256):
    """Two n x n crops of the astronaut (at half size) in which the picture moved by (dy, dx) pixels."""
    from skimage import data

    big = data.astronaut().astype(np.float32).reshape(256, 2, 256, 2, 3).mean(axis=(1, 3)) / 255
    big = np.pad(big, ((20, 20), (20, 20), (0, 0)), mode="reflect")
    prev = big[20:20 + n, 20:20 + n]
    cur = big[20 - dy:20 - dy + n, 20 - dx:20 - dx + n]  # cur[p] = prev[p - (dy, dx)]
    return np.ascontiguousarray(prev), np.ascontiguousarray(cur)


# ---- blur ---------------------------------------------------------------------------------------------

def test_blur_reduces_variance_and_keeps_the_mean():
    img = _noise()
    out = gaussian_blur(img, 2.0)
    assert out.shape == img.shape and out.dtype == np.float32
    assert out.std() < img.std() / 4
    assert abs(float(out.mean()) - float(img.mean())) < 2e-3
    assert np.allclose(out.mean(axis=(0, 1)), img.mean(axis=(0, 1)), atol=3e-3)  # per channel: no colour bleed
    assert gaussian_blur(img, 4.0).std() < out.std()  # more sigma, more blur


def test_blur_sigma_zero_is_an_unchanged_copy_and_constants_stay_constant():
    img = _noise((16, 24, 3))
    out = gaussian_blur(img, 0)
    assert np.array_equal(out, img) and out is not img
    flat = np.full((20, 20, 3), 0.3, np.float32)
    assert np.allclose(gaussian_blur(flat, 3.0), 0.3, atol=1e-6)


@pytest.mark.parametrize("sigma", [-1.0, float("nan"), "2", True])
def test_blur_rejects_bad_sigma(sigma):
    with pytest.raises(ParameterError, match="sigma"):
        gaussian_blur(_noise((8, 8, 3)), sigma)


# ---- canny --------------------------------------------------------------------------------------------

def _square(top=20, left=16, bottom=44, right=48, level=1.0, n=64):
    img = np.zeros((n, n, 3), np.float32)
    img[top:bottom, left:right] = level
    return img


def test_canny_finds_the_edges_of_a_square_where_they_are():
    top, left, bottom, right = 20, 16, 44, 48
    edges = canny_edges(_square(top, left, bottom, right))
    assert edges.shape == (64, 64, 3) and set(np.unique(edges)) <= {0.0, 1.0}
    assert np.array_equal(edges[..., 0], edges[..., 2])
    e = edges[..., 0] > 0
    # every edge pixel lies within 1 px of the square's outline ...
    outline = np.zeros((64, 64), bool)
    outline[top - 1:bottom + 1, left - 1:right + 1] = True
    outline[top + 1:bottom - 1, left + 1:right - 1] = False
    assert e.any() and not (e & ~outline).any()
    # ... and each side is found along (almost) its whole length
    inner_rows, inner_cols = slice(top + 2, bottom - 2), slice(left + 2, right - 2)
    assert e[top - 1:top + 1, inner_cols].any(axis=0).mean() > 0.9      # top side
    assert e[bottom - 1:bottom + 1, inner_cols].any(axis=0).mean() > 0.9  # bottom side
    assert e[inner_rows, left - 1:left + 1].any(axis=1).mean() > 0.9    # left side
    assert e[inner_rows, right - 1:right + 1].any(axis=1).mean() > 0.9  # right side


def test_canny_thresholds_are_in_luminance_step_units():
    faint, clear = _square(level=0.05) + 0.4, _square(level=0.3) + 0.4
    assert canny_edges(faint, low=0.1, high=0.2).max() == 0      # a 0.05 step is below both thresholds
    assert canny_edges(clear, low=0.1, high=0.2).sum() > 0       # a 0.3 step is above them
    assert canny_edges(clear, sigma=3.0, low=0.1, high=0.2).sum() > 0  # whatever the smoothing
    assert canny_edges(clear, low=0.35, high=0.4).max() == 0


def test_canny_hysteresis_keeps_weak_edges_only_when_joined_to_strong_ones():
    img = np.full((64, 96, 3), 0.3, np.float32)
    img[16:48, 8:40] += 0.5        # a strong square
    img[16:48, 56:88] += 0.15      # a weak one, between low and high, on its own
    e = canny_edges(img, low=0.1, high=0.2)[..., 0] > 0
    assert e[:, :48].sum() > 100 and not e[:, 48:].any()
    ramp = np.full((64, 96, 3), 0.3, np.float32)
    ramp[16:48, 8:88] += np.linspace(0.5, 0.15, 80, dtype=np.float32)[None, :, None]  # fading, one outline
    e = canny_edges(ramp, low=0.1, high=0.2)[..., 0] > 0
    assert e[14:18, 70:86].any(axis=0).mean() > 0.9   # the faint end survives through the strong end
    assert (canny_edges(img, low=0.1, high=0.12)[:, 48:, 0] > 0).sum() > 100


def test_canny_rejects_low_above_high():
    with pytest.raises(ParameterError, match="low=0.5"):
        canny_edges(_square(), low=0.5, high=0.2)


# ---- adaptive threshold -------------------------------------------------------------------------------

def _lit_checkerboard(n=128, cell=16):
    yy, xx = np.mgrid[0:n, 0:n]
    board = ((yy // cell + xx // cell) % 2).astype(np.float32)     # 1 = light square
    light = np.linspace(0.25, 1.0, n, dtype=np.float32)[None, :] * np.linspace(1.0, 0.5, n, dtype=np.float32)[:, None]
    img = (0.4 + 0.3 * board) * light                                # unevenly lit, brightest top right
    return np.repeat(img[..., None], 3, axis=2), board


def test_adaptive_threshold_recovers_a_gradient_lit_checkerboard():
    img, board = _lit_checkerboard()
    out = adaptive_threshold(img, block=31, offset=0.02)
    assert out.shape == img.shape and set(np.unique(out)) <= {0.0, 1.0}
    assert (out[..., 0] == board).mean() > 0.99
    # no single global threshold can: the dim light squares are darker than the bright dark ones
    lum = img[..., 0]
    assert max(((lum > t) == board).mean() for t in np.linspace(0, 1, 101)) < 0.8


@pytest.mark.parametrize("block", [30, 1, 2.5, True])
def test_adaptive_threshold_rejects_bad_block(block):
    with pytest.raises(ParameterError, match="block"):
        adaptive_threshold(_noise((16, 16, 3)), block=block)


# ---- the spec language --------------------------------------------------------------------------------

def test_parse_filters_reads_names_values_and_defaults():
    assert parse_filters("blur:2,canny") == [("blur", 2.0), ("canny", 1.5)]
    assert parse_filters(" Blur : 1.5 , threshold:15, invert,GREY ") == [
        ("blur", 1.5), ("threshold", 15), ("invert", None), ("grey", None)]
    assert parse_filters("threshold") == [("threshold", 31)]
    assert parse_filters("none") == [] and parse_filters("") == [] and parse_filters("none,none") == []
    assert parse_filters("blur:0") == [("blur", 0.0)]
    assert parse_filters("blur:256,canny:256,threshold:1025") == [("blur", 256.0), ("canny", 256.0),
                                                                   ("threshold", 1025)]


@pytest.mark.parametrize("spec", ["blurr", "blur:abc", "blur:-1", "blur:nan", "canny:", "threshold:30",
                                  "threshold:2.5", "threshold:1", "invert:2", "none:1", "blur,,canny", ",",
                                  "sharpen:2", "blur:1e6", "canny:256.5", "threshold:1027", "blur:inf"])
def test_parse_filters_rejects_bad_specs_and_lists_the_valid_ones(spec):
    with pytest.raises(ParameterError) as info:
        parse_filters(spec)
    message = str(info.value)
    assert repr(spec) in message
    assert "valid steps" in message and all(name in message for name in filters.FILTERS)


def test_parse_filters_rejects_a_non_string():
    with pytest.raises(ParameterError, match="string"):
        parse_filters(3)


def test_apply_filter_runs_the_steps_in_order():
    img = _noise((32, 32, 3))
    assert np.allclose(apply_filter(img, "invert"), 1 - img)
    grey = apply_filter(img, "grey")
    assert np.allclose(grey[..., 0], grey[..., 1]) and np.allclose(grey[..., 0], img @ filters.LUMA)
    assert np.allclose(apply_filter(img, "blur:1.5"), gaussian_blur(img, 1.5))
    both = apply_filter(img, "blur:2,canny:1")
    assert np.array_equal(both, canny_edges(gaussian_blur(img, 2.0), sigma=1.0))
    assert np.array_equal(apply_filter(img, "canny,invert"), 1 - canny_edges(img))
    assert not np.array_equal(apply_filter(img, "invert,threshold:5"), apply_filter(img, "threshold:5,invert"))
    same = apply_filter(img, "none")
    assert np.array_equal(same, img) and same is not img


def test_apply_filter_accepts_a_parsed_spec_and_checks_it():
    img = _noise((32, 32, 3))
    steps = parse_filters("blur:1,threshold:9,invert")
    assert np.array_equal(apply_filter(img, steps), apply_filter(img, "blur:1,threshold:9,invert"))
    with pytest.raises(ParameterError, match="valid steps"):
        apply_filter(img, [("blur", -2.0)])
    with pytest.raises(ParameterError, match="valid steps"):
        apply_filter(img, [("sharpen", None)])
    with pytest.raises(ParameterError, match="image"):
        apply_filter(np.zeros((4, 4, 5)), "blur")


# ---- optical flow and warping -------------------------------------------------------------------------

def test_optical_flow_recovers_a_known_shift():
    prev, cur = _astronaut_pair(3, -5)
    flow = optical_flow(prev, cur)
    assert flow.shape == (256, 256, 2) and flow.dtype == np.float32
    inner = flow[32:-32, 32:-32].reshape(-1, 2)
    assert np.allclose(np.median(inner, axis=0), [3, -5], atol=0.25)
    miss = np.hypot(inner[:, 0] - 3, inner[:, 1] + 5)
    assert np.median(miss) < 0.75 and (miss < 1.0).mean() > 0.65


def test_warping_prev_along_the_flow_brings_it_to_cur():
    prev, cur = _astronaut_pair(3, -5)
    flow = optical_flow(prev, cur)
    inside = (slice(16, -16), slice(16, -16))
    before = np.abs(prev - cur)[inside].mean()
    after = np.abs(warp(prev, flow) - cur)[inside].mean()
    assert after < 0.2 * before


def test_optical_flow_of_a_still_picture_is_zero_and_follows_larger_motion():
    prev, _ = _astronaut_pair(0, 0, n=128)
    assert np.abs(optical_flow(prev, prev)).max() < 1e-3
    prev, cur = _astronaut_pair(-6, 9, n=128)
    flow = optical_flow(prev, cur)
    assert np.allclose(np.median(flow[24:-24, 24:-24].reshape(-1, 2), axis=0), [-6, 9], atol=0.5)


def test_warp_moves_content_by_the_flow():
    img = np.zeros((12, 12), np.float32)
    img[3, 4] = 1.0
    flow = np.zeros((12, 12, 2), np.float32)
    flow[..., 0], flow[..., 1] = 2.0, -3.0
    out = warp(img, flow)
    assert out.shape == img.shape and np.argwhere(out > 0.99).tolist() == [[5, 1]]
    flow[..., 0], flow[..., 1] = 0.5, 0.0       # half a pixel: bilinear, shared between two rows
    assert np.allclose(warp(img, flow)[3:5, 4], [0.5, 0.5])
    rgb = np.stack([img, 2 * img, 3 * img], axis=-1)
    assert np.allclose(warp(rgb, np.zeros((12, 12, 2), np.float32)), rgb, atol=1e-5)


def test_flow_and_warp_reject_bad_input():
    a = _noise((32, 32, 3))
    with pytest.raises(ParameterError, match="same size"):
        optical_flow(a, _noise((32, 40, 3)))
    with pytest.raises(ParameterError, match="levels"):
        optical_flow(a, a, levels=0)
    with pytest.raises(ParameterError, match="window"):
        optical_flow(a, a, window=4)
    with pytest.raises(ParameterError, match="downscale"):
        optical_flow(a, a, downscale=0.5)
    with pytest.raises(ParameterError, match="2x2"):
        optical_flow(a[:1], a[:1])
    with pytest.raises(ParameterError, match="flow"):
        warp(a, np.zeros((32, 32, 3), np.float32))
    with pytest.raises(ParameterError, match="same size"):
        warp(a, np.zeros((16, 16, 2), np.float32))
    with pytest.raises(ParameterError, match="finite"):
        warp(a, np.full((32, 32, 2), np.nan, np.float32))


def test_optical_flow_works_on_small_and_odd_sized_frames():
    rng = np.random.default_rng(3)
    tex = ndimage.gaussian_filter(rng.random((60, 90)), 1.5).astype(np.float32)
    tex = (tex - tex.min()) / (tex.max() - tex.min())
    prev, cur = tex[5:42, 5:76], tex[4:41, 7:78]        # 37 x 71, moved 1 px down, 2 px left
    flow = optical_flow(prev, cur)
    assert flow.shape == (37, 71, 2)
    assert np.allclose(np.median(flow[8:-8, 8:-8].reshape(-1, 2), axis=0), [1, -2], atol=0.35)


# ---- camera input (core.video) ------------------------------------------------------------------------

def test_camera_devices_lists_strings():
    devices = video.camera_devices()
    assert isinstance(devices, list) and all(isinstance(d, str) and d.startswith("/dev/video") for d in devices)


def test_camera_that_does_not_exist_is_named_in_the_error():
    with pytest.raises(ParameterError, match="/dev/video_latentstudio_missing.*does not exist"):
        video.iter_camera_frames("/dev/video_latentstudio_missing")


def test_a_regular_file_is_not_a_camera(tmp_path):
    fake = tmp_path / "video0"
    fake.write_bytes(b"\0" * 1024)
    with pytest.raises(ParameterError, match="not a video device"):
        video.iter_camera_frames(fake)


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_character_device_that_is_no_camera_fails_fast_with_ffmpegs_reason():
    frames = video.iter_camera_frames("/dev/null", max_frames=1)
    with pytest.raises(ParameterError, match="'/dev/null' cannot be opened"):
        next(frames)


@pytest.mark.parametrize("kwargs, word", [({"size": (0, 10)}, "size"), ({"size": 256}, "size"),
                                          ({"fps": 0}, "fps"), ({"max_frames": 0}, "max_frames")])
def test_camera_options_are_checked_before_opening(kwargs, word):
    with pytest.raises(ParameterError, match=word):
        video.iter_camera_frames("/dev/null", **kwargs)


def test_live_frames_reader_scales_and_stops():
    """The camera's reading loop, fed by ffmpeg's test source instead of a camera."""
    frames = list(video._iter_ffmpeg_source("testsrc=size=320x240:rate=25", ["-f", "lavfi"],
                                            ["-vf", "fps=10,scale=64:48"], label="test source", max_frames=3))
    assert len(frames) == 3
    assert all(f.shape == (48, 64, 3) and f.dtype == np.float32 for f in frames)
    assert 0.0 <= min(f.min() for f in frames) and max(f.max() for f in frames) <= 1.0 and frames[0].std() > 0.1
