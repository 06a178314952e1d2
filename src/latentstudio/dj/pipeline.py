"""The DJ's end-to-end runs, each returning a dataclass; the CLI and the web only parse, call, save and show.

* :func:`analyse_folder` -> :class:`Library`: every audio file of a folder analysed (cached in the catalog
  by content hash); files that cannot be read are kept in ``failures`` with their reasons;
* :func:`mix_library` -> :class:`MixResult`: choose tracks, lay them out on the master beat grid, render
  and verify the beat matching;
* :class:`BackToBack`: the human picks (:meth:`~BackToBack.human`), the AI answers
  (:meth:`~BackToBack.ai`), never a repeat; :meth:`~BackToBack.mix` renders the set so far;
* :func:`render_plan`: the one render-and-verify step of both; :meth:`MixResult.save` writes the mix, its
  timeline (``.png``) and its plan with provenance (``.json``);
* :func:`beats_of_file`, :func:`read_playlists` and :func:`train_selector_from_playlists`,
  :func:`make_library`: the other commands' runs.

A plan and an analysis stay plain JSON-ready dicts (they are cached in the catalog, written into sidecars and
printed with ``--json``); what a run returns around them is typed.

Example
-------
>>> from latentstudio.dj.pipeline import BackToBack, analyse_folder, mix_library     # doctest: +SKIP
>>> lib = analyse_folder("music/")                                                   # doctest: +SKIP
>>> mix_library(lib, n_tracks=4, seed=0).save("mix.wav", command="dj mix")           # doctest: +SKIP
>>> b2b = BackToBack(lib, seed=0)                                                    # doctest: +SKIP
>>> b2b.human("01-house"), b2b.ai()                                                  # doctest: +SKIP
>>> b2b.mix(sr=44100).plan["tracks"][1]["reasons"]["picked_by"]                      # doctest: +SKIP
'ai'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latentstudio.errors import ParameterError


# ------------------------------------------------------------------------------------------------ library
@dataclass
class TrackSummary:
    """The headline figures of one analysed track (rounded for display)."""

    path: str
    bpm: float
    beats_per_bar: int
    key: str
    camelot: str
    lufs: float
    duration: float
    cue_in: float
    cue_out: float

    @classmethod
    def of(cls, a: dict) -> TrackSummary:
        return cls(path=a["path"], bpm=round(a["bpm"], 2), beats_per_bar=a["beats_per_bar"], key=a["key"],
                   camelot=a["camelot"], lufs=round(a["lufs"], 1), duration=round(a["duration"], 2),
                   cue_in=round(a["cue_in"], 3), cue_out=round(a["cue_out"], 3))


@dataclass
class Library:
    """A folder's analysed tracks (dicts from :mod:`latentstudio.dj.analysis`) and the files that failed."""

    folder: str
    analyses: list[dict]
    failures: list[tuple[str, str]] = field(default_factory=list)   #: (path, reason)

    @property
    def files(self) -> int:
        return len(self.analyses) + len(self.failures)

    @property
    def by_path(self) -> dict[str, dict]:
        return {a["path"]: a for a in self.analyses}

    def summary(self) -> list[TrackSummary]:
        return [TrackSummary.of(a) for a in self.analyses]

    def tracks(self) -> list[dict]:
        """The analyses; ParameterError when no file of the folder could be analysed."""
        if not self.analyses:
            raise ParameterError(f"library {self.folder!r}: none of its {self.files} files could be analysed "
                                 "(see the messages above)")
        return self.analyses


