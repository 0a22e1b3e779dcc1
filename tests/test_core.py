import itertools
import time

import numpy as np
import pytest
import torch

import mlbook
from mlbook import core


def test_device_defaults_to_cpu_without_gpu(monkeypatch):
    monkeypatch.delenv("MLBOOK_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(core, "_mps_available", lambda: False)
    assert mlbook.device() == torch.device("cpu")


def test_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.delenv("MLBOOK_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert mlbook.device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(core, "_mps_available", lambda: True)
    assert mlbook.device() == torch.device("mps")


def test_device_env_override(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("MLBOOK_DEVICE", "cpu")
    assert mlbook.device() == torch.device("cpu")
    monkeypatch.setenv("MLBOOK_DEVICE", " CUDA:1 ")
    assert mlbook.device() == torch.device("cuda", 1)


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:0", "tpu", "mps:1"])
def test_device_env_bad_value_names_variable_and_choices(monkeypatch, bad):
    monkeypatch.setenv("MLBOOK_DEVICE", bad)
    with pytest.raises(ValueError, match=r"MLBOOK_DEVICE.*'cpu', 'cuda', 'cuda:N'.*'mps'"):
        mlbook.device()


def test_device_env_unavailable_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(core, "_mps_available", lambda: False)
    for name in ("cuda", "mps"):
        monkeypatch.setenv("MLBOOK_DEVICE", name)
        with pytest.raises(ValueError, match="MLBOOK_DEVICE"):
            mlbook.device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("MLBOOK_DEVICE", "cuda:3")
    with pytest.raises(ValueError, match="only 1 CUDA"):
        mlbook.device()


def test_on_gpu_and_size_for(monkeypatch):
    monkeypatch.delenv("MLBOOK_SIZE", raising=False)
    assert not mlbook.on_gpu("cpu") and mlbook.on_gpu("cuda") and mlbook.on_gpu("mps")
    assert mlbook.size_for(100, 10_000, "cpu") == 100
    assert mlbook.size_for(100, 10_000, "cuda") == 10_000
    monkeypatch.setenv("MLBOOK_SIZE", "gpu")
    assert mlbook.size_for(100, 10_000, "cpu") == 10_000
    monkeypatch.setenv("MLBOOK_SIZE", "cpu")
    assert mlbook.size_for(100, 10_000, "cuda") == 100
    monkeypatch.setenv("MLBOOK_SIZE", "huge")
    with pytest.raises(ValueError, match="MLBOOK_SIZE"):
        mlbook.size_for(1, 2, "cpu")


def test_seed_all_reproduces_every_generator():
    def draw():
        import random

        return random.random(), np.random.rand(), torch.rand(3).tolist()  # noqa: NPY002

    mlbook.seed_all(123)
    first = draw()
    mlbook.seed_all(123)
    assert draw() == first
    mlbook.seed_all(124)
    assert draw() != first
    assert torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "0", True, None])
def test_seed_all_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        mlbook.seed_all(bad)


def test_seed_family_shifts_every_seed(monkeypatch):
    monkeypatch.delenv("MLBOOK_SEED", raising=False)
    assert mlbook.seed_family() == 0
    # family 0 uses the seeds as written
    assert torch.equal(
        torch.rand(4, generator=mlbook.generator(7)),
        torch.rand(4, generator=torch.Generator().manual_seed(7)),
    )
    base_t = torch.rand(4, generator=mlbook.generator(7))
    base_np = mlbook.rng(7).random(4)
    monkeypatch.setenv("MLBOOK_SEED", "2")
    assert mlbook.seed_family() == 2
    assert not torch.equal(torch.rand(4, generator=mlbook.generator(7)), base_t)
    assert not np.array_equal(mlbook.rng(7).random(4), base_np)
    # a family is itself reproducible, and seed_all follows it like generator does
    assert torch.equal(
        torch.rand(4, generator=mlbook.generator(7)), torch.rand(4, generator=mlbook.generator(7))
    )
    mlbook.seed_all(7)
    assert torch.equal(torch.rand(4), torch.rand(4, generator=mlbook.generator(7)))


def test_generator_device_and_bad_values(monkeypatch):
    assert mlbook.generator(0, device="cpu").device == torch.device("cpu")
    for bad in (-1, 1.5, "3"):
        with pytest.raises(ValueError, match="seed"):
            mlbook.generator(bad)
    for bad in ("-1", "one", "1.5"):
        monkeypatch.setenv("MLBOOK_SEED", bad)
        with pytest.raises(ValueError, match="MLBOOK_SEED.*non-negative integer"):
            mlbook.seed_family()


def test_timer_measures_elapsed_time():
    with mlbook.Timer() as t:
        time.sleep(0.05)
    assert 0.04 < t.elapsed < 1.0


def test_timeit_median_and_errors():
    calls = []
    seconds = mlbook.timeit(lambda: calls.append(time.sleep(0.01)), repeat=3, warmup=2)
    assert len(calls) == 5 and 0.005 < seconds < 0.5
    with pytest.raises(ValueError, match="repeat"):
        mlbook.timeit(lambda: None, repeat=0)
    with pytest.raises(ValueError, match="callable"):
        mlbook.timeit(42)


@pytest.mark.gpu
def test_timer_synchronizes_cuda():
    x = torch.randn(2048, 2048, device="cuda")
    with mlbook.Timer("cuda") as t:
        x @ x
    assert t.elapsed > 0


def test_single_thread_restores_the_setting():
    before = torch.get_num_threads()
    with mlbook.single_thread("cpu"):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), mlbook.single_thread():
        raise RuntimeError("restored even on error")
    assert torch.get_num_threads() == before


def test_compare_times_interleaves_rounds_and_reports_per_call_seconds():
    order = []
    fns = {
        "short": lambda: order.append("short") or time.sleep(0.001),
        "long": lambda: order.append("long") or time.sleep(0.004),
    }
    times = mlbook.compare_times(fns, rounds=3, min_seconds=0.01)
    assert list(times) == ["short", "long"]
    assert 0.0009 < times["short"] < times["long"] and times["long"] > 0.0039
    # warm-up and calibration (2 calls each), then rounds that alternate between the two
    timed = order[4:]
    assert timed[0] == "short" and "long" in timed and timed[-1] == "long"
    switches = sum(a != b for a, b in itertools.pairwise(timed))
    assert switches == 2 * 3 - 1
    with pytest.raises(ValueError, match="rounds"):
        mlbook.compare_times(fns, rounds=0)
    with pytest.raises(ValueError, match="mapping"):
        mlbook.compare_times({"x": 42})
    with pytest.raises(ValueError, match="mapping"):
        mlbook.compare_times({})
