"""Learning to See (Memo Akten): a network trained only on one world re-sees every input as that world.

* :mod:`.worlds` — the worlds' photographs (Debian desktop backgrounds; any folder), split by photograph;
  unrelated test inputs
* :mod:`.degrade` — the degradation that makes a network input from a picture (training: random crops,
  flips, exposure jitter; training and run time: greyscale, ~24x area down-and-up sampling)
* :mod:`.model` — ``LeanUNet`` (real time on a CPU), pix2pix's ``unet_256``, the PatchGAN critic, ``SeeingGAN``
* :mod:`.training` — ``train_seeing`` through the project's training loop; ``load_seer_model``
* :mod:`.temporal` — temporal smoothing, optionally flow-guided; the flicker measure
* :mod:`.see` — ``Seer``: pre-filters, degradation, frozen channels-last generator, post-filters, smoothing;
  models swappable between frames
* :mod:`.check` — follows the input or plays a slideshow? of its world?
* :mod:`.pipeline` — ``train_run``, ``see_run``, ``check_run`` (what the CLI calls)

Example
-------
>>> from latentstudio.seeing.pipeline import check_run, see_run, train_run                  # doctest: +SKIP
>>> train_run("flowers", "models/flowers", steps=1500)                                      # doctest: +SKIP
>>> see_run(["models/flowers"], "clip.mp4", "clip.flowers.mp4", flow=True)                   # doctest: +SKIP
"""
