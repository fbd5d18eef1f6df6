"""The paper's fine-tuning baselines: ImageNet ResNet-18 and ViT-B with a new 4-class head.

"The classification heads of these pretrained networks were finetuned": the backbone stays
frozen (eval mode: no dropout, BatchNorm statistics fixed) and only the classifier trains, with
Adam (lr 1e-4, weight decay 1e-4), batch 16, 50 epochs, cross-entropy. Because a frozen
backbone in eval mode gives every image the same classifier input in every epoch, that input
is computed once per image (and cached); training the head on it is exactly the same
computation as running the whole network each epoch, at a fraction of the cost.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from eczema_tracker import __version__
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.research.cache import ResearchCache, cache_key
from eczema_tracker.research.dataset import CLASS_NAMES, ResearchDataset
from eczema_tracker.research.features import WorkCounts

DEFAULT_RESNET = "microsoft/resnet-18"
DEFAULT_VIT = "google/vit-base-patch16-224"
LEARNING_RATE = 1e-4
WEIGHT_DECAY = 1e-4
BATCH_SIZE = 16
EPOCHS = 50


@dataclass(frozen=True)
class HeadTraining:
    """Optimiser settings of the head fine-tuning (recorded in the run config)."""

    epochs: int = EPOCHS
    batch_size: int = BATCH_SIZE
    lr: float = LEARNING_RATE
    weight_decay: float = WEIGHT_DECAY


class HeadFineTuner:
    """An ImageNet classifier from ``source`` whose head is re-trained for the four classes."""

    def __init__(
        self,
        source: str,
        dataset: ResearchDataset,
        cache: ResearchCache,
        *,
        device: str = "cpu",
        counts: WorkCounts | None = None,
    ) -> None:
        from eczema_tracker.ml.checkpoint_files import weights_fingerprint
        from eczema_tracker.ml.sources import resolve_source

        self.source = source
        self.dataset = dataset
        self.cache = cache
        self.device = device
        self.counts = counts or WorkCounts()
        self.folder = resolve_source(source)
        self.fingerprint = weights_fingerprint(self.folder)
        self._model = None
        self._processor = None

    def _load(self):
        if self._model is None:
            from transformers import AutoImageProcessor, AutoModelForImageClassification

            from eczema_tracker.ml.loading import load_pretrained, quiet_transformers

            labels = dict(enumerate(CLASS_NAMES))
            self._model = (
                load_pretrained(
                    AutoModelForImageClassification,
                    self.folder,
                    source=self.source,
                    num_labels=len(CLASS_NAMES),
                    ignore_mismatched_sizes=True,
                    id2label=labels,
                    label2id={v: k for k, v in labels.items()},
                )
                .to(self.device)
                .eval()
            )
            if not hasattr(self._model, "classifier"):
                raise ValueError(
                    f"model source '{self.source}' has no 'classifier' head to fine-tune"
                )
            with quiet_transformers():
                self._processor = AutoImageProcessor.from_pretrained(
                    self.folder, local_files_only=True
                )
        return self._model

    def head_inputs(
        self,
        indices: Sequence[int],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """The frozen backbone's output that feeds the classifier, per image (cached)."""
        import torch

        rows = []
        for done, i in enumerate(indices):
            raise_if_cancelled(cancel)
            report(progress, done, len(indices), f"backbone features ({self.source})")
            key = cache_key(
                "head-input",
                self.fingerprint,
                self.device,
                __version__,
                self.dataset.items[i].sha256,
            )
            row = self.cache.get_array("baseline_features", key)
            if row is None:
                model = self._load()
                captured: list = []
                hook = model.classifier.register_forward_pre_hook(
                    lambda _module, args, sink=captured: sink.append(args[0].detach())
                )
                try:
                    pixels = self._processor(
                        images=[self.dataset.load_image(i)], return_tensors="pt"
                    )
                    with torch.inference_mode():
                        model(pixel_values=pixels["pixel_values"].to(self.device))
                finally:
                    hook.remove()
                row = captured[0][0].float().cpu().numpy()
                self.cache.put_array("baseline_features", key, row)
                self.counts.baseline_features += 1
            else:
                self.counts.hit("baseline_features")
            rows.append(row)
        report(progress, len(indices), len(indices), f"backbone features ({self.source})")
        return np.stack(rows).astype(np.float32)

    def fit_predict(
        self,
        train_inputs: np.ndarray,
        train_labels: np.ndarray,
        validation_inputs: np.ndarray,
        *,
        seed: int,
        training: HeadTraining = HeadTraining(),
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """Train a freshly initialised copy of the head; return predicted validation classes."""
        import torch

        head = copy.deepcopy(self._load().classifier).to(self.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for module in head.modules():
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
        optimiser = torch.optim.Adam(
            head.parameters(), lr=training.lr, weight_decay=training.weight_decay
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        x = torch.from_numpy(train_inputs).to(self.device)
        y = torch.from_numpy(np.asarray(train_labels, dtype=np.int64)).to(self.device)
        generator = torch.Generator().manual_seed(seed)
        head.train()
        for epoch in range(training.epochs):
            raise_if_cancelled(cancel)
            report(progress, epoch, training.epochs, f"training head ({self.source})")
            order = torch.randperm(len(x), generator=generator).to(self.device)
            for batch in order.split(training.batch_size):
                optimiser.zero_grad()
                loss_fn(head(x[batch]), y[batch]).backward()
                optimiser.step()
        report(progress, training.epochs, training.epochs, f"training head ({self.source})")
        head.eval()
        with torch.inference_mode():
            logits = head(torch.from_numpy(validation_inputs).to(self.device))
        return logits.argmax(dim=1).cpu().numpy()
