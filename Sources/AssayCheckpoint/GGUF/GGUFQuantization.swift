import AssayTensor
import Foundation

/// Requantizing a GGUF file as `llama-quantize` does without an importance matrix: which tensors
/// change type (2-D `*.weight` tensors; norms and other vectors stay), llama.cpp's rule for the
/// output matrix (the token embedding when the output is tied to it) — Q6_K, or Q8_0 when its rows
/// do not hold whole 256-blocks — unless `pure`, and its fallback types for rows that do not hold
/// whole blocks of the target (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0, 32-blocks → F16). Values are
/// dequantized to f32 first and quantized with ``Quantizer`` (bit-identical to ggml's reference).
public struct GGUFQuantization {
    /// The target type.
    public var type: GGMLType
    /// Every tensor gets `type` where its rows allow (llama-quantize `--pure`).
    public var pure: Bool
    /// Tensors whose name contains one of these are copied unchanged (`token_embd`, `output`).
    public var keep: [String]
    /// llama.cpp's layer mix for the K types (`Q4_K_M` gives some attn_v and ffn_down layers Q6_K).
    public var mix: Mix?

    /// llama-quantize's K-quant mixes (for models without experts; Falcon's rules are not included).
    public enum Mix: String, Sendable, CaseIterable {
        /// Q4_K; attn_v of the first 4 layers and ffn_down of the first eighth Q5_K.
        case q4_K_S = "q4_k_s"
        /// Q4_K; attn_v and ffn_down Q6_K in the layers `use_more_bits` picks.
        case q4_K_M = "q4_k_m"
        /// Q5_K everywhere but the output matrix.
        case q5_K_S = "q5_k_s"
        /// Q5_K; attn_v and ffn_down Q6_K in the layers `use_more_bits` picks.
        case q5_K_M = "q5_k_m"

        public var baseType: GGMLType { self == .q4_K_S || self == .q4_K_M ? .q4_K : .q5_K }

        /// `LLAMA_FTYPE_MOSTLY_*`.
        var fileType: UInt32 {
            switch self {
            case .q4_K_S: 14
            case .q4_K_M: 15
            case .q5_K_S: 16
            case .q5_K_M: 17
            }
        }
    }

    /// The first and last eighth of the layers, and every third one between (llama.cpp's `use_more_bits`).
    static func useMoreBits(_ layer: Int, _ layers: Int) -> Bool {
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2
    }

    /// Types `assay quantize` writes.
    public static let targetTypes: [GGMLType] = Quantizer.supportedTypes + [.f16, .f32]

    public init(type: GGMLType, pure: Bool = false, keep: [String] = []) {
        self.type = type
        self.pure = pure
        self.keep = keep
    }

    /// A llama.cpp K-quant mix.
    public init(mix: Mix, keep: [String] = []) {
        self.init(type: mix.baseType, pure: false, keep: keep)
        self.mix = mix
    }

    /// llama.cpp's `general.file_type` for a whole-model type (`LLAMA_FTYPE_MOSTLY_*`; the K types
    /// as their `_S` variants).
    static func fileType(_ type: GGMLType) -> UInt32 {
        switch type {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q4_1: 3
        case .q8_0: 7
        case .q5_0: 8
        case .q5_1: 9
        case .q4_K: 14
        case .q5_K: 16
        case .q6_K: 18
        default: 0
        }
    }

    /// Why llama.cpp's K mixes cannot be reproduced for `file`, or nil: llama-quantize gives
    /// mixtures of experts (Mixtral's attention with 8 experts), fused QKV (Phi-3) and latent
    /// attention (DeepSeek) their own rules and counts layers from `block_count`, which the mixes
    /// here do not follow; a plain type is byte-identical for them.
    public static func mixUnsupportedReason(_ file: GGUFFile) -> String? {
        let names = file.tensors.map(\.name)
        if names.contains(where: { $0.contains("_exps.weight") }) { return "the model is a mixture of experts" }
        if names.contains(where: { $0.contains("attn_qkv.weight") }) { return "the model has fused QKV projections (Phi-3)" }
        if names.contains(where: { $0.contains("attn_k_b.weight") || $0.contains("attn_kv_b.weight") }) { return "the model has latent attention (DeepSeek)" }
        return nil
    }

