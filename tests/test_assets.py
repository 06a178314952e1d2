"""latentstudio.assets: offline finders, drum classes, reserved packages, the ``assets`` command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from latentstudio import assets
from latentstudio.errors import AssetMissingError, ParameterError


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    folder = tmp_path_factory.mktemp("assets") / "cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LATENTSTUDIO_CACHE", str(folder))
        yield folder


def test_sample_image_written_once_as_png(cache):
    from latentstudio.core import image

    p = assets.sample_image("rocket")                      # a JPEG in scikit-image, a PNG here
    assert p.parent.parent == cache and p.suffix == ".png"
    arr = image.load(p)
    assert arr.shape == (427, 640, 3)
    mtime = p.stat().st_mtime_ns
    assert assets.sample_image("rocket") == p and p.stat().st_mtime_ns == mtime
    assert assets.sample_image("cat") == assets.sample_image("chelsea")
    assert assets.sample_image("china").is_file()


def test_sample_images_all_load(cache):
    from PIL import Image

    paths = assets.sample_images()
    assert {"chelsea", "coffee", "astronaut", "rocket", "camera", "china", "flower"} <= set(paths)
    for p in paths.values():
        with Image.open(p) as img:
            assert img.format == "PNG" and min(img.size) > 16


def test_sample_image_unknown_name_lists_choices():
    with pytest.raises(ParameterError, match="name='nope'.*chelsea"):
        assets.sample_image("nope")


def test_faces():
    x = assets.faces(10)
    assert x.shape == (10, 25, 25) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert assets.faces().shape[0] == 200
    with pytest.raises(ParameterError, match="n=0"):
        assets.faces(0)


@pytest.mark.parametrize("name,cls", [
    ("Kick", "kick"), ("BassDrum", "kick"), ("c3 - bass drum 1", "kick"), ("bd_01", "kick"),
    ("Snare Rimshot", "snare"), ("Snare (Pearl Free Floating Maple 14x3.5)", "snare"), ("sd_02", "snare"),
    ("Closed HH", "closed_hat"), ("Hat Pedal", "closed_hat"), ("Sabian Hat Choke", "closed_hat"),
    ("VariBreaks Hat 1 Cl", "closed_hat"), ("Open HH", "open_hat"), ("Hi Hat Opened", "open_hat"),
    ("Hi-Hat Semiopen (Paiste)", "open_hat"), ("Side OHH", "open_hat"), ("Hat Op Dirty", "open_hat"),
    ("Floor Tom", "tom"), ("tomhi2", "tom"), ("Tom Mid", "tom"), ("Ride (Custom, Zagrebin 22\")", "cymbal"),
    ("China (Paiste Alpha 18\")", "cymbal"), ("Zildjian Splash Choke", "cymbal"), ("ride-cup", "cymbal"),
    ("Hand Clap", "clap"), ("Rim Click", "rim"), ("Pearl Side Stick", "rim"),
    ("Cowbell", None), ("Snare Roll", None), ("Conga 1", None), ("Tambourine", None), ("Djembe1 Slap", None),
    ("Sample: beats_01-10.flac", None), ("", None),
])
def test_drum_class(name, cls):
    assert assets.drum_class(name) == cls


def test_drumkits_parse_both_xml_versions():
    kits = assets.drumkits()
    names = {k.name for k in kits}
    assert {"GMRockKit", "TR808EmulationKit"} <= names          # hydrogen-data (namespaced XML)
    for kit in kits:
        assert kit.instruments, kit.name
        for inst in kit.instruments:
            assert inst.files and all(f.is_file() for f in inst.files)
            assert all("emptysample" not in f.name.lower() for f in inst.files)
    rock = assets.drumkit("gmrockkit")
    kick = next(i for i in rock.instruments if i.name == "Kick")
    assert kick.drum_class == "kick" and len(kick.files) == 5          # five velocity layers
    with pytest.raises(ParameterError, match="name='no such kit'"):
        assets.drumkit("no such kit")


def test_drumkit_without_namespace(tmp_path, monkeypatch):
    kit = tmp_path / "kits" / "Mine"
    kit.mkdir(parents=True)
    (kit / "k.wav").write_bytes(b"RIFF")
    (kit / "drumkit.xml").write_text(
        "<drumkit_info><name>Mine</name><licence>CC0</licence><instrumentList>"
        "<instrument><name>Kick</name><filename>k.wav</filename></instrument>"
        "<instrument><name>Ghost</name><layer><filename>missing.wav</filename></layer></instrument>"
        "</instrumentList></drumkit_info>")
    monkeypatch.setenv("LATENTSTUDIO_DRUMKITS", str(tmp_path / "kits"))
    mine = assets.drumkit("Mine")
    assert mine.licence == "CC0" and [i.name for i in mine.instruments] == ["Kick"]
    assert mine.instruments[0].files == [kit / "k.wav"]


def test_drum_samples_every_class():
    samples = assets.drum_samples()
    assert set(samples) == set(assets.DRUM_CLASSES)
    assert all(len(v) >= 1 for v in samples.values()), {k: len(v) for k, v in samples.items()}
    flat = [f for v in samples.values() for f in v]
    assert len(flat) == len(set(flat))
    with pytest.raises(ParameterError, match="cowbell"):
        assets.drum_samples(("cowbell",))


def test_tuxpaint_stamps_with_own_sound():
    stamps = assets.tuxpaint_stamps(with_sound=True)
    assert 120 <= len(stamps) <= 150
    for s in stamps:
        assert s.image.is_file() and s.sound.is_file()
        assert s.sound.stem == s.name and "_desc" not in s.sound.name
    duck = next(s for s in stamps if s.name == "duck")
    assert duck.category == "animals/birds" and duck.description == "A duck."
    assert duck.description_sound is not None and duck.description_sound.name == "duck_desc.ogg"
    every = assets.tuxpaint_stamps()
    assert len(every) > 5 * len(stamps)
    assert not any(s.name.endswith(("_mirror", "_flip")) for s in every)


def test_fortunes():
    texts = assets.fortunes()
    cats = {c for c, _ in texts}
    assert len(texts) > 1000 and len(cats) > 10
    assert all(t and "\n%\n" not in t for _, t in texts[:500])
    with pytest.raises(ParameterError, match="nope"):
        assets.fortunes(("nope",))


def test_fashion_mnist():
    x, y = assets.fashion_mnist("test")
    assert x.shape == (10000, 28, 28) and x.dtype == np.uint8 and y.shape == (10000,)
    assert set(np.unique(y)) == set(range(10)) and x.max() == 255
    with pytest.raises(ParameterError, match="split='val'"):
        assets.fashion_mnist("val")


def test_sound_programs():
    assert assets.soundfont().name == "FluidR3_GM.sf2"
    assert Path(assets.fluidsynth_binary()).is_file()
    assert Path(assets.espeak_binary()).is_file()


def test_missing_asset_names_package(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENTSTUDIO_FORTUNES", str(tmp_path / "none"))
    with pytest.raises(AssetMissingError, match="apt-get install fortunes"):
        assets.fortunes()
    monkeypatch.setenv("LATENTSTUDIO_TUXPAINT_STAMPS", str(tmp_path / "none"))
    with pytest.raises(AssetMissingError, match="apt-get install tuxpaint-stamps-default"):
        assets.tuxpaint_stamps()
    monkeypatch.setenv("LATENTSTUDIO_FASHION_MNIST", str(tmp_path / "none"))
    assets._fashion_mnist.cache_clear()
    try:
        with pytest.raises(AssetMissingError, match="apt-get install dataset-fashion-mnist"):
            assets.fashion_mnist("train")
    finally:
        assets._fashion_mnist.cache_clear()
    monkeypatch.setattr(assets.shutil, "which", lambda name: None)
    with pytest.raises(AssetMissingError, match="apt-get install espeak-ng"):
        assets.espeak_binary()


def test_reserved_packages_never_returned(cache, tmp_path, monkeypatch):
    assert assets.RESERVED == ("openttd-openmsx", "planetblupi-music-midi", "avldrums.lv2-soundfont")
    kits = tmp_path / "kits" / "avldrums-kit"
    kits.mkdir(parents=True)
    (kits / "k.wav").write_bytes(b"RIFF")
    (kits / "drumkit.xml").write_text("<drumkit_info><name>AVL</name><instrumentList><instrument><name>Kick"
                                      "</name><filename>k.wav</filename></instrument></instrumentList>"
                                      "</drumkit_info>")
    monkeypatch.setenv("LATENTSTUDIO_DRUMKITS", str(tmp_path / "kits"))
    assert "AVL" not in {k.name for k in assets.drumkits()}
    assert assets.is_reserved("/usr/share/games/openttd/baseset/openmsx/x.mid")
    every = [str(p) for p in assets.sample_images().values()]
    every += [str(f) for v in assets.drum_samples().values() for f in v]
    every += [str(s.image) for s in assets.tuxpaint_stamps()] + [str(assets.soundfont())]
    assert not any(assets.is_reserved(p) for p in every)


def test_package_licence():
    assert assets.package_licence("dataset-fashion-mnist") == "Expat"
    assert assets.package_licence("fluid-soundfont-gm") == "MIT"
    assert assets.package_licence("no-such-package") == ""


def test_list_assets_and_cli(cache):
    from latentstudio.cli.main import app

    rows = assets.list_assets()
    by_name = {r.name: r for r in rows}
    assert by_name["fashion-mnist"].count == 70000 and by_name["fashion-mnist"].licence == "Expat"
    assert by_name["tux paint stamp sounds"].count >= 120
    runner = CliRunner()
    res = runner.invoke(app, ["assets", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {d["name"] for d in data} == set(by_name)
    assert all({"available", "count", "package", "licence"} <= set(d) for d in data)
    res = runner.invoke(app, ["assets"])
    assert res.exit_code == 0 and "fashion-mnist" in res.stdout
