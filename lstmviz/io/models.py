"""load_model and inspect_model: pick the reader for a model file by its content.

MODEL_READERS is the one table of model formats: a name, the suffixes that hint at it (for
the file dialog's filters and as a tie-breaker), and the reader module, which has
read_model(path, layer=None) -> LSTMParams and, for the framework formats,
list_layers(path) -> [LayerInfo] (what `lstmviz inspect` prints). detect_format looks at
the bytes first (zip members, the HDF5 / NumPy / safetensors signatures, a pickle's
protocol and torch's legacy magic number, an ONNX protobuf's first field), so
`pytorch_model.bin`, `last.ckpt`, `checkpoint.pth.tar`, `model.jit` or a file without a
suffix open by what they are; the suffix decides only when the content says nothing.
See docs/formats.md for what each reader reads.
"""

from __future__ import annotations

import importlib
import struct
import zipfile
from dataclasses import dataclass

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.layers import LayerInfo
from lstmviz.io.paths import readable_file, suffix_of
from lstmviz.io.zipsafe import is_zip


@dataclass(frozen=True)
class ModelReader:
    key: str  # 'torch', 'safetensors', 'keras', 'hdf5', 'onnx', 'npz'
    name: str  # for people: "PyTorch (torch.save, TorchScript, legacy)"
    suffixes: tuple[str, ...]  # hints only, for the file dialog and for content that says nothing
    module: str  # lstmviz.io.* with read_model (and list_layers)
    isolate: bool = False  # parsed by a C library (HDF5, protobuf): the window reads it in a child


MODEL_READERS: tuple[ModelReader, ...] = (
    ModelReader("npz", "lstmviz .npz (W_i..W_o, U_i..U_o, b_i..b_o)", (".npz",), "lstmviz.io.npz"),
    ModelReader(
        "torch",
        "PyTorch (torch.save, TorchScript, legacy)",
        (".pt", ".pth", ".bin", ".ckpt", ".tar", ".jit", ".ptl"),
        "lstmviz.io.torch_pt",
    ),
    ModelReader("safetensors", "safetensors", (".safetensors",), "lstmviz.io.safetensors_io"),
    ModelReader("keras", "Keras 3 .keras", (".keras",), "lstmviz.io.keras", isolate=True),
    ModelReader("hdf5", "Keras HDF5", (".weights.h5", ".h5", ".hdf5"), "lstmviz.io.keras", isolate=True),
    ModelReader("onnx", "ONNX", (".onnx",), "lstmviz.io.onnx_io", isolate=True),
)
READERS_BY_KEY = {reader.key: reader for reader in MODEL_READERS}
MODEL_SUFFIXES: tuple[str, ...] = tuple(s for reader in MODEL_READERS for s in reader.suffixes)
# Formats whose parsers are C libraries (HDF5, protobuf): the window reads these in a child
# process (lstmviz.io.isolated) so that a crafted file can crash only that process.
ISOLATE_SUFFIXES = tuple(s for reader in MODEL_READERS if reader.isolate for s in reader.suffixes)
DOCUMENT_SUFFIXES = (".lstmviz",)
SEQUENCE_SUFFIXES = (".csv", ".npy")


def model_file_filter() -> str:
    """The Open dialog's filter string (Qt syntax), from the one table above."""
    models = " ".join(f"*{s}" for s in MODEL_SUFFIXES)
    documents = " ".join(f"*{s}" for s in DOCUMENT_SUFFIXES)
    sequences = " ".join(f"*{s}" for s in SEQUENCE_SUFFIXES)
    return (
        f"Everything lstmviz opens ({documents} {sequences} {models});;"
        f"lstmviz documents ({documents});;Input sequences ({sequences});;"
        f"Models ({models});;All files (*)"
    )


@dataclass(frozen=True)
class FormatGuess:
    """What a file is: the reader to use and how that was decided."""

    key: str | None  # a MODEL_READERS key, or None when the file is no model lstmviz reads
    description: str  # "PyTorch zip (torch.save)"
    by: str  # "content" or "extension"
    problem: str = ""  # why it cannot be read as a model (when key is None)

    @property
    def reader(self) -> ModelReader | None:
        return READERS_BY_KEY.get(self.key) if self.key else None

    def line(self) -> str:
        """'format: PyTorch zip (torch.save), detected from content'."""
        return f"format: {self.description}, detected from {self.by}"


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
NPY_SIGNATURE = b"\x93NUMPY"
TORCH_LEGACY_HEAD = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"  # LONG1 magic


