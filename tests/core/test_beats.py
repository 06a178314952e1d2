"""core.beats: tempo, beats, downbeats, bar phase on signals with known beats."""

import mir_eval
import numpy as np
import pytest

from latentstudio.core import beats as B
from latentstudio.errors import ParameterError

SR = 16000


def clicks(bpm, seconds=12.0, *, sr=SR, accent_every=4, start=0.5):
    y = np.zeros(int(seconds * sr), dtype=np.float32)
    times = np.arange(start, seconds - 0.2, 60.0 / bpm)
    rng = np.random.default_rng(0)
    for i, t in enumerate(times):
        k = int(t * sr)
        n = 600
        burst = rng.standard_normal(n).astype(np.float32) * np.exp(-np.arange(n) / 120)
        if i % accent_every == 0:  # accented downbeat with a low thump
            burst = burst + 2 * np.sin(2 * np.pi * 60 * np.arange(n) / sr).astype(np.float32) * np.exp(-np.arange(n) / 300)
        y[k:k + n] += 0.3 * burst
    return y, times


@pytest.mark.parametrize("bpm", [72.0, 120.0, 150.0])
def test_click_track_tempo_and_beats(bpm):
    y, truth = clicks(bpm)
    res = B.beat_track(y, sr=SR)
    assert abs(res.bpm / bpm - 1) < 0.02
    assert mir_eval.beat.f_measure(truth, res.beats) >= 0.95


def test_downbeats_follow_accents():
    y, truth = clicks(120.0, 16.0, accent_every=4)
    res = B.beat_track(y, sr=SR, beats_per_bar=(3, 4))
    assert res.beats_per_bar == 4
    assert mir_eval.beat.f_measure(truth[::4], res.downbeats) >= 0.9


def test_decoder_follows_a_tempo_change():
    fps = 100.0
    a = np.full(3000, 0.01)
    t = list(np.arange(0.5, 15, 0.5)) + list(np.arange(15.0, 29.5, 0.46))  # 120 then ~130 bpm
    for x in t:
        a[int(round(x * fps))] = 0.9
    frames = B.decode_beats(a, fps=fps)
    assert mir_eval.beat.f_measure(np.array(t), frames / fps) >= 0.95


def test_silence_has_no_beats():
    res = B.beat_track(np.zeros(4 * SR, dtype=np.float32), sr=SR)
    assert res.beats.size == 0 and res.bpm == 0.0


def test_bar_phase():
    d = np.array([0.0, 2.0, 4.0])
    ph = B.bar_phase([0.0, 1.0, 3.5, 5.0], beats=np.arange(0, 5, 0.5), downbeats=d)
    np.testing.assert_allclose(ph, [0.0, 0.5, 0.75, 0.5])


def test_downbeat_phase_picks_meter_and_phase():
    s = np.tile([0.0, 0.0, 1.0], 8) + 0.01 * np.arange(24) % 0.02
    m, p, margin = B.downbeat_phase(s, beats_per_bar=(3, 4))
    assert (m, p) == (3, 2) and margin > 0


def test_bad_input():
    with pytest.raises(ParameterError):
        B.beat_track()
    with pytest.raises(ParameterError):
        B.beat_track(np.zeros(100, dtype=np.float32))          # no sr
    with pytest.raises(ParameterError):
        B.decode_beats(np.array([np.nan, 1.0]), fps=100)
    with pytest.raises(ParameterError):
        B.decode_beats(np.ones(100), fps=100, min_bpm=200, max_bpm=100)
    with pytest.raises(ParameterError):
        B.bar_phase([1.0], beats=np.arange(3), downbeats=np.array([0.0]))


def _grid_activation(n=3000, period=50, bar=4, fps=100.0):
    a = np.full(n, 0.02)
    d = np.full(n, 0.02)
    beats = np.arange(50, n - 10, period)
    a[beats] = 0.95
    d[beats[::bar]] = 0.9
    return a, d, beats / fps


@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_metrical_level_recovers_from_half_and_double_tempo(factor):
    a, d, truth = _grid_activation()
    wrong = np.arange(50, 2990, 50 * factor)                   # beats at the wrong level
    frames, info = B.choose_metrical_level(a, d, wrong, fps=100.0)
    assert info["level_factor"] == pytest.approx(factor, rel=1e-3)
    assert mir_eval.beat.f_measure(truth, frames / 100.0) >= 0.95


