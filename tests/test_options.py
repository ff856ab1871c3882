"""One declaration per option: a config that changes a default says only the new default, and the option checks
refuse what the engine would refuse later, each with one line naming the flag."""
import argparse
import dataclasses

import pytest
import yaml

from translation.cli import main
from translation.config import TrainConfig, add_arguments, default, from_dict, option, save_yaml
from translation.models import CONFIGS
from translation.models.configs import GANConfig, NoiseGANConfig, StarGANConfig, WGANConfig

# One flag name, two options: the families mean different things by it, so each declares its own.
SAME_NAME_OTHER_OPTION = {
    "crop_size": "pix2pix/CycleGAN crop randomly after resizing; StarGAN centre-crops before (None: by layout)",
    "image_size": "StarGAN resizes its crops to it; the noise GANs generate it (DCGAN: a power of two from 16)",
    "netG": "pix2pix/CycleGAN choose a U-Net or a ResNet; pix2pixHD its global generator or the local enhancer; "
            "the super-resolution models MSRResNet or RRDBNet",
    "netD": "pix2pix/CycleGAN choose a PatchGAN; srgan/esrgan the VGG-style D of 128 or 256 px patches",
}


def declarations(config_class) -> dict[str, type]:
    """option name -> the class whose option(...) declares it, over `config_class` and its bases."""
    found = {}
    for klass in config_class.__mro__:
        if not dataclasses.is_dataclass(klass):
            continue
        fields = {f.name: f for f in dataclasses.fields(klass)}  # not ClassVars (NoiseGANConfig.builtin_data)
        for name in klass.__dict__.get("__annotations__", {}):
            f = fields.get(name)
            if f is not None and not f.metadata.get("override"):
                found[name] = klass
    return found


def test_every_option_of_every_registered_model_is_declared_once():
    declared_in: dict[str, set] = {}
    for config_class in CONFIGS.values():
        for name, klass in declarations(config_class).items():
            declared_in.setdefault(name, set()).add(klass.__name__)
    twice = {name: sorted(classes) for name, classes in declared_in.items()
             if len(classes) > 1 and name not in SAME_NAME_OTHER_OPTION}
    assert not twice, f"declared more than once (use default(value) or default(value, like=...)): {twice}"
    for name in SAME_NAME_OTHER_OPTION:  # an exception that no longer applies goes from the list
        assert len(declared_in[name]) >= 2, name


def test_a_restated_declaration_or_a_stray_default_is_refused_when_the_class_is_made():
    with pytest.raises(TypeError, match=r"Restated.lr: option 'lr' is declared in a base class already; change "
                                        r"its default with `lr: float = default\(...\)`"):
        @dataclasses.dataclass
        class Restated(GANConfig):
            lr: float = option(1e-3, "initial learning rate", above=0.0)
    with pytest.raises(TypeError, match="Plain.lr: option 'lr' is declared in a base class already"):
        @dataclasses.dataclass
        class Plain(GANConfig):
            lr: float = 1e-3  # a plain value would drop the help, choices and bounds
    with pytest.raises(TypeError, match="Stray.learning_rate: default.*none declares it"):
        @dataclasses.dataclass
        class Stray(GANConfig):
            learning_rate: float = default(1e-3)
    with pytest.raises(TypeError, match=r"Same.lr: default\(0.0002\) is the inherited default already"):
        @dataclasses.dataclass
        class Same(GANConfig):
            lr: float = default(2e-4)
    with pytest.raises(TypeError, match="Retyped.lr: annotated <class 'int'>, declared as 'float'"):
        @dataclasses.dataclass
        class Retyped(GANConfig):
            lr: int = default(1)


def test_a_changed_default_keeps_the_declarations_help_choices_flag_and_bounds():
    base = {f.name: f for f in dataclasses.fields(NoiseGANConfig)}
    for f in dataclasses.fields(WGANConfig):
        without_mark = {k: v for k, v in f.metadata.items() if k != "override"}
        assert without_mark == {k: v for k, v in base[f.name].metadata.items() if k != "override"}, f.name
    assert WGANConfig().n_critic == 5 and NoiseGANConfig().n_critic == 1 and StarGANConfig().n_critic == 5
    # a sibling family's declaration (like=): the noise GANs' n_critic is StarGAN's option with another default
    stargan = {f.name: f for f in dataclasses.fields(StarGANConfig)}
    assert base["n_critic"].metadata["help"] == stargan["n_critic"].metadata["help"]
    parser = argparse.ArgumentParser()
    add_arguments(parser, WGANConfig)
    actions = {a.dest: a for a in parser._actions}
    assert actions["gan_mode"].choices == base["gan_mode"].metadata["choices"]
    assert actions["gan_mode"].help.endswith("(default: wgan)") and "adversarial loss" in actions["gan_mode"].help
    assert actions["lr_D"].option_strings == ["--lr-D"]
    with pytest.raises(ValueError, match="n_critic must be >= 1, got 0"):
        from_dict(WGANConfig, {"n_critic": 0})


def test_a_default_that_is_a_list_is_fresh_per_config():
    @dataclasses.dataclass
    class Listed(TrainConfig):
        sizes: list[int] = option([64], "image sizes")

    @dataclasses.dataclass
    class Longer(Listed):
        sizes: list[int] = default([64, 128])

    assert Longer().sizes == [64, 128] and Longer().sizes is not Longer().sizes and Listed().sizes == [64]


@pytest.mark.parametrize("model", sorted(CONFIGS))
def test_every_models_defaults_round_trip_through_yaml(model, tmp_path):
    config = CONFIGS[model]()
    save_yaml(config, tmp_path / "config.yaml")
    assert from_dict(CONFIGS[model], yaml.safe_load((tmp_path / "config.yaml").read_text())) == config


