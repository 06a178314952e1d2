"""Floor 0: pure functions on arrays and files.

* :mod:`.audio` — ``load``, ``save`` (atomic), ``valid_audio``, ``resample``
* :mod:`.spectral` — batched torch ``stft``, ``mel``, ``log_mel``, ``griffin_lim`` (librosa filters)
* :mod:`.image` — ``load``, ``save``, ``to_tensor``, ``from_tensor``, ``valid_image``
* :mod:`.video` — ``write_video`` (MP4/GIF, optional audio track), ``read_video_frames``,
  ``iter_video_frames``, ``extract_audio``, ``video_info`` (bundled ffmpeg); ``iter_camera_frames``,
  ``camera_devices`` (V4L2 cameras through ffmpeg)
* :mod:`.filters` — ``gaussian_blur``, ``canny_edges``, ``adaptive_threshold``, a filter-spec language
  (``parse_filters``, ``apply_filter``: ``"blur:2,canny"``), coarse-to-fine Lucas-Kanade ``optical_flow``, ``warp``
* :mod:`.raster` — ``render_points`` (300k anti-aliased dots a 1080p frame), ``to_pixels``, colour maps
  (``colormap``, ``apply_colormap``), ``label_palette``, ``draw_legend``, ``draw_colorbar``
* :mod:`.rhythm` — onset envelope, onsets, tempo, beats, downbeats (from :mod:`.onsets`, :mod:`.beats`)
* :mod:`.key`, :mod:`.loudness`, :mod:`.stretch` — key (Camelot), LUFS and energy, time-stretching
* :mod:`.midi` — drum patterns and note sequences
* :mod:`.fileio` — ``atomic_path`` (write to a temp file, then rename)
"""
