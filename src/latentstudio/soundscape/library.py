"""The sound library: real sound effects shipped by Debian packages, labelled, deduplicated, with licences.

:func:`collect_sounds` lists the sounds of the allowed packages that are installed (and of any user
folders): each :class:`LibrarySound` knows its package (its *origin*, the unit of every split), its
licence (``/usr/share/doc/<package>/copyright``, or the per-sound licence OpenSFX records), the words of
its name and its WordNet label (:mod:`.naming`). Sounds packed in archives (OpenTTD's ``opensfx.cat``,
Warzone 2100's ``base.wz``, 0 A.D.'s ``public.zip``) are extracted once into the cache folder.

:func:`load_library` decodes them at the student's rate (cached on disk, keyed by file content) and drops
copies by *decoded-audio* hash (the same sound shipped twice, or as .ogg and .wav, is one sound, kept
under its first package in :data:`PACKAGES` order). :func:`build_library` embeds the survivors with a
student and writes them, with package, licence and label, into the catalog.

=============================  ===================================================  ===================
package                        what                                                  sounds (about)
=============================  ===================================================  ===================
``tuxpaint-stamps-default``    animal calls, instruments, objects (stamp names)      125
``wesnoth-1.16-data``          weapons, creatures, ambience (birds, campfire, ship)  280
``openttd-opensfx``            trains, planes, ships, buses, farm animals, wind      70
``supertux-data``              jumps, splashes, fire, rain, thunder, coins           75
``warzone2100-data``           vehicles, weapons, explosions, buildings              75
``sonic-pi-samples``           drums, guitar, bells, tabla, ambient textures         160
``sound-theme-freedesktop``    bells, phone, camera shutter, alarm clock             35
``0ad-data`` (when asked)      weapons, crafts, footsteps, farm and wild animals,    760
                               hooves, ships, farm, port and weather ambiences
=============================  ===================================================  ===================
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.core.audio import AUDIO_EXTENSIONS
from latentstudio.core.fileio import atomic_path
from latentstudio.errors import LatentStudioError, ParameterError
from latentstudio.soundscape.features import MelSpec, audio_hash, load_sound
from latentstudio.soundscape.naming import label_synset, name_words

#: Packages the library may draw on, in dedupe-priority order (a copy keeps the first package's name).
PACKAGES = ("tuxpaint-stamps-default", "wesnoth-1.16-data", "openttd-opensfx", "supertux-data",
            "warzone2100-data", "sonic-pi-samples", "sound-theme-freedesktop", "0ad-data")

#: Packages the library draws on only when asked (``packages=[...]``, ``library build --package all``): 0 A.D.'s
#: 757 sounds (mostly weapons, crafts, footsteps, horses and goats) crowded the right kind out of the top 5 of
#: the validation pictures (21-22 of 32 against 23 without them, 3 students; their pair recall unchanged)
OPTIONAL_PACKAGES = ("0ad-data",)

#: 0 A.D.'s sound effects inside its ``public.zip``: the world's sounds (animals, ships, hooves, ambiences of
#: farms, ports and weather, weapons, crafts); not its music, unit speech or interface cues
_ZERO_AD_PARTS = ("audio/actor/", "audio/ambient/", "audio/attack/", "audio/resource/")

#: Path parts that are never sound effects (music, speech, voice-overs).
_SKIP_PARTS = re.compile(r"/(music|speech|voice|tutorial|countdown|memressp|taunts|vtoltalk|nexus|"
                         r"sequenceaudio|coltive|proxmessages|trnsppil|multi|radclick|buffers)/", re.I)
#: Folder names that say nothing about a sound.
_GENERIC_DIRS = frozenset("usr share games data core sounds sound sfx audio stereo samples stamps 1.16 "
                          "wesnoth supertux2 sonic-pi freedesktop tuxpaint".split())

Progress = Callable[[int, int], None] | None


@dataclass
class LibrarySound:
    """One sound of the library.

    Attributes
    ----------
    path : the audio file (inside the package, or extracted into the cache folder)
    package : the Debian package it came from (``user:<folder>`` for a user folder): its origin
    licence : its licence (the package's, or the sound's own where the package records one)
    name : a readable name (file stem, or the title OpenSFX gives it)
    words : the words its label was read from
    synset, label : WordNet noun synset id and its first lemma ('' when no word of the name maps)
    """

    path: str
    package: str
    licence: str
    name: str
    words: list[str] = field(default_factory=list)
    synset: str = ""
    label: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _dpkg_files(package: str) -> list[Path]:
    info = Path("/var/lib/dpkg/info")
    for lst in [info / f"{package}.list", *info.glob(f"{package}:*.list")]:
        if lst.is_file():
            return [Path(line) for line in lst.read_text(errors="replace").splitlines() if line.strip()]
    return []


def installed_packages(*, optional: bool = False) -> list[str]:
    """The packages of :data:`PACKAGES` that are installed (Tux Paint: its stamps folder exists), without
    :data:`OPTIONAL_PACKAGES` unless ``optional``."""
    from latentstudio import assets

    out = []
    for pkg in PACKAGES:
        if pkg in OPTIONAL_PACKAGES and not optional:
            continue
        if pkg == "tuxpaint-stamps-default":
            if Path(os.environ.get("LATENTSTUDIO_TUXPAINT_STAMPS", assets.TUXPAINT_STAMPS_DIR)).is_dir():
                out.append(pkg)
        elif _dpkg_files(pkg):
            out.append(pkg)
    return out


def _extract_dir(package: str) -> Path:
    from latentstudio import assets

    d = assets.cache_dir() / "soundscape" / "extracted" / package
    d.mkdir(parents=True, exist_ok=True)
    return d


def _write_once(path: Path, data: bytes) -> Path:
    if not path.exists() or path.stat().st_size != len(data):
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(data)
    return path


def read_opensfx(cat: str | os.PathLike) -> list[tuple[str, str, bytes]]:
    """``(title, licence, wav bytes)`` of every sound in an OpenTTD sound catalogue (``opensfx.cat``).

    The file starts with ``count`` (offset, size) pairs of little-endian uint32 (the first offset is
    ``8 * count``, its top bit a format flag); each entry is a length-prefixed description
    (``"Title". ... License: X.``) followed by a RIFF/WAVE file of ``size`` bytes.
    """
    data = Path(cat).read_bytes()
    if len(data) < 8:
        raise ParameterError(f"sound catalogue {str(cat)!r} is too short")
    n = (struct.unpack_from("<I", data, 0)[0] & 0x7FFFFFFF) // 8
    out = []
    for i in range(n):
        off, size = struct.unpack_from("<II", data, 8 * i)
        off &= 0x7FFFFFFF
        length = data[off]
        desc = data[off + 1: off + 1 + length].rstrip(b"\0").decode("utf-8", "replace")
        body = data[off + 1 + length: off + 1 + length + size]
        if body[:4] != b"RIFF" or len(body) < 100:
            continue
        m = re.match(r'"([^"]+)"', desc)
        lic = re.search(r"License:\s*([^.]+(?:\.\d[^.]*)?)", desc)
        out.append((m.group(1) if m else f"sound {i}", lic.group(1).strip() if lic else "", body))
    return out


def _zip_sounds(files: list[Path], name: str | None, prefixes: tuple[str, ...], package: str
                ) -> list[tuple[Path, str, list[str], str]]:
    """The sounds under ``prefixes`` inside a package's zip archives (those of ``files`` called ``name``, or all
    of them), extracted once into the cache folder and named by file and parent folder (Warzone 2100's
    ``base.wz``: ``vehicle/tread.ogg``; 0 A.D.'s ``public.zip``: ``fauna/animal/cattle_01.ogg``)."""
    out = []
    for archive in (f for f in files if (name is None or f.name == name) and f.is_file()):
        with zipfile.ZipFile(archive) as z:
            for member in sorted(z.namelist()):
                if not member.startswith(prefixes) or Path(member).suffix.lower() not in AUDIO_EXTENSIONS:
                    continue
                rel = Path(member)
                dest = _extract_dir(package) / archive.stem / rel
                if not dest.exists() or dest.stat().st_size != z.getinfo(member).file_size:
                    _write_once(dest, z.read(member))
                out.append((dest, rel.stem, name_words(rel.stem, rel.parent.name, separate=True), ""))
    return out


def _package_sounds(package: str) -> list[tuple[Path, str, list[str], str]]:
    """``(file, name, words, licence override)`` of one package's sound effects."""
    if package == "tuxpaint-stamps-default":
        from latentstudio import assets

        return [(s.sound, s.name, name_words(s.name, *reversed(s.category.split("/")), separate=True), "")
                for s in assets.tuxpaint_stamps(with_sound=True)]
    files = _dpkg_files(package)
    if package == "openttd-opensfx":
        cats = [f for f in files if f.name == "opensfx.cat" and f.is_file()]
        out = []
        for cat in cats:
            for i, (title, lic, wav) in enumerate(read_opensfx(cat)):
                slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:60]
                path = _write_once(_extract_dir(package) / f"{i:02d}_{slug}.wav", wav)
                out.append((path, title, name_words(title), lic))
        return out
    if package == "warzone2100-data":
        return _zip_sounds([f for f in files if f.suffix == ".wz"], None, ("audio/sfx/",), package)
    if package == "0ad-data":
        return _zip_sounds(files, "public.zip", _ZERO_AD_PARTS, package)
    out = []
    for f in files:
        if f.suffix.lower() not in AUDIO_EXTENSIONS or _SKIP_PARTS.search(str(f)) or not f.is_file():
            continue
        dirs = [p for p in reversed(f.parent.parts) if p.lower() not in _GENERIC_DIRS and p != "/"][:1]
        out.append((f, f.stem, name_words(f.stem, *dirs, separate=True), ""))
    return out


