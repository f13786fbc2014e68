// One augmentation draw, Keras' `transform_parameters` dict, and the sampling map it stands for.
//
// Keras (legacy `apply_affine_transform`, channels-last) builds a 3x3 matrix in coordinates
// (a, b) = (row, column) as rotation · shift(tx, ty) · shear · zoom(zx, zy), only multiplying
// in the factors that are not identities; moves its centre to (H/2 - 0.5, W/2 - 0.5); then
// swaps both the rows and the columns of the matrix (`M' = P M P`, believing the matrix was
// in (x, y) order) and hands it to scipy.ndimage.affine_transform, which reads
// `input[A · (row, col) + offset]`. The swap has visible consequences that we reproduce:
//   * `tx` (from height_shift_range, scaled by H) moves columns; `ty` (width, scaled by W)
//     moves rows;
//   * `zx` scales columns, `zy` rows; rotation and shear act with rows and columns exchanged;
//   * on non-square images the centre is transposed: rows turn about W/2 - 0.5 and columns
//     about H/2 - 0.5.
// Flips come after the affine resampling, as in `apply_transform`.

import Foundation

/// The parameters of one geometric augmentation, with Keras' names and units. (Not called
/// `AffineTransform`: Foundation has a type of that name, and callers import both.)
public struct AugmentationTransform: Sendable, Equatable {
  /// Rotation in degrees.
  public var theta: Double
  /// Keras' `tx`, in pixels (drawn from `heightShiftRange`; moves columns, see file header).
  public var tx: Double
  /// Keras' `ty`, in pixels (drawn from `widthShiftRange`; moves rows).
  public var ty: Double
  /// Shear angle in degrees.
  public var shear: Double
  /// Keras' `zx`: the zoom factor of the sampled columns (> 1 shrinks the content).
  public var zx: Double
  /// Keras' `zy`: the zoom factor of the sampled rows.
  public var zy: Double
  /// Reverse the columns after the affine part.
  public var flipHorizontal: Bool
  /// Reverse the rows after the affine part.
  public var flipVertical: Bool

  public init(
    theta: Double = 0, tx: Double = 0, ty: Double = 0, shear: Double = 0, zx: Double = 1, zy: Double = 1,
    flipHorizontal: Bool = false, flipVertical: Bool = false
  ) {
    self.theta = theta
    self.tx = tx
    self.ty = ty
    self.shear = shear
    self.zx = zx
    self.zy = zy
    self.flipHorizontal = flipHorizontal
    self.flipVertical = flipVertical
  }

  /// No change at all.
  public static let identity = AugmentationTransform()

  /// The resampling map in (row, column) coordinates for an image of `height` x `width`, or
  /// nil when Keras would skip the resampling (every factor is an identity): then the pixels
  /// are copied unchanged, only flipped.
  public func samplingMap(height: Int, width: Int) -> SamplingMap? {
    var m: Matrix3? = nil
    func append(_ factor: Matrix3) { m = m.map { $0 * factor } ?? factor }
    if theta != 0 {
      let t = theta * (Double.pi / 180)  // np.deg2rad
      append(Matrix3([[cos(t), -sin(t), 0], [sin(t), cos(t), 0], [0, 0, 1]]))
    }
    if tx != 0 || ty != 0 { append(Matrix3([[1, 0, tx], [0, 1, ty], [0, 0, 1]])) }
    if shear != 0 {
      let s = shear * (Double.pi / 180)
      append(Matrix3([[1, -sin(s), 0], [0, cos(s), 0], [0, 0, 1]]))
    }
    if zx != 1 || zy != 1 { append(Matrix3([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])) }
    guard let matrix = m else { return nil }
    // transform_matrix_offset_center(matrix, h, w): o_x goes with a (rows), o_y with b.
    let ox = Double(height) / 2 - 0.5
    let oy = Double(width) / 2 - 0.5
    let offset = Matrix3([[1, 0, ox], [0, 1, oy], [0, 0, 1]])
    let reset = Matrix3([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    let c = (offset * matrix) * reset
    // M' = P M P: entry (i, j) of the swapped matrix is entry (1 - i, 1 - j) of c.
    return SamplingMap(
      a00: c[1, 1], a01: c[1, 0], a10: c[0, 1], a11: c[0, 0], offsetRow: c[1, 2], offsetColumn: c[0, 2])
  }
}

/// scipy.ndimage.affine_transform's input: output pixel (r, c) reads the input at
/// `row = (offsetRow + r * a00) + c * a01`, `col = (offsetColumn + r * a10) + c * a11`,
/// evaluated in that order in Float64 as scipy's C loop does (the order shows in the last bit).
public struct SamplingMap: Sendable, Equatable {
  /// The 2x2 matrix, row-major, acting on (row, column).
  public var a00: Double, a01: Double, a10: Double, a11: Double
  /// scipy's `offset`, in (row, column) order.
  public var offsetRow: Double, offsetColumn: Double

  public init(a00: Double, a01: Double, a10: Double, a11: Double, offsetRow: Double, offsetColumn: Double) {
    self.a00 = a00
    self.a01 = a01
    self.a10 = a10
    self.a11 = a11
    self.offsetRow = offsetRow
    self.offsetColumn = offsetColumn
  }

  /// The input coordinate output pixel (r, c) samples.
  @inline(__always)
  public func source(row r: Int, column c: Int) -> (row: Double, column: Double) {
    let rd = Double(r)
    let cd = Double(c)
    return ((offsetRow + rd * a00) + cd * a01, (offsetColumn + rd * a10) + cd * a11)
  }
}

/// A 3x3 Float64 matrix with numpy's `np.dot` summation order (k = 0, 1, 2).
struct Matrix3 {
  var e: [Double]  // row-major, 9 entries

  init(_ rows: [[Double]]) { e = rows.flatMap { $0 } }

  subscript(i: Int, j: Int) -> Double { e[i * 3 + j] }

  static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
    var rows = [[Double]](repeating: [0, 0, 0], count: 3)
    for i in 0..<3 {
      for j in 0..<3 { rows[i][j] = a[i, 0] * b[0, j] + a[i, 1] * b[1, j] + a[i, 2] * b[2, j] }
    }
    return Matrix3(rows)
  }
}