def analyse_folder(folder: str | os.PathLike, *, catalog=None, backend: str = "auto", workers: int = 2,
                   cluster: str | None = None,
                   files: Sequence[str | os.PathLike] | None = None,
                   progress: Callable[[int], None] | None = None) -> Library:
    """Analyse every audio file of ``folder`` (recursively); failures are kept, not raised.

    Parameters
    ----------
    catalog : a :class:`~latentstudio.catalog.Catalog`, or its folder / .sqlite path (None: the user's);
        analyses are cached in it by content hash
    backend : beat tracker (see :func:`latentstudio.dj.beatnet.track_beats`)
    workers : parallel processes (or Ray actors)
    cluster : None/"local" for this machine, or a Ray cluster (see :func:`latentstudio.catalog.batch.map_items`)
    files : the folder's files when already listed (:func:`~latentstudio.dj.analysis.library_files`)
    progress : ``progress(n)`` after every ``n`` files

    Raises
    ------
    ParameterError : the folder is missing or holds no audio files
    """
    from latentstudio.catalog import Catalog
    from latentstudio.dj.analysis import analyze_library, library_files

    files = list(files) if files is not None else library_files(folder)
    own = not isinstance(catalog, Catalog)
    cat = Catalog(catalog) if own else catalog
    try:
        analyses, failures = analyze_library(files, catalog=cat, backend=backend, workers=workers, cluster=cluster,
                                             progress=progress)
    finally:
        if own:
            cat.close()
    return Library(folder=str(folder), analyses=analyses, failures=failures)


def _tracks(library: Library | list[dict]) -> list[dict]:
    return library.tracks() if isinstance(library, Library) else list(library)


def make_selector(analyses: list[dict], *, learned: str | os.PathLike | None = None, novelty: float = 0.2,
                  stretch_limit: float = 0.08, seed: int = 0):
    """The rule-based :class:`~latentstudio.dj.select.Selector`, or a
    :class:`~latentstudio.dj.learned_selector.LearnedSelector` when ``learned`` names a model folder."""
    if learned is None:
        from latentstudio.dj.select import Selector

        return Selector(analyses, novelty=novelty, stretch_limit=stretch_limit, seed=seed)
    from latentstudio.dj.learned_selector import LearnedSelector

    return LearnedSelector(analyses, scorer=learned, novelty=novelty, stretch_limit=stretch_limit, seed=seed)


def beats_of_file(path: str | os.PathLike, *, backend: str = "auto"):
    """Tempo, beats and downbeats of one audio file (a :class:`~latentstudio.core.beats.BeatResult`);
    ParameterError when the file is silent."""
    from latentstudio.core.audio import is_silent, load
    from latentstudio.dj.beatnet import track_beats

    y, sr = load(path)
    if is_silent(y):
        raise ParameterError(f"audio file {str(path)!r} is silent (peak below -60 dBFS): no beats to find")
    return track_beats(y, sr=sr, backend=backend)


# ---------------------------------------------------------------------------------------------------- mix
@dataclass
class MixResult:
    """A rendered mix: its plan (JSON-ready: tracks with reasons, transitions, checks, warnings), the audio
    ``(2, n)`` at ``sr``, and the analyses it was made from (by path)."""

    plan: dict
    audio: np.ndarray = field(repr=False)
    sr: int
    analyses: dict[str, dict] = field(repr=False, default_factory=dict)

    @property
    def duration(self) -> float:
        return float(self.plan["duration"])

    @property
    def checks(self) -> dict | None:
        """``{"plan": check_plan(...), "audio": check_audio(...)}`` when verified."""
        return self.plan.get("checks")

    @property
    def warnings(self) -> list[str]:
        return list(self.plan.get("warnings", []))

    def timeline(self, *, width: int = 1200):
        """The mix as a picture (:func:`latentstudio.dj.timeline.draw_timeline`), a ``PIL.Image``."""
        from latentstudio.dj.timeline import draw_timeline

        return draw_timeline(self.plan, self.analyses, width=width)

    def save(self, output: str | os.PathLike, *, command: str, params: dict | None = None, seed: int = 0,
             timeline_width: int = 1200) -> Path:
        """Write the mix to ``output`` (.wav/.flac), its timeline to ``output.png`` and the plan with its
        provenance to ``output.json`` (the sidecar of both); returns ``output``."""
        from latentstudio.core.audio import save
        from latentstudio.core.image import save as save_image
        from latentstudio.dj.beatnet import has_beatnet
        from latentstudio.provenance import provenance, write_sidecar

        output = Path(output)
        save(output, self.audio, self.sr)
        png = output.with_suffix(".png")
        save_image(png, np.asarray(self.timeline(width=timeline_width)))
        record = provenance(command=command, params=params, seed=seed,
                            models=["dj_beats"] if has_beatnet() else [],
                            artefacts=[str(output), str(png)], plan=self.plan)
        write_sidecar(output, record)
        return output


