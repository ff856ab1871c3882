import argparse
import dataclasses
from typing import Optional

import pytest
import torch
import yaml

from translation.config import TrainConfig, add_arguments, from_dict, option, resolve, save_yaml
from translation.models.configs import Pix2PixConfig


def parse(argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser, Pix2PixConfig)
    return parser.parse_args(argv)


def test_pix2pix_defaults_follow_the_paper():
    c = Pix2PixConfig()
    assert (c.netG, c.netD, c.norm, c.dropout, c.gan_mode) == ("unet_256", "basic", "batch", True, "vanilla")
    assert (c.lambda_l1, c.lr, c.beta1, c.batch_size) == (100.0, 2e-4, 0.5, 1)
    assert (c.load_size, c.crop_size, c.flip, c.epochs, c.epochs_decay) == (286, 256, True, 100, 100)
    assert c.init == "normal" and c.init_gain == 0.02


def test_flags_override_yaml_which_overrides_defaults(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"lambda_l1": 10, "ngf": 32, "netG": "unet_128"}))
    config = resolve(Pix2PixConfig, parse(["--ngf", "16", "--no-dropout"]), str(cfg))
    assert config.ngf == 16 and config.lambda_l1 == 10.0 and config.netG == "unet_128"
    assert config.dropout is False and config.batch_size == 1


def test_unknown_yaml_key_and_bad_choice_are_readable(tmp_path):
    with pytest.raises(ValueError, match="unknown option.*lamda_l1"):
        from_dict(Pix2PixConfig, {"lamda_l1": 1})
    with pytest.raises(ValueError, match="norm must be one of batch, instance, none"):
        from_dict(Pix2PixConfig, {"norm": "group"})
    with pytest.raises(ValueError, match="ngf must be int"):
        from_dict(Pix2PixConfig, {"ngf": "wide"})


def test_saved_yaml_round_trips(tmp_path):
    config = Pix2PixConfig(ngf=8, direction="BtoA")
    save_yaml(config, tmp_path / "config.yaml")
    assert from_dict(Pix2PixConfig, yaml.safe_load((tmp_path / "config.yaml").read_text())) == config


@dataclasses.dataclass
class ListConfig(TrainConfig):
    """a family with list and optional options"""

    attrs: list[str] = option(["Black_Hair", "Male"], "attributes to learn", choices=("Black_Hair", "Male", "Young"))
    sizes: list[int] = option([], "image sizes")
    lr_D: Optional[float] = option(None, "discriminator learning rate (default: the generator's)")


def test_list_and_optional_fields_from_flags_and_yaml(tmp_path):
    parser = argparse.ArgumentParser()
    add_arguments(parser, ListConfig)
    config = resolve(ListConfig, parser.parse_args(["--attrs", "Young", "Male", "--sizes", "64", "128"]))
    assert config.attrs == ["Young", "Male"] and config.sizes == [64, 128] and config.lr_D is None
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"attrs": ["Black_Hair"], "lr_D": 4e-4}))
    config = resolve(ListConfig, parser.parse_args([]), str(cfg))
    assert config.attrs == ["Black_Hair"] and config.lr_D == 4e-4
    assert ListConfig().attrs is not ListConfig().attrs  # a fresh list per config
    save_yaml(config, tmp_path / "saved.yaml")
    assert from_dict(ListConfig, yaml.safe_load((tmp_path / "saved.yaml").read_text())) == config
    with pytest.raises(ValueError, match="attrs must be one of Black_Hair, Male, Young, got 'Bald'"):
        from_dict(ListConfig, {"attrs": ["Male", "Bald"]})
    with pytest.raises(ValueError, match="sizes must be int, got 'big'"):
        from_dict(ListConfig, {"sizes": [64, "big"]})
    with pytest.raises(ValueError, match="attrs must be a list of str"):
        from_dict(ListConfig, {"attrs": "Male"})
    with pytest.raises(ValueError, match="lr_D must be float, got 'fast'"):
        from_dict(ListConfig, {"lr_D": "fast"})
    with pytest.raises(ValueError, match="seed must be set"):
        from_dict(ListConfig, {"seed": None})


def test_ranges_are_checked_before_anything_runs():
    with pytest.raises(ValueError, match=r"steps must be >= 0, got -5"):
        from_dict(Pix2PixConfig, {"steps": -5})
    with pytest.raises(ValueError, match=r"batch_size must be >= 1, got 0"):
        from_dict(Pix2PixConfig, {"batch_size": 0})
    with pytest.raises(ValueError, match=r"beta1 must be in \[0.0, 1.0\), got 1.5"):
        from_dict(Pix2PixConfig, {"beta1": 1.5})


def test_the_names_the_cli_offers_are_exactly_what_is_registered():
    from translation import names
    from translation.losses import adversarial_losses, register_loss
    from translation.losses.adversarial import Hinge
    from translation.nets import create_generator, list_discriminators, list_generators
    from translation.training.phases import OptimizerSpec, build_optimizer

    assert set(list_generators()) == set(names.GENERATORS)
    assert set(list_discriminators()) == set(names.DISCRIMINATORS)
    assert set(adversarial_losses()) == set(names.GAN_MODES)
    for kind in names.OPTIMIZERS:  # each name builds
        build_optimizer(OptimizerSpec(("G",), kind=kind), [torch.nn.Parameter(torch.zeros(1))], torch.device("cpu"))
    for name, multiple in names.GENERATOR_SIZE_MULTIPLES.items():  # what the config checks is what the net needs
        assert create_generator(name, in_channels=3, out_channels=3, ngf=4).size_multiple == multiple
    help_text = parse_help()
    assert all(name in help_text for name in names.IMAGE_GENERATORS + names.GAN_MODES)
    # something registered but not declared would be unreachable from the command line: refused at once
    with pytest.raises(ValueError, match="not declared in translation/names.py"):
        register_loss("test_only_hinge")(Hinge)


def parse_help() -> str:
    parser = argparse.ArgumentParser()
    add_arguments(parser, Pix2PixConfig)
    return parser.format_help()


def test_help_shows_shared_and_model_options_apart():
    parser = argparse.ArgumentParser()
    add_arguments(parser, Pix2PixConfig)
    titles = [group.title for group in parser._action_groups]
    shared, gan, family, model = (
        titles.index("options every model shares: data, schedule, device, precision, logging"),
        titles.index("both players: adversarial loss, optimizers and initialisation"),
        titles.index("pix2pix and CycleGAN: image geometry and nets"),
        titles.index("pix2pix: paired translation (aligned A|B files or A/ B/ folders)"))
    assert shared < gan < family < model
    groups = {group.title: {a.dest for a in group._group_actions} for group in parser._action_groups}
    assert {"precision", "channels_last", "compile", "ema_decay", "steps", "data"} <= groups[titles[shared]]
    assert {"gan_mode", "lr", "lr_D", "init"} <= groups[titles[gan]]
    assert {"netG", "crop_size"} <= groups[titles[family]]
    assert groups[titles[model]] == {"lambda_l1", "direction"}
    assert "dropout" in groups[titles[family]]  # pix2pix changes its default only: shown once, in its group
