import Foundation

/// Log-probabilities from a row of logits, in double precision (the row is `Float`).
enum TokenScoring {
    /// ln softmax(row)[target]: `row[target] − max − ln Σ exp(row − max)`.
    static func logProbability(of target: Int, in row: ArraySlice<Float>) -> Double {
        Double(row[row.startIndex + target]) - logSumExp(row)
    }

    /// ln Σ exp(row), computed as `max + ln Σ exp(row − max)`.
    static func logSumExp(_ row: ArraySlice<Float>) -> Double {
        let maximum = Double(row.max() ?? 0)
        var sum = 0.0
        for value in row { sum += exp(Double(value) - maximum) }
        return maximum + log(sum)
    }
}
