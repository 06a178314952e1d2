"""Floor 1: one seeded, resumable training loop, for one process or many under torchrun.

* :func:`fit` — ``fit(model, data=..., loss_fn=..., config=TrainConfig(...), progress=None)``
  (:mod:`.loop`)
* :class:`TrainConfig`, :class:`TrainResult`, :func:`learning_rate` — settings, result, schedule
  (:mod:`.config`)
* :func:`latest_checkpoint`, :func:`load_training_checkpoint` — ``step-NNNNNNNN/`` checkpoint
  folders (zoo checkpoints + optimiser state, no pickle) (:mod:`.state`)
* :mod:`.data` — seeded batches from a Dataset or a ``make_batch(step, generator)`` callable
* :mod:`.distributed` — ``WORLD_SIZE``/``RANK`` detection and process-group set-up for torchrun

Example
-------
>>> import torch
>>> from latentstudio.train import TrainConfig, fit
>>> net = torch.nn.Linear(3, 1)
>>> batch = lambda step, g: torch.randn(8, 3, generator=g)
>>> res = fit(net, data=batch, loss_fn=lambda m, x: m(x).pow(2).mean(), config=TrainConfig(steps=5))
>>> res.steps_done
5
"""

from latentstudio.train.config import TrainConfig, TrainResult, learning_rate
from latentstudio.train.loop import fit
from latentstudio.train.state import latest_checkpoint, list_checkpoints, load_training_checkpoint

__all__ = ["fit", "TrainConfig", "TrainResult", "learning_rate", "latest_checkpoint", "list_checkpoints",
           "load_training_checkpoint"]
