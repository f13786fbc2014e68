"""What the benchmark scripts share: the machine facts they print beside every figure."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine_facts() -> dict:
  """CPU model, core count, memory, OS and Python version (Linux /proc; 'unknown' elsewhere)."""
  cpu = "unknown"
  try:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
      if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
  except OSError:
    pass
  mem = ""
  try:
    kb = int(Path("/proc/meminfo").read_text().split()[1])
    mem = f"{kb / 2**20:.1f} GiB"
  except (OSError, ValueError, IndexError):
    pass
  return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "os": platform.platform(),
          "python": platform.python_version()}
