"""Image-to-image translation: pix2pix, CycleGAN, StarGAN and GAN baselines."""

__version__ = "0.1.0"
