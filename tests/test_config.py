import argparse

import pytest
import yaml

from translation.config import add_arguments, from_dict, resolve, save_yaml
from translation.models.pix2pix import Pix2PixConfig


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
