"""SegGPT's encoder without recomputing the query K times.

For K prompts the app runs a batch of K canvases ``[prompt_k ; query]`` with
``feature_ensemble=True``. Every token of the query half then carries the *same* values in all K
canvases, at every layer:

* the embeddings of the query half are the same (same query image; mask canvas: mask tokens);
* feature ensemble replaces the query half of each layer's attention output by its mean over
  the prompts, so what is added to the residual stream is the same for all K;
* layer norms and the MLP act token by token, so equal tokens stay equal.

Only the attention itself mixes the halves (query tokens look at prompt tokens and back).
This encoder therefore keeps each prompt half once per canvas and each distinct query half
once, runs layer norms, ``qkv``, ``proj`` and the MLP on those rows only, and assembles the
full canvases just for the attention. ``proj`` is affine, so the mean over prompts is taken
before it (exact in real arithmetic). With K=2 the linear layers see 3 half-canvases instead of
4 (6 instead of 8 in the first layers): a quarter less of the model's largest cost, same output.

Transformers' own code runs whenever the shortcut does not apply (training, attentions or
hidden states requested, eager attention, no feature ensemble, or queries that differ).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.models.seggpt.modeling_seggpt import (
    SegGptDecoder,
    SegGptEncoder,
    SegGptEncoderOutput,
)

from .seggpt_sdpa_attention import FastSegGptAttention


def _unique_pairs(pairs: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], list[int]]:
    """Ordered unique pairs and, for each input pair, the index of its unique pair."""
    unique: dict[tuple[int, int], int] = {}
    index = [unique.setdefault(pair, len(unique)) for pair in pairs]
    return list(unique), index


class SharedQuerySegGptEncoder(SegGptEncoder):
    """``SegGptEncoder`` computing each distinct query half once (see module docstring)."""

    def _shortcut_applies(self, hidden_states: torch.Tensor, feature_ensemble: bool) -> bool:
        batch, height = hidden_states.shape[:2]
        if not feature_ensemble or self.training or batch < 4 or batch % 2 or height % 2:
            return False
        if not all(isinstance(layer.attention, FastSegGptAttention) for layer in self.layers):
            return False
        half = height // 2
        prompts = batch // 2
        image_queries = hidden_states[:prompts, half:]
        mask_queries = hidden_states[prompts:, half:]
        return bool(
            torch.equal(image_queries, image_queries[:1].expand_as(image_queries))
            and torch.equal(mask_queries, mask_queries[:1].expand_as(mask_queries))
        )

    def forward(
        self,
        hidden_states: torch.Tensor,
        feature_ensemble: bool = False,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
    ) -> tuple | SegGptEncoderOutput:
        """Same contract and results as ``SegGptEncoder.forward``."""
        if output_attentions or output_hidden_states or not return_dict:
            return super().forward(
                hidden_states,
                feature_ensemble,
                output_attentions,
                output_hidden_states,
                return_dict,
            )
        if not self._shortcut_applies(hidden_states, feature_ensemble):
            return super().forward(hidden_states, feature_ensemble, False, False, True)
        batch, height = hidden_states.shape[:2]
        half, prompts = height // 2, batch // 2
        # prompt halves, one per canvas: S x H/2 x W x C; distinct query halves: G x H/2 x W x C
        prompt_part = hidden_states[:, :half]
        query_part = hidden_states[[0, prompts], half:]
        group = [0] * prompts + [1] * prompts  # canvas -> its query half
        intermediate = []
        for i, layer in enumerate(self.layers):
            ensemble_cond = 2 if self.config.merge_index > i else 1
            prompt_part, query_part, group = self._layer(
                layer, prompt_part, query_part, group, ensemble_cond
            )
            if i == self.config.merge_index:
                size = len(group) // 2
                prompt_part = (prompt_part[:size] + prompt_part[size:]) * 0.5
                pairs, group = _unique_pairs(list(zip(group[:size], group[size:], strict=True)))
                query_part = torch.stack([(query_part[a] + query_part[b]) * 0.5 for a, b in pairs])
            if i in self.config.intermediate_hidden_state_indices:
                intermediate.append(
                    torch.cat([self.layernorm(prompt_part), self.layernorm(query_part)[group]], 1)
                )
        last = torch.cat([prompt_part, query_part[group]], dim=1)
        return SegGptEncoderOutput(last_hidden_state=last, intermediate_hidden_states=intermediate)

    @staticmethod
    def _layer(
        layer: nn.Module,
        prompt_part: torch.Tensor,
        query_part: torch.Tensor,
        group: list[int],
        ensemble_cond: int,
    ) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
        """One ``SegGptLayer`` (eval mode) on prompt halves and distinct query halves."""
        attention = layer.attention
        canvases = len(group)
        qkv_prompt = attention.qkv(layer.layernorm_before(prompt_part))
        qkv_query = attention.qkv(layer.layernorm_before(query_part))
        context = attention.attend(torch.cat([qkv_prompt, qkv_query[group]], dim=1))
        half = prompt_part.shape[1]
        context_prompt, context_query = context[:, :half], context[:, half:]
        # Which canvases share one attention output on the query half (feature ensemble).
        if canvases // 2 >= ensemble_cond:
            if ensemble_cond == 2:  # image canvases and mask canvases averaged separately
                size = canvases // 2
                shared = [0] * size + [1] * size
                context_query = torch.stack(
                    [context_query[:size].mean(0), context_query[size:].mean(0)]
                )
            else:
                shared = [0] * canvases
                context_query = context_query.mean(0, keepdim=True)
        else:
            shared = list(range(canvases))
        prompt_part = prompt_part + attention.proj(context_prompt)
        update = attention.proj(context_query)
        pairs, group = _unique_pairs(list(zip(group, shared, strict=True)))
        query_part = torch.stack([query_part[g] + update[a] for g, a in pairs])
        prompt_part = prompt_part + layer.mlp(layer.layernorm_after(prompt_part))
        query_part = query_part + layer.mlp(layer.layernorm_after(query_part))
        return prompt_part, query_part, group


class SharedQuerySegGptDecoder(SegGptDecoder):
    """``SegGptDecoder`` whose token projection runs once for a query half shared by all canvases.

    ``decoder_embed`` (4096 -> 16384 per token, ~210 GFLOP per canvas at 896x448) is the single
    largest matmul of SegGPT. It acts token by token, so when every canvas carries the same
    query half (the encoder above guarantees it for K prompts) that half is projected once.
    The convolutions after it still see every full canvas, so the output is unchanged.
    """

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        batch, height = hidden_states.shape[:2]
        half = height // 2
        queries = hidden_states[:, half:]
        if batch < 2 or height % 2 or not torch.equal(queries, queries[:1].expand_as(queries)):
            return super().forward(hidden_states)
        prompt_tokens = self.decoder_embed(hidden_states[:, :half])
        query_tokens = self.decoder_embed(queries[:1])
        tokens = torch.cat([prompt_tokens, query_tokens.expand_as(prompt_tokens)], dim=1)
        return self.decoder_pred(self._reshape_hidden_states(tokens))


def use_shared_query_encoder(model: nn.Module) -> int:
    """Switch SegGPT's encoder and decoder in ``model`` to their shared-query versions in place.

    Returns how many modules were switched (2 for one ``SegGptForImageSegmentation``).
    """
    switched = 0
    for module in model.modules():
        if type(module) is SegGptEncoder:
            module.__class__ = SharedQuerySegGptEncoder
            switched += 1
        elif type(module) is SegGptDecoder:
            module.__class__ = SharedQuerySegGptDecoder
            switched += 1
    return switched


def query_prediction(
    model: nn.Module,
    pixel_values: torch.Tensor,
    prompt_pixel_values: torch.Tensor,
    prompt_masks: torch.Tensor,
    feature_ensemble: bool | None = None,
) -> torch.Tensor:
    """``model(...).pred_masks[:1, :, h:]`` (the first canvas's query half), decoded alone.

    The app keeps only that part of SegGPT's output, yet the decoder paints every canvas whole:
    at K=2 about 375 GFLOP, of which this needs ~125 (the query half plus one patch row above
    it, which the 3x3 convolution reads; that row's own output is dropped). Returns
    (1, 3, h, w) float32; equal to the full forward up to float rounding.
    """
    dtype = next(model.parameters()).dtype
    batch = pixel_values.shape[0]
    outputs = model.model(
        pixel_values=pixel_values.to(dtype),
        prompt_pixel_values=prompt_pixel_values.to(dtype),
        prompt_masks=prompt_masks.to(dtype),
        feature_ensemble=feature_ensemble if feature_ensemble is not None else batch > 1,
    )
    hidden = torch.cat(outputs.intermediate_hidden_states, dim=-1)  # K x H x W x (4 * hidden)
    decoder = model.decoder
    half = hidden.shape[1] // 2
    tokens = decoder.decoder_embed(hidden[:1, half - 1 :])  # one halo patch row above
    pixels = decoder.decoder_pred(decoder._reshape_hidden_states(tokens))
    return pixels[:, :, decoder.patch_size :].float()
