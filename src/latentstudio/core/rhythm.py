"""Rhythm in one place: onsets (Neural Beatbox) and tempo, beats, downbeats (AI DJ).

This module is the table of contents; the algorithms live one per file:

* :mod:`latentstudio.core.onsets` — ``onset_envelope`` (log-mel SuperFlux), ``onset_detect`` with
  backtracking to the true start of each sound.
* :mod:`latentstudio.core.beats` — ``beat_track`` (activation + Viterbi decoding over beat interval with
  a tempo prior), ``BeatResult``, ``bar_phase``, ``downbeat_phase``, ``beat_envelope`` (a per-frame pulse
  that peaks on each beat's video frame and decays, accented on downbeats).

Example
-------
>>> import numpy as np
>>> from latentstudio.core import rhythm
>>> y = np.zeros(22050, dtype=np.float32)
>>> rhythm.onset_detect(y, sr=22050).size          # silence has no onsets
0
"""

from latentstudio.core.beats import (BeatResult, bar_phase, beat_envelope, beat_track, decode_beats,
                                    downbeat_phase)
from latentstudio.core.onsets import onset_detect, onset_envelope

__all__ = ["onset_envelope", "onset_detect", "beat_track", "BeatResult", "bar_phase", "decode_beats",
           "downbeat_phase", "beat_envelope"]
