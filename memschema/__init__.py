"""memschema: read, write and validate the binary memory files of AI-agent tools (MEM8, RVF, AMEM)
from declarative construct schemas."""

from .api import convert, detect, dump, load, parse_as, repair, repair_in_place, save, validate
from .budget import Budget
from .document import Document
from .errors import Finding, FormatError, LockHeld, MemschemaError, Report, Severity
from .registry import Detection, Format, declarations, register, register_converter
from .registry import formats as list_formats

__version__ = "0.1.0"

__all__ = ["Budget", "Detection", "Document", "Finding", "Format", "FormatError", "LockHeld", "MemschemaError",
           "Report", "Severity", "convert", "declarations", "detect", "dump", "list_formats", "load", "parse_as",
           "register", "register_converter", "repair", "repair_in_place", "save", "validate", "__version__"]