def render_plan(plan: dict, analyses: dict[str, dict], *, sr: int = 44100, stretch: str = "auto",
                verify: bool = True) -> MixResult:
    """Render ``plan`` and, with ``verify``, check its beat matching on the plan and on the rendered stems.

    Adds to the plan ``render_seconds``, ``realtime_factor``, ``checks`` (when verified) and a warning when
    the mix holds a single track.
    """
    from latentstudio.dj.mix import render_mix
    from latentstudio.dj.verify import check_audio, check_plan

    t0 = time.perf_counter()
    y, stems = render_mix(plan, analyses, sr=sr, keep_stems=verify, stretch=stretch)
    plan["render_seconds"] = round(time.perf_counter() - t0, 3)
    plan["realtime_factor"] = round(y.shape[1] / sr / max(1e-9, plan["render_seconds"]), 2)
    if verify:
        plan["checks"] = {"plan": check_plan(plan, analyses),
                          "audio": check_audio(plan, stems, sr=sr) if plan["transitions"] else {"ok": True}}
    if len(plan["tracks"]) == 1:
        plan.setdefault("warnings", []).append("only one track could be used: the mix is that track alone")
    return MixResult(plan=plan, audio=y, sr=sr, analyses=analyses)


def mix_library(library: Library | list[dict], *, n_tracks: int = 4, start: str | None = None,
                novelty: float = 0.2, transition_bars: int = 8, max_play_bars: int | None = None,
                stretch_limit: float = 0.08, selector: str | os.PathLike | None = None, sr: int = 44100,
                stretch: str = "auto", verify: bool = True, seed: int = 0) -> MixResult:
    """Choose ``n_tracks`` tracks of ``library`` and render a continuous beat-matched mix.

    Parameters
    ----------
    library : a :class:`Library` or a list of analyses
    n_tracks, start, transition_bars, max_play_bars : see :func:`latentstudio.dj.mix.plan_mix`
    novelty, stretch_limit, seed : the selector's settings (``seed`` also draws the start track)
    selector : a learned selector's folder (``dj train-selector``); default: the rules alone
    sr, stretch : sample rate and time-stretcher of the rendering (:func:`latentstudio.dj.mix.render_mix`)
    verify : check the beat matching on the rendered audio (``plan["checks"]``)

    Raises
    ------
    ParameterError : no analysable track, unknown start track, bad settings
    """
    from latentstudio.dj.mix import plan_mix

    analyses = _tracks(library)
    sel = make_selector(analyses, learned=selector, novelty=novelty, stretch_limit=stretch_limit, seed=seed)
    plan = plan_mix(analyses, n_tracks=n_tracks, start=start, transition_bars=transition_bars,
                    max_play_bars=max_play_bars, novelty=novelty, stretch_limit=stretch_limit, seed=seed,
                    selector=sel)
    return render_plan(plan, {a["path"]: a for a in analyses}, sr=sr, stretch=stretch, verify=verify)


# ------------------------------------------------------------------------------------------ back to back
@dataclass
class Turn:
    """One pick of a back-to-back set."""

    by: str                                #: "human" or "ai"
    analysis: dict = field(repr=False)     #: the track's analysis
    reasons: dict = field(default_factory=dict)   #: why, as in the plan: picked_by, score, tempo, key ...
    heard_bpm: float = 0.0                 #: its tempo as heard (its own, doubled or halved to match)

    @property
    def path(self) -> str:
        return self.analysis["path"]

    @property
    def name(self) -> str:
        return Path(self.analysis["path"]).name


