"""The labelled sound library: names -> WordNet labels -> teacher-space targets; packages, dedupe, licences."""

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from latentstudio.catalog import Catalog
from latentstudio.errors import AssetMissingError, ParameterError
from latentstudio.soundscape.features import MelSpec, audio_hash
from latentstudio.soundscape.library import (build_library, collect_sounds, library_sounds, load_library,
                                             read_opensfx)
from latentstudio.soundscape.naming import label_synset, name_words
from latentstudio.soundscape.student import load_student


@pytest.fixture(scope="module")
def wn():
    from latentstudio.zoo.wordnet import wordnet, wordnet_dir

    try:
        wordnet_dir()
    except AssetMissingError:
        pytest.skip("wordnet-base is not installed")
    return wordnet()


def test_name_words_keep_names_apart():
    assert name_words("drum_cymbal_open", "fireTruck2") == ["drum", "cymbal", "open", "fire", "truck"]
    assert name_words("tiger", "cats", separate=True) == ["tiger", "|", "cats"]


def test_labels_name_the_source(wn):
    lab = lambda *names, **kw: label_synset(name_words(*names, separate=True), wn, **kw)  # noqa: E731
    assert lab("horse-canter").name == "horse"
    assert lab("wolf-growl-3").name == "wolf"
    assert lab("tiger", "cats", "mammals").name == "tiger"               # no "tiger cat" across folders
    assert lab("bow-puny-fire-miss").synset == "n02879718"                # the weapon, not the knot
    assert lab("bd_haus").name == "bass drum"
    assert lab("drake-die", package="wesnoth-1.16-data").name == "dragon"
    assert lab("drake").name == "drake"                                    # a duck elsewhere
    assert lab("miss-1") is None



def test_labels_prefer_senses_seen_in_use(wn):
    lab = lambda *names, **kw: label_synset(name_words(*names, separate=True), wn, **kw)  # noqa: E731
    assert wn.lexname(lab("thunder").synset) == "event"                  # not "big H", the artifact slang
    assert wn.lexname(lab("zombie-hit-1").synset) == "person"            # not the cocktail
    assert wn.lexname(lab("wood").synset) == "substance"                 # not a woodwind
    assert wn.lexname(lab("whale", "aquatic", "mammals").synset) == "animal"   # an animal sense still competes
    assert lab("bass_hard_c").synset == "n02803349"                       # the instrument, not the fish
    assert wn.is_a(lab("peacock").synset, wn.synsets("bird")[0])          # the bird that calls, not the butterfly
    assert lab("cock-crow").name == "cock" and wn.is_a(lab("cock-crow").synset, "n01791625")   # a chicken
    assert lab("loop_electric") is None                                   # an adjective names no source
    assert lab("Electric sparking") is None


def test_glued_abbreviations_and_package_words(wn):
    wz = "warzone2100-data"
    lab = lambda *names, **kw: label_synset(name_words(*names, separate=True), wn, **kw)  # noqa: E731
    motor, aircraft = "n03791235", "n02686568"
    assert lab("hovmove", "vehicle", package=wz).name == "hovercraft"
    assert lab("vtolland", "vehicle", package=wz).name == "airplane"
    assert lab("mgheavy", "weapons", package=wz).name == "machine gun"
    assert lab("tflight", "vehicle", package=wz).name == "blimp"
    assert wn.is_a(lab("tflight", "vehicle", package=wz).synset, aircraft)
    assert wn.is_a(lab("con-move", "vehicle", package=wz).synset, motor)  # the constructor droids are trucks
    assert lab("con-move", "vehicle").name != "truck"                    # only in Warzone's own words
    # the package's glossary outranks the folder: a cyborg (a person to WordNet) walking in the vehicle folder
    assert lab("cyber-move", "vehicle", package=wz).name == "cyborg"
    assert lab("cyber-move", "vehicle").name == "vehicle"
    # a glossary's compound ranks as its words do: an animal's folder does not outrank 0 A.D.'s siege ram
    assert lab("ram_attack", "horse", package="0ad-data").name == "battering ram"
    assert lab("sparking") is None or lab("sparking").name != "spar"     # dictionary words are not split
    assert lab("wardrums") is None

