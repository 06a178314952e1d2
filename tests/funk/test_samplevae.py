"""SampleVAE, its training, the generation operations and the track, on tiny synthetic drums."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from latentstudio.errors import ParameterError
from latentstudio.funk.data import CLASSES, Samples
from latentstudio.funk.features import SR, log_mel_frames, mel_to_audio
from latentstudio.funk.vae import SampleVAE, vae_loss


class Calls(list):
    """A ``progress(done, total)`` callback that records its calls."""

    def __call__(self, done: int, total: int) -> None:
        self.append((done, total))

    def check(self, total: int | None = None) -> None:
        """Counts strictly increase, under one total, up to it."""
        assert self, "progress was never called"
        done = [d for d, _ in self]
        assert all(b > a for a, b in zip(done, done[1:])) and done[0] > 0
        assert len({t for _, t in self}) == 1 and done[-1] == self[-1][1]
        if total is not None:
            assert self[-1][1] == total


def synth(kind: str, rng) -> np.ndarray:
    t = np.arange(SR) / SR
    if kind == "kick":
        f = 50 + 100 * np.exp(-t * 30)
        y = np.sin(2 * np.pi * np.cumsum(f) / SR) * np.exp(-t * 8)
    elif kind == "snare":
        y = (0.6 * rng.standard_normal(SR) + np.sin(2 * np.pi * 190 * t)) * np.exp(-t * 18)
    else:
        y = rng.standard_normal(SR) * np.exp(-t * 60)
        y = np.diff(y, prepend=0.0)
    return (y / np.abs(y).max()).astype(np.float32)


def tiny_samples(per: int = 12) -> Samples:
    rng = np.random.default_rng(0)
    kinds = ["kick", "snare", "closed_hat"]
    audio, labels, split = [], [], []
    for k in kinds:
        for i in range(per):
            audio.append(synth(k, rng) * rng.uniform(0.5, 1.0))
            labels.append(CLASSES.index(k))
            split.append("validation" if i % 4 == 0 else "train")
    return Samples(np.stack(audio), np.array(labels), np.array(split), ["synth"] * len(labels),
                   [f"s{i}" for i in range(len(labels))])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from latentstudio.funk.training import load_sample_vae, train_sample_vae

    out = tmp_path_factory.mktemp("funk") / "vae"
    run = train_sample_vae(tiny_samples(), out, steps=150, batch_size=8, lr=3e-3, latent_dim=8, width=4, flows=1,
                           seed=0)
    vae, info = load_sample_vae(out)
    info["path"] = str(out)
    return run, vae, info


def test_features_round_trip():
    y = synth("snare", np.random.default_rng(1))
    m = log_mel_frames(y)
    assert m.shape == (128, 63) and 0 <= m.min() and m.max() <= 1
    back = mel_to_audio(m, length=SR, n_iter=16)
    assert back.shape == (SR,)
    sc = np.linalg.norm(log_mel_frames(back) - m) / np.linalg.norm(m)
    assert sc < 0.25
    with pytest.raises(ParameterError):
        log_mel_frames(np.array([np.nan, 0.0, 1.0]))


def test_flow_log_density_is_consistent():
    torch.manual_seed(0)
    vae = SampleVAE(frames=64, latent_dim=4, width=4, flows=2).eval()
    mel = torch.rand(3, 128, 63)
    z, logq = vae.posterior(mel)
    assert z.shape == (3, 4) and torch.isfinite(logq).all()
    # with the identity-initialised flow, a zero-noise draw lands on the flowed mean
    assert torch.allclose(vae.posterior(mel, sample=False)[0], vae.embed(mel))


def test_training_learns_and_head_names_classes(trained):
    run, vae, info = trained
    assert np.mean(run.losses[-10:]) < 0.7 * np.mean(run.losses[:3])
    assert run.report["validation_class_accuracy"] >= 2 / 3
    assert info["extra"]["class_means"].shape == (len(CLASSES), 8)


def test_generation_operations(trained, tmp_path):
    from latentstudio.funk import pipeline as fp

    _, vae, info = trained
    calls = Calls()
    d = fp.dream(vae, info, n=3, drum="kick", seed=0, progress=calls)
    calls.check(total=48 * fp.DREAM_TRIES)                     # Griffin-Lim iterations of every possible round
    assert np.array_equal(d.audio, fp.dream(vae, info, n=3, drum="kick", seed=0).audio)
    assert d.audio.shape == (3, SR) and np.isfinite(d.audio).all() and np.abs(d.audio).max() <= 0.9 + 1e-6
    assert [n.split("_")[0] for n in d.names] == ["kick"] * 3
    sounds = np.stack([synth("kick", np.random.default_rng(2)), synth("closed_hat", np.random.default_rng(3))])
    b = fp.blend(vae, info, sounds, weights=[1.0, -0.5])
    z = fp.encode(vae, sounds)
    assert np.allclose(b.latents[0], z[0] - 0.5 * z[1], atol=1e-5)
    r = fp.reimagine(vae, info, sounds, variations=2, noise=0.2, seed=1)
    assert r.audio.shape == (4, SR) and not np.allclose(r.latents[0], r.latents[1])
    paths = d.save(tmp_path)
    assert all(p.is_file() and p.with_suffix(".json").is_file() for p in paths)
    with pytest.raises(ParameterError, match="drum"):
        fp.dream(vae, info, n=2, drum="cowbell")
    with pytest.raises(ParameterError, match="weights"):
        fp.blend(vae, info, sounds, weights=[1.0])


def test_dreams_listen_back(trained):
    """A listening dream keeps, for each sound, the rendering its own head hears best: never worse than the
    first rendering (the one a non-listening dream keeps), and its record says what the head heard."""
    from latentstudio.funk import pipeline as fp

    _, vae, info = trained
    k = CLASSES.index("snare")
    heard = lambda audio: fp._heard(vae, fp.encode(vae, audio / np.abs(audio).max(1, keepdims=True)), k)  # noqa: E731
    plain = fp.dream(vae, info, n=6, drum="snare", seed=3, listen=False)
    listening = fp.dream(vae, info, n=6, drum="snare", seed=3)
    assert plain.how["heard"] is None and len(listening.how["heard"]) == 6
    assert np.allclose(listening.how["heard"], heard(listening.audio), atol=1e-3)
    assert (heard(listening.audio) >= heard(plain.audio) - 1e-4).all()
    first_ok = heard(plain.audio) >= 0.5
    assert np.array_equal(listening.audio[first_ok], plain.audio[first_ok])   # a passing first rendering stays
    one = fp.dream(vae, info, n=2, drum="snare", seed=3, confidence=0.0)     # no head judgement: one rendering
    assert one.how["heard"] is None


def test_track_is_made_of_dreams(trained, tmp_path):
    from latentstudio.funk.track import make_track

    _, vae, info = trained
    calls = Calls()
    tr = make_track(vae, info, bpm=170, bars=8, seed=0, progress=calls)
    calls.check()                                              # every class's dreams, then the arrangement
    assert calls[-2][0] == calls[-1][0] - 1 and calls[-1][1] > 48
    assert tr.sr == SR and len(tr.audio) > 8 * 4 * 60 / 170 * SR
    assert [s[0] for s in tr.sections] == ["intro", "groove", "breakdown", "groove"]
    assert all(src.startswith("dream:") for srcs in tr.kit.values() for src in srcs)
    # the intro has hats only: quieter than the groove with kick, snare and bass
    beat = SR * 60 / 170
    intro = tr.audio[: int(2 * 4 * beat)]
    groove = tr.audio[int(2 * 4 * beat): int(4 * 4 * beat)]
    assert np.sqrt(np.mean(groove ** 2)) > np.sqrt(np.mean(intro ** 2))
    p = tr.save(tmp_path / "t.wav")
    assert json.loads(p.with_suffix(".json").read_text())["sections"][0][0] == "intro"
    with pytest.raises(ParameterError, match="bars"):
        make_track(vae, info, bars=12)


def test_cli_dream_and_errors(trained, tmp_path):
    from latentstudio.cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["funk", "dream", "-n", "2", "--drum", "snare", "-o", str(tmp_path / "d"),
                              "--model", trained[2]["path"], "--json"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.output)["files"]) == 2
    res = runner.invoke(app, ["funk", "reimagine", str(tmp_path / "nothing.wav"), "-o", str(tmp_path / "r"),
                              "--model", trained[2]["path"]])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = runner.invoke(app, ["funk", "blend", str(tmp_path / "d" / "snare_00.wav"), "-o", str(tmp_path / "b"),
                              "--weights", "a,b", "--model", trained[2]["path"]])
    assert res.exit_code == 2 and "--weights" in res.output


def test_cli_dream_and_track_show_progress_unless_json(trained, tmp_path, monkeypatch):
    import contextlib

    from latentstudio.cli import funk as cli_funk
    from latentstudio.cli.main import app

    bars = []

    @contextlib.contextmanager
    def fake_progress(description, total=None, *, quiet=False):
        bar = {"description": description, "quiet": quiet, "advances": [], "totals": []}
        bars.append(bar)

        def advance(n=1, *, total=None, description=None):
            bar["advances"].append(n)
            bar["totals"].append(total)

        yield advance

    monkeypatch.setattr(cli_funk, "progress", fake_progress)
    runner = CliRunner()
    model = trained[2]["path"]
    for as_json in ([], ["--json"]):
        res = runner.invoke(app, ["funk", "dream", "-n", "2", "--drum", "kick", "-o", str(tmp_path / "d"),
                                  "--model", model, *as_json])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["funk", "track", "-o", str(tmp_path / "t.wav"), "--bars", "8", "--model", model,
                              "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["bpm"] == 170                  # the bar wrote nothing to stdout
    assert [b["quiet"] for b in bars] == [False, True, True]
    for b in bars:                                              # the bar fills up to its total, step by step
        assert b["advances"] and all(n > 0 for n in b["advances"])
        assert sum(b["advances"]) == b["totals"][-1]


def test_bad_vae_sizes():
    with pytest.raises(ParameterError, match="frames"):
        SampleVAE(frames=60)
    vae = SampleVAE(frames=16, latent_dim=2, width=2, flows=0, n_classes=0)
    with pytest.raises(ParameterError, match="mel"):
        vae.pad(torch.zeros(1, 64, 16))
    with pytest.raises(ParameterError, match="head"):
        vae.classify(torch.zeros(1, 2))
    loss, stats = vae_loss(vae.train(), torch.rand(2, 128, 16), torch.tensor([0, 1]))
    assert "ce" not in stats and torch.isfinite(loss)


def test_library_index_and_similar(trained, tmp_path):
    from latentstudio.catalog import Catalog
    from latentstudio.core.audio import save
    from latentstudio.funk.library import index_library, similar

    _, vae, _ = trained
    rng = np.random.default_rng(5)
    lib = tmp_path / "lib"
    for k in ("kick", "snare", "closed_hat"):
        for i in range(2):
            y = synth(k, rng) + rng.normal(0, 0.01, SR).astype(np.float32)      # distinct contents
            save(lib / k / f"{k}{i}.wav", y, SR)
    with Catalog(tmp_path / "cat") as cat:
        report = index_library(lib, vae=vae, catalog=cat)
        assert len(report.added) == 6
        again = index_library(lib, vae=vae, catalog=cat)
        assert len(again.added) == 0 and len(again.skipped) == 6
        query = save(tmp_path / "q.wav", synth("kick", np.random.default_rng(9)), SR)
        hits = similar(query, vae=vae, k=3, catalog=cat)
        assert len(hits) == 3 and hits[0][0].path.parent.name == "kick"
    with pytest.raises(ParameterError, match="nowhere.* does not exist"):
        index_library(tmp_path / "nowhere", vae=vae)


def test_wavenet_renders_the_vae(trained, tmp_path):
    from latentstudio.funk import pipeline as fp
    from latentstudio.funk.training import train_funk_wavenet
    from latentstudio.zoo.checkpoint import load_checkpoint

    _, vae, info = trained
    net, losses, _ = train_funk_wavenet(tiny_samples(per=4), vae, tmp_path / "wn", steps=40, batch_size=2,
                                        segment=1024, lr=3e-3,
                                        model_config={"residual": 8, "skip": 16, "layers": 4, "stacks": 1})
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    wn, _ = load_checkpoint(tmp_path / "wn")
    assert wn.cond_dim == vae.latent_dim
    calls = Calls()
    gen = fp.dream(vae, info, n=2, drum="kick", seed=0, wavenet=wn, progress=calls)
    assert gen.audio.shape == (2, SR) and np.isfinite(gen.audio).all()
    calls.check(total=SR * fp.DREAM_TRIES)                     # WaveNet samples, every hop and at the end


def test_cli_encode_decode_interpolate(trained, tmp_path):
    from latentstudio.cli.main import app
    from latentstudio.core.audio import save

    runner = CliRunner()
    model = trained[2]["path"]
    a = save(tmp_path / "a.wav", synth("kick", np.random.default_rng(1)), SR)
    b = save(tmp_path / "b.wav", synth("closed_hat", np.random.default_rng(2)), SR)
    res = runner.invoke(app, ["funk", "encode", str(a), str(b), "-o", str(tmp_path / "z.json"), "--model", model,
                              "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert len(rows) == 2 and len(rows[0]["latent"]) == 8 and rows[0]["drum"] in CLASSES
    side = json.loads((tmp_path / "z.json.json").read_text())          # the latents' provenance
    assert side["command"] == "latentstudio funk encode" and side["params"]["sounds"] == [str(a), str(b)]
    res = runner.invoke(app, ["funk", "decode", str(tmp_path / "z.json"), "-o", str(tmp_path / "dec"), "--model",
                              model, "--json"])
    assert res.exit_code == 0 and len(json.loads(res.output)["files"]) == 2
    res = runner.invoke(app, ["funk", "interpolate", str(a), str(b), "-o", str(tmp_path / "morph"), "--steps", "3",
                              "--model", model, "--json"])
    assert res.exit_code == 0 and len(json.loads(res.output)["files"]) == 3
    (tmp_path / "bad.json").write_text("{not json")
    res = runner.invoke(app, ["funk", "decode", str(tmp_path / "bad.json"), "-o", str(tmp_path / "x"), "--model",
                              model])
    assert res.exit_code == 2 and "not a list of vectors" in res.output


_DDP_SCRIPT = '''
import json, sys
import numpy as np
from latentstudio.funk.data import CLASSES, Samples
from latentstudio.funk.features import SR
from latentstudio.funk.training import load_sample_vae, train_funk_wavenet, train_sample_vae
from latentstudio.train.distributed import launched_rank

out = sys.argv[1]
rng = np.random.default_rng(0)
t = np.arange(SR) / SR
audio, labels, split = [], [], []
for k, rate in (("kick", 8), ("snare", 18), ("closed_hat", 60)):
    for i in range(8):
        audio.append((rng.standard_normal(SR) * np.exp(-t * rate)).astype(np.float32))
        labels.append(CLASSES.index(k))
        split.append("validation" if i % 4 == 0 else "train")
s = Samples(np.stack(audio), np.array(labels), np.array(split), ["synth"] * 24, [f"s{i}" for i in range(24)])
run = train_sample_vae(s, out + "/vae", steps=4, batch_size=4, latent_dim=8, width=4, flows=1, seed=0)
vae, _ = load_sample_vae(out + "/vae") if launched_rank() == 0 else (run.model, None)
_, losses, _ = train_funk_wavenet(s, vae, out + "/wn", steps=4, batch_size=2, segment=1024,
                                  model_config={"residual": 8, "skip": 16, "layers": 4, "stacks": 1})
print(json.dumps({"rank": launched_rank(), "vae_rank": run.rank, "report": sorted(run.report)}))
'''


def test_train_under_torchrun_rank_0_alone_evaluates_and_writes(tmp_path):
    """The SampleVAE and the WaveNet trained by 2 ranks (torchrun, DDP over gloo): rank 0 evaluates and
    writes each model, the other rank returns without writing."""
    import os
    import subprocess
    import sys

    script = tmp_path / "ddp.py"
    script.write_text(_DDP_SCRIPT)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           str(script), str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = sorted((json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")),
                  key=lambda r: r["rank"])
    assert [r["rank"] for r in rows] == [0, 1] and [r["vae_rank"] for r in rows] == [0, 1]
    assert "validation_sounds" in rows[0]["report"] and rows[1]["report"] == []
    assert (tmp_path / "vae" / "model.safetensors").is_file() and (tmp_path / "wn" / "model.safetensors").is_file()


def test_read_latents_refuses_more_vectors_than_it_decodes(tmp_path):
    from latentstudio.errors import ParameterError
    from latentstudio.funk.pipeline import MAX_LATENTS, read_latents

    path = tmp_path / "many.json"
    path.write_text(json.dumps([[0.0, 1.0]] * (MAX_LATENTS + 1)))
    with pytest.raises(ParameterError, match="at most 1000"):
        read_latents(path)
    path.write_text(json.dumps([[0.0, 1.0]] * 3))
    assert read_latents(path).shape == (3, 2)
