import AssayTensor
import Foundation

extension LlamaModel {
    /// How the KV cache stores keys and values (llama.cpp's `--cache-type-k/-v`, f16 by default there).
    public enum CacheType: String, Sendable, CaseIterable {
        /// 4 bytes a value: the f32 keys and values the layers computed.
        case f32
        /// 2 bytes a value, rounded to the nearest half (ties to even), as llama.cpp's f16 cache: half
        /// the memory. With `ggml` numerics the values are f16 already, so the numbers do not change.
        case f16

        /// `f16` with `ggml` numerics (the same numbers in half the memory), `f32` with `exact`.
        public static func `default`(for numerics: Numerics) -> CacheType { numerics == .ggml ? .f16 : .f32 }
    }

    /// Keys and values of the positions seen so far, per layer (`positions × kvHeads·headDimension`).
    /// DeepSeek's latent cache (`keys` of its layers) stays f32 whatever the type.
    public struct KVCache: Sendable {
        /// How keys and values are stored.
        public let type: CacheType
        var keys: [[Float]]
        var values: [[Float]]
        /// With an f16 cache: the halves' bit patterns.
        var halfKeys: [[UInt16]]
        var halfValues: [[UInt16]]
        /// Positions cached.
        public private(set) var count = 0

        /// An empty cache for `model`, of the model's ``LlamaModel/cacheType``.
        public init(for model: LlamaModel) {
            type = model.cacheType
            keys = Array(repeating: [], count: model.configuration.layers)
            values = keys
            halfKeys = Array(repeating: [], count: model.configuration.layers)
            halfValues = halfKeys
        }

        mutating func append(layer: Int, keys k: [Float], values v: [Float]) {
            switch type {
            case .f32:
                keys[layer] += k
                values[layer] += v
            case .f16:
                HalfPrecision.appendHalves(of: k, to: &halfKeys[layer])
                HalfPrecision.appendHalves(of: v, to: &halfValues[layer])
            }
        }

        /// The keys and values of `layer` as f32, for attention (converted, with an f16 cache).
        func attentionInputs(layer: Int) -> (keys: [Float], values: [Float]) {
            switch type {
            case .f32: (keys[layer], values[layer])
            case .f16: (HalfPrecision.floats(halves: halfKeys[layer]), HalfPrecision.floats(halves: halfValues[layer]))
            }
        }

        /// `body` with the keys and values of `layer` as stored, for attention that reads them in
        /// place: their storage, whether it holds halves (else floats), and how many values each holds.
        func withStoredRows<T>(layer: Int, _ body: (_ keys: UnsafeRawPointer, _ values: UnsafeRawPointer, _ half: Bool, _ count: Int) -> T) -> T {
            switch type {
            case .f32:
                keys[layer].withUnsafeBytes { k in values[layer].withUnsafeBytes { v in body(k.baseAddress!, v.baseAddress!, false, keys[layer].count) } }
            case .f16:
                halfKeys[layer].withUnsafeBytes { k in halfValues[layer].withUnsafeBytes { v in body(k.baseAddress!, v.baseAddress!, true, halfKeys[layer].count) } }
            }
        }

        mutating func advance(by n: Int) { count += n }

        /// Bytes the cached keys and values take (latent rows included).
        public var bytes: Int {
            let floats = keys.reduce(0) { $0 + $1.count } + values.reduce(0) { $0 + $1.count }
            let halves = halfKeys.reduce(0) { $0 + $1.count } + halfValues.reduce(0) { $0 + $1.count }
            return 4 * floats + 2 * halves
        }
    }
}
