import AssayTensor
import Testing

/// ggml's activation formats, checked on hand-computed blocks.
struct ActivationRoundingTests {
    @Test func q8BlocksRoundToTheScaleGrid() {
        // One block of 32: amax 2.54 → d = 0.02 (stored as f16 0.0200043), q = round(x / 0.02).
        var x = [Float](repeating: 0, count: 32)
        x[0] = 2.54; x[1] = -1.0; x[2] = 0.013; x[3] = 0.011
        let y = ActivationRounding.q8_0.apply(x, rowLength: 32)
        let d = Float(Float16(Float(2.54) / 127))
        #expect(y[0] == d * 127 && y[1] == d * -50 && y[2] == d * 1 && y[3] == d * 1)
        #expect(y[4] == 0)
        #expect(ActivationRounding.q8_1.apply(x, rowLength: 32) == y)
        // An all-zero block stays zero; blocks are independent.
        let two = ActivationRounding.q8_0.apply([Float](repeating: 0, count: 32) + x, rowLength: 64)
        #expect(Array(two[0..<32]) == [Float](repeating: 0, count: 32) && Array(two[32...]) == y)
    }

    @Test func q8KUsesTheSignedMaximum() {
        var x = [Float](repeating: 0.5, count: 256)
        x[7] = -4
        let y = ActivationRounding.q8_K.apply(x, rowLength: 256)
        // iscale = −127 / −4 = 31.75; 0.5 → round(15.875) = 16 → 16 / 31.75
        #expect(y[7] == -4 && abs(y[0] - 16 / 31.75) < 1e-7)
    }

    @Test func halfAndBFloat16() {
        #expect(ActivationRounding.f16.apply([1.0009765625, 1.00048828125], rowLength: 2) == [1.0009765625, 1.0])  // ties to even
        #expect(ActivationRounding.bf16.apply([1.00390625, 1.01171875], rowLength: 2) == [1.0, 1.015625])
        #expect(ActivationRounding.forWeights(.q4_1) == .q8_1 && ActivationRounding.forWeights(.q6_K) == .q8_K
                && ActivationRounding.forWeights(.q8_0) == .q8_0 && ActivationRounding.forWeights(.f32) == .none)
    }
}
