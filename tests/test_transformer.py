"""mlbook.transformer against torch's Transformer layers, and the ViT on the digits."""

import math

import pytest
import torch

import mlbook
from mlbook import data
from mlbook.attention import causal_mask
from mlbook.transformer import DecoderBlock, EncoderBlock, ViT, ViTConfig, copy_from_torch

DT = torch.float64


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_block_matches_torch(norm_first):
    torch.manual_seed(0)
    ref = (
        torch.nn.TransformerEncoderLayer(
            16, 4, 32, dropout=0.0, batch_first=True, norm_first=norm_first
        )
        .double()
        .eval()
    )
    mine = EncoderBlock(16, 4, 32, norm_first=norm_first).double().eval()
    copy_from_torch(mine, ref)
    x = torch.randn(3, 7, 16, dtype=DT)
    torch.testing.assert_close(mine(x), ref(x))
    mask = causal_mask(7)
    torch.testing.assert_close(mine(x, mask=mask), ref(x, src_mask=~mask))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_block_matches_torch(norm_first):
    torch.manual_seed(1)
    ref = (
        torch.nn.TransformerDecoderLayer(
            16, 2, 24, dropout=0.0, batch_first=True, norm_first=norm_first
        )
        .double()
        .eval()
    )
    mine = DecoderBlock(16, 2, 24, norm_first=norm_first).double().eval()
    copy_from_torch(mine, ref)
    x, mem = torch.randn(2, 5, 16, dtype=DT), torch.randn(2, 9, 16, dtype=DT)
    mask = causal_mask(5)
    torch.testing.assert_close(mine(x, mem, mask=mask), ref(x, mem, tgt_mask=~mask))


def test_errors():
    with pytest.raises(ValueError, match="divisible"):
        EncoderBlock(10, 3, 20)
    with pytest.raises(ValueError, match="activation"):
        EncoderBlock(8, 2, 16, activation="tanh")
    with pytest.raises(ValueError, match="patch_size"):
        ViT(patch_size=3)
    with pytest.raises(ValueError, match="copy"):
        copy_from_torch(EncoderBlock(8, 2, 16), torch.nn.TransformerDecoderLayer(8, 2, 16))
    with pytest.raises(ValueError, match="images"):
        ViT()(torch.zeros(2, 64))
    with pytest.raises(ValueError, match="images"):
        ViT()(torch.zeros(2, 1, 6, 8))


def test_vit_shapes_and_attention():
    model = ViT(ViTConfig(patch_size=2, d_model=16, n_heads=2, n_layers=2))
    out = model(torch.zeros(3, 1, 8, 8))
    assert out.shape == (3, 10)
    maps = model.attention_maps()
    assert len(maps) == 2 and maps[0].shape == (3, 2, 17, 17)
    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    assert model.patches(x)[0, 1].tolist() == [2.0, 3.0, 10.0, 11.0]


def train_vit(seed, epochs=10):
    """The notebook's recipe: 4×4 patches (5 tokens), AdamW with the learning rate annealed to 0
    along a cosine, mini-batches of 64."""
    mlbook.seed_all(seed)
    split = data.digits(images=True)
    model = ViT(ViTConfig(patch_size=4, d_model=32, n_heads=4, n_layers=2, d_ff=64))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    g = mlbook.generator(seed)
    n_batches = math.ceil(len(split.y_train) / 64)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * n_batches)
    for _ in range(epochs):
        for idx in torch.randperm(len(split.y_train), generator=g).split(64):
            loss = torch.nn.functional.cross_entropy(model(split.X_train[idx]), split.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
    model.eval()
    with torch.no_grad():
        return (model(split.X_test).argmax(1) == split.y_test).float().mean().item()


@pytest.fixture
def one_thread():
    """Tiny matrices gain nothing from threads, and on a busy CPU the thread barriers make
    training many times slower; one thread keeps each run to a few seconds."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vit_reaches_accuracy(seed, one_thread):
    """The notebook's claim (test accuracy > 0.90 on 450 test images) holds for other seeds of
    the current family too (seed 0 is the notebook's run)."""
    assert train_vit(seed) > 0.9
