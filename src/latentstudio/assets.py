"""Every offline asset latentstudio uses, found on disk, with the package to install when one is missing.

Nothing here downloads. Each finder either returns paths/arrays or raises
:class:`~latentstudio.errors.AssetMissingError` whose message holds the exact install command
(``apt-get install X`` or ``pip install X``).

==========================  ==============================================  ===========================
finder                      what                                            package
==========================  ==============================================  ===========================
:func:`sample_image`        photographs (chelsea, coffee, astronaut, ...)   scikit-image, scikit-learn
:func:`faces`               LFW face crops, 25x25 greyscale                 scikit-image
:func:`drumkits`            Hydrogen drum kits (drumkit.xml + samples)      hydrogen-data, -drumkits
:func:`drum_samples`        one-shot samples grouped by :data:`DRUM_CLASSES`
:func:`tuxpaint_stamps`     stamp images, ~130 with their own sound          tuxpaint-stamps-default
:func:`fortunes`            short texts by category                         fortunes
:func:`fashion_mnist`       28x28 clothes images + labels                   dataset-fashion-mnist
:func:`soundfont`           General MIDI soundfont FluidR3_GM.sf2           fluid-soundfont-gm
:func:`espeak_binary`       speech synthesiser                              espeak-ng
==========================  ==============================================  ===========================

The packages in :data:`RESERVED` are kept for independent evaluation: no finder ever returns a path
from them.

Example
-------
>>> from latentstudio import assets
>>> img = assets.sample_image("chelsea")           # a PNG in the cache folder
>>> kit = assets.drumkit("TR808EmulationKit")
>>> [i.name for i in kit.instruments][:3]
['Kick Long', 'Kick Short', 'Snare 1']
"""

from __future__ import annotations

import functools
import gzip
import os
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.core.fileio import atomic_path
from latentstudio.errors import AssetMissingError, ParameterError

#: Debian packages reserved for independent evaluation; nothing here may return their files.
RESERVED = ("openttd-openmsx", "planetblupi-music-midi", "avldrums.lv2-soundfont")
_RESERVED_WORDS = ("openmsx", "blupi", "avldrums")

#: The drum classes :func:`drum_class` maps instrument names onto.
DRUM_CLASSES = ("kick", "snare", "closed_hat", "open_hat", "tom", "cymbal", "clap", "rim")

#: Fashion-MNIST label names, by label number.
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot")

DRUMKIT_DIRS = ("/usr/share/hydrogen/data/drumkits", "~/.hydrogen/data/drumkits")
#: drum one-shots and DrumSynth presets of LMMS (``lmms-common``), one-shots of Sonic Pi (``sonic-pi-samples``)
LMMS_DRUMS_DIR = Path("/usr/share/lmms/samples/drums")
LMMS_DRUMSYNTH_DIR = Path("/usr/share/lmms/samples/drumsynth")
SONIC_PI_DIR = Path("/usr/share/sonic-pi/samples")
TUXPAINT_STAMPS_DIR = "/usr/share/tuxpaint/stamps"
FORTUNES_DIR = "/usr/share/games/fortunes"
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
SOUND_EXTENSIONS = (".ogg", ".wav")

# name -> (package, file inside that package's data folder)
_SKIMAGE_FILES = {
    "astronaut": "astronaut.png", "brick": "brick.png", "camera": "camera.png", "cat": "chelsea.png",
    "chelsea": "chelsea.png", "clock": "clock_motion.png", "coffee": "coffee.png", "coins": "coins.png",
    "colorwheel": "color.png", "grass": "grass.png", "gravel": "gravel.png", "horse": "horse.png",
    "hubble_deep_field": "hubble_deep_field.jpg", "immunohistochemistry": "ihc.png", "logo": "logo.png",
    "microaneurysms": "microaneurysms.png", "moon": "moon.png", "motorcycle": "motorcycle_left.png",
    "page": "page.png", "retina": "retina.jpg", "rocket": "rocket.jpg", "text": "text.png",
}
_SKLEARN_FILES = {"china": "china.jpg", "flower": "flower.jpg"}
#: Names :func:`sample_images` returns (``cat`` is an alias of ``chelsea`` and left out).
SAMPLE_IMAGES = tuple(sorted(set(_SKIMAGE_FILES) - {"cat"} | set(_SKLEARN_FILES)))


