"""Imaginary Soundscapes (Qosmo, 2017): an image evokes its sound.

SoundNet's recipe on a small scale: a pretrained image classifier (the *teacher*) gives a class
distribution for an image; a spectrogram CNN (the *student*) is trained so that its output
distribution for the paired sound matches the teacher's (KL divergence), plus a contrastive term.
Because ImageNet's classes are WordNet synsets, a sound labelled by its name (``wolf-growl.ogg``) also
gets a teacher-space target without any picture, so the student learns from a labelled library of
real sound effects (Debian game and sample packages) as well as from pairs. Afterwards any image is
matched to the best sounds of the library, in both spaces, hubs suppressed, the top k kept diverse.

* :mod:`.teacher` — :class:`Teacher` (zoo classifier, temperature), :func:`heading_crops` for panoramas
* :mod:`.features` — :class:`MelSpec`, deterministic windows and normalised log-mels
* :mod:`.student` — :class:`SoundscapeStudent` (log-mel -> embedding -> 1000-way head),
  :func:`load_student` (the shipped model)
* :mod:`.augment` — audio (varispeed, noise, background, stretch, masks) and image augmentation
* :mod:`.data` — :class:`PairSet` from Tux Paint stamps, a manifest or a folder of videos; :class:`LabelSet`;
  :func:`split_three` (train / validation / test, same sound never on two sides)
* :mod:`.naming` — :func:`label_synset`: a sound's file and folder names -> a WordNet noun synset
* :mod:`.library` — :func:`build_library`: the Debian packages' sound effects (and user folders), labelled,
  deduplicated by decoded audio, with package and licence, embedded into the catalog
* :mod:`.targets` — :func:`label_target`: a synset -> a distribution over the 1000 classes (the hierarchy)
* :mod:`.pipeline` — the end-to-end runs the CLI and the web call: :func:`train_from_source` (``soundscape
  train`` from its options: the run, the model saved with its command and provenance),
  :func:`train_soundscape` (one training run: pairs, labels, split, distillation), :func:`source_sounds`,
  :func:`soundscape_for_image`
* :mod:`.training` — :class:`DistillConfig`, :func:`train_student` (on :func:`latentstudio.train.fit`)
* :mod:`.index` — :func:`index_sounds` into the catalog (incremental, reports unreadable files)
* :mod:`.query` — :func:`query_image` -> ranked sounds (:class:`QueryConfig`: blend of the embedding and
  class spaces, label weight, CSLS hub penalty, diversity) with scores and the teacher's labels
* :mod:`.render` — :func:`render_soundscape`: layered loops, crossfades, levels by score, pan by heading
* :mod:`.evaluate` — recall@k with bootstrap intervals, chance, the name baseline, the fixed validation and
  test pictures and their WordNet scoring

Example
-------
>>> import tempfile
>>> from latentstudio import assets
>>> from latentstudio.catalog import Catalog
>>> from latentstudio.core.image import load
>>> from latentstudio.soundscape import index_sounds, load_student, query_image
>>> model, info = load_student()
>>> sounds = [s.sound for s in assets.tuxpaint_stamps(with_sound=True)]
>>> with Catalog(tempfile.mkdtemp()) as cat:                                  # doctest: +SKIP
...     _ = index_sounds(sounds, catalog=cat, model=model, model_id=info["id"])
...     res = query_image(load(assets.sample_image("chelsea")), model=model, model_id=info["id"],
...                       catalog=cat, top=5)
"""

from latentstudio.soundscape.evaluate import chance_recall, heldout_recall, recall_at_k
from latentstudio.soundscape.features import MelSpec, load_sound, normalized_log_mel, sound_windows
from latentstudio.soundscape.index import IndexReport, index_sounds, sound_files, space_name
from latentstudio.soundscape.library import build_library, collect_sounds
from latentstudio.soundscape.naming import label_synset
from latentstudio.soundscape.query import Match, QueryConfig, QueryResult, query_image
from latentstudio.soundscape.targets import label_target
from latentstudio.soundscape.render import Layer, layers_from_matches, render_soundscape
from latentstudio.soundscape.student import SoundscapeStudent, default_model_path, load_student
from latentstudio.soundscape.teacher import Teacher, heading_crops
from latentstudio.soundscape.training import DistillConfig, train_student
from latentstudio.soundscape.pipeline import (Soundscape, TrainRun, soundscape_for_image, source_sounds,
                                              train_from_source, train_soundscape)

__all__ = ["Teacher", "heading_crops", "MelSpec", "load_sound", "normalized_log_mel", "sound_windows",
           "SoundscapeStudent", "load_student", "default_model_path", "index_sounds", "sound_files", "space_name",
           "IndexReport", "query_image", "QueryConfig", "QueryResult", "Match", "build_library", "collect_sounds",
           "label_synset", "label_target", "render_soundscape", "layers_from_matches", "Layer",
           "recall_at_k", "chance_recall", "heldout_recall", "DistillConfig", "train_student",
           "train_from_source", "train_soundscape", "TrainRun", "source_sounds", "soundscape_for_image",
           "Soundscape"]