def check_packages(packages: Iterable[str]) -> list[str]:
    """``packages`` as a list when each is one of :data:`PACKAGES` (or it is ``["all"]``); ParameterError naming
    the first that is not."""
    pkgs = list(packages)
    if pkgs != ["all"]:
        for p in pkgs:
            if p not in PACKAGES:
                raise ParameterError(f"package {p!r} is not a library source; choose from {', '.join(PACKAGES)} "
                                     f"(or 'all' alone: every installed one)")
    return pkgs


def collect_sounds(packages: Iterable[str] | None = None, *, folders: Iterable[str | os.PathLike] = ()
                   ) -> list[LibrarySound]:
    """The labelled sounds of ``packages`` (default: every installed one of :data:`PACKAGES` but the
    :data:`OPTIONAL_PACKAGES`; ``["all"]``: every installed one) and ``folders``.

    Raises
    ------
    ParameterError : a package outside :data:`PACKAGES`, a folder that does not exist
    """
    from latentstudio import assets
    from latentstudio.soundscape.index import sound_files
    from latentstudio.zoo.wordnet import wordnet

    pkgs = installed_packages() if packages is None else check_packages(packages)
    if pkgs == ["all"]:
        pkgs = installed_packages(optional=True)
    wn = wordnet()
    out: list[LibrarySound] = []
    for pkg in pkgs:
        licence = assets.package_licence(pkg)
        for path, name, words, own_licence in _package_sounds(pkg):
            if assets.is_reserved(path):
                continue
            lab = label_synset(words, wn, package=pkg)
            out.append(LibrarySound(path=str(path), package=pkg, licence=own_licence or licence, name=name,
                                    words=words, synset=lab.synset if lab else "", label=lab.name if lab else ""))
    for folder in folders:
        root = Path(folder)
        for f in sound_files(root):
            rel = f.relative_to(root)
            words = name_words(f.stem, *reversed(rel.parent.parts), separate=True)
            lab = label_synset(words, wn)
            out.append(LibrarySound(path=str(f), package=f"user:{root.name}", licence="user", name=f.stem,
                                    words=words, synset=lab.synset if lab else "", label=lab.name if lab else ""))
    return out