def test_label_targets_follow_the_hierarchy(wn):
    from latentstudio.soundscape.targets import TargetConfig, label_target
    from latentstudio.zoo import imagenet_labels

    labels = imagenet_labels()
    dog = label_target(wn.synsets("dog")[0], wn=wn)
    assert dog is not None and abs(float(dog.sum()) - 1) < 1e-5
    assert float(dog[labels.index("Beagle")]) == pytest.approx(float(dog.max()))       # hyponyms share the top
    assert float(dog[[i for i, n in enumerate(labels) if "terrier" in n.lower()]].sum()) > 0.1
    assert float(dog[labels.index("espresso")]) == 0.0
    cow = label_target(wn.synsets("cow")[0], wn=wn)
    assert labels[int(np.argmax(cow))] == "ox"                             # a sibling, 2 steps away
    assert label_target(wn.synsets("applause")[0], wn=wn) is None         # nothing to see
    rooster = label_target("n01792158", wn=wn)                             # ImageNet's "cock" pictures roosters
    assert rooster is not None and labels[int(np.argmax(rooster))].lower() == "rooster"
    assert float(rooster[[labels.index(n) for n in labels if n.lower() in ("rooster", "hen")]].sum()) > 0.9
    with pytest.raises(ParameterError, match="scale"):
        TargetConfig(scale=0)


def test_a_loose_label_places_its_sound_only_halfway(wn):
    from latentstudio.soundscape.index import unit
    from latentstudio.soundscape.targets import TRUST_DISTANCE, class_distances, label_position, label_target

    heard = np.zeros(1000, np.float32)
    heard[[1, 2]] = [3.0, 4.0]                                              # two fish, as the student hears it
    dog, caribou = wn.synsets("dog")[0], wn.synsets("caribou")[0]
    assert np.allclose(label_position(dog, heard, wn=wn), unit(label_target(dog, wn=wn)))
    d = class_distances(caribou, wn=wn)
    assert d[d >= 0].min() > TRUST_DISTANCE                                 # no deer among ImageNet's classes
    pos = label_position(caribou, heard, wn=wn)
    t = unit(label_target(caribou, wn=wn))
    assert abs(float(np.linalg.norm(pos)) - 1) < 1e-5
    assert 0.5 < float(pos @ t) < 0.95 and 0.5 < float(pos @ unit(heard)) < 0.95
    for none in ("", None, wn.synsets("applause")[0]):
        assert np.allclose(label_position(none, heard, wn=wn), unit(heard))


def test_opensfx_catalogue_is_read(tmp_path, tone):
    wavs = []
    for f in (220, 440):
        p = tmp_path / f"{f}.wav"
        sf.write(p, tone(f, 0.2), 16000)
        wavs.append(p.read_bytes())
    descs = [b'"Cow". By someone. License: Creative Commons Zero 1.0.\x00', b'"Ship horn". License: CC-BY 3.0.\x00']
    header = 8 * len(wavs)
    body, table, off = b"", b"", header
    for d, w in zip(descs, wavs):
        entry = bytes([len(d)]) + d + w
        table += struct.pack("<II", off | (0x80000000 if off == header else 0), len(w))
        body += entry
        off += len(entry)
    cat = tmp_path / "opensfx.cat"
    cat.write_bytes(table + body)
    got = read_opensfx(cat)
    assert [(t, lic) for t, lic, _ in got] == [("Cow", "Creative Commons Zero 1.0"), ("Ship horn", "CC-BY 3.0")]
    assert got[0][2] == wavs[0]


def test_0ad_sounds_come_from_its_archive_and_are_labelled(tmp_path, monkeypatch, wn, tone):
    """0 A.D. packs its sounds in public.zip: the world's sounds are read (extracted once), its music, unit
    speech and interface cues are not, and its own words label them (hooves, siege rams, rivers)."""
    import zipfile

    from latentstudio.soundscape import library

    wav = tmp_path / "t.wav"
    sf.write(wav, tone(330, 0.2), 16000)
    archive = tmp_path / "mods" / "public" / "public.zip"
    archive.parent.mkdir(parents=True)
    members = ["audio/actor/fauna/animal/cattle_01.wav", "audio/actor/mounted/movement/mstep110.wav",
               "audio/attack/siege/ram_attack.wav", "audio/ambient/water/river_fast_21.wav",
               "audio/attack/weapon/pike_attack.wav",
               "audio/music/Sunrise.wav", "audio/voice/greek/civ/attack.wav", "audio/interface/alarm/alarmally.wav",
               "art/textures/cattle.wav"]
    with zipfile.ZipFile(archive, "w") as z:
        for m in members:
            z.writestr(m, wav.read_bytes())
    monkeypatch.setattr(library, "_dpkg_files", lambda pkg: [archive.parent / "mod.json", archive] if pkg == "0ad-data" else [])
    assert "0ad-data" not in library.installed_packages()                # joins only when asked
    assert "0ad-data" in library.installed_packages(optional=True)
    got = collect_sounds(["0ad-data"])
    assert sorted(s.name for s in got) == ["cattle_01", "mstep110", "pike_attack", "ram_attack", "river_fast_21"]
    labels = {s.name: s.label for s in got}
    assert labels == {"cattle_01": "cattle", "mstep110": "horse", "ram_attack": "battering ram",
                      "river_fast_21": "river", "pike_attack": "pike"}
    assert wn.gloss([s for s in got if s.name == "pike_attack"][0].synset).startswith("medieval weapon")
    assert all(s.package == "0ad-data" and Path(s.path).read_bytes() == wav.read_bytes() for s in got)
    mtime = {s.name: Path(s.path).stat().st_mtime_ns for s in got}
    assert {s.name: Path(s.path).stat().st_mtime_ns for s in collect_sounds(["0ad-data"])} == mtime  # extracted once