def test_level_features_see_offbeats_and_silent_beats():
    a, d, _ = _grid_activation()
    half = B.level_features(a, d, np.arange(50, 2990, 100.0), fps=100.0)
    right = B.level_features(a, d, np.arange(50, 2990, 50.0), fps=100.0)
    double = B.level_features(a, d, np.arange(50, 2990, 25.0), fps=100.0)
    assert half["offbeats_active"] > 0.9 > right["offbeats_active"]
    assert right["log_odds"] > double["log_odds"]


def test_beat_track_reports_the_level_choice():
    a, d, truth = _grid_activation()
    res = B.beat_track(activation=a, downbeat_activation=d)
    assert res.info["level_factor"] == 1.0 and abs(res.bpm - 120) < 1
    with pytest.raises(ParameterError):
        B.choose_metrical_level(a, d[:-5], np.arange(50, 2990, 50.0), fps=100.0)


def test_envelope_peaks_on_the_beat_frames():
    fps = 24.0
    beats = np.arange(0.13, 9.9, 0.4783)                    # not on frame boundaries
    env, newest, bframes = B.beat_envelope(beats, beats[::4], frames=240, fps=fps)
    assert env.max() == pytest.approx(1.6)                  # downbeat accent
    peaks = np.flatnonzero((env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:])) + 1
    assert len(peaks) == len(beats)
    assert np.all(np.abs(peaks - beats * fps) <= 0.5 + 1e-9)
    assert newest[bframes[3]] == 3 and newest[0] == -1


def test_envelope_without_beats_is_silent_and_exported_by_rhythm():
    from latentstudio.core import rhythm

    assert rhythm.beat_envelope is B.beat_envelope
    env, newest, bframes = B.beat_envelope(np.zeros(0), None, frames=10, fps=24.0)
    assert not env.any() and np.all(newest == -1) and bframes.size == 0


def test_cross_validate_levels_keeps_a_pieces_renderings_in_one_fold(monkeypatch):
    rng = np.random.default_rng(0)
    names = tuple(B.LEVEL_WEIGHTS)
    keys = [p for p in "abcdefgh" for _ in range(3)]             # 8 pieces, 3 renderings each
    groups = []
    for _ in keys:
        X = rng.normal(size=(3, len(names)))
        ok = np.array([1.0, 0.0, 0.0])
        groups.append((X, ok, ok.copy()))
    key_of = {id(g[0]): k for g, k in zip(groups, keys)}
    seen = []
    real_fit = B.fit_level_weights

    def spy(part, **kw):
        seen.append([key_of.get(id(X)) for X, _ in part])
        return real_fit(part, **kw)

    monkeypatch.setattr(B, "fit_level_weights", spy)
    out = B.cross_validate_levels(groups, folds=4, keys=keys)
    assert len(seen) == 5                                        # 4 folds + the final fit on everything
    for used in seen[:4]:
        assert all(used.count(k) in (0, 3) for k in set(keys)) and len(used) == 18
    assert 0.0 <= out["cv_tempo_within_2pct"] <= 1.0
    with pytest.raises(ParameterError, match="keys"):
        B.cross_validate_levels(groups, keys=keys[:-1])


def test_smooth_beats_draws_jittered_beats_onto_their_grid_and_follows_a_ramp():
    rng = np.random.default_rng(3)
    steady = np.arange(48) * 0.5
    ramp = np.cumsum(np.linspace(0.6, 0.45, 48))                 # 100 -> 133 bpm over 48 beats
    for grid in (steady, ramp):
        t = grid + rng.normal(0, 0.006, grid.size)
        err_before = np.abs(t - grid).mean()
        err_after = np.abs(B.smooth_beats(t) - grid).mean()
        assert err_after < 0.6 * err_before
    np.testing.assert_allclose(B.smooth_beats(ramp), ramp, atol=1e-9)   # a clean ramp is kept as it is