# ----------------------------------------------------------------------------------------------- plumbing
def cache_dir() -> Path:
    """The folder for latentstudio's derived files: ``$LATENTSTUDIO_CACHE`` or ``~/.cache/latentstudio``."""
    env = os.environ.get("LATENTSTUDIO_CACHE")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "latentstudio"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _apt(package: str, what: str) -> AssetMissingError:
    return AssetMissingError(f"{what} not found; install it: apt-get install {package}")


@functools.lru_cache(maxsize=1)
def _reserved_files() -> frozenset[str]:
    """Files installed by the reserved packages, from dpkg's lists (empty when none is installed)."""
    files: set[str] = set()
    info = Path("/var/lib/dpkg/info")
    for pkg in RESERVED:
        for lst in list(info.glob(f"{pkg}.list")) + list(info.glob(f"{pkg}:*.list")):
            for line in lst.read_text(errors="replace").splitlines():
                if line and not os.path.isdir(line):
                    files.add(os.path.realpath(line))
    return frozenset(files)


def is_reserved(path: str | os.PathLike) -> bool:
    """True when ``path`` belongs to (or points into) a package of :data:`RESERVED`."""
    real = os.path.realpath(path)
    low = real.lower()
    if any(word in low for word in _RESERVED_WORDS):
        return True
    return real in _reserved_files()


def _allowed(path: Path) -> bool:
    return path.exists() and not is_reserved(path)


