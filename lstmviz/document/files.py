"""A Document to and from the .lstmviz file record (lstmviz.io.document_file.DocumentState).

The conversion sits here, above io, so lstmviz.io never imports the application layer.
"""

from __future__ import annotations

from lstmviz.document.document import Document
from lstmviz.document.state import from_file_state, to_file_state


def snapshot(doc: Document, meta: dict | None = None):
    """The document as it is now, as the file record (arrays shared, not copied)."""
    return to_file_state(doc.state, meta)


def restore(doc: Document, file_state, trace=None, *, document_path: str | None = None,
            dirty: bool = True) -> None:
    """Put a file record into an existing Document in one transition (views stay
    subscribed). On an error in the parameters or input the Document stays as it was."""
    cell, view, interventions = from_file_state(file_state, document_path=document_path)
    doc.replace(cell, view=view, trace=trace, interventions=interventions, dirty=dirty)


def document_from_file(file_state, document_path: str | None = None) -> Document:
    """A new, saved Document (for the command line and scripts)."""
    cell, view, interventions = from_file_state(file_state, document_path=document_path)
    doc = Document(cell, view=view)
    doc.replace(interventions=interventions, dirty=False)
    return doc
