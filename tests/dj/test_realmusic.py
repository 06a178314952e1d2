"""Real compositions for the beat network: truth from the score's meter, variation that carries the truth along."""

import shutil

import mir_eval
import numpy as np
import pretty_midi
import pytest

from latentstudio.dj import realmusic as R
from latentstudio.errors import ParameterError


def _click_piece(tmp_path, *, bpm=100.0, numerator=3, bars=8):
    """A MIDI file with a kick on every beat and a crash on every downbeat, tempo ``bpm``, meter n/4."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, 4, 0.0))
    drums = pretty_midi.Instrument(0, is_drum=True)
    piano = pretty_midi.Instrument(0)
    ibi = 60.0 / bpm
    for k in range(numerator * bars):
        t = k * ibi
        drums.notes.append(pretty_midi.Note(110, 36, t, t + 0.1))
        if k % numerator == 0:
            drums.notes.append(pretty_midi.Note(100, 49, t, t + 0.1))
            piano.notes.append(pretty_midi.Note(80, 60 + k % 12, t, t + ibi * numerator))
    pm.instruments += [drums, piano]
    d = tmp_path / "midi"
    d.mkdir()
    pm.write(str(d / "clicks.mid"))
    return d


def test_folder_piece_beats_follow_tempo_and_meter(tmp_path):
    (p,) = R.folder_pieces(_click_piece(tmp_path, bpm=100.0, numerator=3))
    assert p.origin == "folder:clicks.mid" and R.split_of(p.origin) == "train"
    assert np.allclose(np.diff(p.beats), 0.6) and np.allclose(np.diff(p.downbeats), 1.8)
    with pytest.raises(ParameterError):
        R.folder_pieces(tmp_path / "missing")


def test_variation_warps_truth_with_the_notes(tmp_path):
    (p,) = R.folder_pieces(_click_piece(tmp_path, bpm=100.0, numerator=4, bars=12))
    for seed in range(6):
        pm, beats, downs, var = R.vary_midi(p, np.random.default_rng(seed), max_seconds=20.0, strength=2.0)
        kicks = np.array(sorted(n.start for i in pm.instruments if i.is_drum for n in i.notes if n.pitch == 36))
        if len(kicks) < 8:
            continue                                         # a breakdown took the drums
        # every kick sits on a beat of the warped truth (push/pull and jitter stay within 40 ms)
        err = np.abs(kicks[:, None] - beats[None, :]).min(axis=1)
        assert np.median(err) < 0.02 and err.max() < 0.04, (seed, var)
        assert set(np.round(downs, 6)) <= set(np.round(beats, 6))
        assert 60 / np.median(np.diff(beats)) == pytest.approx(var["bpm"], rel=0.2)
        assert beats[-1] <= 20.5


def test_rendered_clicks_land_on_the_truth(tmp_path):
    (p,) = R.folder_pieces(_click_piece(tmp_path, bpm=120.0, numerator=4))
    ex = R.render(p, renderer="fluidr3", seed=1, strength=0.0, effects=False)
    from latentstudio.core import beats as B

    res = B.beat_track(ex.audio, sr=ex.sr)
    assert mir_eval.beat.f_measure(ex.beats, res.beats) > 0.9
    with pytest.raises(ParameterError):
        R.render(p, renderer="no-such-synth")


def test_score_grid_counts_pickups_and_compound_meters():
    music21 = pytest.importorskip("music21")
    s = music21.converter.parse("tinyNotation: 6/8 c8 d8 e8 f8 g8 a8 b8 c'8 d'8 e'8 f'8 g'8")
    beats, downs = R._score_grid(s.makeMeasures() if not s.hasMeasures() else s)
    assert np.allclose(beats, [0, 1.5, 3, 4.5]) and np.allclose(downs, [0, 3])
    # a one-beat pickup in 3/4: the first downbeat is at quarter 1, the pickup's beat counted back from it
    sc = music21.converter.parse("tinyNotation: 3/4 c4 d4 e4 f4 g4 a4 b4").makeMeasures()
    first = sc.getElementsByClass("Measure")[0]
    first.paddingLeft = 2.0
    for n in list(first.notes)[1:]:
        first.remove(n)
    for m in list(sc.getElementsByClass("Measure"))[1:]:
        m.offset -= 2.0
    beats, downs = R._score_grid(sc)
    assert downs[0] == pytest.approx(1.0) and beats[0] == pytest.approx(0.0)
    assert np.allclose(np.diff(beats), 1.0) and np.allclose(np.diff(downs), 3.0)


@pytest.mark.skipif(shutil.which("mma") is None, reason="mma (the groove library) is installed by make")
def test_mma_songs_have_their_style_meter_and_key():
    (waltz, *_) = R.mma_pieces({"waltz"}, songs_per_style=1, seed=2)
    assert waltz.origin == "mma:waltz" and R.split_of(waltz.origin) == "validation"
    assert np.allclose(np.diff(waltz.downbeats), 3 * np.median(np.diff(waltz.beats)), rtol=0.02)
    assert waltz.key.split()[1] in ("major", "minor")


def _mma_like(numerator, denominator, ticks_per_bar, bars=4, bpm=120.0):
    """A MIDI file as MMA writes it: bars of ``ticks_per_bar`` quarter notes, whatever signature it carries."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, 0.0))
    inst = pretty_midi.Instrument(0)
    q = 60.0 / bpm
    for k in range(ticks_per_bar * bars):
        inst.notes.append(pretty_midi.Note(90, 60, k * q, k * q + 0.1))
    pm.instruments.append(inst)
    return pm