# -------------------------------------------------------------------------------------------- images
def _package_dir(module: str, pip_name: str) -> Path:
    """Folder of an installed Python package, found without importing it (scikit-learn takes seconds)."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise AssetMissingError(f"{pip_name} is not installed; install it: pip install {pip_name}")
    return Path(list(spec.submodule_search_locations)[0])


def _skimage_dir() -> Path:
    return _package_dir("skimage", "scikit-image") / "data"


def _sklearn_dir() -> Path:
    return _package_dir("sklearn", "scikit-learn") / "datasets" / "images"


def sample_image(name: str) -> Path:
    """Path of a packaged sample photograph as a PNG, written once into :func:`cache_dir`.

    Parameters
    ----------
    name : one of :data:`SAMPLE_IMAGES` (scikit-image's ``chelsea``, ``coffee``, ``astronaut``, ``rocket``,
        ``camera``, ...; scikit-learn's ``china`` and ``flower``); ``cat`` is ``chelsea``

    Raises
    ------
    ParameterError : unknown name
    AssetMissingError : scikit-image / scikit-learn is not installed (names the pip package)

    Example
    -------
    >>> from latentstudio.core import image
    >>> arr = image.load(sample_image("coffee"))
    >>> arr.shape
    (400, 600, 3)
    """
    if not isinstance(name, str) or name not in _SKIMAGE_FILES and name not in _SKLEARN_FILES:
        raise ParameterError(f"sample image name={name!r} is unknown; choose one of {', '.join(SAMPLE_IMAGES)}")
    if name in _SKIMAGE_FILES:
        src, pip_name = _skimage_dir() / _SKIMAGE_FILES[name], "scikit-image"
    else:
        src, pip_name = _sklearn_dir() / _SKLEARN_FILES[name], "scikit-learn"
    if not src.is_file():
        raise AssetMissingError(f"sample image {name!r} ({src}) is missing; reinstall it: "
                                f"pip install --force-reinstall {pip_name}")
    out = cache_dir() / "images" / f"{'chelsea' if name == 'cat' else name}.png"
    if not out.is_file():
        from PIL import Image

        with Image.open(src) as img:
            img.load()
            if img.mode not in ("L", "RGB", "RGBA"):
                img = img.convert("RGBA" if "A" in img.mode else "RGB")
            with atomic_path(out) as tmp:
                img.save(tmp, format="PNG")
    return out


def sample_images() -> dict[str, Path]:
    """Every name of :data:`SAMPLE_IMAGES` -> its PNG (see :func:`sample_image`).

    Example
    -------
    >>> sorted(sample_images())[:3]
    ['astronaut', 'brick', 'camera']
    """
    return {name: sample_image(name) for name in SAMPLE_IMAGES}


def faces(n: int | None = None) -> np.ndarray:
    """Labeled-Faces-in-the-Wild crops from scikit-image: ``(n, 25, 25)`` float32 greyscale in [0, 1].

    The first 100 are faces, the last 100 are not (scikit-image's ``lfw_subset``); ``n=None`` gives all 200.

    Example
    -------
    >>> faces(8).shape
    (8, 25, 25)
    """
    path = _skimage_dir() / "lfw_subset.npy"
    if not path.is_file():
        raise AssetMissingError(f"{path} is missing; reinstall it: pip install --force-reinstall scikit-image")
    arr = np.load(path, allow_pickle=False).astype(np.float32)
    if n is None:
        return arr
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 1 <= n <= len(arr):
        raise ParameterError(f"n={n!r} must be an integer in [1, {len(arr)}]")
    return arr[:n]


# ----------------------------------------------------------------------------------------- drum kits
@dataclass(frozen=True)
class Instrument:
    """One instrument of a drum kit: its name, its layer sample files and its :func:`drum_class`."""

    name: str
    files: list[Path]
    drum_class: str | None = None


@dataclass(frozen=True)
class DrumKit:
    """A Hydrogen drum kit: its folder, licence and instruments (those with at least one real sample)."""

    name: str
    path: Path
    instruments: list[Instrument]
    author: str = ""
    licence: str = ""
    package: str = ""


_PAREN = re.compile(r"\([^)]*\)")
_DRUM_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("none", re.compile(r"roll|cowbell")),
    ("open_hat", re.compile(r"(?<![a-z])(ohh|oh)(?![a-z])|"
                            r"(hat|(?<![a-z])hh).*(open|opened|(?<![a-z])op(?![a-z])|semi|swish)|"
                            r"(open|semi).*(hat|(?<![a-z])hh)")),
    ("closed_hat", re.compile(r"(?<![a-z])(c?hh|hat|hihat|hi-hat)")),
    ("cymbal", re.compile(r"crash|ride|cymbal|china|splash")),
    ("kick", re.compile(r"kick|(?<![a-z])bd(?![a-z])|bass ?drum")),
    ("snare", re.compile(r"snare|(?<![a-z])sd(?![a-z])")),
    ("clap", re.compile(r"clap|snap")),
    ("rim", re.compile(r"(?<![a-z])rim|stick")),
    ("tom", re.compile(r"(?<![a-z])tom|floortom")),
)


def drum_class(instrument_name: str) -> str | None:
    """Map a drum instrument's name onto one of :data:`DRUM_CLASSES`, or None.

    Keywords (case-insensitive, text in parentheses ignored): kick/bd/bass drum -> ``kick``;
    snare/sd (rimshots too) -> ``snare``; hat/hh/chh, pedal and choked hats -> ``closed_hat``;
    open/semi-open hat, ohh -> ``open_hat``; tom -> ``tom``; crash/ride/cymbal/china/splash -> ``cymbal``;
    clap/snap -> ``clap``; rim/side stick/claves -> ``rim``. Rolls, cowbells and other percussion give None.

    Example
    -------
    >>> drum_class("Hi-Hat Semiopen (Paiste Alpha 14\\")"), drum_class("Pearl Side Stick"), drum_class("Conga")
    ('open_hat', 'rim', None)
    """
    if not isinstance(instrument_name, str):
        return None
    text = _PAREN.sub(" ", instrument_name).lower().replace("_", " ")
    for cls, rule in _DRUM_RULES:
        if rule.search(text):
            return None if cls == "none" else cls
    return None


def _strip_namespaces(root: ET.Element) -> ET.Element:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


def _package_of(path: Path) -> str:
    """The Debian package that installed ``path`` (from dpkg's lists), or ''."""
    target = str(path)
    for lst in Path("/var/lib/dpkg/info").glob("hydrogen*.list"):
        with lst.open(errors="replace") as fh:
            if any(line.rstrip("\n") == target for line in fh):
                return lst.name.split(":")[0][: -len(".list")]
    return ""


def _parse_drumkit(xml_path: Path) -> DrumKit:
    try:
        root = _strip_namespaces(ET.parse(xml_path).getroot())
    except (ET.ParseError, OSError) as exc:
        raise ParameterError(f"drum kit file {str(xml_path)!r} is not readable XML ({exc})") from None
    folder = xml_path.parent
    instruments = []
    for inst in root.iter("instrument"):
        name = (inst.findtext("name") or "").strip()
        files: list[Path] = []
        for el in inst.iter("filename"):           # 0.9.x: layer/filename; 1.x: instrumentComponent/layer
            text = (el.text or "").strip()
            if not text or Path(text).stem.lower().startswith("emptysample"):
                continue
            f = Path(text) if os.path.isabs(text) else folder / text
            if f not in files and _allowed(f):
                files.append(f)
        if files:
            cls = drum_class(name) or drum_class(files[0].stem)
            instruments.append(Instrument(name=name or files[0].stem, files=files, drum_class=cls))
    licence = (root.findtext("license") or root.findtext("licence") or "").strip()
    return DrumKit(name=(root.findtext("name") or folder.name).strip(), path=folder, instruments=instruments,
                   author=(root.findtext("author") or "").strip(), licence=licence,
                   package=_package_of(folder))


def _drumkit_dirs() -> list[Path]:
    env = os.environ.get("LATENTSTUDIO_DRUMKITS")
    dirs = [Path(p).expanduser() for p in env.split(os.pathsep) if p] if env else []
    return dirs + [Path(d).expanduser() for d in DRUMKIT_DIRS]


@functools.lru_cache(maxsize=8)
def _drumkits(dirs: tuple[Path, ...]) -> tuple[DrumKit, ...]:
    kits = []
    for d in dirs:
        for xml_path in sorted(d.glob("*/drumkit.xml")) if d.is_dir() else []:
            if is_reserved(xml_path):
                continue
            kit = _parse_drumkit(xml_path)
            if kit.instruments:
                kits.append(kit)
    return tuple(kits)


def drumkits() -> list[DrumKit]:
    """Every Hydrogen drum kit installed (``$LATENTSTUDIO_DRUMKITS``, Debian's and the user's folders).

    Raises
    ------
    AssetMissingError : no kit found (names ``hydrogen-data`` and ``hydrogen-drumkits``)

    Example
    -------
    >>> sum(len(k.instruments) for k in drumkits()) > 20
    True
    """
    kits = list(_drumkits(tuple(_drumkit_dirs())))
    if not kits:
        raise _apt("hydrogen-data hydrogen-drumkits", "Hydrogen drum kits")
    return kits


def drumkit(name: str) -> DrumKit:
    """The installed drum kit named ``name`` (kit name or folder name, case-insensitive).

    Example
    -------
    >>> drumkit("gmrockkit").name
    'GMRockKit'
    """
    kits = drumkits()
    for kit in kits:
        if str(name).lower() in (kit.name.lower(), kit.path.name.lower()):
            return kit
    raise ParameterError(f"drum kit name={name!r} is not installed; installed: "
                         f"{', '.join(k.name for k in kits)}")


def drum_samples(classes: tuple[str, ...] = DRUM_CLASSES) -> dict[str, list[Path]]:
    """Sample files of every installed kit grouped by drum class (each file once), for ``classes``.

    Example
    -------
    >>> samples = drum_samples()
    >>> sorted(samples) == sorted(DRUM_CLASSES)
    True
    """
    bad = [c for c in classes if c not in DRUM_CLASSES]
    if bad:
        raise ParameterError(f"classes={bad!r} are not drum classes; choose from {', '.join(DRUM_CLASSES)}")
    out: dict[str, list[Path]] = {c: [] for c in classes}
    seen: set[Path] = set()
    for kit in drumkits():
        for inst in kit.instruments:
            if inst.drum_class in out:
                for f in inst.files:
                    if f not in seen:
                        seen.add(f)
                        out[inst.drum_class].append(f)
    return out


# ------------------------------------------------------------------------------------ Tux Paint stamps
@dataclass(frozen=True)
class Stamp:
    """A Tux Paint stamp: its image, its own sound (or None) and its English description."""

    name: str
    category: str
    image: Path
    sound: Path | None = None
    description: str | None = None
    description_sound: Path | None = None


def _first_existing(stem: Path, exts: tuple[str, ...]) -> Path | None:
    for ext in exts:
        p = stem.with_name(stem.name + ext)
        if _allowed(p):
            return p
    return None


def tuxpaint_stamps(*, with_sound: bool = False, raster_only: bool = False) -> list[Stamp]:
    """Every Tux Paint stamp (``tuxpaint-stamps-default``), sorted by category and name.

    A stamp's ``sound`` is its own ``<name>.ogg``/``.wav`` (an animal's call, an instrument's note);
    spoken translations (``<name>_fr.ogg``) are ignored, and the spoken description ``<name>_desc.ogg``
    is kept apart as ``description_sound``. Mirrored/flipped variants are not separate stamps.

    Parameters
    ----------
    with_sound : keep only the stamps that have their own sound (about 130)
    raster_only : keep only stamps with a PNG (others are SVG)

    Example
    -------
    >>> duck = [s for s in tuxpaint_stamps(with_sound=True) if s.name == "duck"][0]
    >>> duck.category, duck.sound.name, duck.description
    ('animals/birds', 'duck.ogg', 'A duck.')
    """
    root = Path(os.environ.get("LATENTSTUDIO_TUXPAINT_STAMPS", TUXPAINT_STAMPS_DIR))
    if not root.is_dir():
        raise _apt("tuxpaint-stamps-default", f"Tux Paint stamps ({root})")
    stems: dict[Path, Path] = {}
    for img in sorted(root.rglob("*")):
        if img.suffix.lower() not in (".png", ".svg") or re.search(r"_(mirror|flip)$", img.stem):
            continue
        stem = img.with_suffix("")
        if stem not in stems or img.suffix.lower() == ".png":      # prefer the PNG of a stamp
            stems[stem] = img
    stamps = []
    for stem, img in stems.items():
        if raster_only and img.suffix.lower() != ".png" or is_reserved(img):
            continue
        sound = _first_existing(stem, SOUND_EXTENSIONS)
        if with_sound and sound is None:
            continue
        desc = None
        txt = stem.with_suffix(".txt")
        if txt.is_file():
            lines = txt.read_text(encoding="utf-8", errors="replace").splitlines()
            desc = lines[0].strip() if lines and lines[0].strip() else None
        stamps.append(Stamp(name=stem.name, category=stem.parent.relative_to(root).as_posix(), image=img,
                            sound=sound, description=desc,
                            description_sound=_first_existing(stem.with_name(stem.name + "_desc"),
                                                              SOUND_EXTENSIONS)))
    stamps.sort(key=lambda s: (s.category, s.name))
    return stamps


# ---------------------------------------------------------------------------------------- texts, MNIST
def fortunes(categories: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """Every fortune cookie as ``(category, text)`` from the ``fortunes`` package.

    Parameters
    ----------
    categories : keep only these file names (``"computers"``, ``"science"``, ...); None for all

    Example
    -------
    >>> texts = fortunes(("computers",))
    >>> texts[0][0]
    'computers'
    """
    root = Path(os.environ.get("LATENTSTUDIO_FORTUNES", FORTUNES_DIR))
    files = sorted(p for p in root.glob("*") if p.is_file() and not p.is_symlink() and p.suffix == ""
                   and not is_reserved(p)) if root.is_dir() else []
    if not files:
        raise _apt("fortunes", f"fortune files ({root})")
    names = [p.name for p in files]
    if categories is not None:
        bad = [c for c in categories if c not in names]
        if bad:
            raise ParameterError(f"categories={bad!r} are not fortune files; choose from {', '.join(names)}")
        files = [p for p in files if p.name in categories]
    out = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        out.extend((path.name, chunk.strip("\n")) for chunk in re.split(r"^%\s*$", text, flags=re.M)
                   if chunk.strip())
    return out


def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    magic = int.from_bytes(data[:4], "big")
    if magic >> 8 != 0x08:                                      # 0x0801 labels, 0x0803 images (uint8)
        raise ParameterError(f"Fashion-MNIST file {str(path)!r} is not an IDX uint8 file (magic {magic:#x})")
    ndim = magic & 0xFF
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise ParameterError(f"Fashion-MNIST file {str(path)!r} is truncated ({arr.size} of {shape} values)")
    return arr.reshape(shape)


@functools.lru_cache(maxsize=2)
def _fashion_mnist(split: str) -> tuple[np.ndarray, np.ndarray]:
    root = Path(os.environ.get("LATENTSTUDIO_FASHION_MNIST", FASHION_MNIST_DIR))
    prefix = "train" if split == "train" else "t10k"
    img, lab = root / f"{prefix}-images-idx3-ubyte.gz", root / f"{prefix}-labels-idx1-ubyte.gz"
    if not (_allowed(img) and _allowed(lab)):
        raise _apt("dataset-fashion-mnist", f"Fashion-MNIST {split} files ({root})")
    images, labels = _read_idx(img), _read_idx(lab)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST from ``dataset-fashion-mnist``: images uint8 ``(N, 28, 28)`` and labels uint8 ``(N,)``.

    ``N`` is 60000 for ``split="train"`` and 10000 for ``"test"``; label names are
    :data:`FASHION_MNIST_CLASSES`. The arrays are read-only (shared between calls); copy to modify.

    Example
    -------
    >>> x, y = fashion_mnist("test")
    >>> x.shape, FASHION_MNIST_CLASSES[y[0]]
    ((10000, 28, 28), 'Ankle boot')
    """
    if split not in ("train", "test"):
        raise ParameterError(f"split={split!r} must be 'train' or 'test'")
    return _fashion_mnist(split)


# ------------------------------------------------------------------------------------- sound programs
def soundfont() -> Path:
    """The General MIDI soundfont ``FluidR3_GM.sf2`` (``fluid-soundfont-gm``; ``$LATENTSTUDIO_SOUNDFONT``).

    Example
    -------
    >>> soundfont().name
    'FluidR3_GM.sf2'
    """
    from latentstudio.core.midi import default_soundfont

    path = default_soundfont()
    if is_reserved(path):
        raise _apt("fluid-soundfont-gm", f"soundfont {path} belongs to a reserved package; the GM soundfont")
    return path


def fluidsynth_binary() -> str:
    """Path of the ``fluidsynth`` program (apt-get install fluidsynth)."""
    from latentstudio.core.midi import fluidsynth_binary as _find

    return _find()


def espeak_binary() -> str:
    """Path of the ``espeak-ng`` program (or ``espeak``).

    Example
    -------
    >>> Path(espeak_binary()).name
    'espeak-ng'
    """
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise _apt("espeak-ng", "the espeak-ng speech synthesiser")
    return exe


# -------------------------------------------------------------------------------------------- listing
@dataclass(frozen=True)
class AssetInfo:
    """One row of :func:`list_assets`."""

    name: str
    kind: str
    package: str
    licence: str
    available: bool
    location: str
    count: int = 0
    install: str = ""
    detail: dict = field(default_factory=dict)


_LICENCE_PATTERNS = (
    (re.compile(r"GNU (Lesser|Library) General Public License.{0,200}?version (\d(?:\.\d)?)", re.S), "LGPL-{1}"),
    (re.compile(r"GNU General Public License.{0,200}?version (\d)", re.S), "GPL-{0}"),
    (re.compile(r"\bMIT license", re.I), "MIT"),
    (re.compile(r"Apache License", re.I), "Apache-2.0"),
    (re.compile(r"Creative Commons", re.I), "CC"),
    (re.compile(r"\bBSD\b"), "BSD"),
)


@functools.lru_cache(maxsize=None)
def package_licence(package: str) -> str:
    """The main licence of a Debian package, read from ``/usr/share/doc/<package>/copyright``.

    Machine-readable (DEP-5) files give the ``License:`` of the ``Files: *`` stanza (or the first one);
    older free-form files are matched against common licence names. '' when the file is missing.

    Example
    -------
    >>> package_licence("dataset-fashion-mnist")
    'Expat'
    """
    path = Path("/usr/share/doc") / package / "copyright"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    if text.startswith("Format:"):
        stanzas = re.split(r"\n\s*\n", text)
        ordered = [s for s in stanzas if re.search(r"^Files:\s*\*\s*$", s, re.M)] + stanzas
        for stanza in ordered:
            m = re.search(r"^License:[ \t]*(\S.*)$", stanza, re.M)
            if m:
                return m.group(1).strip()
    for pattern, fmt in _LICENCE_PATTERNS:
        m = pattern.search(text)
        if m:
            name = fmt.format(*m.groups())
            if name.startswith(("GPL", "LGPL")) and re.search(r"any later version", text[m.start():m.start() + 600]):
                name += "+"
            return name
    return f"see {path}"


def _pip_licence(dist: str) -> str:
    """A PyPI distribution's licence: its License-Expression, a ``License:`` line, or its classifier."""
    from importlib import metadata

    try:
        meta = metadata.metadata(dist)
    except metadata.PackageNotFoundError:
        return ""
    if meta.get("License-Expression"):
        return meta["License-Expression"]
    m = re.search(r"^\s*License:\s*(\S+)", meta.get("License") or "", re.M)
    if m:
        return m.group(1)
    for c in meta.get_all("Classifier") or []:
        if c.startswith("License ::"):
            return c.split("::")[-1].strip()
    return (meta.get("License") or "").strip()[:40]


def _idx_count(path: Path) -> int:
    with gzip.open(path, "rb") as fh:
        return int.from_bytes(fh.read(8)[4:8], "big")


def _probe(fn, *args):
    try:
        return fn(*args), None
    except AssetMissingError as exc:
        return None, str(exc)


def list_assets() -> list[AssetInfo]:
    """Every offline asset: where it comes from, its licence, whether it is here and how many items it has.

    Example
    -------
    >>> rows = list_assets()
    >>> any(r.name == "fashion-mnist" and r.count == 70000 for r in rows)
    True
    """
    rows: list[AssetInfo] = []

    def add(name, kind, package, licence, value, err, location, count, install, **detail):
        rows.append(AssetInfo(name=name, kind=kind, package=package, licence=licence, available=err is None,
                              location=location if err is None else "", count=count if err is None else 0,
                              install=install, detail=detail))

    skdir, err = _probe(_skimage_dir)
    add("sample images", "image", "scikit-image, scikit-learn",
        f"scikit-image {_pip_licence('scikit-image')}, each image's own terms in its skimage.data docstring "
        f"(e.g. chelsea CC0); scikit-learn {_pip_licence('scikit-learn')} "
        "(china, flower: CC-BY-2.0, datasets/images/README.txt)", skdir, err, str(skdir), len(SAMPLE_IMAGES),
        "pip install scikit-image scikit-learn")
    add("lfw faces", "image", "scikit-image", "LFW subset, see skimage.data.lfw_subset docstring", skdir, err,
        str(skdir and skdir / "lfw_subset.npy"), 200, "pip install scikit-image")

    kits, err = _probe(drumkits)
    for pkg in ("hydrogen-data", "hydrogen-drumkits"):
        own = [k for k in kits or [] if k.package == pkg]
        add(f"drum kits ({pkg})", "audio", pkg, package_licence(pkg) + " (per kit: drumkit.xml)", own,
            err if err else (None if own else f"no kits from {pkg}"), DRUMKIT_DIRS[0], len(own),
            f"apt-get install {pkg}", kits=[k.name for k in own])
    if kits:
        per_class = {c: len(v) for c, v in drum_samples().items()}
        add("drum samples by class", "audio", "hydrogen-data, hydrogen-drumkits", "per kit", per_class, None,
            DRUMKIT_DIRS[0], sum(per_class.values()), "apt-get install hydrogen-data hydrogen-drumkits",
            per_class=per_class)

    for name, pkg, folder, pattern in (("drum one-shots (LMMS)", "lmms-common", LMMS_DRUMS_DIR, "*.ogg"),
                                       ("DrumSynth presets (LMMS)", "lmms-common", LMMS_DRUMSYNTH_DIR, "*/*.ds"),
                                       ("one-shots (Sonic Pi)", "sonic-pi-samples", SONIC_PI_DIR, "*.flac")):
        files = sorted(folder.glob(pattern)) if folder.is_dir() else []
        add(name, "audio", pkg, package_licence(pkg), files, None if files else "missing", str(folder), len(files),
            f"apt-get install {pkg}")

    stamps, err = _probe(tuxpaint_stamps)
    pkg = "tuxpaint-stamps-default"
    add("tux paint stamps", "image", pkg, package_licence(pkg), stamps, err, TUXPAINT_STAMPS_DIR,
        len(stamps or []), f"apt-get install {pkg}")
    add("tux paint stamp sounds", "image+audio", pkg, package_licence(pkg), stamps, err, TUXPAINT_STAMPS_DIR,
        sum(s.sound is not None for s in stamps or []), f"apt-get install {pkg}")

    texts, err = _probe(fortunes)
    add("fortunes", "text", "fortunes", package_licence("fortunes"), texts, err, FORTUNES_DIR,
        len(texts or []), "apt-get install fortunes", categories=len({c for c, _ in texts or []}))

    root = Path(os.environ.get("LATENTSTUDIO_FASHION_MNIST", FASHION_MNIST_DIR))
    files = [root / f"{p}-labels-idx1-ubyte.gz" for p in ("train", "t10k")]
    ok = all(_allowed(f) for f in files)
    pkg = "dataset-fashion-mnist"
    add("fashion-mnist", "image", pkg, package_licence(pkg), ok, None if ok else "missing", str(root),
        sum(_idx_count(f) for f in files) if ok else 0, f"apt-get install {pkg}")

    sf2, err = _probe(soundfont)
    add("general midi soundfont", "audio", "fluid-soundfont-gm", package_licence("fluid-soundfont-gm"), sf2, err,
        str(sf2), 1, "apt-get install fluid-soundfont-gm")
    for name, finder, pkg in (("fluidsynth", fluidsynth_binary, "fluidsynth"),
                              ("espeak-ng", espeak_binary, "espeak-ng")):
        exe, err = _probe(finder)
        add(name, "program", pkg, package_licence(pkg), exe, err, str(exe), 1, f"apt-get install {pkg}")
    return rows
