import sys
from pathlib import Path

# Import capi/ctypes/jue_ctypes.py from the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
