import AssayTensor
import Foundation
import Testing

struct VectorMathTests {
    /// The vector e^x against libm over the range the forward pass uses.
    @Test func expIsWithinTwoUlpsOfLibm() {
        var worst: Double = 0
        var x: Float = -87
        while x < 87.9 {  // lanes reach x + 0.0091; e^x saturates above 88
            let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0013 })
            let e = VectorMath.exp(lanes)
            for i in 0..<8 {
                let reference = Foundation.exp(Double(lanes[i]))
                worst = max(worst, abs(Double(e[i]) - reference) / reference)
            }
            x += 0.0173
        }
        #expect(worst < 3e-7, "worst relative error \(worst)")
        #expect(VectorMath.exp(-100) == 0 && VectorMath.exp(0) == 1)
        #expect(VectorMath.exp(SIMD8<Float>(repeating: -.infinity)) == SIMD8(repeating: 0))
    }

    /// Each value of a range is the one-value exp's, bit for bit, and the sum adds the 8-lane
    /// sums and then the last values in order — whatever the range's length modulo 8.
    @Test(arguments: [1, 7, 8, 13, 45, 64])
    func expSubtractingIsTheScalarFormInOrder(count: Int) {
        let original: [Float] = (0..<(count + 3)).map { Float(($0 * 37) % 23) * 0.41 - 5 }
        var values = original
        let range = 2..<(2 + count), shift: Float = 1.25
        let sum = values.withUnsafeMutableBufferPointer { VectorMath.expSubtracting($0, range, shift: shift) }
        let expected = range.map { VectorMath.exp(original[$0] - shift) }
        #expect(values[range].map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(values[..<2] == original[..<2] && values[range.upperBound...] == original[range.upperBound...])
        var lanes = SIMD8<Float>(repeating: 0)
        for k in 0..<(count / 8 * 8) { lanes[k % 8] += expected[k] }
        var total = lanes.sum()
        for k in (count / 8 * 8)..<count { total += expected[k] }
        #expect(sum.bitPattern == total.bitPattern)
    }

    @Test func softmaxAndSwiGLUMatchTheirDefinitions() {
        var values: [Float] = (0..<37).map { Float($0 % 11) * 0.7 - 3 }
        let reference = values.map { Foundation.exp(Double($0) - Double(values.max()!)) }
        let total = reference.reduce(0, +)
        Kernels.softmax(&values, 0..<37)
        for (v, r) in zip(values, reference) { #expect(abs(Double(v) - r / total) < 1e-7) }
        let gate: [Float] = (0..<19).map { Float($0) * 0.9 - 8 }, up: [Float] = (0..<19).map { Float($0) * 0.1 + 0.5 }
        for (i, y) in Kernels.swiglu(gate: gate, up: up).enumerated() {
            let g = Double(gate[i])
            #expect(abs(Double(y) - g / (1 + Foundation.exp(-g)) * Double(up[i])) < 1e-6)
        }
    }
}