    /// The type each tensor of `file` gets.
    public func plan(_ file: GGUFFile) -> [(tensor: GGUFFile.TensorInfo, type: GGMLType)] {
        let hasOutput = file.tensor("output.weight") != nil
        let layers = file.tensors.filter { $0.name.contains("attn_v.weight") }.count
        return file.tensors.map { t in
            // As llama-quantize: 2-D and 3-D (stacked experts) weights, counting dimensions as ggml
            // does (trailing 1s are not dimensions), except norms and the experts' router.
            let dimensions = (t.dimensions.lastIndex { $0 != 1 } ?? 0) + 1
            guard t.name.hasSuffix("weight"), dimensions >= 2, !t.name.contains("_norm.weight"), !t.name.contains("ffn_gate_inp.weight") else {
                return (t, t.type)
            }
            // llama.cpp counts attn_v and ffn_down tensors layer by layer: in a dense model the
            // count is the layer number (`blk.N.`), whatever order the file lists them in.
            var layer: Int?
            if t.name.contains("attn_v.weight") || t.name.contains("ffn_down") {
                layer = t.name.split(separator: ".").dropFirst().first.flatMap { Int($0) }
            }
            return (t, targetType(name: t.name, rowLength: t.dimensions[0], hasOutput: hasOutput, layer: layer, layers: layers) ?? t.type)
        }
    }

    /// The type of the 2-D weight `name` (GGUF name) whose rows hold `rowLength` values, or nil
    /// when it is kept as it is; `hasOutput`: the model has its own `output.weight`; `layer`: the
    /// index of an attn_v or ffn_down tensor among `layers` (for the mixes).
    public func targetType(name: String, rowLength: Int, hasOutput: Bool, layer: Int? = nil, layers: Int = 0) -> GGMLType? {
        guard !keep.contains(where: { name.contains($0) }) else { return nil }
        var target = type
        // The output rule and the mixes apply to quantized targets only (not F16/F32), as in llama.cpp.
        if type.blockSize == 1 { return target }
        if !pure, name == "output.weight" || (!hasOutput && name == "token_embd.weight") {
            target = rowLength % type.blockSize != 0 ? .q8_0 : (type == .q8_0 ? .q8_0 : .q6_K)
        } else if let mix, let layer {
            let attentionV = name.contains("attn_v.weight")
            switch mix {
            case .q4_K_M, .q5_K_M:
                if Self.useMoreBits(layer, layers) { target = .q6_K }
            case .q4_K_S:
                if attentionV ? layer < 4 : layer < layers / 8 { target = .q5_K }
            case .q5_K_S:
                break
            }
        }
        if rowLength % target.blockSize != 0 {
            target = switch target {
            case .q4_K: .q5_0
            case .q5_K: .q5_1
            case .q6_K: .q8_0
            default: .f16
            }
            if rowLength % target.blockSize != 0 { target = .f16 }
        }
        return target
    }

    /// Writes `file` requantized to `url`; `progress(done, total)` after each tensor.
    /// - Throws: ``CheckpointError`` for a tensor that cannot be read or a file that cannot be written.
    public func write(_ file: GGUFFile, to url: URL, progress: ((Int, Int) -> Void)? = nil) throws {
        var writer = GGUFWriter(metadata: file.metadata)
        writer.set("general.file_type", .uint32(mix?.fileType ?? Self.fileType(type)))
        writer.set("general.quantization_version", .uint32(2))
        let plan = self.plan(file)
        // A NaN or infinity would be carried into the new file (or, converted to Q8_0, trap).
        func finite(_ tensor: GGUFFile.TensorInfo) throws -> [Float] {
            let values = try file.floats(tensor)
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError.nonFiniteWeight(path: file.url.lastPathComponent, tensor: tensor.name, index: bad, value: values[bad])
            }
            return values
        }
        for (index, (tensor, target)) in plan.enumerated() {
            let bytes: [UInt8]
            if target == tensor.type {
                // Kept in its type, a tensor is copied, checked as a converted one is (a type assay
                // cannot read is copied unread).
                if tensor.type.canDequantize { _ = try finite(tensor) }
                bytes = file.withBytes(of: tensor) { Array($0) }
            } else {
                let values = try finite(tensor)
                bytes = switch target {
                case .f16: values.map { Float16($0).bitPattern.littleEndian }.withUnsafeBytes { Array($0) }
                case .f32: values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Array($0) }
                default: Quantizer.quantize(values, as: target)
                }
                // A finite value beyond the type's f16 range (F16 itself, or a block's scale) would be
                // written as infinity (llama-quantize writes it so): read back, every value must be finite.
                if target != .f32 {
                    let back = bytes.withUnsafeBytes { Dequantizer.dequantize(target, $0, count: values.count) }
                    if let bad = back.firstIndex(where: { !$0.isFinite }) {
                        // The block's largest value is the one its scale could not hold.
                        let start = bad / target.blockSize * target.blockSize
                        let worst = (start..<min(start + target.blockSize, values.count)).max { abs(values[$0]) < abs(values[$1]) } ?? bad
                        throw CheckpointError.unrepresentableWeight(path: file.url.lastPathComponent, tensor: tensor.name, index: worst,
                                                                    value: values[worst], type: target.description)
                    }
                }
            }
            writer.tensors.append(.init(name: tensor.name, dimensions: tensor.dimensions, type: target, bytes: bytes))
            progress?(index + 1, plan.count)
        }
        try writer.write(to: url)
    }
}
