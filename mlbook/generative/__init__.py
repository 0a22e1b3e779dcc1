"""Generative models: VAE, GAN and VAE-GAN (chapter 12); diffusion and normalizing flows (chapter 13).

One submodule per family; their public names are re-exported here, so a chapter writes
``from mlbook.generative import VAE, ddpm_schedule, RealNVP``.
"""

from mlbook.generative import diffusion, diffusion_eval, flow, gan, vae, vaegan
from mlbook.generative.diffusion import *  # noqa: F403
from mlbook.generative.diffusion_eval import *  # noqa: F403
from mlbook.generative.flow import *  # noqa: F403
from mlbook.generative.gan import *  # noqa: F403
from mlbook.generative.vae import *  # noqa: F403
from mlbook.generative.vaegan import *  # noqa: F403

__all__ = [
    *vae.__all__,
    *gan.__all__,
    *vaegan.__all__,
    *diffusion.__all__,
    *diffusion_eval.__all__,
    *flow.__all__,
]
