import AssayTensor
import Foundation

/// Log-probabilities from a row of logits, in double precision (the row is `Float`).
public enum TokenScoring {
    /// ln softmax(row)[target]: `row[target] − max − ln Σ exp(row − max)`.
    public static func logProbability(of target: Int, in row: ArraySlice<Float>) -> Double {
        Double(row[row.startIndex + target]) - logSumExp(row)
    }

    /// ln Σ exp(row), computed as `max + ln Σ exp(row − max)`: the exponentials in 8-lane single
    /// precision (relative error < 3e-7 each), summed in double per block of 8.
    public static func logSumExp(_ row: ArraySlice<Float>) -> Double {
        guard let maximum = row.max() else { return -.infinity }
        return row.withUnsafeBufferPointer { buffer -> Double in
            let base = buffer.baseAddress!
            var sum = 0.0, i = 0
            while i + 8 <= buffer.count {
                let values = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
                sum += Double(VectorMath.exp(values - maximum).sum())
                i += 8
            }
            while i < buffer.count {
                sum += exp(Double(base[i]) - Double(maximum))
                i += 1
            }
            return Double(maximum) + log(sum)
        }
    }
}
