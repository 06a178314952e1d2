"""The AI DJ (floor 2): a human and the AI play back to back from a library of audio files.

* :mod:`.analysis` — ``analyze_file`` / ``analyze_library``: tempo, beats, downbeats, key (Camelot),
  LUFS, energy, cue points, embedding; cached in the catalog by content hash; bad files reported, skipped
* :mod:`.beatnet` — the project's own beat/downbeat network (trained on music it renders), ``track_beats``
  with backends ``net`` / ``flux`` / ``madmom`` (optional, non-commercial models); decoding in
  :mod:`latentstudio.core.beats`
* :mod:`.select` — ``Selector``: tempo (half/double) and key compatibility, similarity to a drifting
  theme, a novelty dial, never a repeat; every choice with its reasons
* :mod:`.learned_selector` — ``train_selector`` / ``LearnedSelector``: a small GRU trained on the user's
  playlists (:mod:`.playlists`: M3U/M3U8, text, JSON) whose score joins the rules (``dj train-selector``)
* :mod:`.mix` — ``plan_mix`` / ``layout`` (master beat grid, cue points, tempo glide, EQ-swap crossfades)
  and ``render_mix`` (phase vocoder or rubberband along each track's time map, loudness matching)
* :mod:`.verify` — ``check_plan`` / ``check_audio`` / ``check_truth`` (true beats, when known): beat grids within 15 ms,
  tempo error below 0.5 %
* :mod:`.timeline` — ``draw_timeline``: the mix as a PNG (Pillow)
* :mod:`.music` — music with exact beats from MIDI the project writes (FluidSynth GM + Hydrogen kits)
* :mod:`.pipeline` — the end-to-end runs the CLI and the web call: ``analyse_folder`` -> ``Library``,
  ``mix_library`` -> ``MixResult`` (render, verify, ``save``), ``BackToBack`` (``human``, ``ai``,
  ``mix``), ``train_selector_from_playlists``, ``make_library``

Example
-------
>>> from latentstudio.dj.pipeline import analyse_folder, mix_library        # doctest: +SKIP
>>> mix_library(analyse_folder("music/"), n_tracks=4).save("mix.wav", command="dj mix")  # doctest: +SKIP
>>> from latentstudio.dj.analysis import analyze_library, library_files     # doctest: +SKIP
>>> from latentstudio.dj.mix import plan_mix, render_mix                    # doctest: +SKIP
>>> analyses, failures = analyze_library(library_files("music/"))           # doctest: +SKIP
>>> plan = plan_mix(analyses, n_tracks=4, seed=0)                           # doctest: +SKIP
>>> y, _ = render_mix(plan, {a["path"]: a for a in analyses}, sr=44100)     # doctest: +SKIP
"""

from latentstudio.dj.pipeline import (BackToBack, Library, MixResult, TrackSummary, Turn, analyse_folder,
                                      mix_library, render_plan)

__all__ = ["BackToBack", "Library", "MixResult", "TrackSummary", "Turn", "analyse_folder", "mix_library",
           "render_plan"]
