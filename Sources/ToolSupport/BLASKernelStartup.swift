// Making OpenBLAS run kernels that match the CPU, before a tool does anything else.
//
// OpenBLAS reads OPENBLAS_CORETYPE only in its library constructor, before `main` runs, so a
// correction cannot be applied in this process: when `chooseBLASKernels` (Engine) says the
// kernels OpenBLAS chose are a generic fallback, the tool sets the variable and executes itself
// again (same binary, same arguments, same process id), and the new image loads OpenBLAS with
// the right core. Docs/performance.md ("Kernels that match the CPU") says why this and not
// loading the library later or dispatching kernels ourselves, and what it costs (a few ms).
//
// Environment variables involved:
//   OPENBLAS_CORETYPE                the core OpenBLAS loads; a user's own value is respected
//   HEADSTART_BLAS_CORRECTED_FROM    set with it on re-execution: the core OpenBLAS had picked.
//                                    It stops a second re-execution and lets `--version` say
//                                    "chosen by headstart; OpenBLAS picked Prescott".
//   HEADSTART_ASSUME_BLAS_CORE       TEST HOOK ONLY: the decision sees this core name instead of
//                                    the one OpenBLAS reports, so the correction can be tested
//                                    end to end on a machine whose OpenBLAS does not fall back.

import Engine
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The environment variables of the kernel choice.
public enum BLASKernelEnvironment {
  /// OpenBLAS' own variable naming the kernel set ("core") it loads.
  public static let coreType = "OPENBLAS_CORETYPE"
  /// Set, with `coreType`, by a tool that re-executes itself: the core OpenBLAS picked by itself.
  public static let correctedFrom = "HEADSTART_BLAS_CORRECTED_FROM"
  /// Test hook: the kernel decision sees this core name instead of OpenBLAS' real one. Never
  /// needed in normal use; it lets tests exercise the re-execution on any AVX2 machine.
  public static let assumeCore = "HEADSTART_ASSUME_BLAS_CORE"
}

/// How the OpenBLAS core in use came to be chosen, read from the environment.
public enum BLASKernelSource: Equatable, Sendable {
  /// OpenBLAS' own CPU detection.
  case detected
  /// The user's OPENBLAS_CORETYPE (its value).
  case user(String)
  /// Headstart's correction: OpenBLAS had picked `from`, the tool restarted asking for `to`.
  case corrected(from: String, to: String)

  /// The source an environment implies.
  public init(environment: [String: String]) {
    let coreType = environment[BLASKernelEnvironment.coreType] ?? ""
    if let from = environment[BLASKernelEnvironment.correctedFrom], !from.isEmpty {
      self = .corrected(from: from, to: coreType)
    } else if !coreType.isEmpty {
      self = .user(coreType)
    } else {
      self = .detected
    }
  }
}

/// Arguments that only ask for information (help, version): no start-up notes for them.
func isInformational(_ arguments: [String]) -> Bool {
  if arguments.first == "help" { return true }
  for argument in arguments {
    if argument == "--" { break }
    if ["-h", "--help", "--version"].contains(argument) { return true }
  }
  return false
}

/// Makes sure OpenBLAS runs kernels that fit the CPU; called first thing by every tool.
///
/// Keeps OpenBLAS' choice, or notes on stderr that it will be slow (once, not for help or
/// version, which report it), or re-executes the tool with OPENBLAS_CORETYPE set. Returns only
/// when the current process is the one to go on. If the re-execution itself fails, it says so in
/// one line and the tool carries on with the kernels it has.
///
/// Whatever the decision, OpenBLAS' worker threads, which spin on the cores for about 0.1 s
/// after the library loads, are stopped before the tool starts threads of its own
/// (`stopIdleBLASThreads`): extract's start-up, which sets up the weights on both cores, took
/// 50 ms longer beside them.
func prepareBLASKernels(toolName: String, arguments: [String]) {
  defer { stopIdleBLASThreads() }
  let environment = ProcessInfo.processInfo.environment
  let quiet = isInformational(arguments)
  let cpu = CPUInfo.current
  if case .corrected(_, let requested) = BLASKernelSource(environment: environment) {
    // The re-executed process: never decide again. Say so if OpenBLAS did not take the name.
    let actual = blasCoreName()
    if !quiet && actual.lowercased() != requested.lowercased() {
      note(toolName, "asked OpenBLAS for its \(requested) kernels, but it uses \(actual): expect slower arithmetic")
    }
    return
  }
  let assumed = environment[BLASKernelEnvironment.assumeCore] ?? ""
  let reported = assumed.isEmpty ? blasCoreName() : assumed
  let decision = chooseBLASKernels(
    cpu: cpu, reportedCore: reported, userCoreType: environment[BLASKernelEnvironment.coreType],
    dynamicArch: blasConfiguration().contains("DYNAMIC_ARCH"))
  switch decision {
  case .keep:
    return
  case .warn(let message):
    if !quiet { note(toolName, message) }
  case .correct(let core, _):
    reexecute(toolName: toolName, core: core, pickedByOpenBLAS: reported)
  }
}

/// Executes this tool again with OPENBLAS_CORETYPE=`core`. Returns only if that failed.
private func reexecute(toolName: String, core: String, pickedByOpenBLAS: String) {
  setenv(BLASKernelEnvironment.coreType, core, 1)
  setenv(BLASKernelEnvironment.correctedFrom, pickedByOpenBLAS, 1)
  let argv = CommandLine.unsafeArgv
  // /proc/self/exe is this very binary whatever argv[0] says (a relative path, a name found on
  // PATH, a symlink); without /proc (macOS), argv[0] is looked up as the shell did.
  var error: Int32 = 0
  if access("/proc/self/exe", X_OK) == 0 {
    execv("/proc/self/exe", argv)
    error = errno
  }
  if let program = argv[0] {
    execvp(program, argv)
    error = errno
  }
  // Still here: carry on in this process, and do not let `--version` claim a correction.
  unsetenv(BLASKernelEnvironment.coreType)
  unsetenv(BLASKernelEnvironment.correctedFrom)
  note(
    toolName,
    "could not restart with OPENBLAS_CORETYPE=\(core) (\(String(cString: strerror(error)))); "
      + "continuing on OpenBLAS' \(pickedByOpenBLAS) kernels, which are slower")
}

/// One `tool: note: message` line on stderr.
private func note(_ toolName: String, _ message: String) {
  FileHandle.standardError.write(Data("\(toolName): note: \(message)\n".utf8))
}