def _decode_cache(cache: Path | str | None) -> Path | None:
    """The folder of decoded sounds: ``"default"`` is the cache folder's, None none."""
    from latentstudio import assets

    return assets.cache_dir() / "soundscape" / "decoded" if cache == "default" else (Path(cache) if cache else None)


def _decoded(path: Path, spec: MelSpec, cache: Path | None, max_seconds: float) -> np.ndarray:
    from latentstudio.catalog import hash_file

    file = None
    if cache is not None:
        key = hashlib.sha1(f"{hash_file(path)}|{spec.sr}|{max_seconds}".encode()).hexdigest()
        file = cache / f"{key}.npy"
        if file.exists():
            try:
                return np.load(file, allow_pickle=False)
            except (OSError, ValueError):
                pass
    y = load_sound(path, spec=spec, max_seconds=None)[: int(max_seconds * spec.sr)]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(file) as tmp, open(tmp, "wb") as f:
            np.save(f, y.astype(np.float32), allow_pickle=False)
    return y


@dataclass
class LoadedLibrary:
    """Decoded, deduplicated library sounds (see :func:`load_library`)."""

    sounds: list[LibrarySound] = field(default_factory=list)
    waveforms: list[np.ndarray] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)     # (path, path of the kept copy)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sounds)


def load_library(sounds: list[LibrarySound], *, spec: MelSpec, max_seconds: float = 30.0,
                 cache: Path | None | str = "default", progress: Progress = None) -> LoadedLibrary:
    """Decode ``sounds`` (mono, ``spec.sr``, at most ``max_seconds``) and drop decoded-audio duplicates.

    Unreadable or silent files land in ``failed`` with the reason.
    """
    cache = _decode_cache(cache)
    out = LoadedLibrary()
    seen: dict[str, str] = {}
    for i, s in enumerate(sounds):
        try:
            y = _decoded(Path(s.path), spec, cache, max_seconds)
        except (LatentStudioError, OSError) as exc:
            out.failed.append((s.path, str(exc)))
            continue
        finally:
            if progress is not None:
                progress(i + 1, len(sounds))
        h = audio_hash(y)
        if h in seen:
            out.duplicates.append((s.path, seen[h]))
            continue
        seen[h] = s.path
        out.sounds.append(s)
        out.waveforms.append(y)
        out.hashes.append(h)
    return out


