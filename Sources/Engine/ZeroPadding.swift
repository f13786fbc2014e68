// Keras ZeroPadding2D, forward and backward, NHWC: input (N, H, W, C), output
// (N, top + H + bottom, left + W + right, C). ResNet50 uses it before conv1 (3) and pool1 (1);
// the engine's forward usually folds it into the next layer's explicit padding, but training
// code that keeps the padded tensor needs the standalone pair. The backward is a crop.

/// output (N, H + top + bottom, W + left + right, C) = input (N, H, W, C) framed by zeros.
public func zeroPadding2dForward(
  _ output: UnsafeMutableBufferPointer<Float>,
  _ input: UnsafeBufferPointer<Float>,
  batch: Int, height: Int, width: Int, channels c: Int, padding p: Padding2D
) {
  let ph = height + p.top + p.bottom
  let pw = width + p.left + p.right
  precondition(input.count >= batch * height * width * c && output.count >= batch * ph * pw * c)
  output.baseAddress!.update(repeating: 0, count: batch * ph * pw * c)
  for n in 0..<batch {
    for y in 0..<height {
      let from = input.baseAddress! + ((n * height + y) * width) * c
      let to = output.baseAddress! + ((n * ph + y + p.top) * pw + p.left) * c
      to.update(from: from, count: width * c)
    }
  }
}

/// dInput (N, H, W, C) += the interior of dOutput (N, H + top + bottom, W + left + right, C);
/// the gradient that reached the padding is dropped.
public func zeroPadding2dBackward(
  _ dInput: UnsafeMutableBufferPointer<Float>,
  _ dOutput: UnsafeBufferPointer<Float>,
  batch: Int, height: Int, width: Int, channels c: Int, padding p: Padding2D
) {
  let ph = height + p.top + p.bottom
  let pw = width + p.left + p.right
  precondition(dInput.count >= batch * height * width * c && dOutput.count >= batch * ph * pw * c)
  for n in 0..<batch {
    for y in 0..<height {
      let to = dInput.baseAddress! + ((n * height + y) * width) * c
      let from = dOutput.baseAddress! + ((n * ph + y + p.top) * pw + p.left) * c
      for i in 0..<(width * c) { to[i] += from[i] }
    }
  }
}
