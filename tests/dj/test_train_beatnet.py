"""``train_beatnet`` at tiny scale: the loss falls, the checkpoint rebuilds, the command and seed are recorded."""

import json

import numpy as np

from latentstudio.core.beats import downbeat_feature_names
from latentstudio.dj.beatnet import LEVEL_PASSES, BeatNet, refit_levels, train_beatnet
from latentstudio.zoo.checkpoint import load_checkpoint


def test_train_beatnet_tiny(tmp_path):
    losses = []
    report = train_beatnet(tmp_path / "net", n_tracks=2, steps=40, batch_size=2, crop_frames=200, dilations=(1, 2),
                           seed=3, real=False, progress=lambda step, total, loss: losses.append(loss))
    assert len(losses) >= 3 and np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    model, info = load_checkpoint(tmp_path / "net")
    assert isinstance(model, BeatNet) and info["config"]["dilations"] == [1, 2]
    meta = json.loads((tmp_path / "net" / "config.json").read_text())["meta"]
    assert meta["seed"] == 3 and meta["command"].startswith("latentstudio dj train-beats") and "--seed 3" in meta["command"]
    assert "--no-real" in meta["command"]
    assert 0.0 <= report["val_f_measure"] <= 1.0
    assert info["config"]["tempo_bins"] == 0 and model.tempo_head is None    # the default: no tempo head


def test_tempo_head_learns_the_tempo_and_informs_the_level_choice(tmp_path):
    """The multi-task tempo head: after a short run its probabilities on its training music peak nearer the
    true tempo than its double or half (the level it must tell), and the level score reads them."""
    from latentstudio.core import beats as B
    from latentstudio.dj.beatnet import make_dataset, tempo_probs

    train_beatnet(tmp_path / "net", n_tracks=6, steps=200, batch_size=4, crop_frames=400, dilations=(1, 2, 4, 8),
                  channels=16, seed=0, real=False, tempo_weight=1.0)
    model, _ = load_checkpoint(tmp_path / "net")
    model.eval()
    wins = 0
    tracks = make_dataset(6, seed=1)[1:]            # train_beatnet's training tracks (data_seed 0 + 1)
    for S, T in tracks:
        beats = np.nonzero(T[0] == 1.0)[0]
        true_bpm = 60.0 * 100.0 / float(np.median(np.diff(beats)))
        p = tempo_probs(S, model=model)
        assert p.shape == B.TEMPO_GRID.shape and abs(p.sum() - 1.0) < 1e-6
        right = B.tempo_log_prob(true_bpm, p)
        wins += right > max(B.tempo_log_prob(true_bpm * 2, p), B.tempo_log_prob(true_bpm / 2, p))
    assert wins >= len(tracks) - 1
    feats = B.level_features(np.full(S.shape[1], 0.1), np.full(S.shape[1], 0.1), beats.astype(float), fps=100.0,
                             tempo_probs=p)
    assert feats["tempo_logp"] == B.tempo_log_prob(feats["bpm"], p)


def test_train_beatnet_without_tempo_head(tmp_path):
    train_beatnet(tmp_path / "net", n_tracks=2, steps=3, batch_size=2, crop_frames=200, dilations=(1,), seed=0,
                  real=False, tempo_weight=0.0)
    model, info = load_checkpoint(tmp_path / "net")
    assert info["config"]["tempo_bins"] == 0 and model.tempo_head is None
    from latentstudio.dj.beatnet import tempo_probs
    assert tempo_probs(np.zeros((64, 300), dtype=np.float32), model=model) is None


