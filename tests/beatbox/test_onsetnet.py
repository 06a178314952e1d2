import numpy as np
import pytest
import torch

from latentstudio.beatbox import onsetnet as N
from latentstudio.errors import ParameterError

SR = N.SR


def _oneshots(n=12, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(SR // 2) / SR
    out = []
    for i in range(n):
        if i % 2:
            x = rng.standard_normal(len(t)) * np.exp(-t * rng.uniform(20, 60))
        else:
            x = np.sin(2 * np.pi * np.cumsum(60 + 150 * np.exp(-t * 30)) / SR) * np.exp(-t * 12)
        out.append(x / np.abs(x).max())
    return np.stack(out).astype(np.float32)


def test_sequences_and_targets_put_onsets_where_the_sound_starts():
    audio, truths = N.make_sequences(_oneshots(), n=3, seconds=3.0, g=torch.Generator().manual_seed(0))
    assert audio.shape == (3, 3 * SR) and float(audio.abs().max()) == pytest.approx(1.0)
    for y, tr in zip(audio, truths):
        assert len(tr) > 3 and np.all(np.diff(tr) > 0) and tr.min() >= 0
        first = int(tr[0] * SR)
        assert float(y[:max(first - 80, 1)].abs().max()) < 0.2 * float(y[first:first + 800].abs().max())
    y = N.onset_targets([np.array([0.1, 0.5])], 100)
    assert y[0, 10] == 1 and y[0, 9] == y[0, 11] == 0.5 and y[0, 50] == 1 and y.sum() == 4


def test_pick_onsets_keeps_flams_apart_and_ignores_low_peaks():
    act = np.zeros(100)
    act[[20, 24, 60]] = [0.9, 0.7, 0.3]
    act[[19, 21]] = 0.5
    got = N.pick_onsets(act, threshold=0.5)
    assert got == pytest.approx([20, 24], abs=0.3)
    assert N.pick_onsets(act, threshold=0.2).size == 3


def test_training_lowers_the_loss_and_picks_a_threshold_on_validation():
    val = N.make_sequences(_oneshots(seed=1), n=2, seconds=3.0, g=torch.Generator().manual_seed(5))
    model, report = N.train_onsets(steps=40, batch_size=4, seconds=2.0, seed=0, train_sounds=_oneshots(), val=val)
    first, last = np.mean(report.losses[:8]), np.mean(report.losses[-8:])
    assert last < 0.8 * first
    assert float(model.threshold) == pytest.approx(report.threshold) and f"{report.threshold:.2f}" in report.val_f_by_threshold


def test_longer_context_is_a_training_choice_and_travels_with_the_checkpoint(tmp_path):
    val = N.make_sequences(_oneshots(seed=1), n=1, seconds=2.0, g=torch.Generator().manual_seed(5))
    model, _ = N.train_onsets(steps=2, batch_size=2, seconds=2.0, seed=0, train_sounds=_oneshots(), val=val,
                              dilations=(1, 2, 4, 8, 16, 32))
    assert [blk[0].dilation[0] for blk in model.tcn] == [1, 2, 4, 8, 16, 32]
    N.save_onset_net(model, tmp_path / "net")
    again = N.load_onset_net(tmp_path / "net")
    assert [blk[0].dilation[0] for blk in again.tcn] == [1, 2, 4, 8, 16, 32]
    with pytest.raises(ParameterError):
        N.train_onsets(steps=2, train_sounds=_oneshots(), val=val, dilations=(0, 2))


def test_a_short_window_sharpens_the_rise_and_travels_with_the_checkpoint(tmp_path):
    """A second, 16 ms analysis window (centred in the same frames) puts a click's rise in one frame where the
    64 ms window spreads it over several; the windows are a training choice saved with the network."""
    y = np.zeros(SR, np.float32)
    y[SR // 2:] = np.random.default_rng(0).standard_normal(SR // 2).astype(np.float32) * 0.5
    f = N.onset_features(torch.from_numpy(y)[None], (1024, 256))[0]
    assert f.shape[0] == 4 and torch.equal(f[:2], N.onset_features(torch.from_numpy(y)[None])[0])
    rise_long, rise_short = f[1].mean(0), f[3].mean(0)
    centre = SR // 2 // N.HOP
    assert int(rise_short.argmax()) == pytest.approx(centre, abs=1)
    spread = lambda r: int((r > 0.25 * r.max()).sum())  # noqa: E731
    assert spread(rise_short) < spread(rise_long)
    val = N.make_sequences(_oneshots(seed=1), n=1, seconds=2.0, g=torch.Generator().manual_seed(5))
    model, _ = N.train_onsets(steps=2, batch_size=2, seconds=2.0, seed=0, train_sounds=_oneshots(), val=val,
                              windows=(1024, 256))
    N.save_onset_net(model, tmp_path / "net")
    again = N.load_onset_net(tmp_path / "net")
    assert again.windows == (1024, 256) and again.front[0].in_channels == 4
    assert N.onset_activation(y, sr=SR, net=again).shape == (f.shape[-1],)
    for bad in ((), (1024, 1024), (32,), (2048,), ("x",)):
        with pytest.raises(ParameterError):
            N.train_onsets(steps=2, train_sounds=_oneshots(), val=val, windows=bad)


def test_pcen_channels_are_a_training_choice_and_travel_with_the_checkpoint(tmp_path):
    """``pcen`` adds two input channels (normalised mel magnitudes and their rise) after the log-mel ones, which
    stay as they were; a soft hit in a loud decaying tail rises more there than in the log-mel; the choice is
    saved with the network, and older checkpoints (no key) load without it."""
    t = np.arange(SR) / SR
    rng = np.random.default_rng(0)
    y = (rng.standard_normal(SR) * np.exp(-t * 3)).astype(np.float32)          # a loud hit decaying over 1 s
    y[SR // 2:SR // 2 + 800] += 0.25 * np.exp(-t[SR // 2] * 3) * rng.standard_normal(800).astype(np.float32)
    x = torch.from_numpy(y)[None]
    f = N.onset_features(x, (1024,), True)[0]
    assert f.shape[0] == 4 and torch.equal(f[:2], N.onset_features(x)[0])
    centre = SR // 2 // N.HOP
    rise_log, rise_pcen = f[1].mean(0), f[3].mean(0)
    assert abs(int(rise_pcen[centre - 20:centre + 20].argmax()) - 20) <= 2          # the soft hit's rise
    contrast = lambda r: float(r[centre - 1:centre + 3].max() / (r[centre + 10:centre + 40].mean() + 1e-9))  # noqa: E731
    assert contrast(rise_pcen) > contrast(rise_log)
    val = N.make_sequences(_oneshots(seed=1), n=1, seconds=2.0, g=torch.Generator().manual_seed(5))
    model, _ = N.train_onsets(steps=2, batch_size=2, seconds=2.0, seed=0, train_sounds=_oneshots(), val=val,
                              pcen=True)
    N.save_onset_net(model, tmp_path / "net")
    again = N.load_onset_net(tmp_path / "net")
    assert again.pcen and again.front[0].in_channels == 4
    assert N.onset_activation(y, sr=SR, net=again).shape == (f.shape[-1],)
    import json

    cfg = json.loads((tmp_path / "net" / "config.json").read_text())
    assert cfg["config"]["pcen"] is True
    model2, _ = N.train_onsets(steps=2, batch_size=2, seconds=2.0, seed=0, train_sounds=_oneshots(), val=val)
    N.save_onset_net(model2, tmp_path / "old")
    old = json.loads((tmp_path / "old" / "config.json").read_text())
    old["config"].pop("pcen")
    (tmp_path / "old" / "config.json").write_text(json.dumps(old))
    assert not N.load_onset_net(tmp_path / "old").pcen


def test_shipped_net_finds_hits_and_refuses_bad_audio(voice_like):
    y, times = voice_like
    got = N.detect_onsets(y, sr=22050)
    assert got == pytest.approx(times, abs=0.02)
    assert N.detect_onsets(np.zeros(22050, np.float32), sr=22050).size == 0
    with pytest.raises(ParameterError):
        N.detect_onsets(np.array([np.nan, 0.0], np.float32), sr=22050)


def test_drum_segmentation_keeps_a_flam_that_voice_segmentation_merges():
    from latentstudio.beatbox.segment import segment_sounds

    sr = 22050
    t = np.arange(int(0.4 * sr)) / sr
    rng = np.random.default_rng(0)
    snare = (rng.standard_normal(len(t)) * np.exp(-t * 25) + np.sin(2 * np.pi * 190 * t) * np.exp(-t * 30))
    y = np.zeros(int(1.6 * sr), np.float32)
    for start, gain in ((0.3, 0.25), (0.345, 1.0), (1.0, 1.0)):  # a flam, then a plain hit
        a = int(start * sr)
        y[a:a + len(t)] += (gain * snare).astype(np.float32)
    drums = [s.time for s in segment_sounds(y, sr=sr, kind="drums")]
    assert drums == pytest.approx([0.3, 0.345, 1.0], abs=0.015)
    with pytest.raises(ParameterError, match="kind="):
        segment_sounds(y, sr=sr, kind="guitar")


def test_gm_drum_sequences_sound_where_their_truth_says_and_refuse_other_engines():
    from pathlib import Path

    from latentstudio.core.midi import SYNTHS

    if not Path(SYNTHS["fluidr3"][1]).is_file():
        pytest.skip("fluid-soundfont-gm is not installed")
    sr = 16000
    (dry, truth), = N.gm_drum_sequences(1, np.random.default_rng(0), sr=sr, hits=6)
    (wet, truth_wet), = N.gm_drum_sequences(1, np.random.default_rng(0), sr=sr, hits=6, reverb=0.8)
    np.testing.assert_allclose(truth, truth_wet)
    assert len(truth) == 6 and np.all(np.diff(truth) >= 0.09) and truth[0] == pytest.approx(0.3)

    def level(y, a, b):
        seg = y[max(int(a * sr), 0): int(b * sr)].astype(np.float64)
        return np.sqrt(np.mean(seg ** 2)) + 1e-9

    rises = [level(dry, t, t + 0.03) / level(dry, t - 0.03, t - 0.005) for t in truth]
    assert rises[0] > 100 and min(rises) > 1.0 and np.median(rises) > 2     # hits start at their truth
    assert level(dry, 0.0, truth[0] - 0.005) < 1e-6
    end = truth[-1] + 0.4
    assert level(wet, end, end + 0.3) > 1.5 * level(dry, end, end + 0.3)     # FluidSynth's hall rings on
    (sent, truth_sent), = N.gm_drum_sequences(1, np.random.default_rng(0), sr=sr, hits=6, reverb=0.8, send=127)
    np.testing.assert_allclose(truth_sent, truth)
    wet_part = lambda y: level(y - dry[:len(y)], 0.0, end)                 # noqa: E731  the hall alone
    assert wet_part(sent[:len(dry)]) > 2 * wet_part(wet[:len(dry)])       # a full send: a far wetter hall
    with pytest.raises(ParameterError, match="send"):
        N.gm_drum_sequences(1, np.random.default_rng(0), sr=sr, hits=2, reverb=0.8, send=128)
    (flam, truth_flam), = N.gm_drum_sequences(1, np.random.default_rng(1), sr=sr, hits=20, flams=1.0)
    assert len(truth_flam) > 25 and np.min(np.diff(truth_flam)) < 0.065     # grace notes are onsets too
    with pytest.raises(ParameterError, match="FluidSynth"):
        N.gm_drum_sequences(1, np.random.default_rng(0), synth="freepats")


def test_echoes_add_late_copies_but_no_onsets():
    kw = dict(n=2, seconds=3.0, reverb=0.0, flams=0.0, noise=False)
    plain, truths = N.make_sequences(_oneshots(), g=torch.Generator().manual_seed(3), **kw)
    echoed, truths_e = N.make_sequences(_oneshots(), g=torch.Generator().manual_seed(3), echoes=1.0, **kw)
    assert all(np.array_equal(a, b) for a, b in zip(truths, truths_e))
    first = int(truths[0][0] * SR)
    early = slice(0, first + int(0.055 * SR))              # the first echo comes 60 ms after a hit at the soonest
    scale = float(echoed[0, early].abs().max() / plain[0, early].abs().max())      # each is peak-normalised
    np.testing.assert_allclose(echoed[0, early].numpy(), scale * plain[0, early].numpy(), atol=1e-5)
    assert float((echoed[0] - scale * plain[0]).abs().max()) > 0.01


def _click_echoes(seed):
    """Echoes of click sequences: (audio, hit positions, echo positions) per sequence."""
    click = np.zeros((1, 800), np.float32)
    click[0, 0] = 1.0                                                     # a click: every echo stands apart
    kw = dict(n=6, seconds=1.0, reverb=0.0, flams=0.0, noise=False, velocity=(1.0, 1.0))
    plain, truths = N.make_sequences(click, g=torch.Generator().manual_seed(seed), **kw)
    echoed, _ = N.make_sequences(click, g=torch.Generator().manual_seed(seed), echoes=1.0, **kw)
    out = []
    for b in range(kw["n"]):
        hits = np.round(np.asarray(truths[b]) * SR).astype(int)
        y = echoed[b].numpy()
        near_hit = np.zeros(len(y), bool)
        for h in hits:
            near_hit[max(h - 2, 0): h + 4] = True
        assert np.all(np.abs(plain[b].numpy()[~near_hit]) < 1e-7)          # the clicks alone
        out.append((y, hits, np.flatnonzero((np.abs(y) > 1e-4) & ~near_hit)))  # so these are echoes
    return out


def test_echo_trains_come_late_and_quiet_as_configured(monkeypatch):
    monkeypatch.setattr(N, "ECHO_TONE", (1.0, 1.0))                      # undarkened: echoes are copies
    counts = []
    for seed in range(4):
        for y, hits, late in _click_echoes(seed):
            lags = late[:, None] - hits[None, :]                            # each comes 60-400 ms after a hit
            lo, hi = N.ECHO_DELAY[0] * SR - 1, N.ECHO_DELAY[1] * SR + 4
            assert np.all(((lags >= lo) & (lags <= hi)).any(axis=1))
            counts.append(len(late) / len(hits))
    assert max(counts) > 4                                                # trains: several echoes a hit
    monkeypatch.setattr(N, "ECHO_COUNT", (1, 1))
    for seed in range(4):
        for y, hits, late in _click_echoes(seed):
            loudest_hit = max(abs(y[max(h - 2, 0): h + 4]).max() for h in hits)
            rel = 20 * np.log10(np.abs(y[late]) / loudest_hit)
            assert rel.max() <= N.ECHO_LEVEL_DB[1] + 0.5                  # no louder than configured


def test_measured_halls_are_a_fourth_room_that_adds_no_onsets():
    """With ``halls`` a quarter of the rooms convolve with one of them (a lone echo 0.2 s late here): the true
    onsets are unchanged and some sequence holds the echo."""
    click = np.zeros((1, 400), np.float32)
    click[0, 0] = 1.0
    hall = np.zeros((1, SR), np.float32)
    hall[0, int(0.2 * SR)] = 1.0
    kw = dict(n=12, seconds=1.0, reverb=1.0, flams=0.0, noise=False, velocity=(1.0, 1.0))
    plain, truths = N.make_sequences(click, g=torch.Generator().manual_seed(0), **kw)
    halled, truths_h = N.make_sequences(click, g=torch.Generator().manual_seed(0), halls=hall, **kw)
    assert all(np.array_equal(a, b) for a, b in zip(truths, truths_h))
    lone_echo = 0
    for y, tr in zip(halled.numpy(), truths_h):
        hits = np.round(np.asarray(tr) * SR).astype(int)
        loud = np.flatnonzero(np.abs(y) > 1e-3)
        where = np.concatenate([hits, hits + int(0.2 * SR)])            # a hit, or its echo (within 3 samples)
        lone_echo += bool(np.all(np.abs(loud[:, None] - where[None, :]).min(axis=1) <= 3))
    assert 1 <= lone_echo <= 9                                   # some, not all, in the measured hall


def test_measured_halls_come_from_fluidsynth():
    try:
        halls = N.measured_halls()
    except Exception as exc:  # AssetMissingError without fluidsynth
        pytest.skip(str(exc))
    assert halls.shape == (len(N.HALL_ROOMS) * len(N.HALL_DAMPS) * len(N.HALL_OFFSETS), 2 * SR)
    assert np.isfinite(halls).all() and (np.abs(halls).max(axis=1) > 0).all()


def test_joined_networks_average_their_probabilities_and_round_trip(tmp_path):
    """join_onset_nets: the ensemble's activation is its members' mean (members may read different inputs), its
    threshold is chosen on validation for that mean, it saves and loads as one folder, detect_onsets and a
    second join (of an ensemble and a net) take it; one network alone, or a folder holding none, is refused."""
    from latentstudio.errors import ModelError

    val = N.make_sequences(_oneshots(seed=1), n=2, seconds=2.0, g=torch.Generator().manual_seed(5))
    paths = []
    for seed, kw in ((0, {}), (1, {"pcen": True}), (2, {"windows": (1024, 256)})):
        model, _ = N.train_onsets(steps=3, batch_size=2, seconds=2.0, seed=seed, train_sounds=_oneshots(), val=val,
                                  **kw)
        paths.append(N.save_onset_net(model, tmp_path / f"m{seed}"))
    calls = []
    ens, report = N.join_onset_nets(paths, val=val, progress=lambda done, total: calls.append((done, total)))
    assert len(ens.members) == 3 and float(ens.threshold) == pytest.approx(report.threshold)
    assert calls == [(i + 1, len(val[0])) for i in range(len(val[0]))]          # one tick per validation sequence
    y = val[0][0].numpy()
    singles = [N.onset_activation(y, sr=SR, net=N.load_onset_net(p)) for p in paths]
    got = N.onset_activation(y, sr=SR, net=ens)
    assert np.allclose(got, np.mean(singles, axis=0), atol=1e-6)
    assert not np.allclose(got, singles[0], atol=1e-3)
    N.save_onset_net(ens, tmp_path / "ens")
    again = N.load_onset_net(tmp_path / "ens")
    assert isinstance(again, N.OnsetEnsemble) and [m.pcen for m in again.members] == [False, True, False]
    assert np.allclose(N.onset_activation(y, sr=SR, net=again), got, atol=1e-6)
    assert float(again.threshold) == pytest.approx(report.threshold)
    assert N.detect_onsets(y, sr=SR, net=again).ndim == 1
    model4, _ = N.train_onsets(steps=2, batch_size=2, seconds=2.0, seed=4, train_sounds=_oneshots(), val=val)
    bigger, _ = N.join_onset_nets([tmp_path / "ens", N.save_onset_net(model4, tmp_path / "m4")], val=val)
    assert len(bigger.members) == 4
    for twice in ([paths[0], paths[0]], [tmp_path / "ens", paths[1]]):       # one network joined twice
        with pytest.raises(ParameterError, match="already joined"):
            N.join_onset_nets(twice, val=val)
    with pytest.raises(ParameterError, match="at least two"):
        N.join_onset_nets([paths[0]], val=val)
    (tmp_path / "empty").mkdir()
    with pytest.raises((ModelError, ParameterError)):
        N.join_onset_nets([paths[0], tmp_path / "empty"], val=val)


def test_cli_join_onsets_writes_an_ensemble_and_refuses_a_lone_network(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from latentstudio.cli.main import app

    val = N.make_sequences(_oneshots(seed=1), n=1, seconds=2.0, g=torch.Generator().manual_seed(5))
    monkeypatch.setattr(N, "validation_sequences", lambda: val)
    paths = []
    for seed in (0, 1):
        model, _ = N.train_onsets(steps=2, batch_size=2, seconds=2.0, seed=seed, train_sounds=_oneshots(), val=val)
        paths.append(str(N.save_onset_net(model, tmp_path / f"m{seed}")))
    r = CliRunner().invoke(app, ["beatbox", "join-onsets", *paths, "-o", str(tmp_path / "ens"), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout[r.stdout.index("{"):])
    assert rep["output"] == str(tmp_path / "ens") and 0.2 <= rep["threshold"] <= 0.8
    meta = json.loads((tmp_path / "ens" / "config.json").read_text())["meta"]
    assert meta["command"].startswith("latentstudio beatbox join-onsets") and len(meta["members"]) == 2
    model2, _ = N.train_onsets(steps=2, batch_size=2, seconds=2.0, seed=2, train_sounds=_oneshots(), val=val)
    third = str(N.save_onset_net(model2, tmp_path / "m2"))
    r = CliRunner().invoke(app, ["beatbox", "join-onsets", str(tmp_path / "ens"), third, "-o", str(tmp_path / "ens3")])
    assert r.exit_code == 0, r.output
    members = json.loads((tmp_path / "ens3" / "config.json").read_text())["meta"]["members"]
    assert [m["path"] for m in members] == [*paths, third]                  # the inner ensemble's members, kept
    from latentstudio.beatbox.classifier import SHIPPED as CLASSIFIER

    r = CliRunner().invoke(app, ["beatbox", "join-onsets", paths[0], str(CLASSIFIER), "-o", str(tmp_path / "cls")])
    assert r.exit_code == 2 and "not a beatbox onset network" in r.output and not (tmp_path / "cls").exists()
    r = CliRunner().invoke(app, ["beatbox", "join-onsets", paths[0], "-o", str(tmp_path / "lone")])
    assert r.exit_code == 2 and "at least two" in r.output and not (tmp_path / "lone").exists()
    r = CliRunner().invoke(app, ["beatbox", "join-onsets", paths[0], str(tmp_path / "nowhere"), "-o",
                                 str(tmp_path / "x")])
    assert r.exit_code == 2 and "nowhere" in r.output and not (tmp_path / "x").exists()