# What the engine, torch or the data loader would refuse after the run folder is made and the nets are built
REFUSED_LATER = [
    ("pix2pix", ["--lr", "0"], "--lr must be > 0.0, got 0.0"),  # OptimizerSpec: learning rate must be > 0
    ("dcgan", ["--lr-D", "0"], "--lr-D must be > 0.0, got 0.0"),
    ("wgan-gp", ["--beta1", "1"], "--beta1 must be in [0.0, 1.0), got 1.0"),  # torch.optim.Adam: beta < 1
    ("sngan", ["--beta2", "-0.5"], "--beta2 must be in [0.0, 1.0), got -0.5"),
    ("gan", ["--norm-D", "instance"], "--norm-D instance: --arch mlp has no feature maps"),  # the MLP net
    ("dcgan", ["--channels", "2"], "--channels 2: images have 1 (gray) or 3 (colour) channels"),  # image sets
    ("cyclegan", ["--epochs", "0", "--epochs-decay", "0"], "--epochs 0 with --epochs-decay 0 trains nothing"),
    ("pix2pix", ["--netD", "n_layers", "--n-layers-D", "7"],  # the PatchGAN's output would be empty
     "--crop-size 256 is too small for --netD n_layers --n-layers-D 7: its 7 halvings leave 2 px"),
]


@pytest.mark.parametrize("model,flags,said", REFUSED_LATER, ids=[" ".join([m, *f]) for m, f, _ in REFUSED_LATER])
def test_the_option_check_refuses_what_the_engine_would_refuse_later(model, flags, said, tmp_path, capsys):
    runs = tmp_path / "runs"
    code = main(["train", model, "--data", "digits" if model in ("gan", "dcgan") else str(tmp_path),
                 "--checkpoints-dir", str(runs), *flags])
    err = capsys.readouterr().err
    assert code not in (0, None) and len(err.strip().splitlines()) == 1 and said in err, err
    assert not runs.exists()


def test_the_smallest_crop_the_check_lets_through_is_the_smallest_the_patchgan_takes():
    import torch

    from translation.models.configs import CycleGANConfig
    from translation.nets import create_discriminator

    net = create_discriminator("basic", in_channels=3, ndf=4)
    assert net(torch.zeros(2, 3, 24, 24)).shape[-1] == 1  # 24 >> 3 = 3 px: one patch
    from_dict(CycleGANConfig, {"load_size": 24, "crop_size": 24})
    with pytest.raises(RuntimeError):
        net(torch.zeros(2, 3, 20, 20))  # 20 >> 3 = 2 px: nothing left for the last convolution
    with pytest.raises(ValueError, match="--crop-size 20 is too small for --netD basic: its 3 halvings leave 2 px"):
        from_dict(CycleGANConfig, {"load_size": 20, "crop_size": 20})


def test_the_refused_values_are_what_the_optimizers_refuse_and_the_edges_are_accepted():
    import torch

    from translation.training.phases import OptimizerSpec, build_optimizer

    with pytest.raises(ValueError):
        OptimizerSpec(("G",), lr=0.0)
    with pytest.raises(ValueError):
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], betas=(1.0, 0.999))
    config = from_dict(WGANConfig, {"lr": 1e-12, "beta1": 0.0, "beta2": 0.999999, "optimizer": "adam"})
    build_optimizer(OptimizerSpec(("D",), lr=config.lr, betas=(config.beta1, config.beta2)),
                    [torch.nn.Parameter(torch.zeros(1))], torch.device("cpu"))


@pytest.mark.parametrize("model", ["gan", "madgan", "mrgan"])
def test_the_discriminators_take_optimizer_D_and_lr_D_and_the_generators_do_not(model):
    from translation.models import model_class

    tiny = {"arch": "mlp", "image_size": 8, "channels": 1, "ngf": 4, "ndf": 4, "z_dim": 4}
    config = from_dict(CONFIGS[model], {**tiny, "optimizer_D": "sgd", "lr_D": 1e-3})
    specs = model_class(model)(config, "cpu").optimizers()
    generators = [spec for name, spec in specs.items() if name == "G"]
    discriminators = [spec for name, spec in specs.items() if name != "G"]
    assert len(generators) == 1 and discriminators
    assert (generators[0].kind, generators[0].lr) == ("adam", config.lr)
    assert all((spec.kind, spec.lr) == ("sgd", 1e-3) for spec in discriminators)
    assert all(spec.betas == (config.beta1, config.beta2) for spec in specs.values())


def test_families_without_optimizer_D_give_both_players_optimizer_and_D_its_lr_D():
    from translation.models.base import generator_and_discriminator_optimizers
    from translation.models.configs import Pix2PixConfig

    specs = generator_and_discriminator_optimizers(from_dict(Pix2PixConfig, {"lr_D": 4e-4}), ("G",), ("D",))
    assert (specs["G"].kind, specs["G"].lr, specs["D"].kind, specs["D"].lr) == ("adam", 2e-4, "adam", 4e-4)


def test_the_gan_modes_the_label_options_accept_are_the_losses_with_labels():
    from translation.losses import adversarial_loss
    from translation.names import GAN_MODES, GAN_MODES_WITH_LABELS

    assert {mode for mode in GAN_MODES if adversarial_loss(mode).has_targets} == set(GAN_MODES_WITH_LABELS)
    for mode in GAN_MODES:  # --smooth-real passes the option check exactly where the loss takes targets
        if mode in GAN_MODES_WITH_LABELS:
            from_dict(NoiseGANConfig, {"gan_mode": mode, "smooth_real": [0.9]})
        else:
            with pytest.raises(ValueError, match=f"--gan-mode {mode} does not have"):
                from_dict(NoiseGANConfig, {"gan_mode": mode, "smooth_real": [0.9]})
