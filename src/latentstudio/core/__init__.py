"""Floor 0: pure functions on arrays and files.

* :mod:`.audio` — ``load``, ``save`` (atomic), ``valid_audio``, ``resample``
* :mod:`.spectral` — batched torch ``stft``, ``mel``, ``log_mel``, ``griffin_lim`` (librosa filters)
* :mod:`.image` — ``load``, ``save``, ``to_tensor``, ``from_tensor``, ``valid_image``
* :mod:`.video` — ``write_video`` (MP4/GIF, optional audio track)
* :mod:`.rhythm` — onset envelope, onsets, tempo, beats, downbeats
* :mod:`.midi` — drum patterns and note sequences
* :mod:`.fileio` — ``atomic_path`` (write to a temp file, then rename)
"""