@dataclass
class LibraryReport:
    """What :func:`build_library` did: counts per package, labelled share, duplicates, failures, timing."""

    space: str
    sounds: int = 0
    labelled: int = 0
    added: int = 0
    already: int = 0
    per_package: dict = field(default_factory=dict)
    duplicates: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict:
        d = asdict(self)
        d["duplicates"] = len(self.duplicates)
        d["failures"] = [{"path": p, "reason": r} for p, r in self.failed]
        d["failed"] = len(self.failed)
        return d


class DecodeAndEmbed:
    """The batch job of :func:`build_library` (see :func:`latentstudio.catalog.batch.map_items`): a library
    sound (:meth:`LibrarySound.to_dict`) in; its decoded-audio hash and its catalog record out."""

    item_errors = (LatentStudioError, OSError)
    uses_gpu = True

    def __init__(self, model, model_id: str, *, max_seconds: float = 30.0, cache: str | None = "default") -> None:
        self.model, self.model_id, self.max_seconds, self.cache = model, model_id, max_seconds, cache

    def setup(self, device: str) -> None:
        self.model.to(device).eval()         # one GPU per Ray actor when the cluster has them

    def __call__(self, sound: dict) -> dict:
        from latentstudio.soundscape.index import sound_record

        y = _decoded(Path(sound["path"]), self.model.mel, _decode_cache(self.cache), self.max_seconds)
        h = audio_hash(y)
        return {"audio_hash": h, "record": sound_record(self.model, self.model_id, y,
                                                        {"library": {**sound, "audio_hash": h}})}


