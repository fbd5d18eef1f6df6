"""DinoEncoder: shapes, region features as the paper, variants, preprocessing fallbacks."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from eczema_tracker.core.imaging import open_image
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.loading import IMAGENET_MEAN
from tests.ml_support import box_mask


@pytest.fixture(scope="module")
def photos(eczema_photo_paths):
    return [open_image(p) for p in eczema_photo_paths[:3]]


@pytest.fixture(scope="module")
def encoder(tiny_dino_dir):
    return DinoEncoder(str(tiny_dino_dir))


def test_whole_image_features_are_float32_of_config_size(encoder, photos):
    feats = encoder.image_features(photos)
    assert feats.shape == (3, 32) and feats.dtype == np.float32
    assert encoder.feature_dim == 32 and encoder.variant == "cls"
    assert np.all(np.isfinite(feats))
    assert not np.allclose(feats[0], feats[1])
    assert encoder.backbone_id.startswith("vit-32-")


def test_region_features_follow_the_paper(encoder, photos):
    image = photos[0]
    mask = box_mask(image.height, image.width, 100, 150, 260, 330)
    region = encoder.region_features([image], [mask])
    assert region.shape == (1, 32) and region.dtype == np.float32
    assert not np.allclose(region, encoder.image_features([image]), atol=1e-4)
    # pixels outside the mask do not matter: they are replaced by the normalisation mean
    scribbled = np.asarray(image).copy()
    scribbled[~mask] = 0
    same = encoder.region_features([Image.fromarray(scribbled)], [mask])
    np.testing.assert_allclose(region, same, atol=1e-5)
    # ...and the crop is what the backbone sees (same as encoding it by hand)
    manual = encoder._region_input(image, mask)
    assert manual.shape == (encoder.input_size, encoder.input_size, 3)


def test_empty_mask_falls_back_to_whole_image(encoder, photos):
    image = photos[1]
    empty = np.zeros((image.height, image.width), dtype=bool)
    np.testing.assert_allclose(
        encoder.region_features([image], [empty]), encoder.image_features([image]), atol=1e-6
    )


def test_mask_of_another_size_is_refused(encoder, photos):
    with pytest.raises(ValueError, match="does not match image size"):
        encoder.region_features([photos[0]], [np.ones((10, 10), dtype=bool)])


def test_cls_plus_patchmean_variant(tiny_dino_dir, photos, encoder):
    both = DinoEncoder(str(tiny_dino_dir), variant="cls+patchmean")
    feats = both.image_features(photos[:2])
    assert both.feature_dim == 64 and feats.shape == (2, 64)
    np.testing.assert_allclose(feats[:, :32], encoder.image_features(photos[:2]), atol=1e-5)
    assert both.retrieval_features(photos[:1]).shape == (1, 32)
    with pytest.raises(ValueError, match="Unknown feature variant"):
        DinoEncoder(str(tiny_dino_dir), variant="mean")


def test_imagenet_normalisation_without_preprocessor_config(tiny_dino_dir, tmp_path, photos):
    folder = tmp_path / "bare"
    shutil.copytree(tiny_dino_dir, folder)
    (folder / "preprocessor_config.json").unlink()
    bare = DinoEncoder(str(folder))
    np.testing.assert_allclose(bare.image_mean, IMAGENET_MEAN)
    assert bare.input_size == 32  # the config's image size
    assert bare.image_features(photos[:1]).shape == (1, 32)


def test_no_images_gives_empty_array(encoder):
    assert encoder.image_features([]).shape == (0, 32)


def test_familiarity_features_are_the_intermediate_layers_cls_each_normalised(encoder, photos):
    import torch

    features = encoder.familiarity_features(photos[:2])
    layers = encoder.familiarity_layers
    assert layers == (1, 2) and features.shape == (2, 32 * len(layers))
    assert features.dtype == np.float32
    pixels = np.stack([encoder._to_input(p) for p in photos[:2]]).transpose(0, 3, 1, 2)
    dtype = next(encoder.model.parameters()).dtype
    with torch.no_grad():
        states = encoder.model(
            pixel_values=torch.from_numpy(np.ascontiguousarray(pixels)).to(dtype),
            output_hidden_states=True,
        ).hidden_states
    for i, layer in enumerate(layers):
        cls = states[layer][:, 0].float().numpy()
        expected = cls / np.linalg.norm(cls, axis=1, keepdims=True)
        np.testing.assert_allclose(features[:, 32 * i : 32 * (i + 1)], expected, atol=2e-2)
    assert encoder.familiarity_features([]).shape == (0, 32 * len(layers))


def test_retrieval_tokens_are_the_last_layer_cls_and_patches(encoder, photos):
    cls, patches = encoder.retrieval_tokens(photos[:2])
    np.testing.assert_allclose(cls, encoder.retrieval_features(photos[:2]), atol=1e-5)
    assert patches.shape == (2, (32 // 8) ** 2, 32)