class BackToBack:
    """A back-to-back set: the human and the AI take turns choosing from one record box, never a repeat.

    The human opens; then each plays after the other (:meth:`human`, :meth:`ai`, or :meth:`exchange` for a
    human pick and the AI's answer). :meth:`mix` lays the picks out on the master grid and renders them.

    Parameters
    ----------
    library : a :class:`Library` or a list of analyses
    novelty, stretch_limit, seed : the AI's selector settings; selector : a learned selector's folder
    transition_bars, max_play_bars : the layout (:func:`latentstudio.dj.mix.layout`)

    Example
    -------
    >>> b2b = BackToBack(lib, seed=0)                             # doctest: +SKIP
    >>> human, ai = b2b.exchange("01-house")                      # doctest: +SKIP
    >>> ai.reasons["similarity"], b2b.left()                      # doctest: +SKIP
    """

    def __init__(self, library: Library | list[dict], *, novelty: float = 0.2, stretch_limit: float = 0.08,
                 transition_bars: int = 8, max_play_bars: int | None = None,
                 selector: str | os.PathLike | None = None, seed: int = 0):
        from latentstudio.dj.mix import check_layout

        check_layout(transition_bars, max_play_bars)
        self.analyses = _tracks(library)
        self.selector = make_selector(self.analyses, learned=selector, novelty=novelty,
                                      stretch_limit=stretch_limit, seed=seed)
        self.transition_bars = transition_bars
        self.max_play_bars = max_play_bars
        self.turns: list[Turn] = []
        self._current: dict = {}               # the last track as heard (its tempo after matching)

    def left(self) -> list[str]:
        """File names of the tracks not played yet, sorted."""
        return sorted(Path(a["path"]).name for a in self.selector.candidates())

    @property
    def over(self) -> bool:
        """True when every track has been played."""
        return not self.selector.candidates()

    @property
    def next_player(self) -> str:
        """Whose turn it is: "human" (who opens) or "ai"."""
        return "ai" if self.turns and self.turns[-1].by == "human" else "human"

    def _play(self, by: str, a: dict, reasons: dict, multiplier: float) -> Turn:
        self.selector.mark_played(a)
        self._current = {**a, "bpm": a["bpm"] * multiplier}
        turn = Turn(by=by, analysis=a, reasons=reasons, heard_bpm=float(self._current["bpm"]))
        self.turns.append(turn)
        return turn

    def human(self, pick: str) -> Turn:
        """Play the human's ``pick`` (a path or file name, with or without extension).

        Raises
        ------
        ParameterError : not the human's turn, an unknown track, or one already played
        """
        if self.next_player != "human":
            raise ParameterError("it is the AI's turn: the DJs play one track each in turn")
        sel = self.selector
        name = str(pick).strip()
        a = sel.find(name)
        if a["path"] in sel.played:
            raise ParameterError(f"track {name!r} has already been played; the DJs never repeat a track")
        why: dict = {"picked_by": "human"}
        mult = 1.0
        if self.turns:
            why.update(sel.score(self._current, a, sel.theme)[1])
            mult = why["tempo"]["beat_multiplier"]
        return self._play("human", a, why, mult)

    def ai(self) -> Turn:
        """The AI's answer to the track playing: the best fitting unplayed track (see the selector).

        Raises
        ------
        ParameterError : not the AI's turn (the human opens, then each plays in turn), or no track left
        """
        if self.next_player != "ai":
            raise ParameterError("it is the human's turn: the human opens, then the DJs play one track each "
                                 "in turn")
        pick = self.selector.choose(self._current)
        b = self.selector.by_path[pick["path"]]
        why = {"picked_by": "ai", "score": pick["score"], **pick["reasons"]}
        return self._play("ai", b, why, pick["reasons"]["tempo"]["beat_multiplier"])

    def exchange(self, pick: str) -> tuple[Turn, Turn | None]:
        """The human plays ``pick`` and the AI answers (None when no track is left to answer with)."""
        mine = self.human(pick)
        return mine, (None if self.over else self.ai())

    def plan(self) -> dict:
        """The set so far laid out on the master beat grid (see :func:`latentstudio.dj.mix.layout`)."""
        from latentstudio.dj.mix import layout

        if not self.turns:
            raise ParameterError("no turns were played")
        return layout([(t.analysis, t.reasons) for t in self.turns], transition_bars=self.transition_bars,
                      max_play_bars=self.max_play_bars)

    def mix(self, *, sr: int = 44100, stretch: str = "auto", verify: bool = True) -> MixResult:
        """Render the set so far (:func:`render_plan`)."""
        return render_plan(self.plan(), {a["path"]: a for a in self.analyses}, sr=sr, stretch=stretch,
                           verify=verify)