def build_library(catalog, *, model, model_id: str, packages: Iterable[str] | None = None,
                  folders: Iterable[str | os.PathLike] = (), progress: Progress = None, workers: int = 1,
                  cluster: str | None = None) -> LibraryReport:
    """Collect, decode, dedupe and embed the library into ``catalog`` (space ``soundscape-<model id>``).

    Each item's analysis holds ``library`` (package, licence, name, label, synset, audio hash) and
    ``soundscape`` (the model's class distribution summary and its hubness, see :mod:`.query`).
    Sounds already embedded by this model are left as they are. Decoding and embedding run on ``workers``
    local processes (1: this process) or on a Ray cluster (``cluster``, see
    :func:`latentstudio.catalog.batch.map_items`); each sound is stored as soon as it is done, in the
    order collected, so the first copy of a sound is the one kept and an interrupted build resumes.

    Example
    -------
    >>> from latentstudio.catalog import Catalog
    >>> from latentstudio.soundscape.student import load_student
    >>> model, info = load_student()
    >>> with Catalog(tmp) as cat:                                      # doctest: +SKIP
    ...     report = build_library(cat, model=model, model_id=info["id"])
    """
    from latentstudio import assets
    from latentstudio.catalog.batch import map_items
    from latentstudio.soundscape.index import class_space_name, embedded_item, label_space_name, space_name, \
        store_record

    t0 = time.perf_counter()
    sounds = collect_sounds(packages, folders=folders)
    if not sounds:
        raise ParameterError("no library sounds found: install a package of "
                             f"{', '.join(PACKAGES)} (apt-get install ...) or give a folder")
    spaces = (space_name(model_id), class_space_name(model_id), label_space_name(model_id))
    report = LibraryReport(space=spaces[0])
    seen: dict[str, str] = {}
    kept: list[LibrarySound] = []
    todo: list[LibrarySound] = []
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, len(sounds))

    def first_copy(s: LibrarySound, h: str | None) -> bool:
        """Keep ``s`` unless a sound kept before decodes to the same audio (hash ``h``; None: unknown)."""
        if h and h in seen:
            report.duplicates.append((s.path, seen[h]))
            return False
        if h:
            seen[h] = s.path
        kept.append(s)
        return True

    for s in sounds:                       # already embedded: their recorded audio hash joins the dedupe
        p = Path(s.path)
        item = embedded_item(catalog, p, spaces) if p.is_file() else None
        if item is None:
            todo.append(s)
            continue
        report.already += first_copy(s, (item.analysis.get("library") or {}).get("audio_hash"))
        tick()
    job = DecodeAndEmbed(model, model_id)
    for out in map_items(job, [s.to_dict() for s in todo], cluster=cluster, workers=workers):
        s = todo[out.index]
        tick()
        if not out.ok:
            report.failed.append((s.path, out.error))
        elif first_copy(s, out.value["audio_hash"]):
            store_record(catalog, s.path, out.value["record"])
            report.added += 1
    catalog.flush()
    report.sounds = len(kept)
    for s in kept:
        licence = "user" if s.package.startswith("user:") else assets.package_licence(s.package)
        row = report.per_package.setdefault(s.package, {"sounds": 0, "labelled": 0, "licence": licence})
        row["sounds"] += 1
        row["labelled"] += bool(s.synset)
    report.labelled = sum(bool(s.synset) for s in kept)
    report.seconds = round(time.perf_counter() - t0, 2)
    return report


def library_sounds(catalog, model_id: str) -> list[tuple[object, dict]]:
    """``(item, library record)`` of every catalog item this model embedded that carries a library record."""
    from latentstudio.soundscape.index import space_name

    space = space_name(model_id)
    out = []
    for item in catalog.items(kind="audio"):
        rec = (item.analysis or {}).get("library")
        if rec and catalog.vector(item, space) is not None:
            out.append((item, rec))
    return out


__all__ = ["PACKAGES", "LibrarySound", "DecodeAndEmbed",
           "LoadedLibrary", "LibraryReport", "collect_sounds", "load_library",
           "build_library", "installed_packages", "check_packages", "OPTIONAL_PACKAGES", "read_opensfx", "audio_hash", "library_sounds"]
