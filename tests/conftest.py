import os

# Before any Qt import: tests run without a display unless a test says otherwise.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