def test_smooth_beats_keeps_a_missed_beat_and_an_accent_where_they_are():
    grid = np.arange(40) * 0.5
    missed = np.delete(grid, 20)                                  # the tracker skipped a beat: a new run starts
    np.testing.assert_allclose(B.smooth_beats(missed), missed, atol=1e-9)
    pushed = grid.copy()
    pushed[15] += 0.12                                            # far from the fit (24 % of a beat): kept
    out = B.smooth_beats(pushed)
    assert out[15] == pushed[15]
    np.testing.assert_allclose(np.delete(out, 15), np.delete(grid, 15), atol=1e-6)   # neighbours not pulled


def test_smooth_beats_off_short_and_bad_input():
    t = np.array([0.0, 0.51, 0.99, 1.52, 2.0, 2.49])
    np.testing.assert_array_equal(B.smooth_beats(t, half_window=0), t)
    np.testing.assert_array_equal(B.smooth_beats(t[:4]), t[:4])
    with pytest.raises(ParameterError, match="increasing"):
        B.smooth_beats(np.array([0.0, 1.0, 1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ParameterError, match="finite"):
        B.smooth_beats(np.array([0.0, np.nan, 1.0, 2.0, 3.0]))
    with pytest.raises(ParameterError, match="half_window"):
        B.smooth_beats(t, half_window=-2)


def _per_beat(n, *, accent, every, phase, seed=0):
    """Per-beat quantities of n beats: ``accent`` rises at every ``every``-th beat from ``phase``, the rest noise."""
    rng = np.random.default_rng(seed)
    d = {k: rng.normal(0, 1, n) for k in B.DOWNBEAT_FEATURES}
    d[accent] = d[accent] * 0.3 + 3.0 * (np.arange(n) % every == phase)
    return d


def test_learned_downbeats_choose_meter_and_phase_from_the_evidence_they_weigh():
    names = B.downbeat_feature_names()
    assert names[:len(B.DOWNBEAT_FEATURES)] == B.DOWNBEAT_FEATURES and len(names) == len(B.DOWNBEAT_FEATURES) + 3
    assert len(B.downbeat_candidates(_per_beat(24, accent="change", every=3, phase=1))) == 2 + 3 + 4
    assert B.choose_downbeats(_per_beat(24, accent="change", every=3, phase=1), {"change": 1.0})[:2] == (3, 1)
    m, p, margin = B.choose_downbeats(_per_beat(32, accent="low_onset", every=4, phase=2), {"low_onset": 1.0})
    assert (m, p) == (4, 2) and margin > 0                        # a 2-beat bar holds only half its accents
    # weights that ignore the accented quantity do not find it
    assert B.choose_downbeats(_per_beat(24, accent="change", every=3, phase=1), {"downbeat": 1.0})[:2] != (3, 1)


def test_downbeat_weights_are_learned_from_music_with_known_downbeats():
    groups, keys = [], []
    for k in range(24):
        every, phase = (3, 4, 2)[k % 3], k % 2
        d = _per_beat(40, accent="low_change", every=every, phase=phase, seed=k)
        cands = B.downbeat_candidates(d)
        right = np.array([float(mp == (every, phase)) for mp, _ in cands])
        groups.append((np.stack([x for _, x in cands]), right, right))
        keys.append(k // 2)
    cv = B.cross_validate_levels(groups, folds=4, names=B.downbeat_feature_names(), keys=keys)
    w = cv["weights"]
    assert max(w, key=w.get) == "low_change"
    assert cv["cv_f_measure"] >= 0.9 and cv["first_choice_f_measure"] is None


def test_beat_track_uses_learned_downbeat_weights_with_a_spectrogram():
    y, truth = clicks(120.0, 16.0, accent_every=3)
    S = B.features(y, sr=SR)
    fps = B.SR / B.HOP_LENGTH
    act = np.full(S.shape[1], 0.02)
    for t in truth:
        act[int(round(t * fps))] = 0.95
    flat = np.full(S.shape[1], 0.1)                               # a downbeat head with no opinion
    res = B.beat_track(S=S, activation=act, downbeat_activation=flat, downbeat_weights={"low_onset": 1.0})
    assert res.beats_per_bar == 3
    assert mir_eval.beat.f_measure(truth[::3], res.downbeats) >= 0.9
