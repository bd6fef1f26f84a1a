import CAssayKernels

/// Which kernels run: the SIMD level the CPU offers, and a switch to the portable C for tests.
public enum QuantizedKernels {
    /// 1: AVX2+FMA+F16C kernels; 0: portable C.
    public static var simdLevel: Int { Int(assay_simd_level()) }

    /// Runs the portable kernels (`true`) or the best the CPU has (`false`). Not thread-safe: tests only.
    public static func forcePortable(_ on: Bool) { assay_force_portable(on ? 1 : 0) }

    /// Whether a short batch of f32 activations meets weights of `type` in dequantized tiles (the
    /// CPU has a SIMD dequantization for it, or it is BF16, a shift) rather than in the
    /// matrix-vector kernels.
    public static func tilesShortBatches(of type: GGMLType) -> Bool { assay_fast_dequantize(Int32(type.rawValue)) != 0 }

    /// Whether a long batch (more than ``WeightMatrix/smallBatchRows`` rows) with `ggml` numerics
    /// meets weights of `type` in integer block products (`assay_gemm_integer_parallel`: Q4_0,
    /// Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K–Q6_K) rather than in sgemm on rounded activations.
    public static func multipliesInIntegers(_ type: GGMLType) -> Bool { assay_integer_gemm_type(Int32(type.rawValue)) != 0 }

    /// Weight rows the integer products take at a time: 16 with AVX-512 VNNI, 8 with AVX2, 0 when the portable kernel runs.
    public static var integerLanes: Int { Int(assay_integer_lanes()) }

    /// The AVX-512 kernels this CPU runs: 2 (AVX-512 with VNNI: the integer and the ordered
    /// products), 1 (AVX-512 F: the ordered products), 0 (none, or ``forceAVX2(_:)`` is on).
    public static var avx512Level: Int { Int(assay_avx512_level()) }

    /// Whether exact products of `type` against one activation row split the f32 activations into
    /// four 8-bit limbs for integer products on this CPU (Q4_0, Q4_1, Q4_K, Q5_K and Q6_K with
    /// AVX-512 VNNI and VBMI), rather than converting every weight to float.
    public static func splitsExactActivations(_ type: GGMLType) -> Bool { assay_exact_splits_activations(Int32(type.rawValue)) != 0 }

    /// Keeps every kernel on AVX2 on a CPU with AVX-512 (`true`), or not. Not thread-safe: tests only.
    public static func forceAVX2(_ on: Bool) { assay_force_avx2(on ? 1 : 0) }

    /// ggml's vec-dot partner of weights of `type` (the activations' block type), nil for float weights.
    public static func activationType(for type: GGMLType) -> GGMLType? {
        let raw = assay_vec_dot_type(Int32(type.rawValue))
        return raw >= 0 ? GGMLType(rawValue: UInt32(raw)) : nil
    }

    /// `x` quantized to `activationType` blocks (q8_0, q8_1, q8_K) as ggml's x86 build does.
    /// - Precondition: `x.count` is a whole number of blocks.
    public static func quantizeActivations(_ x: [Float], as activationType: GGMLType) -> [UInt8] {
        let count = assay_row_bytes(Int32(activationType.rawValue), Int64(x.count))
        precondition(count > 0, "whole blocks only")
        var out = [UInt8](repeating: 0, count: count)
        x.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBytes { assay_quantize_row(Int32(activationType.rawValue), xs.baseAddress, $0.baseAddress, Int64(x.count)) }
        }
        return out
    }
}
