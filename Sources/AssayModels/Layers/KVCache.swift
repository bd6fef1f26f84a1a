import Foundation

extension LlamaModel {
    /// Keys and values of the positions seen so far, per layer (`positions × kvHeads·headDimension`).
    public struct KVCache: Sendable {
        var keys: [[Float]]
        var values: [[Float]]
        /// Positions cached.
        public private(set) var count = 0

        /// An empty cache for `model`.
        public init(for model: LlamaModel) {
            keys = Array(repeating: [], count: model.configuration.layers)
            values = Array(repeating: [], count: model.configuration.layers)
        }

        mutating func append(layer: Int, keys k: [Float], values v: [Float]) {
            keys[layer] += k
            values[layer] += v
        }

        mutating func advance(by n: Int) { count += n }
    }
}