@pytest.mark.parametrize("sig,time,beat_quarters,beats_per_bar", [
    ((6, 8), 2, 1, 2),      # 68march: 2 ticked quarters a bar, each a dotted-quarter beat
    ((6, 8), 6, 3, 2),      # 68swing / blues68: 6 ticked eighths a bar, beat = 3 of them
    ((6, 8), 4, 1, 4),      # ballad68: 12/8 felt in 4
    ((4, 4), 3, 1, 3),      # vienesewaltz: a 4/4 signature on 3-beat bars
    ((6, 8), 3, 1.5, 2),    # afro-cuban: the signature matches MMA's bar, its dotted quarters kept
    ((4, 4), 4, 1, 4),
])
def test_mma_grid_follows_the_style_time_not_the_signature(sig, time, beat_quarters, beats_per_bar):
    pm = _mma_like(*sig, ticks_per_bar=time)
    beats, downs = R.mma_grid(pm, time)
    assert np.allclose(np.diff(beats), 0.5 * beat_quarters)
    assert np.allclose(np.diff(downs), 0.5 * beat_quarters * beats_per_bar)
    assert downs[0] == beats[0] == 0.0


@pytest.mark.skipif(shutil.which("mma") is None, reason="mma (the groove library) is installed by make")
def test_mma_six_eight_styles_beat_in_two():
    for stem in ("68march", "68swing"):
        (p, *_) = [p for p in R.mma_pieces({R.family(stem)}, songs_per_style=1, seed=0) if p.meta["style"] == stem]
        assert np.allclose(np.diff(p.downbeats), 2 * np.median(np.diff(p.beats)), rtol=0.02), stem


def test_splits_share_no_origin():
    names = {s: set(R.SPLITS[s].get("mma", ())) | {f"m21:{c}" for c in R.SPLITS[s]["music21"]} for s in R.SPLITS}
    assert not names["train"] & names["validation"] and not names["train"] & names["test"]
    assert not names["validation"] & names["test"]
    rend = {s: set(R.SPLITS[s]["renderers"]) for s in R.SPLITS}
    assert not rend["test"] & (rend["train"] | rend["validation"])
    for fam in R.SPLITS["test"]["mma"]:
        assert R.split_of(f"mma:{fam}") == "test"
