"""Generative models: VAE, GAN and VAE-GAN (chapter 12); diffusion and normalizing flows (chapter 13).

One submodule per family; their public names are re-exported here, so a chapter writes
``from mlbook.generative import VAE, ddpm_schedule, RealNVP``.
"""

from mlbook.generative import diffusion, flow, vae_gan
from mlbook.generative.diffusion import *  # noqa: F403
from mlbook.generative.flow import *  # noqa: F403
from mlbook.generative.vae_gan import *  # noqa: F403

__all__ = [*vae_gan.__all__, *diffusion.__all__, *flow.__all__]