# ------------------------------------------------------------------------------------- selector training
def read_playlists(paths: Sequence[str | os.PathLike], folder: str | os.PathLike,
                   files: Sequence[str | os.PathLike] | None = None) -> list:
    """Parse playlists and match their entries to the audio files of ``folder`` (a list of
    :class:`~latentstudio.dj.playlists.Playlist`; unmatched entries in each one's ``missing``)."""
    from latentstudio.dj.analysis import library_files
    from latentstudio.dj.playlists import read_playlist

    files = list(files) if files is not None else library_files(folder)
    resolved = [str(Path(f).resolve()) for f in files]
    return [read_playlist(p, library=resolved, library_dir=folder) for p in paths]


def train_selector_from_playlists(output: str | os.PathLike, library: Library | list[dict],
                                  playlists: list, *, steps: int = 400, history: int = 8, seed: int = 0,
                                  progress: Callable[[int, int, float], None] | None = None) -> dict:
    """Train a learned selector on ``playlists`` (from :func:`read_playlists`) over the analysed ``library``;
    writes it to ``output`` and returns the report (with ``skipped_entries``: playlist entries not found).

    Raises
    ------
    ParameterError : the playlists hold no two analysable tracks in a row
    """
    from latentstudio.dj.learned_selector import train_selector

    analyses = _tracks(library)
    index = {a["path"]: i for i, a in enumerate(analyses)}
    sequences = [[index[t] for t in pl.tracks if t in index] for pl in playlists]
    if not any(len(set(s)) >= 2 for s in sequences):
        raise ParameterError("the playlists hold no two analysable tracks in a row: nothing to learn from")
    report = train_selector(output, analyses, sequences, steps=steps, seed=seed, history=history,
                            progress=progress)
    report["skipped_entries"] = sum(len(pl.missing) for pl in playlists)
    return report


# ------------------------------------------------------------------------------------------- demo music
def make_library(folder: str | os.PathLike, *, seed: int = 0, count: int = 6, sr: int = 22050) -> list[dict]:
    """Render a library with exact beats into ``folder``: the fixed demo set (``seed=0``) or ``count``
    random tracks drawn with ``seed``; returns the ground truth (path, bpm, key, beats, downbeats)."""
    from latentstudio.core.audio import check_sample_rate
    from latentstudio.dj.music import DEMO_SPECS, random_spec, write_library

    if not isinstance(count, (int, np.integer)) or not 1 <= count <= 1000:
        raise ParameterError(f"count={count!r} must be between 1 and 1000")
    check_sample_rate(sr)
    specs = DEMO_SPECS
    if seed > 0:
        rng = np.random.default_rng(seed)
        specs = tuple(random_spec(rng, bars=24) for _ in range(count))
    return write_library(folder, specs, sr=sr)


__all__ = ["TrackSummary", "Library", "analyse_folder", "make_selector", "beats_of_file", "MixResult",
           "render_plan", "mix_library", "Turn", "BackToBack", "read_playlists",
           "train_selector_from_playlists", "make_library"]