def _zip_guess(path) -> FormatGuess | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()[:100_000]
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, NotImplementedError, EOFError):
        return None
    top = {name.split("/", 1)[0] for name in names}
    pickles = [n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")]
    if pickles:
        root = pickles[0][: -len("data.pkl")]
        if any(n.startswith(root + "code/") for n in names) or f"{root}constants.pkl" in names:
            return FormatGuess("torch", "TorchScript archive (torch.jit.save)", "content")
        return FormatGuess("torch", "PyTorch zip (torch.save)", "content")
    if "config.json" in top and "model.weights.h5" in names:
        return FormatGuess("keras", "Keras 3 .keras (zip of config.json and model.weights.h5)", "content")
    if "document.json" in names:
        return FormatGuess(
            None,
            "lstmviz document",
            "content",
            "is an lstmviz document, not a model: open it with --document",
        )
    if names and all(n.endswith(".npy") for n in names):
        return FormatGuess("npz", "NumPy .npz archive", "content")
    return None


def _safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length <= size - 8 and head[8:9] == b"{"


def _onnx(head: bytes) -> bool:
    # ModelProto starts with field 1 (ir_version, varint: tag 0x08, a small number), then a
    # length-delimited field (producer_name 0x12, ..., graph 0x3a, opset_import 0x42).
    return (
        len(head) >= 4
        and head[0] == 0x08
        and 1 <= head[1] <= 20
        and head[2] in (0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42, 0x52, 0x72)
    )


def detect_format(path) -> FormatGuess:
    """What the file holds, from its bytes; the suffix decides only when they say nothing.

    Raises LstmvizError (naming the file) for a missing, empty or unreadable file."""
    source = str(path)
    readable_file(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
            handle.seek(0, 2)
            size = handle.tell()
    except OSError as error:
        raise LstmvizError(f"cannot read it ({error})", source=source) from None
    if head.startswith(b"PK") or is_zip(path):
        guess = _zip_guess(path)
        if guess is not None:
            return guess
        hinted = _by_suffix(path)
        if hinted is not None and hinted.key in ("torch", "keras", "npz"):
            return hinted  # a damaged zip: its reader names the damage
        return FormatGuess(None, "zip archive", "content", "is a zip archive holding no model lstmviz reads")
    if any(head[offset : offset + 8] == HDF5_SIGNATURE for offset in (0, 512, 1024, 2048)):
        return FormatGuess("hdf5", "HDF5 (Keras .h5 / .weights.h5)", "content")
    if head.startswith(NPY_SIGNATURE):
        return FormatGuess(
            None, "NumPy .npy array", "content", "is a single .npy array (an input sequence?), not a model"
        )
    if head.startswith(TORCH_LEGACY_HEAD):
        return FormatGuess("torch", "PyTorch legacy file (torch.save before 1.6)", "content")
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return FormatGuess("torch", f"Python pickle (protocol {head[1]})", "content")
    if _safetensors(head, size):
        return FormatGuess("safetensors", "safetensors", "content")
    if _onnx(head):
        return FormatGuess("onnx", "ONNX (protobuf ModelProto)", "content")
    hinted = _by_suffix(path)
    if hinted is not None:
        return hinted
    suffix = suffix_of(path)
    known = ", ".join(dict.fromkeys(MODEL_SUFFIXES))
    return FormatGuess(
        None,
        "unknown",
        "content",
        f"unknown model format {suffix or '(no extension)'!r}: its content is none lstmviz reads "
        f"(PyTorch, safetensors, Keras, ONNX, .npz; the usual suffixes are {known})",
    )


def _by_suffix(path) -> FormatGuess | None:
    suffix = suffix_of(path)
    for reader in MODEL_READERS:
        if suffix in reader.suffixes:
            return FormatGuess(reader.key, reader.name, "extension")
    return None


def _reader(path):
    guess = detect_format(path)
    if guess.key is None:
        raise LstmvizError(guess.problem, source=str(path))
    return importlib.import_module(guess.reader.module)


def load_model(path, layer: str | None = None, **facts) -> LSTMParams:
    """One LSTM layer of a model file as LSTMParams (the first layer when layer is None).

    facts: what a Keras weights-only file cannot state (activation, recurrent_activation,
    go_backwards, mask_value); only readers with a FACTS table take them.
    """
    module = _reader(path)
    facts = {key: value for key, value in facts.items() if value is not None}
    if facts:
        if not hasattr(module, "FACTS"):
            options = ", ".join("--" + key.replace("_", "-") for key in facts)
            raise LstmvizError(f"{options} apply to Keras files only", source=str(path))
        return module.read_model(path, layer=layer, **facts)
    return module.read_model(path, layer=layer)


def inspect_model(path) -> list[LayerInfo]:
    """Every LSTM layer (one per direction) in a model file, described; weights not loaded."""
    module = _reader(path)
    if hasattr(module, "list_layers"):
        return module.list_layers(path)
    params = module.read_model(path)  # the native .npz holds one cell
    return [
        LayerInfo(
            name="0",
            format="lstmviz .npz (W_i..W_o, U_i..U_o, b_i..b_o)",
            m=params.m,
            n=params.n,
            gate_order="i, f, g, o (separate arrays)",
            biases="b_i, b_f, b_g, b_o",
            peepholes="p_i, p_f, p_o" if params.has_peepholes else "none",
            activations=f"{params.recurrent_activation} (gates), {params.cell_activation} (cell)",
            aliases=("lstm",),
        )
    ]


def needs_isolation(path) -> bool:
    """True for the formats the window should read with lstmviz.io.isolated (HDF5, ONNX),
    by content: an HDF5 file named model.pt is isolated too."""
    try:
        guess = detect_format(path)
    except LstmvizError:
        return suffix_of(path) in ISOLATE_SUFFIXES
    reader = guess.reader
    return bool(reader and reader.isolate)


__all__ = [
    "MODEL_READERS",
    "MODEL_SUFFIXES",
    "FormatGuess",
    "ModelReader",
    "detect_format",
    "inspect_model",
    "load_model",
    "model_file_filter",
    "needs_isolation",
]
