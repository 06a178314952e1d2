import numpy as np
import pytest
import soundfile as sf

from latentstudio.beatbox import oneshots as O
from latentstudio.beatbox.features import SR
from latentstudio.errors import ParameterError


@pytest.mark.parametrize("name, label", [
    ("hihat_opened01.ogg", "open_hat"), ("hihat_closed02.ogg", "closed_hat"), ("hihat_foot_pedal01.ogg", "closed_hat"),
    ("drum_cymbal_closed.flac", "closed_hat"), ("drum_cymbal_open.flac", "open_hat"), ("drum_cymbal_hard.flac", "cymbal"),
    ("bd_haus.flac", "kick"), ("bassdrum_acoustic01.ogg", "kick"), ("drum_bass_soft.flac", "kick"),
    ("sn_dub.flac", "snare"), ("Snr_snap.ds", "snare"), ("K_Linn.ds", "kick"), ("Hat_o.ds", "open_hat"),
    ("H_closed.ds", "closed_hat"), ("linn_stk.ds", "rim"), ("sidestick01.ogg", "rim"), ("clap03.ogg", "clap"),
    ("linn_clp.ds", "clap"), ("snare_rim01.ogg", "snare"), ("Syntom_1.ds", "tom"), ("ride02.ogg", "cymbal"),
    ("shaker01.ogg", None), ("drum_cowbell.flac", None), ("Conga.ds", None), ("loop_amen.flac", None)])
def test_label_from_name(name, label):
    assert O.label_from_name(name) == label


def test_splits_are_declared_by_origin():
    assert O.split_of("fluid-soundfont-gm", "gm-kit-0") == "test"
    assert O.split_of("sonic-pi-samples", "sonic-pi-samples") == "validation"
    assert O.split_of("hydrogen-drumkits", "millo") == "validation"
    assert O.split_of("hydrogen-drumkits", "bja_pacific") == "train"
    assert O.split_of("folder:mine", "kicks") == "train"
    assert O._family("GMRockKit") == O._family("The Black Pearl 1.0")  # copies are one origin
    # General MIDI synthesisers: the OPL3 kit trains, csound's and FreePats' kits validate, FluidR3's test
    assert O.split_of("opl3-soundfont", "opl3-kit-0") == "train"
    assert O.split_of("csound-soundfont", "csound-kit-25") == "validation"
    assert O.split_of("freepats", "freepats-kit-0") == "validation"
    assert set(O.GM_SYNTH_SOURCES) == set(O.GM_SYNTH_KITS)


@pytest.mark.parametrize("synth", ["freepats", "csound", "opl3"])
def test_other_synthesisers_kits_are_sources(synth):
    """Each installed GM synthesiser's drum kit gives labelled one-shots named by that synthesiser (skipped
    where the package, from `make data`, is not installed)."""
    pytest.importorskip("pretty_midi")
    from latentstudio.core.midi import SYNTHS
    from latentstudio.errors import AssetMissingError

    try:
        data = O.gm_oneshots(synth=synth, programs=(0,), velocities=(100,), gap=1.6)
    except AssetMissingError as exc:
        pytest.skip(f"{SYNTHS[synth][2]} not installed: {exc}")
    classes = {O.CLASSES[i] for i in data.labels}
    assert {"kick", "snare", "closed_hat"} <= classes
    assert set(data.sources) == {O.GM_SYNTH_SOURCES[synth]} and all(k == f"{synth}-kit-0" for k in data.kits)
    assert O.split_of(data.sources[0], data.kits[0]) == ("train" if synth == "opl3" else "validation")
    with pytest.raises(ParameterError, match="synth"):
        O.gm_oneshots(synth="no-such-synth")


def _decay(f, n=SR // 2, seed=0):
    t = np.arange(n) / SR
    rng = np.random.default_rng(seed)
    return O.prepare((np.sin(2 * np.pi * f * t) + 0.001 * rng.standard_normal(n)) * np.exp(-t * 20))


def test_dedupe_drops_exact_and_near_copies_from_later_splits():
    a, b, c = _decay(60), _decay(3000), _decay(700)
    near_a = O.prepare(_decay(60, seed=1) * 0.5)  # same sound, other noise and level
    audio = np.stack([a, b, c, a, near_a, c])
    data = O.OneShots(audio, np.array([0, 2, 1, 0, 0, 1]), ["k1", "k1", "k1", "k2", "k3", "k1"],
                      list("abcdef"), ["s"] * 6)
    split = ["train", "train", "train", "test", "validation", "train"]
    kept, kept_split, dropped = O.dedupe(data, split)
    assert dropped == {"exact": 2, "near": 1}
    assert kept_split == ["train", "train", "train"]
    assert kept.names == ["a", "b", "c"]


def test_content_hash_is_of_the_decoded_content():
    a = _decay(200)
    assert O.content_hash(a) == O.content_hash(a.astype(np.float64)) == O.content_hash(np.pad(a, (0, 100)))
    assert O.content_hash(a) != O.content_hash(_decay(210))


def test_folder_oneshots_labels_from_file_and_folder_names(tmp_path):
    (tmp_path / "kicks").mkdir()
    sf.write(tmp_path / "kicks" / "001.wav", _decay(55), SR)
    sf.write(tmp_path / "my_snare.wav", _decay(400, seed=2), SR)
    sf.write(tmp_path / "pad.wav", _decay(300, seed=3), SR)
    (tmp_path / "broken_hat.wav").write_text("not audio")
    data = O.folder_oneshots(tmp_path)
    got = sorted((n.split("/")[-1], O.CLASSES[int(lab)]) for n, lab in zip(data.names, data.labels))
    assert got == [("001.wav", "kick"), ("my_snare.wav", "snare")]
    assert set(data.sources) == {f"folder:{tmp_path.name}"}
    with pytest.raises(ParameterError, match="does not exist"):
        O.folder_oneshots(tmp_path / "nope")


def test_load_split_rejects_unknown_names():
    with pytest.raises(ParameterError, match="split="):
        O.load_split("holdout")


def test_gm_kits_leave_out_the_notes_a_kit_plays_as_other_instruments():
    """The GS Orchestra set (48) holds timpani on notes 41-53, where the GM map has toms, hats and cymbals:
    those hits are not rendered (they were labelled closed_hat/open_hat/tom before); its kick and snare are."""
    pytest.importorskip("pretty_midi")
    from latentstudio.core.midi import default_soundfont, fluidsynth_binary

    try:
        default_soundfont(), fluidsynth_binary()
    except Exception as exc:  # no FluidSynth / soundfont on this machine
        pytest.skip(f"no GM soundfont: {exc}")
    data = O.gm_oneshots(programs=(48,), velocities=(100,), gap=1.6)
    notes = {int(n.split("note")[1].split("-")[0]) for n in data.names}
    assert notes and not notes & set(range(41, 54))
    assert {35, 36, 38} <= notes and all(k == "gm-kit-48" for k in data.kits)
