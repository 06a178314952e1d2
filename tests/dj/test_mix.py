"""Selection, planning, rendering and the beat-matching checks."""

import numpy as np
import pytest

from latentstudio.dj.mix import effective_beats, plan_mix, render_mix
from latentstudio.dj.select import Selector, tempo_match
from latentstudio.dj.verify import check_audio, check_plan, check_truth
from latentstudio.errors import ParameterError


def fake(name, bpm, camelot="8A", emb=(1.0, 0.0), bars=32, bpb=4, duration=None):
    ibi = 60.0 / bpm
    beats = 0.5 + ibi * np.arange(bars * bpb)
    return {"path": f"/lib/{name}.wav", "bpm": bpm, "camelot": camelot, "key": "A minor", "embedding": list(emb),
            "beats": beats.tolist(), "downbeats": beats[::bpb].tolist(), "beats_per_bar": bpb, "lufs": -12.0,
            "duration": duration or float(beats[-1] + 2.0), "cue_in": 0.5, "cue_out": float(beats[-bpb]),
            "energy": [-20.0] * 10, "energy_hop": 0.5}


def test_tempo_match_half_and_double():
    assert tempo_match(120, 60) == (2.0, 1.0)
    assert tempo_match(70, 140) == (0.5, 1.0)
    m, r = tempo_match(128, 124)
    assert m == 1.0 and abs(r - 128 / 124) < 1e-9


def test_selector_prefers_compatible_and_never_repeats():
    lib = [fake("a", 120, "8A", (1, 0)), fake("b", 122, "9A", (0.9, 0.1)), fake("c", 150, "2B", (1, 0)),
           fake("d", 61, "3B", (0.8, 0.2))]
    sel = Selector(lib, novelty=0.0, seed=0)
    sel.mark_played(lib[0])
    first = sel.choose(lib[0])
    assert first["path"] == "/lib/b.wav" and first["reasons"]["tempo"]["within_limit"]
    sel.mark_played(sel.by_path[first["path"]])
    second = sel.choose(sel.by_path[first["path"]])
    assert second["path"] == "/lib/d.wav" and second["reasons"]["tempo"]["beat_multiplier"] == 2.0
    sel.mark_played(sel.by_path[second["path"]])
    last = sel.choose(sel.by_path[second["path"]])
    assert last["path"] == "/lib/c.wav" and "note" in last["reasons"]      # only an out-of-range track left
    sel.mark_played(sel.by_path[last["path"]])
    with pytest.raises(ParameterError, match="every track"):
        sel.choose(lib[0])


def test_novelty_changes_choices():
    lib = [fake(f"t{i}", 120 + i * 0.5, "8A", (np.cos(i / 3), np.sin(i / 3))) for i in range(12)]
    orders = set()
    for seed in range(6):
        plan = plan_mix(lib, n_tracks=4, start="t0", novelty=1.0, seed=seed)
        orders.add(tuple(t["name"] for t in plan["tracks"]))
    calm = {tuple(t["name"] for t in plan_mix(lib, n_tracks=4, start="t0", novelty=0.0, seed=s)["tracks"])
            for s in range(3)}
    assert len(orders) > 1 and len(calm) == 1


def test_plan_grids_coincide():
    lib = [fake("a", 124), fake("b", 120, "9A"), fake("c", 62.5, "8B", bars=20)]
    plan = plan_mix(lib, order=["a", "b", "c"], transition_bars=8)
    A = {a["path"]: a for a in lib}
    rep = check_plan(plan, A)
    assert rep["ok"] and all(r["max_offset_ms"] < 1.0 for r in rep["transitions"])
    assert [t["beats"] for t in plan["transitions"]] == [32, 32]
    assert plan["tracks"][2]["beat_multiplier"] == 2.0
    tr = plan["transitions"][0]
    assert tr["start"] < tr["swap"] < tr["end"] and abs(tr["bpm_start"] - 124) < 0.5 and abs(tr["bpm_end"] - 120) < 0.5


def test_effective_beats_half_double():
    a = fake("x", 100, bars=4)
    b2, d2 = effective_beats(a, 2.0)
    assert len(b2) == 2 * len(a["beats"]) - 1 and d2[0] and not d2[1]
    bh, dh = effective_beats(a, 0.5)
    assert len(bh) == len(a["beats"]) // 2 and dh[0]


def _click_audio(a, sr):
    y = np.zeros(int(a["duration"] * sr) + sr, dtype=np.float32)
    rng = np.random.default_rng(0)
    for t in a["beats"]:
        k = int(t * sr)
        y[k:k + 400] += rng.standard_normal(400).astype(np.float32) * np.exp(-np.arange(400) / 80) * 0.5
    return y, sr


def test_render_is_beat_matched_on_audio():
    sr = 22050
    lib = [fake("a", 124, bars=16), fake("b", 119, bars=16)]
    plan = plan_mix(lib, order=["a", "b"], transition_bars=4)
    audio = {a["path"]: _click_audio(a, sr) for a in lib}
    y, stems = render_mix(plan, {a["path"]: a for a in lib}, sr=sr, audio=audio, keep_stems=True)
    assert y.shape[0] == 2 and abs(y.shape[1] / sr - plan["duration"]) < 0.01 and np.max(np.abs(y)) <= 1.0
    rep = check_audio(plan, stems, sr=sr)
    row = rep["transitions"][0]
    assert rep["ok"], row
    assert row["p90_offset_ms"] < 15 and row["tempo_error"] < 0.005


def test_missing_file_does_not_stop_the_mix():
    lib = [fake("a", 124, bars=8), fake("b", 124, bars=8)]
    plan = plan_mix(lib, order=["a", "b"], transition_bars=2)
    audio = {lib[0]["path"]: _click_audio(lib[0], 16000)}      # b's file does not exist
    y, _ = render_mix(plan, {a["path"]: a for a in lib}, sr=16000, audio=audio)
    assert y.shape[1] > 0 and any("could not be rendered" in w for w in plan["warnings"])


def test_bad_input():
    with pytest.raises(ParameterError, match="empty"):
        plan_mix([])
    with pytest.raises(ParameterError, match="not in the library"):
        plan_mix([fake("a", 120)], start="zzz")
    with pytest.raises(ParameterError, match="twice"):
        plan_mix([fake("a", 120), fake("b", 120)], order=["a", "a"])
    with pytest.raises(ParameterError):
        Selector([fake("a", 120)], novelty=2.0)
    one = plan_mix([fake("a", 120)], n_tracks=3)
    assert len(one["tracks"]) == 1 and one["transitions"] == []


def test_true_beats_land_together_and_a_late_track_is_caught(dj_library, dj_analyses):
    _, truth = dj_library
    A = {a["path"]: a for a in dj_analyses}
    beats = {t["path"]: np.asarray(t["beats"]) for t in truth}
    first, second = sorted((t for t in truth if t["bpm"] > 100), key=lambda t: t["bpm"])
    plan = plan_mix(list(A.values()), order=[first["path"], second["path"]], transition_bars=4)
    rep = check_truth(plan, A, beats)
    row = rep["transitions"][0]
    assert rep["ok"] and row["max_offset_ms"] < 10 and row["beats"] >= 12, row
    late = dict(beats, **{second["path"]: beats[second["path"]] + 0.04})    # as if the analysis were 40 ms early
    bad = check_truth(plan, A, late)
    assert not bad["ok"] and bad["transitions"][0]["median_offset_ms"] > 30
    with pytest.raises(ParameterError, match="no true beats"):
        check_truth(plan, A, {first["path"]: beats[first["path"]]})
