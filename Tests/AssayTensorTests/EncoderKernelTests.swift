import AssayTensor
import Foundation
import Testing

struct EncoderKernelTests {
    @Test func erfIsWithinAFewUlpsOfLibm() {
        var worst = 0.0
        for i in -60_000...60_000 {
            let x = Float(i) / 10_000
            worst = max(worst, abs(Double(VectorMath.erf(x)) - Foundation.erf(Double(x))))
        }
        #expect(worst < 5e-7)
        #expect(abs(VectorMath.erf(Float.greatestFiniteMagnitude) - 1) < 5e-7 && abs(VectorMath.erf(-1e30) + 1) < 5e-7)
    }

    @Test func geluAndLayerNormMatchTheirDefinitions() {
        var x: [Float] = [-3, -1, -0.5, 0, 0.25, 1, 2, 5, 7.5]
        let expected = x.map { Double($0) * 0.5 * (1 + Foundation.erf(Double($0) / 2.0.squareRoot())) }
        Kernels.gelu(&x)
        #expect(zip(x, expected).allSatisfy { abs(Double($0) - $1) < 1e-6 })

        var rows: [Float] = [1, 2, 3, 4, 10, 10, 10, 10]
        Kernels.layerNorm(&rows, weight: [1, 1, 2, 1], bias: [0, 0, 0, 1], epsilon: 1e-12)
        let s = Float(1.25).squareRoot()
        #expect(zip(rows.prefix(4), [-1.5 / s, -0.5 / s, 2 * 0.5 / s, 1.5 / s + 1]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(Array(rows.suffix(4)) == [0, 0, 0, 1])
    }
}
