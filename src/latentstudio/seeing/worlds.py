"""Worlds: the photographs a Learning-to-See network is trained on, split by photograph.

A world is a handful of large photographs of one kind of thing (flowers, water, foliage); random crops of them
give thousands of training samples (:mod:`.degrade`). Offline, the worlds are made of the nature photographs of
Debian's desktop-background packages (``mate-backgrounds``, ``plasma-workspace-wallpapers``, ``lomiri-wallpapers-16.04``)
and scikit-learn's sample ``flower.jpg``; any folder of pictures is a world too.

Splits are by photograph (a photograph is an origin: its crops never cross splits), deduped by decoded-pixel
hash. The *test* material of a world is never its own photographs: a network that knows one world is judged on
inputs unlike it (:func:`unrelated_inputs`: scikit-image's sample photographs, faces, wallpapers of other
kinds, Tux Paint clip art).

Example
-------
>>> w = load_world("flowers", short_side=256)                       # doctest: +SKIP
>>> len(w.train), [p.name for p in w.validation]                    # doctest: +SKIP
(6, ['seeding_by_Clements_Engelhardt.jpg'])
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.core import image as imageio
from latentstudio.errors import AssetMissingError, ParameterError

_MATE = "/usr/share/backgrounds/mate/nature"
_PLASMA = "/usr/share/wallpapers"
_UKUI = "/usr/share/backgrounds"

#: Built-in worlds: name -> (package, path) of each photograph; the last one listed is the validation photo.
WORLDS: dict[str, tuple[tuple[str, str], ...]] = {
    "flowers": (
        ("mate-backgrounds", f"{_MATE}/FreshFlower.jpg"),
        ("mate-backgrounds", f"{_MATE}/Garden.jpg"),
        ("mate-backgrounds", f"{_MATE}/YellowFlower.jpg"),
        ("mate-backgrounds", f"{_MATE}/LadyBird.jpg"),
        ("mate-backgrounds", f"{_MATE}/TwoWings.jpg"),
        ("scikit-learn", "sklearn:flower.jpg"),
        ("lomiri-wallpapers-16.04", f"{_UKUI}/seeding_by_Clements_Engelhardt.jpg"),
    ),
    "water": (
        ("plasma-workspace-wallpapers", f"{_PLASMA}/BytheWater"),
        ("plasma-workspace-wallpapers", f"{_PLASMA}/ColdRipple"),
        ("plasma-workspace-wallpapers", f"{_PLASMA}/EveningGlow"),
        ("plasma-workspace-wallpapers", f"{_PLASMA}/summer_1am"),
        ("mate-backgrounds", f"{_MATE}/Aqua.jpg"),
        ("lomiri-wallpapers-16.04", f"{_UKUI}/life_by_Aitzol_Berasategi.jpg"),
        ("lomiri-wallpapers-16.04", f"{_UKUI}/sunset_by_Aitzol_Berasategi.jpg"),
    ),
    "foliage": (
        ("mate-backgrounds", f"{_MATE}/Blinds.jpg"),
        ("mate-backgrounds", f"{_MATE}/GreenMeadow.jpg"),
        ("mate-backgrounds", f"{_MATE}/RainDrops.jpg"),
        ("plasma-workspace-wallpapers", f"{_PLASMA}/OneStandsOut"),
        ("plasma-workspace-wallpapers", f"{_PLASMA}/Path"),
        ("plasma-workspace-wallpapers", f"{_PLASMA}/FallenLeaf"),
        ("mate-backgrounds", f"{_MATE}/Dune.jpg"),
    ),
}
#: Debian packages the built-in worlds need (``make data`` installs them).
#: ImageNet classes that belong to a built-in world: what ``seeing check`` counts as "of its world", and what
#: ``seeing train --guide`` pulls the outputs towards (worlds not listed use the classes their own photographs get).
WORLD_CLASSES: dict[str, tuple[str, ...]] = {
    "flowers": ("daisy", "yellow lady's slipper", "rapeseed", "cardoon"),
    "water": ("lakeshore", "seashore", "sandbar", "breakwater", "promontory", "dock", "boathouse", "geyser"),
}
WORLD_PACKAGES = ("mate-backgrounds", "plasma-workspace-wallpapers", "lomiri-wallpapers-16.04")


@dataclass
class World:
    """A world's photographs as arrays, split by photograph.

    Attributes
    ----------
    name : the world's name (built-in name or the folder's name)
    train, validation : lists of :class:`Photo`
    """

    name: str
    train: list["Photo"] = field(default_factory=list)
    validation: list["Photo"] = field(default_factory=list)

    def describe(self) -> dict:
        """JSON-ready summary: photographs per split (name, size, hash)."""
        return {"name": self.name,
                **{split: [{"name": p.name, "size": list(p.pixels.shape[:2]), "sha1": p.sha1}
                           for p in getattr(self, split)] for split in ("train", "validation")}}


@dataclass
class Photo:
    """One photograph: ``pixels`` (H, W, 3) uint8, its file ``name``, decoded-pixel ``sha1`` and file ``path``."""

    name: str
    pixels: np.ndarray
    sha1: str
    path: str = ""


def _plasma_file(folder: Path) -> Path | None:
    """The largest picture of a Plasma wallpaper folder (``contents/images/WxH.ext``)."""
    images = folder / "contents" / "images"
    if not images.is_dir():
        return None
    best, area = None, -1
    for p in images.iterdir():
        try:
            w, h = (int(v) for v in p.stem.split("x"))
        except ValueError:
            continue
        if w * h > area and p.suffix.lower() in imageio.IMAGE_EXTENSIONS:
            best, area = p, w * h
    return best


def _resolve(package: str, spec: str) -> Path:
    if spec.startswith("sklearn:"):
        from latentstudio.assets import sample_image

        return sample_image(Path(spec.split(":", 1)[1]).stem)
    p = Path(spec)
    if p.is_dir():
        found = _plasma_file(p)
        if found is not None:
            return found
    if p.is_file():
        return p
    raise AssetMissingError(f"world photograph {spec} is missing; install it: sudo apt-get install -y {package} "
                            f"(or run `make data`)")


def world_files(name: str) -> list[Path]:
    """The photograph files of a built-in world (the validation photograph last).

    Raises
    ------
    ParameterError : unknown world
    AssetMissingError : a photograph's Debian package is not installed (names the package)
    """
    if name not in WORLDS:
        raise ParameterError(f"world {name!r} is unknown; choose one of {', '.join(WORLDS)} or pass a folder")
    return [_resolve(pkg, spec) for pkg, spec in WORLDS[name]]


def _photo(path: Path, short_side: int) -> Photo:
    arr = imageio.load(path)
    h, w = arr.shape[:2]
    if min(h, w) > short_side:
        arr = imageio.resize(arr, short_side)
    px = imageio.to_uint8(arr)
    return Photo(name=path.name, pixels=px, sha1=hashlib.sha1(np.ascontiguousarray(px).tobytes()).hexdigest(),
                 path=str(Path(path).resolve()))


def load_world(source: str | os.PathLike, *, short_side: int = 512, validation: int = 1) -> World:
    """Load a built-in world or a folder of pictures, resized so the shorter side is at most ``short_side``.

    Parameters
    ----------
    source : a name of :data:`WORLDS` or a folder of pictures (searched recursively)
    short_side : photographs are shrunk so their shorter side is at most this many pixels
    validation : how many photographs to hold out for validation (a built-in world holds out its last one;
        a folder holds out the ones whose content hash sorts first, so the split is stable as files move)

    Raises
    ------
    ParameterError : unknown name, a folder without pictures, fewer than ``validation + 1`` distinct pictures
    AssetMissingError : a built-in world's package is missing
    """
    if not isinstance(short_side, int) or short_side < 32:
        raise ParameterError(f"short_side={short_side!r} must be an integer >= 32")
    if not isinstance(validation, int) or validation < 0:
        raise ParameterError(f"validation={validation!r} must be an integer >= 0")
    text = os.fspath(source)
    if text in WORLDS:
        files, name, ordered = world_files(text), text, True
    else:
        folder = Path(text)
        if not folder.is_dir():
            raise ParameterError(f"world {text!r} is neither a folder nor one of {', '.join(WORLDS)}")
        files = imageio.image_files(folder, what="world folder")
        name, ordered = folder.name, False
    photos: dict[str, Photo] = {}
    for f in files:
        ph = _photo(f, short_side)
        photos.setdefault(ph.sha1, ph)          # byte-identical pictures are one origin
    unique = list(photos.values())
    if len(unique) < validation + 1:
        raise ParameterError(f"world {text!r} has {len(unique)} distinct picture(s); it needs at least "
                             f"{validation + 1} (training and {validation} for validation)")
    if not ordered:
        unique.sort(key=lambda p: p.sha1)
        held, kept = unique[:validation], unique[validation:]
    else:
        held, kept = unique[len(unique) - validation:], unique[:len(unique) - validation]
    return World(name=name, train=kept, validation=held)


#: Where ``offworld_photos("wallpapers")`` looks: every desktop background the world packages install.
OFFWORLD_FOLDERS = ("/usr/share/backgrounds", _PLASMA)


def offworld_photos(world: World, source: str | os.PathLike = "wallpapers", *,
                    short_side: int = 512) -> list[Photo]:
    """Pictures that are *not* of ``world``, for the off-world training term (``seeing train --off-guide``).

    ``source`` is ``"wallpapers"`` (the desktop backgrounds of :data:`WORLD_PACKAGES`: landscapes, water, sky,
    abstract and graphic designs) or a folder of pictures. The world's own photographs (training and validation:
    the same files, or copies of them with the same decoded pixels) are left out. No test or validation input is
    among the wallpapers: those are faces, stamps and scikit-image samples.

    Raises
    ------
    ParameterError : a folder that is missing or holds no pictures, or no off-world picture left
    """
    text = os.fspath(source)
    if text == "wallpapers":
        files: list[Path] = []
        for root in map(Path, OFFWORLD_FOLDERS):
            if not root.is_dir():
                continue
            if root == Path(_PLASMA):
                files += [f for f in map(_plasma_file, sorted(p for p in root.iterdir() if p.is_dir())) if f]
            else:
                files += imageio.image_files(root, what="wallpaper folder")
    else:
        files = imageio.image_files(text, what="off-world folder")
    own = {p.sha1 for p in world.train + world.validation}
    own_files = {p.path for p in world.train + world.validation if p.path}
    photos: dict[str, Photo] = {}
    for f in files:
        if str(Path(f).resolve()) in own_files:
            continue
        ph = _photo(f, short_side)
        if f.parent.name == "images" and f.parents[1].name == "contents":     # a Plasma folder: name it
            ph.name = f.parents[2].name
        if ph.sha1 not in own and min(ph.pixels.shape[:2]) >= 64:
            photos.setdefault(ph.sha1, ph)
    if not photos:
        raise ParameterError(f"no off-world pictures in {text!r} (the world's own photographs are left out); "
                             "install the wallpaper packages (`make data`) or pass a folder")
    return list(photos.values())


#: Unrelated inputs: scikit-image / scikit-learn sample photographs unlike every built-in world.
UNRELATED_SAMPLES = ("astronaut", "camera", "chelsea", "coffee", "rocket", "motorcycle", "horse", "coins",
                     "china", "brick", "page", "clock")


#: Unrelated inputs for *choices* (validation): other sample pictures, never the test ones above.
VALIDATION_SAMPLES = ("grass", "gravel", "hubble_deep_field", "retina", "logo", "text", "colorwheel", "moon",
                      "immunohistochemistry", "microaneurysms")


def validation_inputs(n_faces: int = 4, n_stamps: int = 8, *, size: int = 256,
                      seed: int = 1) -> list[tuple[str, np.ndarray]]:
    """Inputs unlike any world for making choices (run-time settings, loss weights), of the same kinds as the
    test inputs but never the same pictures: the scikit-image samples of :data:`VALIDATION_SAMPLES`, then LFW
    faces and Tux Paint stamps drawn (seeded) from those :func:`unrelated_inputs` does not use, no plant
    stamps among them (a flower stamp is of a world, not unlike it)."""
    from latentstudio import assets

    out = [(name, _square(assets.sample_image(name), size)) for name in VALIDATION_SAMPLES]
    faces = _faces() if n_faces or n_stamps else np.zeros((0,))    # the test's stamp draw follows its faces'
    stamps = _stamps() if n_stamps else []
    test_faces, test_stamps = _test_choices(TEST_FACES, TEST_STAMPS, len(faces), len(stamps), seed=0)
    rng = np.random.default_rng(seed)
    if n_faces:
        free = [i for i in range(len(faces)) if i not in test_faces]
        out += [(f"face{int(i)}", _face_square(faces[int(i)], size))
                for i in rng.choice(free, size=min(n_faces, len(free)), replace=False)]
    free = [i for i, s in enumerate(stamps) if i not in test_stamps and not s.category.startswith("plants")]
    if n_stamps and free:
        out += [(f"stamp:{stamps[int(i)].image.stem}", _square(stamps[int(i)].image, size))
                for i in rng.choice(free, size=min(n_stamps, len(free)), replace=False)]
    return out


#: How many LFW faces and Tux Paint stamps the test inputs hold by default.
TEST_FACES, TEST_STAMPS = 4, 8


#: scikit-image's ``lfw_subset`` holds 100 faces, then 100 patches that are not faces.
LFW_FACES = 100


def _faces() -> np.ndarray:
    """The LFW faces of scikit-image's subset: its first :data:`LFW_FACES` pictures (the rest are not faces)."""
    from latentstudio import assets

    return assets.faces(LFW_FACES)


