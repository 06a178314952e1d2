"""Latent Pulsations and Latent Landscapes (Max Frenzel): a VAE's latent space as the artwork.

* :mod:`.data` — labelled texts and images: WordNet noun glosses by lexicographer file, fortunes,
  Fashion-MNIST, any labelled CSV (the CFPB complaints export by its column names), image folders; deduped and
  split by content hash
* :mod:`.text` — vocabulary, bag-of-words counts, TF-IDF (sparse)
* :mod:`.vae` — ``TextVAE`` (TF-IDF in, bag of words out) and ``ImageVAE`` (conv), 2-D latent by default,
  optional label head; ``geometry_map`` embeds each decoder's output distribution for its Fisher-Rao metric
* :mod:`.training` — ``train_vae``: the project's training loop, filming every dot (``snapshots.npy``)
* :mod:`.pulsations` — the film planned frame by frame (motion-paced time, eased camera, beat-locked pulses)
  and drawn 1080p frame by frame (:mod:`latentstudio.core.raster`)
* :mod:`.geometry` — magnification factor (exact ``torch.func`` Jacobians, finite differences), the
  step-distance measure for any decoder
* :mod:`.cartogram` — Gastner-Newman diffusion cartogram, its velocity field, line-integral convolution
* :mod:`.landscape` — maps, cartogram sheets and flow pictures of any model with a latent
* :mod:`.pipeline` — ``train_run``, ``pulsations_run``, ``landscape_run`` (what the CLI calls)

Example
-------
>>> from latentstudio.latent.pipeline import landscape_run, pulsations_run, train_run      # doctest: +SKIP
>>> train_run("wordnet", "wn-vae", steps=3000)                                          # doctest: +SKIP
>>> pulsations_run("wn-vae", "pulse.mp4", music="dnb.wav", target_bpm=160)               # doctest: +SKIP
>>> landscape_run("wn-vae", "land.png")                                                  # doctest: +SKIP
"""
