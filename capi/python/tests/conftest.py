import sys
from pathlib import Path

# Import capi/python/jue.py from the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
