"""What the benchmark scripts share: where the tools are, the environment rule, and the machine
header every benchmark prints before its first figure.

The environment rule: figures are measured "with no tuning variables set". Variables that change
which kernels or how many threads a library uses (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE,
OMP_NUM_THREADS, ...; TUNING_PREFIXES below) are removed from the benchmark's own environment,
and so from every process it starts, unless the script is given --keep-env. The header says
which were removed or kept.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

# The commands of the one release binary, `headstart`. Every script builds their command lines
# through tool_command().
TOOLS = ("extract", "fit-heads", "predict", "finetune")


def tool_command(bin_dir: str | Path, name: str) -> list[str]:
  """The argv prefix that runs `headstart name` from the folder of the release build."""
  assert name in TOOLS, name
  return [str(Path(bin_dir).absolute() / "headstart"), name]


def tool_missing(command: list[str]) -> str | None:
  """A sentence saying the tool is not there, or None."""
  path = Path(command[0])
  if path.is_file() and os.access(path, os.X_OK):
    return None
  return (f"{path} not found (build the tools with `swift build -c release`, or point the script "
          f"at their folder)")


# ---------------------------------------------------------------------------------------------
# The environment rule.
# ---------------------------------------------------------------------------------------------

TUNING_PREFIXES = ("OPENBLAS_", "GOTO_", "GOTOBLAS_", "OMP_", "GOMP_", "KMP_", "MKL_", "DNNL_",
                   "ONEDNN_", "TF_NUM_", "HEADSTART_", "MALLOC_")
TUNING_NAMES = ("TF_ENABLE_ONEDNN_OPTS", "TF_XLA_FLAGS", "XLA_FLAGS", "GLIBC_TUNABLES",
                "OV_CPU_THREADS_NUM")


def is_tuning_variable(name: str) -> bool:
  return name.startswith(TUNING_PREFIXES) or name in TUNING_NAMES


def apply_environment_rule(keep: bool) -> dict:
  """Removes the tuning variables from this process's environment (inherited by every process the
  benchmark starts), unless `keep`. Call first thing in main(), before numpy or TensorFlow load.
  Returns {"kept": keep, "variables": {name: value}} for the header."""
  found = {k: v for k, v in sorted(os.environ.items()) if is_tuning_variable(k)}
  if not keep:
    for name in found:
      del os.environ[name]
  return {"kept": keep, "variables": found}


def environment_line(rule: dict) -> str:
  found = ", ".join(f"{k}={v}" for k, v in rule["variables"].items())
  if rule["kept"]:
    return (f"environment: --keep-env: tuning variables kept as found: {found or 'none were set'}"
            + (" (these figures are NOT 'with no tuning variables set')" if found else ""))
  if found:
    return f"environment: no tuning variables set; removed from every benchmark process: {found}"
  return "environment: no tuning variables set (none were set)"


def add_environment_flag(parser) -> None:
  parser.add_argument("--keep-env", action="store_true",
                      help="keep OPENBLAS_CORETYPE, OMP_NUM_THREADS and the other tuning variables "
                           "(default: removed, so figures are 'with no tuning variables set')")


# ---------------------------------------------------------------------------------------------
# The machine header.
# ---------------------------------------------------------------------------------------------


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
  usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
  load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
  return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "memory": mem,
          "os": platform.platform(), "python": platform.python_version(), "load_average": load,
          "memory_read_gb_s": memory_read_rate()}


def memory_read_rate() -> float | None:
  """GB/s at which one thread reads 256 MB (numpy's sum of float32, best of 3), or None without
  numpy. On a shared virtual machine the neighbours take part of the L3 and memory bandwidth, and
  the network's 1x1 products, which stream their activations through memory, slow with it while
  the FMA rate does not (Docs/performance.md, 2026-12-07): this line says which state a run saw."""
  try:
    import numpy
  except ImportError:
    return None
  data = numpy.ones(64 << 20, dtype=numpy.float32)
  best = float("inf")
  for _ in range(3):
    start = time.perf_counter()
    data.sum()
    best = min(best, time.perf_counter() - start)
  return round(data.nbytes / best / 1e9, 1)


# Runs in a child process (the benchmark's environment, so it sees what the Keras side sees):
# versions, numpy's BLAS through threadpoolctl, TensorFlow's build and oneDNN, OpenVINO. oneDNN's
# ISA and the convolution kernel it picks come from ONEDNN_VERBOSE=1, set for this child only.
_PYTHON_FACTS = r"""
import json, os, platform, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
out = {"python": platform.python_version(), "executable": sys.executable}
try:
  import numpy
  out["numpy"] = numpy.__version__
  try:
    from threadpoolctl import threadpool_info
    out["numpy_blas"] = [
      {k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads",
                              "threading_layer")}
      for i in threadpool_info() if i.get("user_api") == "blas" and "numpy" in i.get("filepath", "")]
  except ImportError:
    out["numpy_blas"] = "threadpoolctl not installed"
