// Checking each requested head against the feature file's label columns, and splitting rows.

import FeatureStore
import Heads

extension HeadRequest {
  /// The checks a request passes on its own, before any file is read.
  public func validate() throws {
    if !(0..<1).contains(dropout ?? 0) { throw FitError.usage("head '\(name)': dropout must be in [0, 1)") }
    if let range, range.count != 2 || !range.allSatisfy(\.isFinite) {
      throw FitError.usage("head '\(name)': range must be two numbers, [low, high]")
    }
    if let hidden, !hidden.allSatisfy({ (1...65536).contains($0) }) {
      throw FitError.usage("head '\(name)': hidden layer widths must be between 1 and 65536")
    }
    if let lossWeight, !(lossWeight.isFinite && lossWeight >= 0) {
      throw FitError.usage("head '\(name)': loss_weight must be a number of 0 or more")
    }
    if let taps, taps.isEmpty || Set(taps).count != taps.count {
      throw FitError.usage("head '\(name)': taps must name at least one tap, each once")
    }
  }
}

/// The heads fit-heads trains for `requests` (each already `validate`d) on the label columns, with
/// every row's targets and the training targets (class weights folded in). Names must be unique.
func resolveHeads(_ requests: [HeadRequest], labels: [LabelColumn], trainRows: [Int]) throws
  -> (heads: [ResolvedHead], targets: [HeadTargets], trainingTargets: [HeadTargets])
{
  var seen = Set<String>()
  var heads: [ResolvedHead] = []
  for request in requests {
    guard seen.insert(request.name).inserted else { throw FitError.usage("head '\(request.name)' is declared twice") }
    heads.append(try resolve(request, labels: labels, trainRows: trainRows))
    heads[heads.count - 1].spec.dropout = request.dropout ?? 0
  }
  let targets = heads.map(headTargets)
  let trainingTargets = try weightedForTraining(targets, heads: heads, requests: requests, trainRows: trainRows)
  return (heads, targets, trainingTargets)
}

/// What fit-heads makes of `requests` on these label columns before it trains (`trainRows` being
/// the training rows): the head specifications, or the usage error it would stop with. The fuzz
/// targets in Fuzz/ check heads files through this.
public func checkHeads(_ requests: [HeadRequest], labels: [LabelColumn], trainRows: [Int]) throws -> [HeadSpec] {
  for request in requests { try request.validate() }
  return try resolveHeads(requests, labels: labels, trainRows: trainRows).heads.map(\.spec)
}

/// Resolves one head: the kind must fit the column, and every class must have training rows.
func resolve(_ request: HeadRequest, labels: [LabelColumn], trainRows: [Int]) throws -> ResolvedHead {
  guard let column = labels.first(where: { $0.name == request.column }) else {
    let names = labels.map(\.name).joined(separator: ", ")
    throw FitError.usage(
      "head '\(request.name)': no label column '\(request.column)' in the feature file (it has: \(names))")
  }
  guard let kind = HeadKind(rawValue: request.kind) else {
    throw FitError.usage(
      "head '\(request.name)': unknown kind '\(request.kind)' (expected "
        + HeadKind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
  }
  if request.separator != nil && kind != .sigmoid {
    throw FitError.usage("head '\(request.name)': separator applies to sigmoid heads only")
  }
  let hidden = request.hidden ?? []
  let weight = request.lossWeight ?? 1
  switch (kind, column) {
  case (.tanh, .numeric(_, let values)):
    let trainValues = trainRows.map { values[$0] }.filter { !$0.isNaN }
    guard let low = trainValues.min(), let high = trainValues.max() else {
      throw FitError.usage("head '\(request.name)': column '\(request.column)' has no training labels")
    }
    let range = request.range.map { ($0[0], $0[1]) } ?? (Double(low), Double(high))
    guard range.1 > range.0 else {
      throw FitError.usage("head '\(request.name)': the label range of '\(request.column)' is empty (\(low)..\(high))")
    }
    return ResolvedHead(
      spec: HeadSpec(name: request.name, kind: .tanh, outputs: 1, hidden: hidden, lossWeight: weight),
      column: request.column, classNames: [], range: (range.0, range.1), classLabels: [], valueLabels: values)
  case (.sigmoid, .categorical(_, let classes, let indices)):
    return try resolveSigmoid(
      request, classes: classes, indices: indices, trainRows: trainRows, hidden: hidden, weight: weight)
  case (.softmax, .categorical(_, let classes, let indices)):
    var counts = [Int](repeating: 0, count: classes.count)
    for row in trainRows where indices[row] >= 0 { counts[Int(indices[row])] += 1 }
    if let empty = counts.firstIndex(of: 0) {
      throw FitError.usage(
        "head '\(request.name)': class '\(classes[empty])' of '\(request.column)' has no training rows")
    }
    return ResolvedHead(
      spec: HeadSpec(name: request.name, kind: .softmax, outputs: classes.count, hidden: hidden, lossWeight: weight),
      column: request.column, classNames: classes, range: nil, classLabels: indices, valueLabels: [])
  case (.embedding, .categorical(_, let classes, let indices)):
    // Column classes are placed on the wheel by name (exact, else ignoring case and spaces).
    let wheel = request.wheel ?? HeadSpec.defaultWheel
    func key(_ name: String) -> String { name.lowercased().filter { $0 != " " && $0 != "_" } }
    var position: [Int32] = []
    for name in classes {
      guard let index = wheel.firstIndex(of: name) ?? wheel.firstIndex(where: { key($0) == key(name) }) else {
        throw FitError.usage(
          "head '\(request.name)': class '\(name)' of '\(request.column)' is not on the wheel ("
            + wheel.joined(separator: ", ") + "); give the wheel order with \"wheel\" in the heads file")
      }
      position.append(Int32(index))
    }
    let dimensions = request.dimensions ?? 10
    guard dimensions >= 2, wheel.count >= 2 else {
      throw FitError.usage("head '\(request.name)': an embedding needs at least 2 dimensions and 2 wheel classes")
    }
    return ResolvedHead(
      spec: .embedding(
        name: request.name, dimensions: dimensions, wheelClasses: wheel, hidden: hidden, lossWeight: weight),
      column: request.column, classNames: wheel, range: nil,
      classLabels: indices.map { $0 >= 0 ? position[Int($0)] : -1 }, valueLabels: [])
  case (.tanh, .categorical):
    throw FitError.usage(
      "head '\(request.name)': a tanh head needs numbers; column '\(request.column)' holds text classes")
  case (_, .numeric):
    throw FitError.usage(
      "head '\(request.name)': a \(kind.rawValue) head needs classes; column '\(request.column)' holds numbers")
  }
}
