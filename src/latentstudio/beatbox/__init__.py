"""Neural Beatbox (Qosmo, 2019): voice sounds become a drum kit in an ever-evolving generated beat.

* :mod:`.segment` — ``load_voice`` (caps long files, notes clipping), ``segment_sounds`` (backtracked
  onsets from :mod:`latentstudio.core.onsets`; trimmed, normalised sounds)
* :mod:`.features` — the classifier's log-mel patch (16 kHz, 48 mels x 48 frames)
* :mod:`.oneshots` — labelled one-shots of every installed drum source (Hydrogen kits, LMMS, Sonic Pi,
  the GM soundfont's kits, user folders) split by origin (``SPLITS``) and deduplicated: ``load_splits``
* :mod:`.drumsynth` — ``render_drumsynth``: LMMS's DrumSynth presets to audio
* :mod:`.augment` — pitch/speed, attack, decay, voicing, room, noise, clipping; EQ, formants, masks
* :mod:`.classifier` — ``DrumCNN``, ``load_classifier``, ``DrumClassifier.classify/calibrate``,
  ``train_classifier`` (temperature fitted on validation)
* :mod:`.evaluate` — ``evaluate_predictions``, ``CentroidRule`` and ``MfccKnn`` baselines,
  ``evaluate_voices`` (zero-shot and few-shot calibrated)
* :mod:`.pattern` — ``DrumPattern`` (32 steps x 9 GM voices: hit, velocity, micro-timing), GM MIDI
  and Hydrogen song readers, ``patterns_to_midi``
* :mod:`.grammar` — seeded patterns of 13 common styles
* :mod:`.rhythm_vae` — ``RhythmVAE`` conditioned on per-voice density; ``sample_patterns``,
  ``decode_patterns``, ``slerp``, ``humanise``, ``train_rhythm``
* :mod:`.kit` — ``hydrogen_kit``, ``add_sounds`` (voice sounds replace or layer kit samples)
* :mod:`.render` — ``render_patterns`` (sample-accurate numpy mixing)
* :mod:`.jam` — ``detect_hits``, ``jam`` (the whole piece), ``requested_density``
* :mod:`.session` — installation mode: a folder that keeps the kit and the latest latent; ``take_turn``
  (one visitor's booth turn, end to end) -> ``SessionTurn``
* :mod:`.pipeline` — the end-to-end runs the CLI and the web call: ``segment_recording`` -> ``Segmented``,
  ``classify_recording``, ``calibrate``, ``jam_recordings`` + ``save_beat`` -> ``BeatFiles``, ``generate``
  (a latent walk) -> ``Generated``, ``train_drum_classifier`` / ``train_onset_network`` /
  ``train_rhythm_model`` -> ``TrainedModel``
* :mod:`.hits_picture` — ``draw_hits``: a recording's waveform with its sounds shaded by class
* :mod:`.voices` — espeak-ng voice percussion for judging and demos (never for training)
"""

from latentstudio.beatbox.pipeline import (BeatFiles, Classified, Generated, Segmented, classify_recording,
                                           generate, jam_recordings, save_beat, segment_recording)
from latentstudio.beatbox.session import SessionTurn, take_turn

__all__ = ["BeatFiles", "Classified", "Generated", "Segmented", "classify_recording", "generate",
           "jam_recordings", "save_beat", "segment_recording", "SessionTurn", "take_turn"]
