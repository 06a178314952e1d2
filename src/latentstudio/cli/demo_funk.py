"""Demo gallery section of NeuralFunk: originals and their reconstructions, blends, dreams, and a track of dreams."""

from __future__ import annotations

import html
from pathlib import Path

from latentstudio.cli.demo import DemoSection


def _player(rel: str, caption: str) -> str:
    return (f"<figure><audio controls src='{html.escape(rel)}'></audio>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def section(outdir: Path, *, seed: int) -> DemoSection:
    """Re-make validation sounds, blend two, dream a kit and make a drum & bass track of the dreams."""
    import numpy as np

    from latentstudio.core.audio import save
    from latentstudio.funk import pipeline as fp
    from latentstudio.funk.data import load_samples
    from latentstudio.funk.models import load_funk_models
    from latentstudio.funk.track import make_track
    from latentstudio.provenance import write_sidecar

    d = outdir / "funk"
    vae, info, _ = load_funk_models()
    info["path"] = "funk_vae (shipped)"
    val = load_samples(tuxpaint=False).part("validation")
    rng = np.random.default_rng(seed)
    pick = [int(rng.choice(np.flatnonzero(val.labels == c))) for c in (0, 1, 2) if (val.labels == c).any()]
    originals = val.audio[pick]
    names = [val.names[i].split("/")[-1].rsplit(".", 1)[0] for i in pick]
    players = []
    for y, name in zip(originals, names):
        p = save(d / "originals" / f"{name}.wav", y, 16000)
        write_sidecar(p, command="latentstudio demo funk", params={"source": "validation split"})
        players.append(_player(f"funk/originals/{p.name}", f"original: {name}"))
    re = fp.reimagine(vae, info, originals, names=names, seed=seed)
    for p in re.save(d / "reimagined", command="latentstudio demo funk"):
        players.append(_player(f"funk/reimagined/{p.name}", f"re-made by the VAE: {p.stem}"))
    bl = fp.blend(vae, info, originals[:2], weights=[0.5, 0.5], seed=seed)
    for p in bl.save(d / "blend", command="latentstudio demo funk", prefix=f"{names[0]}+{names[1]}_"):
        players.append(_player(f"funk/blend/{p.name}", f"blend of {names[0]} and {names[1]}"))
    dreams = fp.dream(vae, info, n=8, seed=seed)
    for p in dreams.save(d / "dreams", command="latentstudio demo funk"):
        players.append(_player(f"funk/dreams/{p.name}", f"dream: {p.stem}"))
    tr = make_track(vae, info, bpm=170, bars=16, seed=seed)
    tp = tr.save(d / "track.wav", command="latentstudio demo funk")
    players.append(_player(f"funk/{tp.name}", f"a {len(tr.audio) / tr.sr:.0f} s drum & bass track at 170 bpm made "
                                              "only of dreamt samples"))
    rep = info["meta"].get("report", {})
    body = (f"<p>The shipped SampleVAE (IAF posterior, drum head; trained by <code>latentstudio funk train-vae</code> "
            f"on {rep.get('train_sounds', '?')} one-shots; validation head accuracy "
            f"{rep.get('validation_class_accuracy', float('nan')):.2f}) re-makes sounds from the validation sources, "
            f"blends them, dreams new ones per drum class, and a beat is made of the dreams through the beatbox's "
            f"rhythm VAE and sequencer. Audio comes back through Griffin-Lim.</p>" + "".join(players))
    return DemoSection("NeuralFunk — new samples from a spectrogram VAE, and a track of them", body)
