"""Fast SegGPT attention with the decomposed relative positions.

transformers only ships an eager attention for SegGPT (``attn_implementation="sdpa"`` is
refused). Its eager path materialises the 1568x1568 score matrix per head several times
(scores; + relative positions as a 5-D broadcast; softmax in fp32; cast back), which on a CPU
costs more than the matmuls themselves. The relative-position term of MViTv2/SAM is

    bias[(h, w), (h', w')] = q(h, w) . Rh[h, h'] + q(h, w) . Rw[w, w']

for each head, with ``Rh``/``Rw`` gathered from the learnt tables. Two ways to avoid eager:

``"sdpa"``
    compute ``bias`` (two small einsums and one broadcast add) and hand it to
    ``torch.nn.functional.scaled_dot_product_attention`` as an additive mask (the natural choice
    on CUDA, where the fused kernels are fast).
``"matmul"``
    never build ``bias`` at all: it is itself a dot product, so append the ``H + W`` numbers
    ``q . Rh[h, :]`` and ``q . Rw[w, :]`` to each scaled query and the one-hot codes of ``(h', w')``
    to each key; one GEMM then gives ``scale * q.k + bias`` exactly. On a CPU without fast fused
    attention this is the quickest: measured on the 2-core AVX512-BF16 machine, one head-batch
    of 16 x 1568 tokens took 0.12 s against 0.22 s for SDPA + bias (single thread, bf16).

``"eager"``
    transformers' own arithmetic, inside this class so that the shared-query encoder
    (:mod:`.seggpt_shared_query`) can use it; the quickest in float32 on that machine
    (0.37 s per layer against 0.54 s for ``"matmul"``, whose wider GEMM costs more in fp32).

All keep the module's parameters, names and state dict (only the class, and so ``forward``,
changes); ``output_attentions=True`` falls back to transformers' eager code.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn
from transformers.models.seggpt.modeling_seggpt import SegGptAttention

KERNELS = ("sdpa", "matmul", "eager")


@lru_cache(maxsize=8)
def _key_position_codes(
    height: int, width: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """One-hot (row, column) code of every key token: (height * width) x (height + width)."""
    rows = torch.eye(height, dtype=dtype, device=device)[:, None, :].expand(height, width, height)
    cols = torch.eye(width, dtype=dtype, device=device)[None, :, :].expand(height, width, width)
    return torch.cat([rows, cols], dim=-1).reshape(height * width, height + width)


class FastSegGptAttention(SegGptAttention):
    """``SegGptAttention`` with a fused relative-position attention (see module docstring)."""

    kernel: str = "matmul"
    #: eager kernel: attend one canvas at a time (lower peak memory; same arithmetic)
    per_canvas: bool = True

    def relative_position_terms(
        self, query: torch.Tensor, height: int, width: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``q . Rh`` and ``q . Rw`` for (batch, heads, tokens, head_dim) unscaled queries.

        Returns (batch, heads, height, width, height) and (batch, heads, height, width, width).
        """
        batch, heads, _, head_dim = query.shape
        rel_h, rel_w = self._relative_tables(height, width, query.dtype)
        grid = query.reshape(batch, heads, height, width, head_dim)
        term_h = torch.einsum("bnhwc,hkc->bnhwk", grid, rel_h)
        term_w = torch.einsum("bnhwc,wkc->bnhwk", grid, rel_w)
        return term_h, term_w

    def _relative_tables(
        self, height: int, width: int, dtype: torch.dtype
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``Rh`` (H x H x d) and ``Rw`` (W x W x d), cached until the tables change."""
        key = (
            height,
            width,
            dtype,
            self.rel_pos_h.data_ptr(),
            self.rel_pos_h._version,
            self.rel_pos_w.data_ptr(),
            self.rel_pos_w._version,
        )
        cached = self.__dict__.get("_relative_cache")
        if cached is None or cached[0] != key:
            with torch.no_grad():
                rel_h = self.get_rel_pos(height, height, self.rel_pos_h).to(dtype)
                rel_w = self.get_rel_pos(width, width, self.rel_pos_w).to(dtype)
            cached = (key, rel_h, rel_w)
            self.__dict__["_relative_cache"] = cached
        return cached[1], cached[2]

    def relative_position_bias(self, query: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """The relative-position term as an additive bias: (batch, heads, tokens, tokens)."""
        batch, heads, tokens, _ = query.shape
        term_h, term_w = self.relative_position_terms(query, height, width)
        bias = term_h[..., :, None] + term_w[..., None, :]  # B x nh x H x W x H x W
        return bias.reshape(batch, heads, tokens, tokens)

    def _attend_sdpa(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        height: int,
        width: int,
    ) -> torch.Tensor:
        bias = None
        if self.use_relative_position_embeddings:
            bias = self.relative_position_bias(query, height, width)
        return F.scaled_dot_product_attention(query, key, value, attn_mask=bias, scale=self.scale)

    def _attend_eager(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        height: int,
        width: int,
    ) -> torch.Tensor:
        # One canvas at a time: the same arithmetic as transformers, but the score matrices
        # (heads x tokens x tokens, ~160 MB each in fp32 at 896x448) exist for one canvas only,
        # not for all 2K at once, which bounds the peak memory (and the heap malloc keeps).
        batch, heads, tokens, head_dim = query.shape
        if not self.per_canvas:
            return self._attend_eager_batch(query, key, value, height, width)
        return torch.cat(
            [
                self._attend_eager_batch(
                    query[i : i + 1], key[i : i + 1], value[i : i + 1], height, width
                )
                for i in range(batch)
            ]
        )

    def _attend_eager_batch(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        height: int,
        width: int,
    ) -> torch.Tensor:
        batch, heads, tokens, head_dim = query.shape
        query, key, value = (
            t.reshape(batch * heads, tokens, head_dim) for t in (query, key, value)
        )
        scores = (query * self.scale) @ key.transpose(-2, -1)
        if self.use_relative_position_embeddings:
            scores = self.add_decomposed_rel_pos(
                scores, query, self.rel_pos_h, self.rel_pos_w, (height, width), (height, width)
            )
        weights = torch.softmax(scores, dtype=torch.float32, dim=-1).to(query.dtype)
        del scores
        return (weights @ value).reshape(batch, heads, tokens, head_dim)

    def _attend_matmul(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        height: int,
        width: int,
    ) -> torch.Tensor:
        if not self.use_relative_position_embeddings:
            return F.scaled_dot_product_attention(query, key, value, scale=self.scale)
        batch, heads, tokens, _ = query.shape
        term_h, term_w = self.relative_position_terms(query, height, width)
        codes = _key_position_codes(height, width, key.dtype, key.device)
        outputs = []
        # One sequence at a time keeps the score matrix at heads x tokens x tokens.
        for index in range(batch):
            augmented_query = torch.cat(
                [
                    query[index] * self.scale,
                    term_h[index].reshape(heads, tokens, height),
                    term_w[index].reshape(heads, tokens, width),
                ],
                dim=-1,
            )
            augmented_key = torch.cat([key[index], codes.expand(heads, -1, -1)], dim=-1)
            scores = augmented_query @ augmented_key.transpose(-1, -2)  # heads x tokens x tokens
            weights = torch.softmax(scores, dim=-1)
            del scores
            outputs.append(weights @ value[index])
        return torch.stack(outputs)

    def attend(self, qkv: torch.Tensor) -> torch.Tensor:
        """Attention context before ``proj``: (batch, height, width, 3 * hidden) -> (..., hidden)."""
        batch, height, width, _ = qkv.shape
        heads = self.num_attention_heads
        # batch x tokens x 3 x heads x head_dim -> 3 x batch x heads x tokens x head_dim
        qkv = qkv.reshape(batch, height * width, 3, heads, -1)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if self.kernel == "sdpa":
            attn = self._attend_sdpa(query, key, value, height, width)
        elif self.kernel == "eager":
            attn = self._attend_eager(query, key, value, height, width)
        else:
            attn = self._attend_matmul(query, key, value, height, width)
        # batch x heads x tokens x head_dim -> batch x height x width x hidden
        return attn.transpose(1, 2).reshape(batch, height, width, -1)

    def forward(
        self, hidden_states: torch.Tensor, output_attentions: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Same contract as ``SegGptAttention.forward``: returns ``(output, None)``."""
        if output_attentions:
            return super().forward(hidden_states, output_attentions=True)
        return self.proj(self.attend(self.qkv(hidden_states))), None


def use_fast_attention(model: nn.Module, kernel: str = "matmul") -> int:
    """Switch every SegGPT attention in ``model`` to :class:`FastSegGptAttention` in place.

    ``kernel`` is ``"matmul"`` or ``"sdpa"``. Returns how many modules were switched. The class
    swap keeps parameters and buffers (so the state dict and any weight tying) untouched.
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown SegGPT attention kernel {kernel!r}; choose one of {KERNELS}")
    switched = 0
    for module in model.modules():
        if isinstance(module, SegGptAttention):
            module.__class__ = FastSegGptAttention
            module.kernel = kernel
            switched += 1
    return switched


def use_eager_attention(model: nn.Module) -> int:
    """Undo :func:`use_fast_attention` (for comparisons); returns how many were switched back."""
    switched = 0
    for module in model.modules():
        if isinstance(module, FastSegGptAttention):
            module.__class__ = SegGptAttention
            module.__dict__.pop("kernel", None)
            switched += 1
    return switched