def test_train_beatnet_on_real_pieces_fits_its_level_choice(tmp_path, monkeypatch):
    """Real pieces (here: MIDI files given as pieces) train the net; validation fits the level weights, which
    the checkpoint carries and ``track_beats`` uses."""
    import pretty_midi

    from latentstudio.dj import realmusic

    monkeypatch.setenv("LATENTSTUDIO_CACHE", str(tmp_path / "cache"))
    # FluidR3 only (make test installs it; OPL3 and freepats come with make data)
    for split in ("train", "validation"):
        monkeypatch.setitem(realmusic.SPLITS, split, {**realmusic.SPLITS[split], "renderers": ("fluidr3",)})
    folder = tmp_path / "midi"
    folder.mkdir()
    for k, (bpm, num) in enumerate([(96, 4), (128, 3), (110, 4), (84, 3)]):
        pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
        pm.time_signature_changes.append(pretty_midi.TimeSignature(num, 4, 0.0))
        drums, keys = pretty_midi.Instrument(0, is_drum=True), pretty_midi.Instrument(4)
        for b in range(num * 10):
            t = b * 60 / bpm
            drums.notes.append(pretty_midi.Note(100, 36 if b % num == 0 else 42, t, t + 0.1))
            keys.notes.append(pretty_midi.Note(70, 60 + (b * 5) % 12, t, t + 0.3))
        pm.instruments += [drums, keys]
        pm.write(str(folder / f"p{k}.mid"))
    pieces = realmusic.folder_pieces(folder)
    report = train_beatnet(tmp_path / "net", n_tracks=0, steps=30, batch_size=2, crop_frames=200, dilations=(1, 2),
                           seed=1, train_pieces=pieces[:2], val_pieces=pieces[2:], passes=1)
    assert report["real_examples"] == 2 and report["val_examples"] == 2 * LEVEL_PASSES   # 4 renderings each
    model, info = load_checkpoint(tmp_path / "net")
    w = info["config"]["level_weights"]
    assert w is None or set(w) == set(model.level_weights or {})
    dw = info["config"]["downbeat_weights"]                      # the meter-and-phase choice, fitted there too
    assert dw is not None and set(dw) == set(downbeat_feature_names()) and model.downbeat_weights == dw
    assert report["val_downbeat_cv_f_measure"] is not None
    assert (tmp_path / "cache" / "dj_beats").is_dir()          # rendered features cached
    # `dj fit-levels` refits the same score from the same validation music: the same weights, recorded
    monkeypatch.setattr(realmusic, "pieces", lambda split, seed=0, **kw: pieces[2:] if split == "validation" else [])
    again = refit_levels(tmp_path / "net", tmp_path / "net2")
    _, info2 = load_checkpoint(tmp_path / "net2")
    assert info2["config"]["level_weights"] == w == again["level_weights"]
    assert info2["config"]["downbeat_weights"] == dw == again["downbeat_weights"]
    assert info2["meta"]["level_fit"]["command"].startswith("latentstudio dj fit-levels")
    assert info2["meta"]["seed"] == 1                                   # the training record is kept


def test_train_beats_under_torchrun_two_ranks_report_once(tmp_path):
    """``torchrun --nproc_per_node 2 -m latentstudio dj train-beats``: DDP over gloo on the CPU; rank 0 alone
    writes the network and reports; the checkpoint loads."""
    import os
    import subprocess
    import sys

    out = tmp_path / "net"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "latentstudio", "dj", "train-beats", "-o", str(out), "--no-real", "--tracks", "2",
                           "--steps", "4", "--dilations", "1,2", "--channels", "8", "--threads", "1", "--json"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)                      # one JSON object: the other rank printed nothing
    assert report["steps"] == 4 and report["command"].startswith("latentstudio dj train-beats")
    model, _ = load_checkpoint(out)
    assert isinstance(model, BeatNet)


def test_loss_reaches_every_parameter_even_without_tempo():
    """DDP needs a gradient for every parameter at every step: a batch whose crops have no tempo still puts
    the tempo head in the graph (at weight 0); with a tempo it moves the head."""
    import torch

    from latentstudio.core import beats as core_beats
    from latentstudio.dj.beatnet import BeatNet, beatnet_loss

    torch.manual_seed(0)
    net = BeatNet(n_mels=16, channels=8, dilations=(1, 2), tempo_bins=len(core_beats.TEMPO_GRID))
    x, t = torch.randn(2, 16, 40), (torch.rand(2, 2, 40) > 0.9).float()
    for tempo, moves in ((torch.zeros(2, len(core_beats.TEMPO_GRID)), False),
                         (torch.from_numpy(core_beats.tempo_target(120.0)).float().expand(2, -1), True)):
        net.zero_grad()
        beatnet_loss(net, (x, t, tempo), tempo_weight=0.5).backward()
        assert all(p.grad is not None for p in net.parameters())
        head = torch.cat([p.grad.flatten() for p in net.tempo_head.parameters()])
        assert bool(head.abs().sum() > 0) == moves
