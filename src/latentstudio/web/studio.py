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
    seeing/      NAME-WORLD.png + NAME-WORLD.json  a picture re-seen by each chosen Learning-to-See model
    gan/         NAME.mp4 + NAME.json (a latent walk or loop) or NAME.png + NAME.json (a sample grid)
    funk/NAME/   SOUND.wav + SOUND.json  NeuralFunk's dreams or a re-made sound with its variations
    latent/      models/SOURCE-sSEED-STEPS/ (VAEs the page trained), NAME-land.png (+ .cartogram/.flow.png, .npz)
                 and NAME-pulse.mp4, each with its sidecar
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
from latentstudio.web.files import StudioInputError, new_name, safe_stem
from latentstudio.web.jobs import JobCancelled

Progress = Callable[..., None]

#: Command names written into the sidecars of the studio's artefacts.
COMMAND = "latentstudio studio"
#: Longest Latent film made to a track (the film lasts the track, up to this): the page's longest film.
LATENT_MUSIC_SECONDS = 30.0


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
    #: the page's budget names -> the pipeline's budget: seconds of wall time (as ``perceive --budget``), or a name
    #: of ``perception.BUDGETS`` / a dict of its keys for fixed iteration counts (the tests' tiny ones)
    perceive_budgets: dict = field(default_factory=lambda: {"small": 30.0, "default": 180.0})
    # seeing (Learning to See)
    #: world name -> model folder (None: the shipped models, :func:`latentstudio.seeing.training.shipped_models`)
    seeing_models: dict | None = None
    # gan
    gan_model: str | os.PathLike = "omniart-eyes"   #: a pretrained generator's name or a `gan train` folder
    gan_feature_model: Any = None             #: network measuring a walk's speed (None: EfficientNet-Lite0)
    gan_feature_size: int = 128               #: side it sees the pictures at (the CLI's --feature-size)
    gan_backend: str = "auto"                 #: beat tracker of a walk on music (the CLI's --backend)
    # latent (Latent Pulsations / Landscapes)
    latent_max_items: int = 4000              #: texts or pictures a page-trained VAE learns from
    latent_hidden: int = 128                  #: its width (the demo's)
    latent_resolution: int = 256              #: side of the landscape map
    latent_film_size: tuple = (960, 540)      #: the pulsation film's frame size
    # funk (NeuralFunk)
    funk_model: str | os.PathLike | None = None     #: a `funk train-vae` folder (None: the shipped SampleVAE)
    funk_wavenet: str | os.PathLike | None = None   #: a `funk train-wavenet` folder or "shipped" (None: Griffin-Lim)

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
    seers: dict = field(default_factory=dict)
    gan_conditions: list | None = None
    funk: tuple | None = None


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
            self._loaded.teacher = Teacher.of_student(model)
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

    # -------------------------------------------------------------------------------------- seeing
    def seeing_models(self) -> dict[str, Path]:
        """World name -> model folder of the models the page offers (the shipped ones by default)."""
        if self.settings.seeing_models is not None:
            return {str(k): Path(v) for k, v in self.settings.seeing_models.items()}
        from latentstudio.seeing.training import shipped_models

        return shipped_models()

    def check_seeing(self, models: Sequence[str], pre: str) -> tuple[list[str], str]:
        """The chosen model names (known, in order, once each) and the pre-filter spec, or a 400 naming the field."""
        from latentstudio.core.filters import parse_filters

        known = self.seeing_models()
        names = list(dict.fromkeys(m.strip() for m in models if m and m.strip()))
        if not names:
            raise StudioInputError(f"models: choose at least one model ({', '.join(known) or 'none shipped'})")
        for m in names:
            if m not in known:
                raise StudioInputError(f"models: {m!r} is not a model of the studio ({', '.join(known)})")
        spec = pre.strip() or "none"
        try:
            parse_filters(spec)
        except ParameterError as exc:
            raise StudioInputError(f"pre: {exc}") from None
        return names, spec

    def run_seeing(self, image_path: Path, *, label: str, models: Sequence[str], pre: str, size: int,
                   side_by_side: bool, progress: Progress) -> dict:
        """Learning to See (:func:`latentstudio.seeing.pipeline.see_run`): the picture re-seen by each model,
        one ``seeing/LABEL-WORLD.png`` and sidecar per model (as ``latentstudio seeing run`` writes them)."""
        from latentstudio.provenance import write_sidecar
        from latentstudio.seeing.pipeline import load_models, see_run

        known = self.seeing_models()
        total = len(models)
        progress(0, total, "loading the models")
        t0 = time.perf_counter()
        made = []
        for i, name in enumerate(models):
            if name not in self._loaded.seers:
                self._loaded.seers[name] = load_models([known[name]])[0]
            progress(i, total, f"re-seeing the picture as {name} ({i + 1}/{total})")
            out = new_name(self.root / "seeing", f"{label}-{name}", ".png")
            run = see_run([self._loaded.seers[name]], image_path, out, size=size, pre=pre,
                          side_by_side=side_by_side)
            params = {**run.params, "source": label, "model": name, "side_by_side": side_by_side}
            summary = {k: v for k, v in run.summary().items() if k not in ("outputs", "params")}
            side = write_sidecar(out, command=f"{COMMAND} seeing", params=params, models=run.models,
                                 summary=summary)
            made.append({"model": name, "image": self.rel(out), "sidecar": self.rel(side),
                         "seconds": round(run.seconds, 2)})
        progress(total, total, "done")
        return {"images": made, "image": made[0]["image"], "sidecar": made[0]["sidecar"], "pre": pre,
                "size": size, "side_by_side": side_by_side, "seconds": round(time.perf_counter() - t0, 2)}

    # ----------------------------------------------------------------------------------------- gan
    def gan_conditions(self) -> list[str]:
        """The condition names of the studio's generator ([] for an unconditional one)."""
        if self._loaded.gan_conditions is None:
            from latentstudio.zoo.pretrained_gans import PRETRAINED

            model = self.settings.gan_model
            if isinstance(model, str) and model in PRETRAINED:
                names = PRETRAINED[model].config.get("condition_names", [])
            else:
                from latentstudio.gan.pipeline import load_generator

                names = getattr(load_generator(model)[0], "condition_names", [])
            self._loaded.gan_conditions = [str(n) for n in names]
        return self._loaded.gan_conditions

    def gan_info(self) -> dict:
        """The generator's name (a pretrained name, or its folder's name) and its conditions."""
        from latentstudio.zoo.pretrained_gans import PRETRAINED

        model = self.settings.gan_model
        name = model if isinstance(model, str) and model in PRETRAINED else Path(os.fspath(model)).name
        return {"model": name, "conditions": self.gan_conditions()}

    def check_gan_condition(self, condition: str) -> str | None:
        """None for a random condition, else a condition the generator knows (400 naming them otherwise)."""
        text = condition.strip()
        if text in ("", "random"):
            return None
        names = self.gan_conditions()
        if not names:
            raise StudioInputError(f"condition={text!r}: the generator is unconditional (leave it random)")
        if text not in names:
            raise StudioInputError(f"condition={text!r} must be one of {', '.join(names)} (or random)")
        return text

    def run_gan(self, *, mode: str, seed: int, keys: int, seconds: float, fps: float, size: int, n: int,
                truncation: float, condition: str | None, music: Path | None = None, music_label: str | None = None,
                beats_per_key: int = 4, accent: float = 0.3, progress: Progress) -> dict:
        """A latent walk (``mode`` "walk"), a seamless loop ("loop") or a sample grid ("grid") of the studio's
        generator (:func:`latentstudio.gan.pipeline.walk_run` / :func:`~latentstudio.gan.pipeline.sample_run`);
        a walk on ``music`` puts its keyframes on the track's beats and muxes the track in."""
        from latentstudio.gan.pipeline import sample_run, walk_run

        s = self.settings
        model = s.gan_model
        stem = f"{Path(os.fspath(model)).name}-{mode}"
        progress(0, None, "loading the generator")
        if mode == "grid":
            out = new_name(self.root / "gan", stem, ".png")
            run = sample_run(model, out, n=n, seed=seed, truncation=truncation, condition=condition, size=size,
                             command=f"{COMMAND} gan sample")
            progress(1, 1, "done")
            return {"mode": mode, "image": self.rel(out), "sidecar": self.rel(sidecar_path(out)), **_plain(
                {k: v for k, v in run.summary().items() if k != "output"})}
        out = new_name(self.root / "gan", stem, ".mp4")
        # before the frames (total 0), measuring the path: a cancel stops it there, nothing written yet
        report = _FilmProgress(progress, "rendering", untotalled=lambda done: f"measuring the path ({done} pictures)")
        run = walk_run(model, out, n_keys=keys, seconds=seconds, fps=fps, loop=mode == "loop", truncation=truncation,
                       condition=condition, music=music, beats_per_key=beats_per_key, accent=accent,
                       backend=s.gan_backend, size=size, feature_size=s.gan_feature_size, seed=seed,
                       feature_model=s.gan_feature_model, progress=report, command=f"{COMMAND} gan walk")
        report.finish(out)
        return {"mode": mode, "video": self.rel(out), "sidecar": self.rel(sidecar_path(out)), "music": music_label,
                **_plain({k: v for k, v in run.summary().items() if k != "output"})}

    # ------------------------------------------------------------------------------------------ latent
    def latent_models(self) -> list[str]:
        """The VAEs the page has trained (``latent/models/NAME``), newest first."""
        folder = self.root / "latent" / "models"
        done = [p for p in folder.glob("*") if p.is_dir() and (p / "config.json").is_file()] if folder.is_dir() else []
        return [p.name for p in sorted(done, key=lambda p: p.stat().st_mtime, reverse=True)]

    def run_latent(self, *, source: str, steps: int, seed: int, film: bool, seconds: float,
                   music: Path | None = None, music_label: str | None = None, progress: Progress) -> dict:
        """A VAE trained on ``source`` (once per source, steps and seed; kept under ``latent/models/``), the map
        of its latent space (magnification, cartogram, flow: :func:`latentstudio.latent.pipeline.landscape_run`)
        and, with ``film``, its training as a film pulsing to ``music`` (or a 120 bpm metronome)."""
        import shutil

        from latentstudio.latent.pipeline import landscape_run, pulsations_run, train_run
        from latentstudio.latent.pulsations import PulseStyle

        s = self.settings
        name = f"{source}-s{seed}-{steps}"
        model = self.root / "latent" / "models" / name
        trained = None
        if not (model / "config.json").is_file():
            part = model.with_name(name + ".part")
            if part.exists():
                shutil.rmtree(part)
            progress(0, steps, f"training a VAE on {source}")
            try:
                run = train_run(source, part, max_items=s.latent_max_items, steps=steps, hidden=s.latent_hidden,
                                snapshot_every=max(1, steps // 50), warmup=max(1, steps // 5), seed=seed,
                                command=f"{COMMAND} latent train",
                                progress=lambda step, total, loss: progress(step, total, f"training: loss {loss:.3f}"))
            except BaseException:
                shutil.rmtree(part, ignore_errors=True)        # a cancelled or failed training leaves nothing
                raise
            part.rename(model)
            trained = _plain(run.summary())
        progress(None, None, "mapping the latent space")
        land = landscape_run(model, new_name(self.root / "latent", f"{name}-land", ".png"),
                             resolution=s.latent_resolution, cells=96, seed=seed, command=f"{COMMAND} latent landscape")
        out = {"model": name, "trained": trained, "map": self.rel(land.output), "sidecar": self.rel(sidecar_path(land.output)),
               "cartogram": self.rel(land.cartogram), "flow": self.rel(land.flow),
               "landscape": _plain(land.summary), "film": None}
        if film:
            video = new_name(self.root / "latent", f"{name}-pulse", ".mp4")
            report = _FilmProgress(progress, "filming")
            w, h = s.latent_film_size
            # with music the film lasts the track, up to the page's longest film
            pulse = pulsations_run(model, video, music=music, seconds=seconds if music is None else LATENT_MUSIC_SECONDS,
                                   fps=24.0, style=PulseStyle(width=int(w), height=int(h), title=source), seed=seed,
                                   progress=report, command=f"{COMMAND} latent pulsations")
            report.finish(video, land.output, land.cartogram, land.flow, land.values)
            out["film"] = {"video": self.rel(video), "sidecar": self.rel(sidecar_path(video)), "music": music_label,
                           **_plain({k: v for k, v in pulse.summary().items() if k != "output"})}
        progress(1, 1, "done")
        return out

    # ------------------------------------------------------------------------------------------ funk
    def _funk_models(self) -> tuple:
        if self._loaded.funk is None:
            from latentstudio.funk.models import load_funk_models

            self._loaded.funk = load_funk_models(self.settings.funk_model, self.settings.funk_wavenet)
        return self._loaded.funk

    def funk_info(self) -> dict:
        """The SampleVAE's name, its drum classes and the renderer (WaveNet or Griffin-Lim)."""
        from latentstudio.funk.data import CLASSES

        model, wavenet = self.settings.funk_model, self.settings.funk_wavenet
        return {"model": "shipped SampleVAE" if model is None else Path(os.fspath(model)).name,
                "classes": list(CLASSES), "renderer": "Griffin-Lim" if wavenet is None else "WaveNet"}

    def run_funk(self, *, mode: str, drum: str | None, n: int, temperature: float, listen: bool, variations: int,
                 noise: float, seed: int, sound: Path | None = None, sound_label: str | None = None,
                 progress: Progress) -> dict:
        """Class-conditioned dreams (``mode`` "dream", :func:`latentstudio.funk.pipeline.dream`) or an uploaded
        sound re-made with variations ("reimagine"); WAVs with sidecars in a new folder under ``funk/``."""
        from latentstudio.funk.pipeline import dream, load_sounds, reimagine

        progress(0, None, "loading the SampleVAE")
        vae, info, wavenet = self._funk_models()

        def report(done: int, total: int) -> None:
            progress(done, total, f"rendering {done}/{total}")

        if mode == "dream":
            gen = dream(vae, info, n=n, drum=drum, temperature=temperature, listen=listen, seed=seed, wavenet=wavenet,
                        progress=report)
            stem = f"dream-{drum or 'all'}"
        else:
            label = Path(sound_label or "sound").stem or "sound"
            progress(None, None, "encoding the sound")
            gen = reimagine(vae, info, load_sounds([sound]), variations=variations, noise=noise, seed=seed,
                            wavenet=wavenet, names=[safe_stem(label, "sound")])
            stem = f"reimagine-{label}"
        folder = new_name(self.root / "funk", stem, "")
        paths = gen.save(folder, command=f"{COMMAND} funk {mode}")
        heard = gen.how.get("heard") or [None] * len(paths)
        progress(1, 1, "done")
        return {"mode": mode, "folder": self.rel(folder), "renderer": self.funk_info()["renderer"],
                "sounds": [{"name": name, "audio": self.rel(p), "sidecar": self.rel(sidecar_path(p)), "heard": h}
                           for name, p, h in zip(gen.names, paths, heard)]}


class _FilmProgress:
    """The ``(done, total)`` progress of a video render, told to a job as "VERB frame i/n".

    A cancel is not raised into the video writer (its ffmpeg would be left running and write a stray file): it
    is noted, the render finishes, and :meth:`finish` then removes what the run wrote (files and sidecars) and
    raises :class:`JobCancelled`. Reports without a total (work before the frames) go through ``untotalled``'s
    message, where a cancel is raised at once.
    """

    def __init__(self, progress: Progress, verb: str, *, untotalled: Callable[[int], str] | None = None) -> None:
        self.progress, self.verb, self.untotalled = progress, verb, untotalled
        self.cancelled_at: int | None = None

    def __call__(self, done: int, total: int) -> None:
        if not total and self.untotalled is not None:
            self.progress(None, None, self.untotalled(done))
            return
        try:
            self.progress(done, total, f"{self.verb} frame {done}/{total}")
        except JobCancelled:
            if self.cancelled_at is None:
                self.cancelled_at = done

    def finish(self, *written: Path | None) -> None:
        """After the render: on a noted cancel, remove ``written`` (and their sidecars) and raise."""
        if self.cancelled_at is None:
            return
        for f in written:
            if f is not None:
                f.unlink(missing_ok=True)
                sidecar_path(f).unlink(missing_ok=True)
        raise JobCancelled(f"cancelled at frame {self.cancelled_at}")


def _plain(summary: dict) -> dict:
    """A run's summary as JSON-ready values."""
    from latentstudio.provenance import _jsonable

    return _jsonable(summary)


def _loaded_model(model: Any) -> bool:
    return model is not None and not isinstance(model, (str, os.PathLike))


def sample_names() -> list[str]:
    """The offline sample pictures a page may pick (:data:`latentstudio.assets.SAMPLE_IMAGES`)."""
    from latentstudio import assets

    return list(assets.SAMPLE_IMAGES)