except ImportError:
  pass
for name in ("PIL", "h5py", "skimage", "sklearn"):
  try:
    out[name] = __import__(name).__version__
  except ImportError:
    pass
try:
  import tensorflow as tf
  import keras
  out["tensorflow"] = tf.__version__
  out["keras"] = keras.__version__
  out["keras_backend"] = keras.backend.backend()
  out["tf_build"] = {k: v for k, v in tf.sysconfig.get_build_info().items()
                     if not isinstance(v, (list, dict))}
  try:
    from tensorflow.python.util import _pywrap_util_port
    out["tf_onednn_built"] = bool(_pywrap_util_port.IsMklEnabled())
  except Exception as e:
    out["tf_onednn_built"] = f"unknown ({type(e).__name__})"
  out["tf_onednn_opts"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (on by default on x86 Linux)")
  out["tf_threads"] = {"intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                       "inter_op": tf.config.threading.get_inter_op_parallelism_threads()}
  x = tf.random.normal((1, 16, 16, 8))
  tf.nn.conv2d(x, tf.random.normal((3, 3, 8, 8)), 1, "SAME")
  tf.linalg.matmul(tf.random.normal((64, 64)), tf.random.normal((64, 64)))
except ImportError:
  pass
try:
  import openvino as ov
  core = ov.Core()
  out["openvino"] = ov.__version__
  out["openvino_cpu"] = core.get_property("CPU", "FULL_DEVICE_NAME")
  out["openvino_capabilities"] = [str(c) for c in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")]
except ImportError:
  pass
except Exception as e:
  out["openvino_error"] = f"{type(e).__name__}: {e}"[:200]
sys.stdout.flush()
print("FACTS " + json.dumps(out, default=str), flush=True)
"""


def python_facts(python: str = sys.executable) -> dict:
  env = dict(os.environ, ONEDNN_VERBOSE="1")
  try:
    proc = subprocess.run([python, "-c", _PYTHON_FACTS], capture_output=True, text=True, env=env,
                          timeout=300)
  except (OSError, subprocess.TimeoutExpired) as e:
    return {"error": str(e)}
  facts, onednn = {}, {}
  for line in proc.stdout.splitlines():
    if line.startswith("FACTS "):
      facts = json.loads(line[6:])
    elif line.startswith("onednn_verbose"):
      fields = line.split(",")
      if "info" in fields and "cpu" in fields:
        for f in fields:
          if f.startswith("isa:"):
            onednn["isa"] = f[4:]
          elif f.startswith("nthr:"):
            onednn["threads"] = f[5:]
      elif "info" in fields and any(f.startswith("oneDNN v") for f in fields):
        onednn["version"] = next(f for f in fields if f.startswith("oneDNN v")).split()[1]
      elif "exec" in fields and len(fields) > fields.index("exec") + 3:
        at = fields.index("exec")
        if fields[at + 1] == "cpu" and fields[at + 3]:  # primitive -> implementation
          onednn.setdefault("kernels", {}).setdefault(fields[at + 2], fields[at + 3])
  if not facts:
    facts = {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]}
  if onednn:
    facts["onednn"] = onednn
  return facts


def tool_version(command: list[str]) -> list[str]:
  """The lines of `<tool> --version` (tool version, CPU, ISA, GEMM kernels, threads, sgemm)."""
  missing = tool_missing(command)
  if missing:
    return [missing]
  try:
    proc = subprocess.run(command + ["--version"], capture_output=True, text=True, timeout=120)
  except (OSError, subprocess.TimeoutExpired) as e:
    return [f"{shlex.join(command)} --version failed: {e}"]
  lines = (proc.stdout + proc.stderr).strip().splitlines()
  return lines if proc.returncode == 0 else [f"exit {proc.returncode}"] + lines


def source_commit(folder: Path) -> str:
  """The git commit of the tree holding `folder` (the tools' sources), '+ changes' when dirty."""
  try:
    head = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, timeout=30)
    if head.returncode != 0:
      return "unknown"
    dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=30).stdout.strip()
    return head.stdout.strip() + (" + uncommitted changes" if dirty else "")
  except (OSError, subprocess.TimeoutExpired):
    return "unknown"


def _python_lines(p: dict) -> list[str]:
  if "error" in p:
    return [f"python side: {p['error']}"]
  lines = [f"python {p.get('python')} ({p.get('executable')})"]
  blas = p.get("numpy_blas")
  if isinstance(blas, list):
    text = "; ".join(f"{b.get('internal_api')} {b.get('version')}, {b.get('architecture')} kernels, "
                     f"{b.get('num_threads')} threads ({b.get('threading_layer')})" for b in blas)
    lines.append(f"numpy {p.get('numpy')}: {text or 'no BLAS found by threadpoolctl'}")
  elif "numpy" in p:
    lines.append(f"numpy {p.get('numpy')}: BLAS unknown ({blas})")
  if "tensorflow" in p:
    build = p.get("tf_build", {})
    kind = "CUDA build" if build.get("is_cuda_build") else "CPU build"
    one = p.get("onednn", {})
    kernels = ", ".join(f"{k}: {v}" for k, v in one.get("kernels", {}).items())
    lines.append(f"tensorflow {p['tensorflow']} ({kind}), keras {p.get('keras')} "
                 f"(backend {p.get('keras_backend')}); oneDNN built in: {p.get('tf_onednn_built')}, "
                 f"TF_ENABLE_ONEDNN_OPTS {p.get('tf_onednn_opts')}")
    if one:
      lines.append(f"  oneDNN {one.get('version', '?')}: ISA {one.get('isa', '?')}, "
                   f"{one.get('threads', '?')} threads; {kernels or 'no kernel reported'}")
  else:
    lines.append("tensorflow: not installed (the Keras sides cannot run)")
  others = [f"{k} {p[k]}" for k in ("PIL", "h5py", "skimage", "sklearn") if k in p]
  if others:
    lines.append(", ".join(others).replace("PIL", "Pillow"))
  if "openvino" in p:
    lines.append(f"openvino {p['openvino']}: {p.get('openvino_cpu')}; "
                 f"{' '.join(p.get('openvino_capabilities', []))}")
  elif "openvino_error" in p:
    lines.append(f"openvino: {p['openvino_error']}")
  else:
    lines.append("openvino: not installed (no OpenVINO figures)")
  return lines


def machine_header(tool: list[str], rule: dict, python: str = sys.executable,
                   title: str = "") -> dict:
  """Prints the header every benchmark starts with and returns its facts (for --json).
  `tool` is the argv prefix of one of our tools; its --version gives our side of the machine."""
  m = machine_facts()
  p = python_facts(python)
  version = tool_version(tool)
  commit = source_commit(Path(tool[0]).parent) if Path(tool[0]).parent.is_dir() else "unknown"
  print(f"===== machine{' (' + title + ')' if title else ''} =====")
  print("command:", shlex.join([sys.executable] + sys.argv))
  print(f"host: {m['cpu']}, {m['cores']} logical cores ({m['usable_cores']} usable), {m['memory']}, "
        f"{m['os']}; load average {m['load_average']}")
  if m["memory_read_gb_s"] is not None:
    print(f"memory read: {m['memory_read_gb_s']} GB/s (one thread, numpy sum over 256 MB, best of 3)")
  print(environment_line(rule))
  print(f"ours: {shlex.join(tool)} --version  (source tree at commit {commit})")
  for line in version:
    print("  " + line)
  for line in _python_lines(p):
    print(line)
  print("=" * 20, flush=True)
  return {"machine": m, "environment": rule, "tool_version": version, "source_commit": commit,
          "python": p}


def max_rss_kib(time_output: str) -> int | None:
  """'Maximum resident set size (kbytes): N' from /usr/bin/time -v, or None."""
  for line in time_output.splitlines():
    if "Maximum resident set size" in line:
      try:
        return int(line.rsplit(":", 1)[1])
      except ValueError:
        return None
  return None
