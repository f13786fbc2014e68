// The interchange between Keras weight files and the backbones.
//
// A weight file is read into `KerasWeights`: per Keras layer name, the arrays it stores, keyed
// by their role. Arrays keep Keras' own layout: convolution kernels HWIO (kh, kw, in, out),
// dense kernels (in, out), vectors (C). A backbone declares what it needs as a list of
// `ParameterSpec`s; binding checks the two strictly.

/// The role of one stored array within its layer, named as Keras 2/3 name them.
public enum WeightKind: String, Sendable, CaseIterable {
  case kernel
  case bias
  case gamma
  case beta
  case movingMean = "moving_mean"
  case movingVariance = "moving_variance"
}

/// One stored array in Keras' layout, row-major.
public struct WeightArray: Sendable, Equatable {
  public var shape: [Int]
  public var values: [Float]
  public init(shape: [Int], values: [Float]) {
    precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
    self.shape = shape
    self.values = values
  }
}

/// The arrays of a weight file, by (current) Keras layer name.
public struct KerasWeights: Sendable {
  public var layers: [String: [WeightKind: WeightArray]]
  public init(layers: [String: [WeightKind: WeightArray]] = [:]) { self.layers = layers }
}

/// One parameter a backbone needs: the layer, the role, and the Keras shape.
public struct ParameterSpec: Sendable, Equatable {
  public var layer: String
  public var kind: WeightKind
  public var shape: [Int]
  public init(layer: String, kind: WeightKind, shape: [Int]) {
    self.layer = layer
    self.kind = kind
    self.shape = shape
  }
}
