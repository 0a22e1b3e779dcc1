"""The conventions of CONTRIBUTING.md that a test can check, over every module of mlbook:
equations cited by labels that exist in the book, modules of at most 350 lines, randomness
passed as ``generator=`` and devices as ``device=`` (no ``seed``/``dev`` parameters, no global
seeding), and no references to documents a reader of the repository cannot see."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import pytest

import mlbook

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mlbook"
SOURCES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 350

# Public callables that may keep a parameter named ``seed`` or ``dev``, each with its reason.
ALLOWED = {
    ("mlbook.core", "generator", "seed"): "it makes the generator from the book's seed",
    ("mlbook.core", "rng", "seed"): "it makes the NumPy generator from the book's seed",
    ("mlbook.core", "seed_all", "seed"): "it seeds the global generators, for notebooks only",
    # Cross-process code: every spawned process rebuilds its own generators from the seed, since
    # a torch.Generator cannot be sent to another process.
    **{
        ("mlbook.distributed", name, "seed"): "each process makes its generators from the seed"
        for name in ("tiny_gpt", "ddp_train", "ddp_max_gap", "parallel_report")
    },
}


def _book_labels() -> set[str]:
    """Every MyST label of an equation in the book: ``:label: eq-…`` and ``(eq-…)=``."""
    text = []
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text += [
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells
        ]
    text += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "book").glob("*.md"))]
    joined = "\n".join(text)
    return set(re.findall(r":label:\s*(eq-[\w-]+)", joined)) | set(
        re.findall(r"^\((eq-[\w-]+)\)=", joined, flags=re.M)
    )


def _modules() -> list[str]:
    names = ["mlbook"]
    for info in pkgutil.walk_packages(mlbook.__path__, "mlbook."):
        names.append(info.name)
    return names


def _public_callables(module) -> list[tuple[str, object]]:
    """Functions and classes defined in ``module`` (not imported into it), with their methods."""
    found = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            found.append((name, obj))
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if inspect.isfunction(member) and (attr == "__init__" or not attr.startswith("_")):
                    found.append((f"{name}.{attr}", member))
    return found


def test_every_cited_equation_label_exists_in_the_book():
    labels = _book_labels()
    assert labels, "no equation labels found in book/"
    missing = [
        f"{path.relative_to(ROOT)}: {label}"
        for path in SOURCES
        for label in re.findall(r":eq:`([^`]+)`", path.read_text(encoding="utf-8"))
        if label not in labels
    ]
    assert not missing, "cited labels that no chapter defines:\n" + "\n".join(missing)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_are_short(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_LINES})"


def test_no_seed_or_dev_parameters():
    bad = []
    for module_name in _modules():
        module = importlib.import_module(module_name)
        for name, func in _public_callables(module):
            for param in inspect.signature(func).parameters:
                if param in ("seed", "dev") and (module_name, name, param) not in ALLOWED:
                    bad.append(f"{module_name}.{name}({param}=…)")
    assert not bad, "take generator= / device= instead:\n" + "\n".join(bad)


def test_no_global_seeding_inside_mlbook():
    pattern = re.compile(r"\b(torch\.manual_seed|torch\.cuda\.manual_seed\w*|np\.random\.seed)\(")
    bad = []
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if pattern.search(line) and path.name != "core.py":  # core.seed_all is the one place
                bad.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bad, "global seeding inside mlbook:\n" + "\n".join(bad)


def test_no_references_to_documents_outside_the_repository():
    bad = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in SOURCES
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "資料" in line or "of the sources" in line
    ]
    assert not bad, "cite the book's labels or the literature instead:\n" + "\n".join(bad)
