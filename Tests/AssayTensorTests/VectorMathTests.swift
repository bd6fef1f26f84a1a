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
