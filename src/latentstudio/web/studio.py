"""The studio's runs: each page's heavy work as a function of the job queue's worker, calling the systems'
pipeline APIs and writing every artefact (atomically) with its provenance sidecar under the data folder.

Nothing here imports the web framework. A :class:`Studio` holds the settings and the models it has loaded
(lazily, on the worker thread, once); the app calls its ``check_*`` methods on the request (fast refusals,
400) and queues its ``run_*`` methods (the heavy part). Layout of the data folder::

    uploads/     images and recordings sent by the pages (inputs; named by content hash)
    soundscape/  NAME.ogg + NAME.jpg + NAME.json      a picture's soundscape
    beatbox/session_*/beats/beat_NNNN.wav|.mid|.json  the booth's evolving piece (beatbox.session)
    dj/library/  the record box (rendered once, offline);  dj/set_*.flac|.png|.json  each back-to-back mix
    dream/       NAME.png + NAME.json
    perceive/    NAME.png + NAME.svg + NAME.json
    .cache/      catalogs (the soundscape's sound index, the DJ's analyses): never served
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


from latentstudio.core.fileio import atomic_write_bytes, atomic_write_text
from latentstudio.errors import ParameterError
from latentstudio.provenance import sidecar_path
from latentstudio.web.files import StudioInputError, new_name

Progress = Callable[..., None]

#: Command names written into the sidecars of the studio's artefacts.
COMMAND = "latentstudio studio"


@dataclass
class StudioSettings:
    """What a studio runs with. The defaults are the shipped models and offline assets; tests pass tiny ones.

    Models may be given as names / checkpoint folders or as loaded objects.
    """

    max_upload_bytes: int = 20 * 1024 * 1024
    seed: int = 0
    threads: int = 1                          #: torch threads of the worker
    # soundscape
    sound_source: str = "tuxpaint"            #: "tuxpaint" or a folder of sounds to index
    soundscape_model: Any = None              #: student checkpoint folder (None: shipped)
    soundscape_seconds: float = 12.0
    soundscape_sr: int = 22050
    # beatbox
    beatbox_classifier: Any = None
    beatbox_vae: Any = None
    beatbox_bars: int = 8
    beatbox_bpm: float = 100.0
    # dj
    dj_library: str | os.PathLike | None = None   #: folder of tracks (None: the demo record box, made once)
    dj_sr: int = 22050
    dj_workers: int = 1
    dj_transition_bars: int = 8
    # dream
    dream_model: Any = "efficientnet_lite0"
    dream_layer: str = "blocks.10"
    dream_max_side: int = 320
    # perceive
    perceive_models: Sequence[Any] = ("efficientnet_lite0", "efficientnet_lite1")
    perceive_holdout: Sequence[Any] = ("efficientnet_lite2",)
    perceive_size: int = 512
    #: the page's budget names -> the pipeline's budget (a name of ``perception.BUDGETS`` or a dict of its keys)
    perceive_budgets: dict = field(default_factory=lambda: {"small": "small", "default": "default"})

    def validate(self) -> StudioSettings:
        if not isinstance(self.max_upload_bytes, int) or self.max_upload_bytes < 1024:
            raise ParameterError(f"max_upload_bytes={self.max_upload_bytes!r} must be an integer >= 1024")
        if self.threads < 1:
            raise ParameterError(f"threads={self.threads} must be >= 1")
        return self


def _name(model: Any) -> str:
    return model if isinstance(model, str) else getattr(model, "name", type(model).__name__)


@dataclass
class _Loaded:
    student: Any = None
    teacher: Any = None
    indexed: bool = False
    clf: Any = None
    vae: Any = None
    dream_fm: Any = None
    perceive: tuple | None = None


@dataclass
class Studio:
    """The data folder, the settings and the loaded models; see the module docstring."""

    root: Path
    settings: StudioSettings = field(default_factory=StudioSettings)

    def __post_init__(self):
        self.root = Path(self.root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.settings.validate()
        self._loaded = _Loaded()
        self._lock = threading.Lock()          # guards the DJ set and the booth session between threads
        self._library = None                   # dj.pipeline.Library once analysed
        self._b2b = None
        self._session: Path | None = None

    # -------------------------------------------------------------------------------------- helpers
    def rel(self, path: str | os.PathLike | None) -> str | None:
        """A path of the data folder as the pages name it (relative, POSIX)."""
        return None if path is None else Path(path).resolve().relative_to(self.root).as_posix()

    def save_upload(self, data: bytes, suffix: str) -> Path:
        """Keep an upload under ``uploads/`` (named by its content hash) and return its path."""
        digest = hashlib.sha256(data).hexdigest()[:20]
        path = self.root / "uploads" / f"{digest}{suffix}"
        if not path.exists():
            atomic_write_bytes(path, data)
        return path

    # ---------------------------------------------------------------------------------- soundscape
    def _student(self):
        if self._loaded.student is None:
            from latentstudio.soundscape.student import load_student
            from latentstudio.soundscape.teacher import Teacher

            model, info = load_student(self.settings.soundscape_model)
            self._loaded.student = (model, info)
            self._loaded.teacher = Teacher(model.teacher_name, temperature=model.temperature)
        return self._loaded.student

    def _sound_catalog(self, progress: Progress):
        """The catalog of the sound library, indexed on first use (incremental afterwards)."""
        from latentstudio.catalog import Catalog
        from latentstudio.soundscape.index import index_sounds
        from latentstudio.soundscape.pipeline import source_sounds

        model, info = self._student()
        cat = Catalog(self.root / ".cache" / "soundscape")
        if not self._loaded.indexed:
            files = source_sounds(str(self.settings.sound_source))
            done = [0]

            def tick(n: int = 1) -> None:
                done[0] += n
                progress(done[0], len(files), f"indexing the sound library ({done[0]}/{len(files)})")

            try:
                index_sounds(files, catalog=cat, model=model, model_id=info["id"], progress=tick)
            except BaseException:
                cat.close()
                raise
            self._loaded.indexed = True
        return cat

    def run_soundscape(self, image_path: Path, *, label: str, top: int, seconds: float,
                       headings: int | None = None, progress: Progress) -> dict:
        """A picture's soundscape: teacher labels, matched sounds, the mix (``soundscape/NAME.ogg``); a wide
        picture (or ``headings`` > 1) is heard as headings left to right, each with its labels, sounds and pan."""
        from latentstudio.core.image import load, save
        from latentstudio.soundscape.pipeline import soundscape_for_image

        progress(0, None, "loading the student")
        model, info = self._student()
        img = load(image_path)
        with self._sound_catalog(progress) as cat:
            progress(None, None, "listening to the picture")
            scape = soundscape_for_image(img, model=model, model_id=info["id"], catalog=cat, top=top,
                                         headings=headings, seconds=seconds, sr=self.settings.soundscape_sr,
                                         seed=self.settings.seed, teacher=self._loaded.teacher)
        progress(None, None, "saving")
        out = new_name(self.root / "soundscape", label, ".ogg")
        save(out.with_suffix(".jpg"), load(image_path, size=320))
        scape.save(out, command=f"{COMMAND} soundscape",
                   params={"image": label, "top": top, "seconds": seconds, "headings": headings or "auto",
                           "sr": self.settings.soundscape_sr})
        q = scape.query
        return {"audio": self.rel(out), "image": self.rel(out.with_suffix(".jpg")),
                "sidecar": self.rel(sidecar_path(out)), "model": info["id"],
                "teacher_labels": [[lab, round(float(p), 4)] for lab, p in q.teacher_labels[:5]],
                "matches": [{"name": Path(m.path).stem, "score": round(float(m.score), 4),
                             "pan": round(float(m.pan or 0.0), 3)} for m in q.matches],
                "headings": [{"pan": round(float(h["pan"]), 3), "teacher_labels": h["teacher_labels"],
                              "matches": [Path(m).stem for m in h["matches"]]} for h in q.headings]}

    # ------------------------------------------------------------------------------------- beatbox
    def session_dir(self) -> Path:
        """The booth's current session folder (the newest one, or a new one)."""
        with self._lock:
            if self._session is None:
                old = sorted((self.root / "beatbox").glob("session_*"))
                self._session = old[-1] if old else new_name(self.root / "beatbox", "session", "")
            return self._session

    def new_session(self) -> Path:
        with self._lock:
            self._session = new_name(self.root / "beatbox", "session", "")
            self._session.mkdir(parents=True)
            return self._session

    def session_info(self) -> dict:
        """The booth's beats so far (oldest first) and the kit's voice sounds."""
        from latentstudio.beatbox.session import open_session

        d = self.session_dir()
        state = open_session(d, bpm=self.settings.beatbox_bpm)
        beats = sorted((d / "beats").glob("beat_*.wav"))
        return {"session": self.rel(d), "bpm": state.bpm, "turns": state.beats,
                "beats": [self.rel(b) for b in beats],
                "kit": [{"label": s["label"], "source": s.get("source", "")} for s in state.sounds]}

    def run_beatbox_turn(self, recording: Path, *, progress: Progress) -> dict:
        """One booth turn (:func:`latentstudio.beatbox.session.take_turn`): the recording joins the kit."""
        from latentstudio.beatbox.classifier import load_classifier
        from latentstudio.beatbox.rhythm_vae import load_rhythm_vae
        from latentstudio.beatbox.session import take_turn

        progress(0, 3, "loading the classifier and the rhythm model")
        if self._loaded.clf is None:
            s = self.settings
            self._loaded.clf = s.beatbox_classifier if _loaded_model(s.beatbox_classifier) \
                else load_classifier(s.beatbox_classifier)
            self._loaded.vae = s.beatbox_vae if _loaded_model(s.beatbox_vae) else load_rhythm_vae(s.beatbox_vae)
        progress(1, 3, "finding and classifying the sounds, jamming")
        turn = take_turn(self.session_dir(), [recording], bars=self.settings.beatbox_bars,
                         bpm=self.settings.beatbox_bpm, seed=self.settings.seed, classifier=self._loaded.clf,
                         vae=self._loaded.vae)
        progress(3, 3, "done")
        beat = turn.beat
        return {"turn": turn.number, "audio": self.rel(turn.files.output), "midi": self.rel(turn.files.midi),
                "sidecar": self.rel(sidecar_path(turn.files.output)), "bpm": beat.bpm,
                "seconds": turn.files.seconds,
                "hits": [{k: v for k, v in h.to_dict().items() if k != "source"} for h in turn.hits],
                "kit_sounds": len(turn.state.sounds), "grid": beat.patterns[0].grid() if beat.patterns else "",
                "notes": list(beat.notes), "session": self.session_info()}

    # ------------------------------------------------------------------------------------------ dj
    def dj_state(self) -> dict:
        """The record box (when analysed) and the set so far."""
        with self._lock:
            if self._library is None:
                return {"ready": False, "tracks": [], "turns": [], "left": [], "next": "human"}
            return {"ready": True, "tracks": self._tracks(), "turns": self._turns(), "left": self._b2b.left(),
                    "next": self._b2b.next_player, "over": self._b2b.over,
                    "failures": [[Path(p).name, r] for p, r in self._library.failures]}

    def _tracks(self) -> list[dict]:
        return [{"name": Path(t.path).name, "bpm": t.bpm, "key": t.key, "camelot": t.camelot, "lufs": t.lufs,
                 "duration": t.duration} for t in self._library.summary()]

    def _turns(self) -> list[dict]:
        return [{"by": t.by, "name": t.name, "bpm": round(float(t.analysis["bpm"]), 2),
                 "heard_bpm": round(t.heard_bpm, 2), "key": t.analysis["key"], "camelot": t.analysis["camelot"],
                 "reasons": t.reasons} for t in self._b2b.turns]

    def run_dj_library(self, *, progress: Progress) -> dict:
        """Render the demo record box once (when no folder was given), analyse it (cached), start a new set."""
        from latentstudio.dj.analysis import library_files
        from latentstudio.dj.pipeline import BackToBack, analyse_folder, make_library

        folder = self.settings.dj_library
        if folder is None:
            folder = self.root / "dj" / "library"
            if not (folder / ".complete").exists():
                progress(0, None, "rendering the record box (FluidSynth, Hydrogen kits; once)")
                make_library(folder, seed=0, sr=self.settings.dj_sr)
                atomic_write_text(folder / ".complete", "made by latentstudio studio\n")
        files = library_files(folder)
        done = [0]

        def tick(n: int = 1) -> None:
            done[0] += n
            progress(done[0], len(files), f"analysing tracks ({done[0]}/{len(files)})")

        progress(0, len(files), "analysing tracks")
        lib = analyse_folder(folder, catalog=self.root / ".cache" / "dj", workers=self.settings.dj_workers,
                             files=files, progress=tick)
        b2b = BackToBack(lib, seed=self.settings.seed, transition_bars=self.settings.dj_transition_bars)
        with self._lock:
            self._library, self._b2b = lib, b2b
        return self.dj_state()

    def check_dj_pick(self, track: str) -> None:
        """Refuse a pick before queuing it: no record box yet (409), an unknown or played track (400)."""
        with self._lock:
            if self._b2b is None:
                raise StudioInputError("the record box is not analysed yet: load the library first", status=409)
            a = self._b2b.selector.find(track)               # ParameterError naming the tracks when unknown
            if a["path"] in self._b2b.selector.played:
                raise StudioInputError(f"track {str(track).strip()!r} has already been played; the DJs never "
                                       "repeat a track")
            if self._b2b.over:
                raise StudioInputError("every track has been played: start a new set")

    def new_dj_set(self) -> dict:
        from latentstudio.dj.pipeline import BackToBack

        with self._lock:
            if self._library is None:
                raise StudioInputError("the record box is not analysed yet: load the library first", status=409)
            self._b2b = BackToBack(self._library, seed=self.settings.seed,
                                   transition_bars=self.settings.dj_transition_bars)
        return self.dj_state()

    def run_dj_pick(self, track: str, *, progress: Progress) -> dict:
        """The human plays ``track``, the AI answers with its pick and reasons, the set so far is mixed."""
        with self._lock:
            b2b = self._b2b
            if b2b is None:
                raise StudioInputError("the record box is not analysed yet: load the library first", status=409)
            progress(0, 2, "the AI listens and picks")
            human, ai = b2b.exchange(track)
        progress(1, 2, "mixing the set (beat-matched, verified)")
        mix = b2b.mix(sr=self.settings.dj_sr)
        progress(2, 2, "saving")
        out = new_name(self.root / "dj", "set", ".flac")
        mix.save(out, command=f"{COMMAND} dj", seed=self.settings.seed,
                 params={"turns": [[t.by, t.name] for t in b2b.turns], "sr": self.settings.dj_sr})
        state = self.dj_state()
        return {**state, "human": human.name, "ai": ai.name if ai else None,
                "ai_reasons": ai.reasons if ai else None, "mix": self.rel(out),
                "timeline": self.rel(out.with_suffix(".png")), "sidecar": self.rel(sidecar_path(out)),
                "duration": round(mix.duration, 2), "warnings": mix.warnings}

    # --------------------------------------------------------------------------------------- dream
    def run_dream(self, image_path: Path, *, label: str, layer: str, octaves: int, steps: int,
                  strongest: int | None, progress: Progress) -> dict:
        """DeepDream on a picture (:func:`latentstudio.dream.pipeline.dream_from_options`)."""
        from latentstudio.core.image import load
        from latentstudio.dream import resolve_model
        from latentstudio.dream.pipeline import dream_from_options

        total = octaves * steps
        progress(0, total, "loading the network")
        if self._loaded.dream_fm is None:
            self._loaded.dream_fm = resolve_model(self.settings.dream_model)
        done = [0]

        def tick() -> None:
            done[0] += 1
            progress(done[0], total, f"dreaming: step {done[0]}/{total}")

        run = dream_from_options(load(image_path), model=self._loaded.dream_fm, layers=[layer],
                                 strongest=strongest, octaves=octaves, steps=steps,
                                 max_side=self.settings.dream_max_side, seed=self.settings.seed, progress=tick)
        out = new_name(self.root / "dream", label, ".png")
        report = run.save(out, command=f"{COMMAND} dream",
                          params={"image": label, "layer": layer, "octaves": octaves, "steps": steps,
                                  "strongest": strongest, "max_side": self.settings.dream_max_side})
        report.pop("output", None)
        return {"image": self.rel(out), "sidecar": self.rel(sidecar_path(out)), **report}

    # ------------------------------------------------------------------------------------ perceive
    def check_perceive(self, target: str) -> str:
        """The ImageNet class a target names (400 with close names when unknown)."""
        from latentstudio.zoo import class_index

        if target.strip().lower() == "random":
            return "random"
        class_index(target)
        return target.strip()

    def run_perceive(self, target: str, *, strokes: int, budget: str, progress: Progress) -> dict:
        """Perception Engines (:func:`latentstudio.perception.perceive`): strokes the ensemble names ``target``."""
        from latentstudio import zoo
        from latentstudio.perception import perceive

        progress(0, None, "loading the classifiers")
        s = self.settings
        if self._loaded.perceive is None:
            def load(m):
                return zoo.load_classifier(m) if isinstance(m, str) else m
            self._loaded.perceive = ([load(m) for m in s.perceive_models], [load(m) for m in s.perceive_holdout])
        ens, held = self._loaded.perceive
        t0 = time.perf_counter()
        count = [0]

        def note(phase: str, it: int, value: float) -> None:
            count[0] += 1
            progress(count[0], None, f"{phase} {it}: log-reward {value:.2f} ({time.perf_counter() - t0:.0f} s)")

        if budget not in s.perceive_budgets:
            raise StudioInputError(f"budget={budget!r} must be one of {', '.join(s.perceive_budgets)}")
        res = perceive(target, models=ens, holdout=held, n_strokes=strokes, budget=s.perceive_budgets[budget],
                       seed=s.seed, callback=note)
        png, svg = res.save(new_name(self.root / "perceive", res.label, ".png"), size=s.perceive_size,
                            command=f"{COMMAND} perceive", seed=s.seed,
                            params={"target": target, "strokes": strokes, "budget": budget,
                                    "budget_settings": s.perceive_budgets[budget]})
        report = {k: v for k, v in res.to_dict().items() if k != "drawing"}
        return {"image": self.rel(png), "svg": self.rel(svg), "sidecar": self.rel(sidecar_path(png)), **report}


def _loaded_model(model: Any) -> bool:
    return model is not None and not isinstance(model, (str, os.PathLike))


def sample_names() -> list[str]:
    """The offline sample pictures a page may pick (:data:`latentstudio.assets.SAMPLE_IMAGES`)."""
    from latentstudio import assets

    return list(assets.SAMPLE_IMAGES)