def test_user_folder_joins_deduped_and_labelled(tmp_path, wn, tone, tiny_model_dir):
    d = tmp_path / "mine" / "farm"
    d.mkdir(parents=True)
    pcm = np.round(tone(180, 1.0) * 32767).astype(np.int16)
    sf.write(d / "cow_moo.wav", pcm, 16000)
    sf.write(d / "cow_again.flac", pcm, 16000)                             # the same audio, another codec
    sf.write(d / "sheep-2.wav", tone(600, 0.8), 16000)
    sf.write(d / "silent.wav", np.zeros(8000, np.float32), 16000)
    sounds = collect_sounds([], folders=[tmp_path / "mine"])
    assert {s.name: s.label for s in sounds}["sheep-2"] == "sheep"
    assert all(s.package == "user:mine" and s.licence == "user" for s in sounds)
    lib = load_library(sounds, spec=MelSpec(), cache=None)
    assert len(lib) == 2 and len(lib.duplicates) == 1 and len(lib.failed) == 1
    assert audio_hash(lib.waveforms[0]) == lib.hashes[0]
    model, info = load_student(tiny_model_dir)
    with Catalog(tmp_path / "cat") as cat:
        rep = build_library(cat, model=model, model_id=info["id"], packages=[], folders=[tmp_path / "mine"])
        assert rep.sounds == 2 and rep.added == 2 and rep.per_package["user:mine"]["labelled"] == 2
        rows = library_sounds(cat, info["id"])
        assert {r["label"] for _, r in rows} == {"cow", "sheep"} and all(r["audio_hash"] for _, r in rows)
        again = build_library(cat, model=model, model_id=info["id"], packages=[], folders=[tmp_path / "mine"])
        assert again.added == 0 and again.already == 2
    with pytest.raises(ParameterError, match="not a library source"):
        collect_sounds(["openttd-openmsx"])


def test_cli_library_build(tmp_path, tiny_model_dir, tone, wn):
    from latentstudio.cli.main import app

    d = tmp_path / "rec"
    d.mkdir()
    sf.write(d / "horse.wav", tone(300, 1.0), 16000)
    common = ["--catalog", str(tmp_path / "cat"), "--model", str(tiny_model_dir)]
    r = CliRunner().invoke(app, ["soundscape", "library", "build", "--no-packages", "--add", str(d), "--json",
                                 *common])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.stdout[r.stdout.index("{"):])
    assert rep["sounds"] == 1 and rep["labelled"] == 1 and rep["per_package"]["user:rec"]["licence"] == "user"
    r = CliRunner().invoke(app, ["soundscape", "library", "build", "--add", str(tmp_path / "nowhere"), *common])
    assert r.exit_code == 2 and "nowhere" in r.output
    r = CliRunner().invoke(app, ["soundscape", "library", "build", "--help"])
    assert r.exit_code == 0 and "Example" in r.output


def test_cli_library_build_package_all_takes_the_optional_packages(tmp_path, tiny_model_dir, tone, wn, monkeypatch):
    """``--package all`` asks for every installed package, the optional ones (0 A.D.) included; an unknown
    package exits 2 with one line naming 'all' and writes nothing."""
    from latentstudio.cli.main import app
    from latentstudio.soundscape import library as L

    asked = []

    def installed(*, optional=False):
        asked.append(optional)
        return []

    monkeypatch.setattr(L, "installed_packages", installed)
    d = tmp_path / "rec"
    d.mkdir()
    sf.write(d / "horse.wav", tone(300, 1.0), 16000)
    common = ["--catalog", str(tmp_path / "cat"), "--model", str(tiny_model_dir)]
    r = CliRunner().invoke(app, ["soundscape", "library", "build", "--package", "all", "--add", str(d), "--json",
                                 *common])
    assert r.exit_code == 0, r.output
    assert asked == [True] and json.loads(r.stdout[r.stdout.index("{"):])["sounds"] == 1
    r = CliRunner().invoke(app, ["soundscape", "library", "build", "--package", "no-such-pkg", *["--catalog",
                                 str(tmp_path / "cat2"), "--model", str(tiny_model_dir)]])
    assert r.exit_code == 2 and "no-such-pkg" in r.output and "'all'" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "cat2").exists() or not any((tmp_path / "cat2").iterdir())
