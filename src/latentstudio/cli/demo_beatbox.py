"""Demo gallery section of the Neural Beatbox: an espeak-ng "voice" becomes a drum kit and a beat."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from latentstudio.cli.demo import DemoSection

#: The visitor's phrase: boom tss ka tss boom boom ka tsss (espeak-ng phoneme mnemonics)
PHRASE = "bu:m ts ka ts bu:m bu:m ka tsssss"


def section(outdir: Path, *, seed: int) -> DemoSection:
    """Say a beatbox phrase with espeak-ng, find and classify its sounds, and jam 8 bars with them."""
    import torch

    from latentstudio.beatbox.classifier import load_classifier
    from latentstudio.beatbox.hits_picture import draw_hits
    from latentstudio.beatbox.pipeline import classify_recording, jam_recordings, save_beat
    from latentstudio.beatbox.rhythm_vae import load_rhythm_vae
    from latentstudio.beatbox.segment import check_voice
    from latentstudio.beatbox.voices import beatbox_phrase
    from latentstudio.core.audio import save
    from latentstudio.core.image import save as save_image
    from latentstudio.provenance import write_sidecar

    torch.set_num_threads(2)
    d = outdir / "beatbox"
    d.mkdir(parents=True, exist_ok=True)
    sr = 22050
    y, truth = beatbox_phrase(PHRASE, voice="en+m3", sr=sr)
    voice = check_voice(y, sr=sr, name="voice.wav")
    save(d / "voice.wav", y, sr)
    write_sidecar(d / "voice.wav", command="demo beatbox", params={"phrase": PHRASE, "espeak_voice": "en+m3"},
                  seed=seed, true_onsets=truth)
    clf, vae = load_classifier(), load_rhythm_vae()
    zero_shot = classify_recording(voice, classifier=clf).hits
    # the visitor calibrates: two examples of each of their own sounds, said a little higher
    examples = {label: [speak_sound(w, speed=sp) for sp in (120, 170)] for label, w in CALIBRATION.items()}
    res = jam_recordings([voice], classifier=clf.calibrate(examples, sr=sr), vae=vae, bars=8, bpm=100, seed=seed)
    params = {"bars": 8, "bpm": 100}
    files = save_beat(res, d / "beat.wav", d / "beat.mid", command="demo beatbox", params=params, seed=seed)
    save_image(d / "hits.png", draw_hits(y, sr, res.hits))
    write_sidecar(d / "hits.png", command="demo beatbox", params=params, seed=seed,
                  models=["beatbox_classifier", "beatbox_rhythm"], **files.record)
    words = PHRASE.split()
    rows = "".join(f"<tr><td>{h.time:.3f}</td><td>{html.escape(_nearest_word(h.time, truth, words))}</td>"
                   f"<td>{html.escape(z.label)} ({z.confidence:.2f})</td><td>{html.escape(h.label)} ({h.confidence:.2f})</td></tr>"
                   for h, z in zip(res.hits, zero_shot))
    grid = html.escape(res.patterns[0].grid())
    body = (
        f"<p>A visitor (espeak-ng, voice en+m3) says <code>{html.escape(PHRASE)}</code>. The sounds are found "
        f"(spectral-flux onsets; a consonant and its vowel are one sound), classified by the shipped CNN "
        f"ensemble (trained on drum one-shots only; calibrated with a few of the visitor's own sounds), and "
        f"replace the drums of the "
        f"<code>{html.escape(res.kit.name)}</code> Hydrogen kit; the rhythm VAE writes a new pattern every "
        f"four bars and glides between them.</p>"
        f"<figure><audio controls src='beatbox/voice.wav'></audio><figcaption>the voice</figcaption></figure>"
        f"<figure style='max-width:920px'><img style='max-width:900px' src='beatbox/hits.png'>"
        f"<figcaption>detected sounds and their classes</figcaption></figure>"
        f"<table><tr><th>time (s)</th><th>said</th><th>class, zero-shot</th><th>class, calibrated</th></tr>"
        f"{rows}</table><p class='t'>Calibration: two examples each of the visitor's kick, snare, closed and open "
        f"hat (said at pitch 60, speeds 120 and 170): each sound takes the class of its nearest example in "
        f"MFCC space.</p>"
        f"<figure><audio controls src='beatbox/beat.wav'></audio><figcaption>8 bars at 100 bpm "
        f"(<a href='beatbox/beat.mid'>MIDI</a>)</figcaption></figure>"
        f"<pre>{grid}</pre>"
        + "".join(f"<p class='t'>{html.escape(n)}</p>" for n in res.notes))
    return DemoSection("Neural Beatbox", body)


#: calibration words per class (espeak-ng phonemes)
CALIBRATION = {"kick": "bu:m", "snare": "ka", "closed_hat": "ts", "open_hat": "tsssss"}


def speak_sound(word: str, *, speed: int, sr: int = 22050) -> np.ndarray:
    """One calibration sound: ``[[word]]`` said by the demo voice a little higher, trimmed."""
    from latentstudio.beatbox.voices import beatbox_phrase

    y, starts = beatbox_phrase(word, voice="en+m3", speed=speed, pitch=60, gap=0.0, sr=sr)
    return y[int(starts[0] * sr):]


def _nearest_word(t: float, truth: list[float], words: list[str]) -> str:
    i = int(np.argmin(np.abs(np.asarray(truth) - t)))
    return f"[[{words[i]}]] @ {truth[i]:.3f}"
