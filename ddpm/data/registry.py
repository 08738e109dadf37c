"""The one registry of dataset sources: raw files, where they come from, their checksums, licenses,
preparers, and the options each source accepts with their defaults.

Every dataset fact lives here and nowhere else; the config only picks a source and overrides options.
Checksums: ``sha256`` is that of the file as published. ``content_sha256`` is a digest that survives a
faithful re-packing (the decompressed payload of a ``.gz`` file; the ``SHA256SUMS`` manifest of a
folder or zip, see :mod:`ddpm.data.checksums`) and is accepted when the file's own sha256 differs.
``md5`` is used only where no sha256 was ever published.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ddpm.data import split_builders, synthetic
from ddpm.data.hoda_cdb import check_cdb
from ddpm.data.persian_letters_cdb import read_letters_cdb
from ddpm.data.prepared_files import PreparedDataset
from ddpm.errors import ConfigError


class _Required:
    def __repr__(self) -> str:
        return "<required>"

    def __deepcopy__(self, memo: dict) -> _Required:
        return self  # a singleton: ``value is REQUIRED`` must survive copying the defaults


REQUIRED: Any = _Required()  # an option without a default: the config must set it

Preparer = Callable[["Source", Mapping[str, Path], Mapping[str, Any]], PreparedDataset]
RawFileCheck = Callable[[Path], Any]


@dataclass(frozen=True)
class RawFile:
    name: str  # file name in the raw folder and in a mirror
    role: str  # what the preparer uses it for
    urls: tuple[str, ...] = ()  # tried in order
    sha256: str | None = None
    content_sha256: str | None = None
    md5: str | None = None
    folder: str | None = None  # an unpacked folder of this name is accepted instead of the archive
    optional: bool = False  # used when the raw folder or a mirror has it; never downloaded, never missing


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    license: str
    prepare: Preparer
    options: Mapping[str, Any]  # accepted options -> default (REQUIRED if none)
    raw_files: tuple[RawFile, ...] = ()
    mirror_subdir: str | None = None  # the sub-folder of a mirror that holds the raw files
    manual_download: str | None = None  # set when the files cannot be downloaded automatically
    class_names: tuple[str, ...] = ()  # when the raw files do not carry them
    class_glyphs: tuple[str, ...] = ()  # how each class is written, where that is a character
    alphabet: str | None = None  # text data with a fixed alphabet
    text_length: int | None = None
    # A fast structure check of one raw file (raises DataError), run on every raw file of a dataset
    # before any is processed, so a damaged last file is reported in seconds. Formats that the
    # preparer parses whole before any processing need none.
    check_raw_file: RawFileCheck | None = None

    def resolve_options(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        """The options of a config entry merged over the defaults; unknown keys are errors."""
        given = dict(entry)
        if given.pop("source", self.key) != self.key:
            raise ConfigError(f"the dataset entry's source {entry['source']!r} is not {self.key!r}")
        unknown = sorted(set(given) - set(self.options))
        if unknown:
            raise ConfigError(
                f"dataset source {self.key!r} does not accept option(s) {', '.join(unknown)}; "
                f"it accepts: {', '.join(self.options) or 'none'}"
            )
        options = {**copy.deepcopy(dict(self.options)), **given}
        missing = [name for name, value in options.items() if value is REQUIRED]
        if missing:
            raise ConfigError(f"dataset source {self.key!r} needs the option(s) {', '.join(missing)}")
        self._check_pins(options.get("sha256", {}))
        return options

    def _check_pins(self, pins: Mapping[str, str]) -> None:
        names = [n for raw in self.raw_files for n in (raw.name, raw.folder) if n]
        for name, digest in pins.items():
            if name not in names:
                raise ConfigError(f"sha256 pin for {name!r}: source {self.key!r} has the raw files {names}")
            if not (isinstance(digest, str) and len(digest) == 64 and set(digest) <= set("0123456789abcdef")):
                raise ConfigError(f"sha256 pin for {name!r} must be 64 lowercase hex digits, got {digest!r}")


def _options(**defaults: Any) -> Mapping[str, Any]:
    return MappingProxyType(defaults)


def _idx_files(base_urls: tuple[str, ...], checksums: dict[str, tuple[str, str]]) -> tuple[RawFile, ...]:
    roles = {
        "train-images-idx3-ubyte.gz": "train_images",
        "train-labels-idx1-ubyte.gz": "train_labels",
        "t10k-images-idx3-ubyte.gz": "test_images",
        "t10k-labels-idx1-ubyte.gz": "test_labels",
    }
    return tuple(
        RawFile(name, roles[name], tuple(base + name for base in base_urls), sha256, payload)
        for name, (sha256, payload) in checksums.items()
    )


_HODA_BASE = "https://raw.githubusercontent.com/amir-saniyan/HodaDatasetReader/728dd5465fcf38c3c82a1d3fda721da30b2e70ed/DigitDB/"
_CARS_MANUAL = (
    "Stanford Cars cannot be downloaded automatically: its official site (ai.stanford.edu/~jkrause/cars) "
    "is gone and torchvision's downloader no longer works. Get the four files of the original release "
    "(car_devkit.tgz, cars_train.tgz, cars_test.tgz, cars_test_annos_withlabels.mat) from a copy you "
    "trust, e.g. an institutional mirror or an archive of the old URLs; their md5s are checked."
)
_DIGITS = tuple("0123456789")
_LETTERS_BASE = (
    "https://raw.githubusercontent.com/mjasnaashari/Persian-Alphabet-MLP/"
    "6dd6084603da75863ec01687490790377181db94/HCD/"
)
# Label -> (name in the dataset's HCD.xls, the letter). Labels 0-31 are the isolated letters; 32-35
# are position forms, written with Unicode presentation forms so that they show without text shaping.
_PERSIAN_LETTERS = (
    ("Alef", "\u0627"), ("Be", "\u0628"), ("Pe", "\u067e"), ("Te", "\u062a"), ("The", "\u062b"),
    ("Jim", "\u062c"), ("Che", "\u0686"), ("He", "\u062d"), ("Khe", "\u062e"), ("Dal", "\u062f"),
    ("Zal", "\u0630"), ("Re", "\u0631"), ("Ze", "\u0632"), ("Zhe", "\u0698"), ("Sin", "\u0633"),
    ("Shin", "\u0634"), ("Sad", "\u0635"), ("Zad", "\u0636"), ("Ta", "\u0637"), ("Za", "\u0638"),
    ("Ain", "\u0639"), ("Ghain", "\u063a"), ("Fe", "\u0641"), ("Ghe", "\u0642"), ("Kaf", "\u06a9"),
    ("Gaf", "\u06af"), ("Lam", "\u0644"), ("Mim", "\u0645"), ("Noon", "\u0646"), ("Vav", "\u0648"),
    ("Ha (single)", "\u0647"), ("Ya", "\u06cc"),
    ("Hamze", "\ufe8b"),  # Yeh with hamza above, initial form
    ("Alef-Hat", "\u0622"),  # Alef with madda above
    ("Ha (binocular)", "\ufeeb"),  # Heh, initial form (the medial form is also filed here)
    ("Ha (sticky end form)", "\ufeea"),  # Heh, final form
)
_LETTER_GLYPHS = dict(_PERSIAN_LETTERS)

SOURCES: Mapping[str, Source] = MappingProxyType({
    source.key: source
    for source in (
        Source(
            key="mnist",
            title="MNIST handwritten digits",
            license="Copyright Yann LeCun and Corinna Cortes; CC BY-SA 3.0 (as stated by Keras' mnist.load_data)",
            prepare=split_builders.prepare_idx,
            options=_options(sha256={}, val_size=5000, seed=0),
            raw_files=_idx_files(
                ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
                {
                    "train-images-idx3-ubyte.gz": (
                        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                    ),
                    "train-labels-idx1-ubyte.gz": (
                        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                    ),
                    "t10k-images-idx3-ubyte.gz": (
                        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                    ),
                    "t10k-labels-idx1-ubyte.gz": (
                        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                    ),
                },
            ),
            mirror_subdir="mnist",
            class_names=_DIGITS,
        ),
        Source(
            key="fashion_mnist",
            title="Fashion-MNIST (Zalando article images)",
            license="MIT, Copyright (c) 2017 Zalando SE",
            prepare=split_builders.prepare_idx,
            options=_options(sha256={}, val_size=5000, seed=0),
            # Payload digests computed from Debian's recompressed dataset-fashion-mnist files, which
            # differ from the originals only in the gzip header (no file name).
            raw_files=_idx_files(
                ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
                {
                    "train-images-idx3-ubyte.gz": (
                        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                    ),
                    "train-labels-idx1-ubyte.gz": (
                        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                    ),
                    "t10k-images-idx3-ubyte.gz": (
                        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                    ),
                    "t10k-labels-idx1-ubyte.gz": (
                        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                    ),
                },
            ),
            mirror_subdir="fashion-mnist",
            class_names=(
                "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
            ),
        ),
        Source(
            key="hoda",
            title="Hoda Persian handwritten digits (Khosravi & Kabir 2007)",
            license="Free of charge for research and non-commercial use only (farsiocr.ir)",
            prepare=split_builders.prepare_hoda,
            options=_options(sha256={}, image_size=[28, 28]),
            raw_files=(
                # The official training file's sha256 was never published: accepted with a warning
                # unless the config pins one.
                RawFile("Train 60000.cdb", "train", (_HODA_BASE + "Train%2060000.cdb",)),
                RawFile(
                    "Test 20000.cdb", "test", (_HODA_BASE + "Test%2020000.cdb",),
                    sha256="f947c38071c886677ec212fe5000863fafae0b4ed349d97d51c33abe3c8e2b07",
                ),
                RawFile(
                    "RemainingSamples.cdb", "val", (_HODA_BASE + "RemainingSamples.cdb",),
                    sha256="11c9b0661b8de5f743b1b01ac76b4de19b238062d6da3500b5d6128fb1989e3d",
                ),
            ),
            mirror_subdir="hoda_digits",
            class_names=_DIGITS,
            check_raw_file=check_cdb,
        ),
        Source(
            key="persian_letters",
            title="Hoda Persian handwritten letters, 36 classes (Khosravi; Hoda System Co.; Tarbiat Modares Univ.)",
            license="Research and non-commercial use only (terms of the sister Hoda digits set, farsiocr.ir)",
            prepare=split_builders.prepare_persian_letters,
            options=_options(sha256={}, image_size=[32, 32], val_size=0.1, test_size=0.1, seed=0),
            raw_files=(
                RawFile(
                    "Persian-Character-DB-Test.cdb", "test_subset", (_LETTERS_BASE + "Persian-Character-DB-Test.cdb",),
                    sha256="20b2d5e3a86f4109bb5bf4516a6dea9b04a02a0a263479fd3d7ea488f015e3d8",
                ),
                # The official Training subset (70,645 letters) is used when the user places it; its
                # sha256 was never published: accepted with a warning unless the config pins one.
                RawFile("Persian-Character-DB-Training.cdb", "train", optional=True),
            ),
            mirror_subdir="persian_letters",
            # Small files, so the check is the whole parse; the digits' check_cdb reads another layout.
            check_raw_file=read_letters_cdb,
            class_names=tuple(name for name, _ in _PERSIAN_LETTERS),
            class_glyphs=tuple(glyph for _, glyph in _PERSIAN_LETTERS),
        ),
        Source(
            key="captcha",
            title="CAPTCHA text images (captcha_images_v2, Wilhelmy & Rosas 2013)",
            license="No license stated by the publishers; research use only",
            prepare=split_builders.prepare_captcha,
            options=_options(sha256={}, image_size=[32, 128], val_size=100, test_size=100, seed=0),
            raw_files=(
                RawFile(
                    "captcha_images_v2.zip", "images",
                    ("https://github.com/AakashKumarNain/CaptchaCracker/raw/master/captcha_images_v2.zip",),
                    content_sha256="b82bb895487f6c12bfaea9a26abf715e1140bbae6413096cb6e23b88f4ab68e9",
                    folder="captcha_images_v2",
                ),
            ),
            mirror_subdir="captcha",
            alphabet="2345678bcdefgmnpwxy",
            text_length=5,
        ),
        Source(
            key="cifar10",
            title="CIFAR-10 (Krizhevsky 2009)",
            license="No license stated; cite Krizhevsky, Learning Multiple Layers of Features from Tiny Images (2009)",
            prepare=split_builders.prepare_cifar10,
            options=_options(sha256={}, val_size=5000, seed=0),
            raw_files=(
                RawFile(
                    "cifar-10-python.tar.gz", "archive", ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                ),
            ),
            mirror_subdir="cifar10",
        ),
        Source(
            key="stanford_cars",
            title="Stanford Cars (Krause et al. 2013)",
            license=(
                "Non-commercial research use only; cite Krause et al., 3D Object Representations for "
                "Fine-Grained Categorization (2013)"
            ),
            prepare=split_builders.prepare_stanford_cars,
            options=_options(sha256={}, image_size=[64, 64], crop_to_bbox=True, val_size=800, seed=0),
            raw_files=(
                RawFile("car_devkit.tgz", "devkit", ("https://ai.stanford.edu/~jkrause/cars/car_devkit.tgz",),
                        md5="c3b158d763b6e2245038c8ad08e45376"),
                RawFile("cars_train.tgz", "train_images", ("http://ai.stanford.edu/~jkrause/car196/cars_train.tgz",),
                        md5="065e5b463ae28d29e77c1b4b166cfe61"),
                RawFile("cars_test.tgz", "test_images", ("http://ai.stanford.edu/~jkrause/car196/cars_test.tgz",),
                        md5="4ce7ebf6a94d07f1952d94dd34c4d501"),
                RawFile("cars_test_annos_withlabels.mat", "test_annotations",
                        ("http://ai.stanford.edu/~jkrause/car196/cars_test_annos_withlabels.mat",),
                        md5="b0a2b23655a3edd16d84508592a98d10"),
            ),
            mirror_subdir="stanford_cars",
            manual_download=_CARS_MANUAL,
        ),
        Source(
            key="image_folder",
            title="A folder of the user's images (flat, or one sub-folder per class)",
            license="The user's own data",
            prepare=split_builders.prepare_image_folder,
            options=_options(path=REQUIRED, image_size=[64, 64], channels=3, val_size=0.1, test_size=0.1, seed=0),
        ),
        Source(
            key="synthetic_digits",
            title="Synthetic shapes in ten classes (offline smoke runs)",
            license="Generated by ddpm-pipeline",
            prepare=split_builders.prepare_synthetic_digits,
            options=_options(count=600, image_size=[16, 16], val_size=0.1, test_size=0.1, seed=0),
            class_names=synthetic.SHAPE_NAMES,
        ),
        Source(
            key="synthetic_letters",
            title="Synthetic letter shapes in CDB 5.0, read by the Persian letters' parser (offline smoke runs)",
            license="Generated by ddpm-pipeline",
            prepare=split_builders.prepare_synthetic_letters,
            options=_options(count=300, image_size=[16, 16], val_size=0.1, test_size=0.1, seed=0),
            class_names=synthetic.LETTER_NAMES,
            class_glyphs=tuple(_LETTER_GLYPHS[name] for name in synthetic.LETTER_NAMES),
        ),
        Source(
            key="synthetic_text",
            title="Synthetic CAPTCHA-like text images (offline smoke runs)",
            license="Generated by ddpm-pipeline",
            prepare=split_builders.prepare_synthetic_text,
            options=_options(
                count=300, alphabet="0123456789", text_length=4, image_size=[16, 64],
                val_size=0.1, test_size=0.1, seed=0,
            ),
        ),
    )
})


def get_source(key: str) -> Source:
    try:
        return SOURCES[key]
    except KeyError:
        raise ConfigError(f"unknown dataset source {key!r}; known sources: {', '.join(SOURCES)}") from None


def parse_entry(text: str) -> dict[str, Any]:
    """A dataset's config entry passed as JSON on a command line."""
    try:
        entry = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"dataset options are not valid JSON ({exc}): {text!r}") from exc
    if not isinstance(entry, dict):
        raise ConfigError(f"dataset options must be a JSON object, got {text!r}")
    return entry
