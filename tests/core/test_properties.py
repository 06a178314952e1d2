"""Property tests (Hypothesis) for the pure core: spectral, onsets, beats, stretch and image.

Each test states a property that must hold for every input of a family: shapes as documented (from the
number of samples, the sample rate and the hop), finite outputs for finite inputs, invariances (gain,
sample rate) and no crash on edge sizes (1 sample, shorter than ``n_fft``, silence, DC, amplitude 1e6,
1x1 and odd-sized images). Bad input (NaN, inf, empty) must raise :class:`ParameterError`.

Every test is derandomized with few examples: the file is deterministic and belongs to the fast tier.
Signals are built from a drawn seed with numpy's RNG, so generating them costs nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from latentstudio.core import beats as B
from latentstudio.core import image, onsets, spectral, stretch
from latentstudio.errors import ParameterError

KINDS = ("noise", "silence", "dc", "sine", "impulse", "huge")
SRS = (8000, 16000, 22050, 44100)
two_srs = st.lists(st.sampled_from(SRS), min_size=2, max_size=2, unique=True)
seeds = st.integers(0, 2 ** 32 - 1)
gains = st.floats(-2.0, 6.0).map(lambda e: 10.0 ** e)


def _signal(kind: str, n: int, seed: int, *, sr: int = 16000) -> np.ndarray:
    """A float32 test signal of ``n`` samples (noise, digital silence, DC, a sine, one click, 1e6 noise)."""
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return (0.5 * rng.standard_normal(n)).astype(np.float32)
    if kind == "silence":
        return np.zeros(n, np.float32)
    if kind == "dc":
        return np.full(n, rng.uniform(-1, 1), np.float32)
    if kind == "sine":
        f = rng.uniform(50, sr / 2 - 1)
        return (0.8 * np.sin(2 * np.pi * f * np.arange(n) / sr + rng.uniform(0, 6))).astype(np.float32)
    if kind == "impulse":
        y = np.zeros(n, np.float32)
        y[rng.integers(n)] = 1.0
        return y
    return (1e6 * rng.standard_normal(n)).astype(np.float32)


def _bursts(times, *, sr: int, seed: int, dur: float, amp: float = 0.5) -> np.ndarray:
    """Decaying noise bursts (drum-like hits) starting at ``times`` seconds."""
    rng = np.random.default_rng(seed)
    y = np.zeros(int(dur * sr), np.float32)
    n = int(0.12 * sr)
    env = np.exp(-np.arange(n) / (0.018 * sr))
    for t in times:
        i = int(round(t * sr))
        y[i:i + n] += (rng.standard_normal(n) * env * amp).astype(np.float32)[: len(y) - i]
    return y


@st.composite
def burst_times(draw, max_hits: int = 5):
    """1..max_hits onset times in seconds, 0.15-0.4 s apart, and the clip duration."""
    gaps = draw(st.lists(st.floats(0.15, 0.4), min_size=1, max_size=max_hits))
    times = 0.1 + np.cumsum(gaps) - gaps[0]
    return times, float(times[-1] + 0.3)


def _assert_increasing(x: np.ndarray) -> None:
    assert np.all(np.isfinite(x))
    assert np.all(np.diff(x) > 0), x


# ---------------------------------------------------------------------------------------------- spectral


@settings(derandomize=True, max_examples=30, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 3000), seed=seeds, n_fft=st.integers(2, 1024),
       hop=st.integers(1, 600), center=st.booleans(), batch=st.booleans())
@example(kind="noise", n=1, seed=0, n_fft=2048, hop=512, center=True, batch=False)
@example(kind="huge", n=100, seed=0, n_fft=1024, hop=256, center=False, batch=False)
def test_stft_shape_finite_and_batched(kind, n, seed, n_fft, hop, center, batch):
    y = _signal(kind, n, seed)
    if batch:
        y = np.stack([y, _signal("noise", n, seed + 1)])
    if not center and n < n_fft:
        with pytest.raises(ParameterError, match="shorter than n_fft"):
            spectral.stft(y, n_fft=n_fft, hop_length=hop, center=False)
        return
    S = spectral.stft(y, n_fft=n_fft, hop_length=hop, center=center)
    padded = n + 2 * (n_fft // 2) if center else n
    assert tuple(S.shape) == y.shape[:-1] + (1 + n_fft // 2, 1 + (padded - n_fft) // hop)
    assert S.dtype == torch.complex64 and bool(torch.isfinite(torch.view_as_real(S)).all())
    if batch:  # a batch is the stack of its items
        one = spectral.stft(y[1], n_fft=n_fft, hop_length=hop, center=center)
        torch.testing.assert_close(S[1], one)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(n=st.integers(1, 4000), seed=seeds, g=gains, a=st.floats(-3, 3), n_fft=st.sampled_from([64, 256, 512]))
def test_stft_is_linear_and_mel_scales_with_gain_squared(n, seed, g, a, n_fft):
    x, y = _signal("noise", n, seed), _signal("sine", n, seed + 1)
    X, Y = spectral.stft(x, n_fft=n_fft), spectral.stft(y, n_fft=n_fft)
    Z = spectral.stft((a * x + y).astype(np.float32), n_fft=n_fft)
    scale = float((abs(a) * X.abs() + Y.abs()).max()) + 1e-12
    assert float((Z - (a * X + Y)).abs().max()) <= 1e-5 * scale
    Xg = spectral.stft((g * x).astype(np.float32), n_fft=n_fft)
    assert float((Xg - g * X).abs().max()) <= 1e-5 * g * float(X.abs().max())
    M = spectral.mel(x, sr=16000, n_fft=n_fft, n_mels=24)
    Mg = spectral.mel((g * x).astype(np.float32), sr=16000, n_fft=n_fft, n_mels=24)
    assert tuple(M.shape) == (24, 1 + n // (n_fft // 4))
    assert float((Mg - g * g * M).abs().max()) <= 1e-4 * g * g * float(M.max())


@settings(derandomize=True, max_examples=25, deadline=None)
@given(n=st.integers(1, 8000), seed=seeds, g=st.floats(-0.5, 6.0).map(lambda e: 10.0 ** e),
       sr=st.sampled_from(SRS), n_mels=st.integers(8, 64))
def test_log_mel_shifts_by_the_gain_in_db(n, seed, g, sr, n_mels):
    # top_db is relative to each item's peak, so a gain moves every bin by the same number of dB
    y = _signal("noise", n, seed)
    a = spectral.log_mel(y, sr=sr, n_fft=512, hop_length=128, n_mels=n_mels)
    b = spectral.log_mel((g * y).astype(np.float32), sr=sr, n_fft=512, hop_length=128, n_mels=n_mels)
    assert tuple(a.shape) == (n_mels, 1 + n // 128)
    np.testing.assert_allclose(b.numpy(), a.numpy() + 20 * np.log10(g), atol=2e-3)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 40), st.integers(1, 40)), seed=seeds,
       decades=st.floats(0, 30), zeros=st.floats(0, 1), top_db=st.one_of(st.none(), st.floats(0, 120)))
def test_power_to_db_is_finite_floored_and_within_top_db(shape, seed, decades, zeros, top_db):
    rng = np.random.default_rng(seed)
    S = 10.0 ** rng.uniform(-decades / 2, decades / 2, shape)
    S[rng.random(shape) < zeros] = 0.0
    db = spectral.power_to_db(torch.from_numpy(S), top_db=top_db).numpy()
    assert db.shape == shape and np.all(np.isfinite(db))
    plain = 10 * np.log10(np.maximum(S, 1e-10))
    assert np.all(db >= plain - 1e-9)                       # only ever raised, by the floor
    if top_db is None:
        np.testing.assert_allclose(db, plain, atol=1e-9)
    else:  # per item: the peak is kept, nothing lies more than top_db below it
        peak = db.max(axis=(-2, -1), keepdims=True)
        np.testing.assert_allclose(peak, plain.max(axis=(-2, -1), keepdims=True), atol=1e-9)
        assert np.all(db >= peak - top_db - 1e-9)


@settings(derandomize=True, max_examples=20, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 1500), seed=seeds, n_fft=st.sampled_from([16, 64, 256]),
       length=st.one_of(st.none(), st.integers(1, 2000)))
@example(kind="silence", n=1, seed=0, n_fft=256, length=None)
def test_griffin_lim_shape_finite_and_seeded(kind, n, seed, n_fft, length):
    mag = spectral.stft(_signal(kind, n, seed), n_fft=n_fft).abs()
    frames = mag.shape[-1]
    if length is None and frames < 2:
        with pytest.raises(ParameterError, match="single frame"):
            spectral.griffin_lim(mag, n_iter=2)
        return
    out = spectral.griffin_lim(mag, n_iter=2, length=length, seed=seed % 1000)
    assert tuple(out.shape) == ((frames - 1) * (n_fft // 4) if length is None else length,)
    assert bool(torch.isfinite(out).all())
    torch.testing.assert_close(out, spectral.griffin_lim(mag, n_iter=2, length=length, seed=seed % 1000))


@settings(derandomize=True, max_examples=20, deadline=None)
@given(bins=st.integers(1, 3), frames=st.integers(1, 3), hop=st.one_of(st.none(), st.integers(1, 8)))
def test_griffin_lim_tiny_magnitudes_raise_parameter_error_or_work(bins, frames, hop):
    mag = torch.ones(bins, frames)
    try:
        out = spectral.griffin_lim(mag, n_iter=1, hop_length=hop, length=8)
    except ParameterError:
        return
    assert tuple(out.shape) == (8,) and bool(torch.isfinite(out).all())


# ------------------------------------------------------------------------------------------------ onsets


@settings(derandomize=True, max_examples=30, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 20000), seed=seeds, sr=st.sampled_from(SRS),
       hop=st.sampled_from([64, 128, 256, 512]), stereo=st.booleans())
@example(kind="noise", n=1, seed=0, sr=22050, hop=256, stereo=False)
@example(kind="dc", n=1023, seed=0, sr=22050, hop=256, stereo=False)
@example(kind="huge", n=5000, seed=0, sr=44100, hop=512, stereo=True)
def test_onset_envelope_and_energy_shape_finite_nonnegative(kind, n, seed, sr, hop, stereo):
    y = _signal(kind, n, seed, sr=sr)
    if stereo:
        y = np.stack([y, y[::-1].copy()])
    env = onsets.onset_envelope(y, sr=sr, hop_length=hop)
    energy = onsets.frame_energy(y, hop_length=hop)
    assert env.shape == energy.shape == (1 + n // hop,)       # frame t at t * hop / sr
    assert env.dtype == np.float32 and np.all(np.isfinite(env)) and np.all(env >= 0)
    assert np.all(np.isfinite(energy)) and np.all(energy >= 0)
    if kind == "silence":
        assert env.max() == 0 and energy.max() == 0


@settings(derandomize=True, max_examples=20, deadline=None)
@given(hits=burst_times(), seed=seeds, g=gains, sr=st.sampled_from(SRS), backtrack=st.booleans())
# the quietest gain: the dB floor once clipped its silence and shrank the first onset. Pinned, because the
# derandomized draws depend on which project modules are imported (Hypothesis mixes their literal
# constants into generation), so this case was only drawn after some other tests had run
@example(hits=(np.array([0.1]), 0.4), seed=221689768, g=0.01, sr=44100, backtrack=False)
@example(hits=(np.array([0.1, 0.44]), 0.74), seed=160, g=0.0124, sr=16000, backtrack=True)
@example(hits=(np.array([0.1, 0.3]), 0.6), seed=1, g=1e6, sr=8000, backtrack=True)
def test_onsets_do_not_depend_on_gain(hits, seed, g, sr, backtrack):
    times, dur = hits
    y = _bursts(times, sr=sr, seed=seed, dur=dur)
    yg = (g * y).astype(np.float32)
    np.testing.assert_allclose(onsets.onset_envelope(yg, sr=sr), onsets.onset_envelope(y, sr=sr), atol=1e-3)
    a = onsets.onset_detect(y, sr=sr, backtrack=backtrack)
    b = onsets.onset_detect(yg, sr=sr, backtrack=backtrack)
    assert a.shape == b.shape and np.allclose(a, b, atol=2e-3)


@settings(derandomize=True, max_examples=12, deadline=None)
@given(hits=burst_times(), seed=seeds, srs=two_srs)
def test_onset_times_do_not_depend_on_sample_rate(hits, seed, srs):
    times, dur = hits
    found = [onsets.onset_detect(_bursts(times, sr=sr, seed=seed, dur=dur), sr=sr) for sr in srs]
    for est in found:
        assert est.shape == times.shape
        assert np.max(np.abs(est - times)) < 0.01
    assert np.max(np.abs(found[0] - found[1])) < 0.01


@settings(derandomize=True, max_examples=30, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 12000), seed=seeds, sr=st.sampled_from(SRS),
       backtrack=st.booleans())
@example(kind="dc", n=1, seed=0, sr=22050, backtrack=True)
@example(kind="huge", n=3000, seed=0, sr=8000, backtrack=True)
def test_onset_detect_units_agree_and_stay_inside_the_signal(kind, n, seed, sr, backtrack):
    y = _signal(kind, n, seed, sr=sr)
    t = onsets.onset_detect(y, sr=sr, backtrack=backtrack)
    s = onsets.onset_detect(y, sr=sr, backtrack=backtrack, units="samples")
    f = onsets.onset_detect(y, sr=sr, backtrack=backtrack, units="frames")
    assert t.dtype.kind == "f" and s.dtype.kind == "i" and f.dtype.kind == "i"
    if t.size:
        _assert_increasing(t)
        assert 0 <= t[0] and t[-1] <= n / sr
        np.testing.assert_allclose(t, s / sr)
        assert 0 <= f.min() and f.max() <= n // onsets.HOP_LENGTH + 1
    if kind == "silence":
        assert t.size == 0


@settings(derandomize=True, max_examples=25, deadline=None)
@given(kind=st.sampled_from(["noise", "sine", "impulse"]), n=st.integers(1, 5000), seed=seeds, g=gains,
       hop=st.integers(1, 600))
def test_frame_energy_scales_with_gain_and_reads_dc(kind, n, seed, g, hop):
    y = _signal(kind, n, seed)
    e = onsets.frame_energy(y, hop_length=hop)
    eg = onsets.frame_energy((g * y).astype(np.float32), hop_length=hop)
    np.testing.assert_allclose(eg, g * e, rtol=1e-4, atol=1e-6 * g * max(float(e.max()), 1e-30))
    c = float(np.random.default_rng(seed).uniform(-2, 2))
    dc = onsets.frame_energy(np.full(n, c, np.float32), hop_length=hop)
    inner = (np.arange(dc.size) * hop >= hop) & (np.arange(dc.size) * hop + hop <= n)  # frames fully inside
    np.testing.assert_allclose(dc[inner], abs(c), rtol=1e-5)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(n=st.integers(0, 200), seed=seeds, pre_max=st.integers(0, 6), post_max=st.integers(0, 6),
       pre_avg=st.integers(0, 10), post_avg=st.integers(0, 10), delta=st.floats(0, 0.5),
       wait=st.integers(0, 8))
def test_peak_pick_returns_spaced_local_maxima(n, seed, pre_max, post_max, pre_avg, post_avg, delta, wait):
    x = np.random.default_rng(seed).random(n)
    kw = dict(pre_max=pre_max, post_max=post_max, pre_avg=pre_avg, post_avg=post_avg, delta=delta, wait=wait)
    if pre_max + post_max == 0 or pre_avg + post_avg == 0:
        with pytest.raises(ParameterError):
            onsets.peak_pick(x, **kw)
        return
    peaks = onsets.peak_pick(x, **kw)
    assert peaks.dtype.kind == "i" and np.all((0 <= peaks) & (peaks < n))
    assert np.all(np.diff(peaks) > wait)
    for p in peaks:
        assert x[p] >= x[max(0, p - pre_max): p + post_max].max(initial=-np.inf)
        assert x[p] >= x[max(0, p - pre_avg): p + post_avg].mean() + delta - 1e-12


@settings(derandomize=True, max_examples=30, deadline=None)
@given(seed=seeds, n_energy=st.integers(0, 60), n_events=st.integers(0, 10))
def test_backtrack_to_minima_moves_back_to_a_minimum_and_is_idempotent(seed, n_energy, n_events):
    rng = np.random.default_rng(seed)
    e = rng.integers(0, 4, n_energy).astype(float)               # small integers: plenty of ties
    events = np.sort(rng.integers(0, max(1, n_energy), n_events))
    back = onsets.backtrack_to_minima(events, e)
    assert back.shape == events.shape and np.all((0 <= back) & (back <= events))
    assert np.all(np.diff(back) >= 0)
    np.testing.assert_array_equal(onsets.backtrack_to_minima(back, e), back)
    for b in back[back > 0]:
        assert e[b] <= e[b - 1] and e[b] < e[b + 1]


# ------------------------------------------------------------------------------------------------- beats


@settings(derandomize=True, max_examples=30, deadline=None)
@given(bpm=st.floats(-1.0, 6.0).map(lambda e: 10.0 ** e), width=st.floats(0.3, 3.0))
@example(bpm=1000.0, width=1.0)
@example(bpm=1e-3, width=1.0)
def test_tempo_target_is_a_distribution_peaked_at_the_nearest_class(bpm, width):
    p = B.tempo_target(bpm, width=width)
    assert p.shape == B.TEMPO_GRID.shape and np.all(np.isfinite(p)) and np.all(p >= 0)
    assert abs(p.sum() - 1) < 1e-9
    assert np.argmax(p) == np.argmin(np.abs(np.log(B.TEMPO_GRID / bpm)))
    assert np.isfinite(B.tempo_log_prob(bpm, p))


@settings(derandomize=True, max_examples=25, deadline=None)
@given(n=st.integers(1, 2000), seed=seeds, fps=st.floats(5.0, 400.0), const=st.booleans())
def test_tempo_candidates_shape_and_finite(n, seed, fps, const):
    a = np.full(n, 0.5) if const else np.random.default_rng(seed).random(n)
    bpms, strength = B.tempo_candidates(a, fps=fps)
    assert bpms.shape == strength.shape and bpms.size >= 1
    assert np.all(np.isfinite(bpms)) and np.all(bpms > 0)
    assert np.all(np.isfinite(strength)) and np.all(strength >= 0)


@settings(derandomize=True, max_examples=25, deadline=None)
@given(n=st.integers(1, 1500), seed=seeds, period=st.integers(36, 90), level=st.floats(0, 1),
       noise=st.floats(0, 0.3))
@example(n=1, seed=0, period=50, level=0.9, noise=0.0)
def test_decode_beats_increasing_inside_and_within_the_tempo_range(n, seed, period, level, noise):
    fps = 100.0
    rng = np.random.default_rng(seed)
    a = np.clip(0.02 + noise * rng.random(n), 0, 1)
    a[int(rng.integers(period)):: period] = level
    frames = B.decode_beats(a, fps=fps)
    if frames.size == 0:
        return
    _assert_increasing(frames)
    assert -0.5 <= frames[0] and frames[-1] <= n - 0.5
    tau_min, tau_max = int(60 * fps / B.MAX_BPM), int(np.ceil(60 * fps / B.MIN_BPM))
    assert np.all((np.diff(frames) >= tau_min - 1) & (np.diff(frames) <= tau_max + 1))
    if level >= 0.6 and noise <= 0.1 and n >= 8 * period:   # a clear pulse at 67-167 bpm: found as is
        assert abs(np.median(np.diff(frames)) - period) <= 1


def _clicks(bpm: float, seconds: float, *, sr: int, seed: int, start: float = 0.5):
    y = np.zeros(int(seconds * sr), dtype=np.float32)
    times = np.arange(start, seconds - 0.2, 60.0 / bpm)
    rng = np.random.default_rng(seed)
    n = int(0.04 * sr)
    for t in times:
        k = int(round(t * sr))
        burst = rng.standard_normal(n).astype(np.float32) * np.exp(-np.arange(n) / (0.0075 * sr))
        y[k:k + n] += 0.3 * burst[: len(y) - k]
    return y, times


@settings(derandomize=True, max_examples=12, deadline=None)
@given(bpm=st.floats(90.0, 135.0), seed=seeds, g=gains, sr=st.sampled_from(SRS))
def test_beats_do_not_depend_on_gain(bpm, seed, g, sr):
    y, _ = _clicks(bpm, 5.0, sr=sr, seed=seed)
    a = B.beat_track(y, sr=sr)
    b = B.beat_track((g * y).astype(np.float32), sr=sr)
    assert a.beats.shape == b.beats.shape and np.allclose(a.beats, b.beats, atol=1e-3)
    assert abs(a.bpm - b.bpm) <= 1e-3 * a.bpm


@settings(derandomize=True, max_examples=10, deadline=None)
@given(bpm=st.floats(90.0, 135.0), seed=seeds, srs=two_srs)
@example(bpm=131.90625, seed=0, srs=[8000, 16000])     # CI found it: the last beat was dropped at 8 kHz
def test_beat_times_do_not_depend_on_sample_rate(bpm, seed, srs):
    res = [B.beat_track(_clicks(bpm, 6.0, sr=sr, seed=seed)[0], sr=sr) for sr in srs]
    truth = _clicks(bpm, 6.0, sr=srs[0], seed=seed)[1]
    for r in res:
        assert abs(r.bpm / bpm - 1) < 0.02
        assert np.min(np.abs(r.beats[:, None] - truth[None, :]), axis=1).max() < 0.02
    assert res[0].beats.shape == res[1].beats.shape
    assert np.max(np.abs(res[0].beats - res[1].beats)) < 0.015


@settings(derandomize=True, max_examples=25, deadline=None)
@given(kind=st.sampled_from(KINDS), seconds=st.floats(0.0, 3.0), seed=seeds, sr=st.sampled_from(SRS[:3]),
       stereo=st.booleans(), bpb=st.sampled_from([(3, 4), (4,), (2, 3, 5)]))
@example(kind="noise", seconds=1023 / 22050, seed=0, sr=22050, stereo=False, bpb=(3, 4))
@example(kind="huge", seconds=2.0, seed=0, sr=8000, stereo=True, bpb=(3, 4))
def test_beat_track_on_any_audio_returns_a_consistent_result(kind, seconds, seed, sr, stereo, bpb):
    y = _signal(kind, max(1, int(seconds * sr)), seed, sr=sr)
    if stereo:
        y = np.stack([y, -y])
    res = B.beat_track(y, sr=sr, beats_per_bar=bpb)
    assert np.isfinite(res.bpm) and res.bpm >= 0 and 0 <= res.confidence <= 1
    assert res.beats_per_bar in bpb
    if res.beats.size:
        _assert_increasing(res.beats)
        assert res.bpm > 0
    assert np.all(np.isin(res.downbeats, res.beats))
    res.to_dict()


@settings(derandomize=True, max_examples=30, deadline=None)
@given(n=st.integers(0, 40), seed=seeds, scale=st.floats(-3, 3).map(lambda e: 10.0 ** e),
       shift=st.floats(-100, 100), bpb=st.sampled_from([(3, 4), (4,), (2, 3, 5, 7)]))
def test_downbeat_phase_is_valid_and_affine_invariant(n, seed, scale, shift, bpb):
    s = np.random.default_rng(seed).standard_normal(n)
    m, p, margin = B.downbeat_phase(s, beats_per_bar=bpb)
    assert m in bpb and 0 <= p < m and np.isfinite(margin) and margin >= 0
    m2, p2, _ = B.downbeat_phase(scale * s + shift, beats_per_bar=bpb)
    if margin > 1e-6:                             # a clear winner (z-scores ignore scale and shift)
        assert (m2, p2) == (m, p)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(seed=seeds, n_bars=st.integers(2, 12), n_times=st.integers(1, 30))
def test_bar_phase_in_unit_interval_zero_at_downbeats_half_in_the_middle(seed, n_bars, n_times):
    rng = np.random.default_rng(seed)
    d = rng.uniform(-5, 5) + np.cumsum(rng.uniform(0.5, 3.0, n_bars))
    t = rng.uniform(d[0] - 5, d[-1] + 5, n_times)
    ph = B.bar_phase(t, beats=d, downbeats=d)
    assert ph.shape == t.shape and np.all(np.isfinite(ph)) and np.all((0 <= ph) & (ph <= 1))
    at = B.bar_phase(d, beats=d, downbeats=d)
    assert np.all(np.minimum(at, 1 - at) < 1e-9)
    np.testing.assert_allclose(B.bar_phase(0.5 * (d[1:] + d[:-1]), beats=d, downbeats=d), 0.5, atol=1e-9)
    bad = d.copy()
    bad[int(rng.integers(1, n_bars))] = bad[0]                # a repeated or backwards downbeat
    with pytest.raises(ParameterError):
        B.bar_phase(t, beats=d, downbeats=bad)


# ----------------------------------------------------------------------------------------------- stretch


@settings(derandomize=True, max_examples=25, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 20000), seed=seeds, sr=st.sampled_from(SRS),
       rate=st.floats(0.25, 4.0), stereo=st.booleans())
@example(kind="impulse", n=1, seed=0, sr=22050, rate=1.0, stereo=False)
@example(kind="dc", n=1000, seed=0, sr=8000, rate=0.25, stereo=True)
def test_time_stretch_length_finite_and_bounded(kind, n, seed, sr, rate, stereo):
    y = _signal(kind, n, seed, sr=sr)
    if stereo:
        y = np.stack([y, 0.5 * y])
    z = stretch.time_stretch(y, sr=sr, rate=rate)
    assert z.dtype == np.float32 and z.shape[:-1] == y.shape[:-1]
    assert abs(z.shape[-1] - n / rate) <= 1
    assert np.all(np.isfinite(z))
    assert np.abs(z).max(initial=0) <= 3 * np.abs(y).max()   # no blow-up
    if kind == "silence":
        assert not np.any(z)


@settings(derandomize=True, max_examples=15, deadline=None)
@given(kind=st.sampled_from(["noise", "sine", "impulse", "dc"]), seed=seeds, sr=st.sampled_from(SRS),
       seconds=st.floats(0.001, 1.0))
def test_time_stretch_at_rate_one_is_the_identity(kind, seed, sr, seconds):
    y = _signal(kind, max(1, int(seconds * sr)), seed, sr=sr)
    z = stretch.time_stretch(y, sr=sr, rate=1.0)
    assert z.shape == y.shape
    assert np.abs(z - y).max() <= 0.02 * np.abs(y).max()    # the edges too, not only the middle


@settings(derandomize=True, max_examples=15, deadline=None)
@given(n=st.integers(1, 10000), seed=seeds, g=gains, rate=st.floats(0.5, 2.0), lock=st.booleans())
def test_stretch_is_homogeneous_in_gain(n, seed, g, rate, lock):
    y = _signal("noise", n, seed)
    a = stretch.time_stretch(y, sr=16000, rate=rate, transient_reset=False, phase_lock=lock)
    b = stretch.time_stretch((g * y).astype(np.float32), sr=16000, rate=rate, transient_reset=False,
                             phase_lock=lock)
    assert np.abs(b - g * a).max(initial=0) <= 1e-3 * g * np.abs(a).max(initial=0) + 1e-30


@st.composite
def time_maps(draw):
    """1-3 segments of 0.6-1.2 s source time played at rates 0.8-1.25: ``(out_times, src_times)``."""
    k = draw(st.integers(1, 3))
    durs = np.array(draw(st.lists(st.floats(0.6, 1.2), min_size=k, max_size=k)))
    rates = np.array(draw(st.lists(st.floats(0.8, 1.25), min_size=k, max_size=k)))
    return np.concatenate([[0], np.cumsum(durs / rates)]), np.concatenate([[0], np.cumsum(durs)])


@settings(derandomize=True, max_examples=10, deadline=None)
@given(tmap=time_maps(), seed=seeds, sr=st.sampled_from(SRS[1:]))  # n_fft=2048 suits 16 kHz and up
def test_clicks_land_where_the_map_says_at_any_sample_rate(tmap, seed, sr):
    out_t, src_t = tmap
    rng = np.random.default_rng(seed)
    clicks = np.linspace(0.15, src_t[-1] - 0.15, 3) + rng.uniform(-0.03, 0.03, 3)
    y = np.zeros(int(src_t[-1] * sr) + 1, np.float32)
    n = max(8, int(0.005 * sr))
    for t in clicks:
        y[int(t * sr): int(t * sr) + n] = np.hanning(2 * n)[n:]
    z = stretch.stretch_map(y, sr=sr, out_times=out_t, src_times=src_t)
    assert z.shape == (int(round(out_t[-1] * sr)),)
    w = int(0.03 * sr)
    for e in np.interp(clicks, src_t, out_t):
        k = int(round(e * sr))
        assert abs(k - w + int(np.argmax(np.abs(z[k - w: k + w]))) - k) / sr < 0.005


@settings(derandomize=True, max_examples=30, deadline=None)
@given(out_t=st.lists(st.floats(-2, 2), min_size=0, max_size=4), src_t=st.lists(st.floats(-2, 2), min_size=0,
       max_size=4), sr=st.sampled_from([100, 8000]))
@example(out_t=[0.0, 1.0], src_t=[0.0, float("nan")], sr=100)
@example(out_t=[0.0, 0.5, 0.5], src_t=[0.0, 0.2, 0.3], sr=100)
def test_stretch_map_renders_a_valid_map_and_refuses_any_other(out_t, src_t, sr):
    y = _signal("noise", sr, 0, sr=sr)
    o, s = np.asarray(out_t), np.asarray(src_t)
    valid = (o.size >= 2 and o.shape == s.shape and np.all(np.isfinite(o)) and np.all(np.isfinite(s))
             and np.all(np.diff(o) > 0) and np.all(np.diff(s) >= 0))
    if not valid:
        with pytest.raises(ParameterError):
            stretch.stretch_map(y, sr=sr, out_times=out_t, src_times=src_t)
        return
    z = stretch.stretch_map(y, sr=sr, out_times=out_t, src_times=src_t, n_fft=256, hop_length=64)
    assert z.shape == (int(round((o[-1] - o[0]) * sr)),) and np.all(np.isfinite(z))


# ------------------------------------------------------------------------------------------------- image


@st.composite
def images(draw, max_side: int = 17):
    """``(H, W, 3)`` float32 images in [0, 1], from 1x1 up, odd sizes included, sometimes all one colour."""
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    rng = np.random.default_rng(draw(seeds))
    if draw(st.booleans()):
        return np.broadcast_to(rng.random(3), (h, w, 3)).astype(np.float32)
    return rng.random((h, w, 3)).astype(np.float32)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), channels=st.sampled_from([None, 3, 4]), seed=seeds,
       dtype=st.sampled_from(["float16", "float32", "float64", "uint8"]))
def test_valid_image_returns_rgb_float32_in_unit_range(h, w, channels, seed, dtype):
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels is None else (h, w, channels)
    arr = rng.integers(0, 256, shape).astype(np.uint8) if dtype == "uint8" else rng.uniform(-2, 3, shape)
    arr = arr.astype(dtype)
    out = image.valid_image(arr)
    assert out.shape == (h, w, 3) and out.dtype == np.float32
    assert np.all((0 <= out) & (out <= 1))
    rgb = arr[..., None].repeat(3, axis=2) if channels is None else arr[..., :3]
    expect = rgb / 255.0 if dtype == "uint8" else np.clip(rgb.astype(np.float64), 0, 1)
    np.testing.assert_allclose(out, expect, atol=1e-6)
    bad = out.copy()
    bad[int(rng.integers(h)), int(rng.integers(w)), int(rng.integers(3))] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        image.valid_image(bad)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(img=images(), size=st.integers(1, 24), w2=st.integers(1, 24), h2=st.integers(1, 24))
@example(img=np.full((1, 1, 3), 0.25, np.float32), size=5, w2=1, h2=3)
def test_resize_shapes_range_and_constant_images(img, size, w2, h2):
    h, w = img.shape[:2]
    out = image.resize(img, size)
    scale = size / min(h, w)
    assert min(out.shape[:2]) == size and out.shape[2] == 3 and out.dtype == np.float32
    assert out.shape[:2] == (max(1, round(h * scale)), max(1, round(w * scale)))
    fixed = image.resize(img, (w2, h2))
    assert fixed.shape == (h2, w2, 3)
    for o in (out, fixed):
        assert np.all(np.isfinite(o)) and np.all((0 <= o) & (o <= 1))
        if np.ptp(img.reshape(-1, 3), axis=0).max() == 0:           # all pixels equal: stay equal
            np.testing.assert_allclose(o, np.broadcast_to(img[0, 0], o.shape), atol=1e-5)


@settings(derandomize=True, max_examples=30, deadline=None)
@given(img=images(), size=st.integers(-3, 20))
def test_center_crop_is_the_central_square_or_a_parameter_error(img, size):
    h, w = img.shape[:2]
    if not 1 <= size <= min(h, w):
        with pytest.raises(ParameterError, match="crop size"):
            image.center_crop(img, size)
        return
    out = image.center_crop(img, size)
    assert out.shape == (size, size, 3)
    top, left = (h - size) // 2, (w - size) // 2
    assert top == h - size - top or top + 1 == h - size - top              # centred, within a pixel
    assert left == w - size - left or left + 1 == w - size - left
    np.testing.assert_array_equal(out, img[top:top + size, left:left + size])


@settings(derandomize=True, max_examples=30, deadline=None)
@given(img=images(), seed=seeds)
def test_tensor_and_uint8_round_trips(img, seed):
    t = image.to_tensor(img)
    assert tuple(t.shape) == (1, 3) + img.shape[:2] and t.dtype == torch.float32
    np.testing.assert_array_equal(image.from_tensor(t), img)
    np.testing.assert_array_equal(image.from_tensor(t[0]), img)
    u = np.random.default_rng(seed).integers(0, 256, img.shape).astype(np.uint8)
    np.testing.assert_array_equal(image.to_uint8(u), u)
    np.testing.assert_array_equal(image.to_uint8(u / 255.0), u)
    wild = torch.from_numpy(np.random.default_rng(seed).uniform(-5, 5, (3,) + img.shape[:2]))
    out = image.from_tensor(wild)                                  # clipped into [0, 1]
    assert out.shape == img.shape and np.all((0 <= out) & (out <= 1))


@settings(derandomize=True, max_examples=15, deadline=None)
@given(img=images(max_side=9), ext=st.sampled_from([".png", ".bmp", ".tiff"]))
@example(img=np.zeros((1, 1, 3), np.float32), ext=".png")
def test_lossless_save_load_round_trip(img, ext):
    with tempfile.TemporaryDirectory() as td:
        back = image.load(image.save(Path(td) / f"x{ext}", img))
    assert back.shape == img.shape and back.dtype == np.float32
    np.testing.assert_array_equal(back, image.to_uint8(img) / np.float32(255))


# ----------------------------------------------------------------------------------------- bad input


BAD_CALLS = {
    "stft": lambda y: spectral.stft(y, n_fft=64),
    "log_mel": lambda y: spectral.log_mel(y, sr=16000, n_fft=64, n_mels=8),
    "griffin_lim": lambda y: spectral.griffin_lim(np.stack([y, y]), n_iter=1, length=8),
    "onset_envelope": lambda y: onsets.onset_envelope(y, sr=16000),
    "onset_detect": lambda y: onsets.onset_detect(y, sr=16000),
    "onset_detect_env": lambda y: onsets.onset_detect(onset_envelope=y, sr=16000),
    "frame_energy": lambda y: onsets.frame_energy(y),
    "beat_track": lambda y: B.beat_track(y, sr=16000),
    "beat_track_act": lambda y: B.beat_track(activation=y),
    "decode_beats": lambda y: B.decode_beats(y, fps=100.0),
    "time_stretch": lambda y: stretch.time_stretch(y, sr=16000, rate=1.5),
    "valid_image": lambda y: image.valid_image(y.reshape(1, -1, 1).repeat(3, axis=2)),
}


@settings(derandomize=True, max_examples=30, deadline=None)
@given(fn=st.sampled_from(sorted(BAD_CALLS)), n=st.integers(0, 3000), seed=seeds,
       bad=st.sampled_from([np.nan, np.inf, -np.inf]), dtype=st.sampled_from(["float32", "float64"]))
def test_nan_inf_or_empty_input_raises_parameter_error(fn, n, seed, bad, dtype):
    y = _signal("noise", max(n, 1), seed)[:n].astype(dtype)
    if n:
        y[int(np.random.default_rng(seed).integers(n))] = bad
    elif fn == "onset_detect_env":                         # an empty envelope has no onsets
        assert BAD_CALLS[fn](y).size == 0
        return
    with pytest.raises(ParameterError):
        BAD_CALLS[fn](y)


@settings(derandomize=True, max_examples=20, deadline=None)
@given(sr=st.one_of(st.integers(-3, 0), st.floats(1.0, 1e5), st.just(True)),
       rate=st.one_of(st.floats(-1, 0.099), st.floats(10.01, 100), st.just(float("nan")), st.just(1.0)))
def test_time_stretch_bad_rate_or_sample_rate_raises_parameter_error(sr, rate):
    with pytest.raises(ParameterError):
        stretch.time_stretch(np.zeros(100, np.float32), sr=sr, rate=rate)
