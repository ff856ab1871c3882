"""Build data sets in the layouts training reads, from the folders users have.

paired.py: edges / colorize / superres / denoise / inpaint (A made from a photo, B the photo)
aligned.py: combine A and B folders into A|B files, and split them back
unpaired.py: CycleGAN trainA/ trainB/ testA/ testB/
domains.py: StarGAN domain folders, from folders or a CelebA attribute file
digits.py: the built-in digits written as image files
"""
from translation.data.prepare.aligned import combine_folders, split_aligned
from translation.data.prepare.common import PrepareError, Report, fit_square
from translation.data.prepare.digits import prepare_digits
from translation.data.prepare.domains import domains_from_root, prepare_celeba, prepare_domain_folders
from translation.data.prepare.paired import prepare_paired
from translation.data.prepare.tasks import (
    TASKS, colorize_maker, denoise_maker, edges_maker, inpaint_maker, superres_maker, superres_writer,
)
from translation.data.prepare.unpaired import prepare_unpaired

__all__ = [
    "PrepareError", "Report", "TASKS", "colorize_maker", "combine_folders", "denoise_maker",
    "domains_from_root", "edges_maker", "fit_square", "inpaint_maker", "prepare_celeba",
    "prepare_digits", "prepare_domain_folders", "prepare_paired", "prepare_unpaired", "split_aligned", "superres_maker",
    "superres_writer",
]
