import AssayTensor
import Foundation

/// Assembling a model from its tensors, whichever format they come from (``LlamaModel/WeightSource``).
extension LlamaModel {
    /// Reads every weight through `source`, checking shapes and that nothing is left unused.
    init(configuration c: Configuration, source: WeightSource) throws {
        var used = Set<String>()
        func tensor(_ role: Role, _ layer: Int?, _ shape: [Int]) throws -> WeightSource.Tensor? {
            let name = source.name(role, layer)
            guard let found = try source.read(name) else { return nil }
            guard found.shape == shape else { throw ModelError.wrongShape(path: source.path, name: name, expected: shape, found: found.shape) }
            used.insert(name)
            return found
        }
        func required(_ role: Role, _ layer: Int?, _ shape: [Int]) throws -> WeightSource.Tensor {
            guard let found = try tensor(role, layer, shape) else { throw ModelError.missingTensor(path: source.path, name: source.name(role, layer)) }
            return found
        }
        func vector(_ role: Role, _ layer: Int?, _ n: Int) throws -> [Float] { try required(role, layer, [n]).floats() }
        func bias(_ role: Role, _ layer: Int?, _ n: Int) throws -> [Float]? { try tensor(role, layer, [n])?.floats() }
        func matrix(_ role: Role, _ layer: Int?, _ rows: Int, _ columns: Int) throws -> WeightMatrix {
            try required(role, layer, [rows, columns]).matrix()
        }
        func named(_ name: String, _ shape: [Int]) throws -> WeightSource.Tensor {
            guard let found = try source.read(name) else { throw ModelError.missingTensor(path: source.path, name: name) }
            guard found.shape == shape else { throw ModelError.wrongShape(path: source.path, name: name, expected: shape, found: found.shape) }
            used.insert(name)
            return found
        }
        /// Layer `i`'s experts: stacked (rows of one tensor per role) or one matrix each.
        func mixture(_ i: Int) throws -> MixtureOfExperts {
            let count = c.experts, e = c.embedding, f = c.expertFeedForward ?? c.feedForward
            var experts: [FeedForward]
            if let expertName = source.expertName {
                experts = try (0..<count).map { x in
                    FeedForward(gate: try named(expertName(.expertGate, i, x), [f, e]).matrix(), up: try named(expertName(.expertUp, i, x), [f, e]).matrix(),
                                down: try named(expertName(.expertDown, i, x), [e, f]).matrix())
                }
            } else {
                let gates = try required(.expertGate, i, [count, f, e]).matrix(), ups = try required(.expertUp, i, [count, f, e]).matrix()
                let downs = try required(.expertDown, i, [count, e, f]).matrix()
                experts = (0..<count).map { x in
                    FeedForward(gate: gates.rows((x * f)..<((x + 1) * f)), up: ups.rows((x * f)..<((x + 1) * f)), down: downs.rows((x * e)..<((x + 1) * e)))
                }
            }
            var mixture = MixtureOfExperts(router: try matrix(.router, i, count, e), experts: experts, used: c.expertsUsed, normalize: c.normalizeExpertWeights)
            mixture.gating = c.expertGating
            mixture.groups = c.expertGroups
            mixture.groupsUsed = c.expertGroupsUsed
            mixture.scale = c.expertWeightScale
            mixture.selectionBias = try bias(.expertBias, i, count)
            if let shared = c.sharedExpertFeedForward {
                mixture.shared = FeedForward(gate: try matrix(.sharedGate, i, shared, e), up: try matrix(.sharedUp, i, shared, e),
                                             down: try matrix(.sharedDown, i, e, shared))
            }
            if c.sharedExpertGated {
                // A vector in GGUF, a 1 × embedding matrix in Hugging Face checkpoints.
                let name = source.name(.sharedExpertGate, i)
                guard let gate = try source.read(name) else { throw ModelError.missingTensor(path: source.path, name: name) }
                guard gate.shape == [e] || gate.shape == [1, e] else { throw ModelError.wrongShape(path: source.path, name: name, expected: [e], found: gate.shape) }
                used.insert(name)
                mixture.sharedGate = gate.shape == [e] ? try gate.floats() : try gate.matrix().dequantized()
            }
            return mixture
        }
        /// Layer `i`'s latent attention (HF: kv_b_proj in one; GGUF: attn_k_b and attn_v_b, or
        /// attn_kv_b from older converters).
        func latentAttention(_ i: Int, _ s: LatentAttention.Sizes) throws -> LatentAttention {
            let heads = c.heads, lora = s.kvLoraRank
            var qA: WeightMatrix?, qANorm: [Float]?, qB: WeightMatrix?, q: WeightMatrix?
            if let rank = s.qLoraRank {
                (qA, qANorm, qB) = (try matrix(.qA, i, rank, e), try vector(.qANorm, i, rank), try matrix(.qB, i, heads * s.qkDimension, rank))
            } else {
                q = try matrix(.q, i, heads * s.qkDimension, e)
            }
            let kvA = try matrix(.kvA, i, lora + s.ropeDimension, e), kvANorm = try vector(.kvANorm, i, lora)
            if let kB = try tensor(.kB, i, [heads, lora, s.nopeDimension]) {
                let vB = try required(.vB, i, [heads, s.valueDimension, lora])
                return LatentAttention(qA: qA, qANorm: qANorm, qB: qB, q: q, kvA: kvA, kvANorm: kvANorm, keyUp: try kB.matrix(), valueUp: try vB.matrix())
            }
            // [heads × (nope + v)] rows of lora (Hugging Face, older GGUFs): split into attn_k_b's
            // layout (each head's key part transposed, as llama.cpp's converter does) and attn_v_b's.
            // An f32 copy of this one matrix, made at load.
            let nope = s.nopeDimension, v = s.valueDimension
            let kvB = try required(.kvB, i, [heads * (nope + v), lora]).matrix().dequantized()
            var keyRows = [Float](repeating: 0, count: heads * lora * nope), valueRows = [Float]()
            for h in 0..<heads {
                let base = h * (nope + v) * lora
                for d in 0..<nope { for c in 0..<lora { keyRows[(h * lora + c) * nope + d] = kvB[base + d * lora + c] } }
                valueRows += kvB[(base + nope * lora)..<(base + (nope + v) * lora)]
            }
            return LatentAttention(qA: qA, qANorm: qANorm, qB: qB, q: q, kvA: kvA, kvANorm: kvANorm,
                                   keyUp: WeightMatrix(values: keyRows, rows: heads * lora, columns: nope),
                                   valueUp: WeightMatrix(values: valueRows, rows: heads * v, columns: lora))
        }
        let e = c.embedding, width = c.heads * c.headDimension, kv = c.kvHeads * c.headDimension, f = c.feedForward
        embedding = try matrix(.embedding, nil, c.vocabulary, e)
        layers = try (0..<c.layers).map { i in
            let attentionNorm = try vector(.attentionNorm, i, e)
            var q: WeightMatrix?, k: WeightMatrix?, v: WeightMatrix?, feedForward: FeedForward?
            let moe = c.experts > 0 && i >= c.denseLeadingLayers
            var latent: LatentAttention?
            if let sizes = c.latent {
                latent = try latentAttention(i, sizes)
                feedForward = moe ? nil
                    : FeedForward(gate: try matrix(.gate, i, f, e), up: try matrix(.up, i, f, e), down: try matrix(.down, i, e, f))
            } else if c.fusedProjections {
                // Phi-3: rows [Q | K | V] and [gate | up], referenced in place.
                let qkv = try matrix(.qkv, i, width + 2 * kv, e)
                (q, k, v) = (qkv.rows(0..<width), qkv.rows(width..<(width + kv)), qkv.rows((width + kv)..<(width + 2 * kv)))
                let gateUp = try matrix(.gateUp, i, 2 * f, e)
                feedForward = FeedForward(gate: gateUp.rows(0..<f), up: gateUp.rows(f..<(2 * f)), down: try matrix(.down, i, e, f))
            } else {
                (q, k, v) = (try matrix(.q, i, width, e), try matrix(.k, i, kv, e), try matrix(.v, i, kv, e))
                feedForward = moe ? nil
                    : FeedForward(gate: try matrix(.gate, i, f, e), up: try matrix(.up, i, f, e), down: try matrix(.down, i, e, f))
            }
            let attentionWidth = c.latent.map { c.heads * $0.valueDimension } ?? width
            return Layer(attentionNorm: attentionNorm, q: q, k: k, v: v,
                         output: try matrix(.attentionOutput, i, e, attentionWidth), latent: latent,
                         qBias: try bias(.qBias, i, width), kBias: try bias(.kBias, i, kv), vBias: try bias(.vBias, i, kv),
                         qNorm: c.headNorms ? try vector(.qNorm, i, c.headDimension) : nil,
                         kNorm: c.headNorms ? try vector(.kNorm, i, c.headDimension) : nil,
                         ffnNorm: try vector(.ffnNorm, i, e), feedForward: feedForward, experts: moe ? try mixture(i) : nil,
                         postAttentionNorm: c.postNorms ? try vector(.postAttentionNorm, i, e) : nil,
                         postFFNNorm: c.postNorms ? try vector(.postFFNNorm, i, e) : nil)
        }
        outputNorm = try vector(.outputNorm, nil, e)
        output = try tensor(.output, nil, [c.vocabulary, e])?.matrix() ?? embedding
        let unused = source.allNames.filter { !used.contains($0) }
        guard unused.isEmpty else { throw ModelError.unusedTensors(path: source.path, names: unused) }
        configuration = c
    }
}
