// Spatial geometry shared by convolution, im2col and pooling.
//
// Layout vocabulary of the whole engine: activations are NHWC (batch, height, width,
// channels), row-major, float32; convolution kernels are HWIO (kh, kw, in, out), Keras' own
// layout, so a kernel reshaped to (kh*kw*in, out) is already the right-hand GEMM operand.

/// Explicit zero padding on each side of the height and width axes.
///
/// Keras pads asymmetrically: its 'same' padding puts the odd extra row/column at the
/// bottom/right, and `ZeroPadding2D` followed by a 'valid' layer is explicit padding.
public struct Padding2D: Sendable, Equatable, CustomStringConvertible {
  public var top: Int
  public var bottom: Int
  public var left: Int
  public var right: Int

  public init(top: Int, bottom: Int, left: Int, right: Int) {
    precondition(top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "negative padding")
    self.top = top
    self.bottom = bottom
    self.left = left
    self.right = right
  }

  /// The same padding `p` on all four sides (Keras `ZeroPadding2D(p)`).
  public init(all p: Int) { self.init(top: p, bottom: p, left: p, right: p) }

  /// No padding (Keras 'valid').
  public static let zero = Padding2D(all: 0)

  /// TensorFlow/Keras 'same' padding for one axis: the output has ceil(size / stride)
  /// positions; the total padding needed for that is split with the smaller half first
  /// (top/left) and the larger half last (bottom/right).
  public static func same(size: Int, kernel: Int, stride: Int) -> (before: Int, after: Int) {
    let out = (size + stride - 1) / stride
    let total = max((out - 1) * stride + kernel - size, 0)
    return (total / 2, total - total / 2)
  }

  /// 'same' padding for a 2-D window over an input of `height` x `width`.
  public static func same(height: Int, width: Int, window: (Int, Int), stride: (Int, Int)) -> Padding2D {
    let h = same(size: height, kernel: window.0, stride: stride.0)
    let w = same(size: width, kernel: window.1, stride: stride.1)
    return Padding2D(top: h.before, bottom: h.after, left: w.before, right: w.after)
  }

  public var description: String { "(top \(top), bottom \(bottom), left \(left), right \(right))" }
}

/// A sliding window (convolution kernel or pooling window) with its stride and padding.
public struct Window2D: Sendable, Equatable {
  public var height: Int
  public var width: Int
  public var strideHeight: Int
  public var strideWidth: Int
  public var padding: Padding2D

  public init(height: Int, width: Int, strideHeight: Int, strideWidth: Int, padding: Padding2D = .zero) {
    precondition(height > 0 && width > 0 && strideHeight > 0 && strideWidth > 0, "bad window")
    self.height = height
    self.width = width
    self.strideHeight = strideHeight
    self.strideWidth = strideWidth
    self.padding = padding
  }

  /// Number of output rows for `inputHeight` input rows; 'valid' arithmetic on the padded
  /// input, flooring like Keras (may be <= 0 when the input is too small).
  public func outputHeight(_ inputHeight: Int) -> Int {
    let padded = inputHeight + padding.top + padding.bottom
    return padded < height ? 0 : (padded - height) / strideHeight + 1
  }

  /// Number of output columns for `inputWidth` input columns.
  public func outputWidth(_ inputWidth: Int) -> Int {
    let padded = inputWidth + padding.left + padding.right
    return padded < width ? 0 : (padded - width) / strideWidth + 1
  }
}

/// The full shape of one convolution: input (batch, height, width, inChannels), kernel
/// (window.height, window.width, inChannels, outChannels), output
/// (batch, outputHeight, outputWidth, outChannels).
public struct ConvShape: Sendable, Equatable {
  public var batch: Int
  public var height: Int
  public var width: Int
  public var inChannels: Int
  public var outChannels: Int
  public var window: Window2D

  public init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, window: Window2D) {
    self.batch = batch
    self.height = height
    self.width = width
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.window = window
  }

  public var outputHeight: Int { window.outputHeight(height) }
  public var outputWidth: Int { window.outputWidth(width) }
  /// Elements of the input (N, H, W, Cin).
  public var inputCount: Int { batch * height * width * inChannels }
  /// Elements of the output (N, OH, OW, Cout).
  public var outputCount: Int { batch * outputHeight * outputWidth * outChannels }
  /// Elements of the HWIO kernel.
  public var kernelCount: Int { window.height * window.width * inChannels * outChannels }
  /// Length of one im2col row: kh * kw * Cin (the GEMM's K).
  public var patchSize: Int { window.height * window.width * inChannels }
  /// Elements of the im2col matrix for one image: (OH * OW, kh * kw * Cin).
  public var columnsPerImage: Int { outputHeight * outputWidth * patchSize }

  /// The same convolution over a different number of images.
  public func with(batch: Int) -> ConvShape {
    var s = self
    s.batch = batch
    return s
  }
}