def _stamps() -> list:
    from latentstudio import assets

    try:
        return assets.tuxpaint_stamps(raster_only=True)
    except AssetMissingError:
        return []


def _test_choices(n_faces: int, n_stamps: int, faces_there: int, stamps_there: int, *,
                  seed: int) -> tuple[list[int], list[int]]:
    """The indices, in order, of the faces and the stamps :func:`unrelated_inputs` draws from ``faces_there``
    faces and ``stamps_there`` stamps (one seeded generator: faces first, then stamps)."""
    rng = np.random.default_rng(seed)
    faces = rng.choice(faces_there, size=min(n_faces, faces_there), replace=False).tolist() \
        if n_faces and faces_there else []
    stamps = rng.choice(stamps_there, size=min(n_stamps, stamps_there), replace=False).tolist() \
        if n_stamps and stamps_there else []
    return faces, stamps


def _square(path, size: int) -> np.ndarray:
    """A picture file as a centre-cropped ``size`` square (shorter side resized to ``size``)."""
    return imageio.center_crop(imageio.load(path, size=size), size)


def _face_square(face: np.ndarray, size: int) -> np.ndarray:
    face = np.repeat(face[..., None], 3, axis=2) if face.ndim == 2 else face
    return imageio.center_crop(imageio.resize(face.astype(np.float32), size), size)


def unrelated_inputs(n_faces: int = TEST_FACES, n_stamps: int = TEST_STAMPS, *, size: int = 256,
                     seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """Test inputs unlike any world: sample photographs, faces and Tux Paint clip art, centre-cropped squares.

    Returns ``[(name, (size, size, 3) float32)]``; the stamps and faces are a seeded choice.
    """
    from latentstudio import assets

    out = [(name, _square(assets.sample_image(name), size)) for name in UNRELATED_SAMPLES]
    faces = _faces() if n_faces else np.zeros((0,))
    stamps = _stamps() if n_stamps else []
    face_ids, stamp_ids = _test_choices(n_faces, n_stamps, len(faces), len(stamps), seed=seed)
    out += [(f"face{i}", _face_square(faces[i], size)) for i in face_ids]
    out += [(f"stamp:{stamps[i].image.stem}", _square(stamps[i].image, size)) for i in stamp_ids]
    return out
