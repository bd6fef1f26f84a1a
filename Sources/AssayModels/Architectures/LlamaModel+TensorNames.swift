/// The names of the Llama family's tensors in GGUF files and Hugging Face checkpoints.
extension LlamaModel {
    /// The tensors of one layer or of the whole model, by role.
    enum Role: CaseIterable {
        case embedding, outputNorm, output
        case attentionNorm, q, k, v, attentionOutput, qBias, kBias, vBias, qNorm, kNorm, ffnNorm, gate, up, down
        case postAttentionNorm, postFFNNorm, qkv, gateUp
        case router, expertGate, expertUp, expertDown, sharedGate, sharedUp, sharedDown, sharedExpertGate
        case expertBias, qA, qANorm, qB, kvA, kvANorm, kvB, kB, vB

        func ggufName(_ layer: Int?) -> String {
            switch self {
            case .embedding: "token_embd.weight"
            case .outputNorm: "output_norm.weight"
            case .output: "output.weight"
            case .attentionNorm: "blk.\(layer!).attn_norm.weight"
            case .q: "blk.\(layer!).attn_q.weight"
            case .k: "blk.\(layer!).attn_k.weight"
            case .v: "blk.\(layer!).attn_v.weight"
            case .attentionOutput: "blk.\(layer!).attn_output.weight"
            case .qBias: "blk.\(layer!).attn_q.bias"
            case .kBias: "blk.\(layer!).attn_k.bias"
            case .vBias: "blk.\(layer!).attn_v.bias"
            case .qNorm: "blk.\(layer!).attn_q_norm.weight"
            case .kNorm: "blk.\(layer!).attn_k_norm.weight"
            case .ffnNorm: "blk.\(layer!).ffn_norm.weight"
            case .gate: "blk.\(layer!).ffn_gate.weight"
            case .up: "blk.\(layer!).ffn_up.weight"
            case .down: "blk.\(layer!).ffn_down.weight"
            case .postAttentionNorm: "blk.\(layer!).post_attention_norm.weight"
            case .postFFNNorm: "blk.\(layer!).post_ffw_norm.weight"
            case .qkv: "blk.\(layer!).attn_qkv.weight"
            // Phi-3's GGUF keeps gate and up together as an ffn_up of twice the width.
            case .gateUp: "blk.\(layer!).ffn_up.weight"
            // Experts stacked in one 3-D tensor each.
            case .router: "blk.\(layer!).ffn_gate_inp.weight"
            case .expertGate: "blk.\(layer!).ffn_gate_exps.weight"
            case .expertUp: "blk.\(layer!).ffn_up_exps.weight"
            case .expertDown: "blk.\(layer!).ffn_down_exps.weight"
            case .sharedGate: "blk.\(layer!).ffn_gate_shexp.weight"
            case .sharedUp: "blk.\(layer!).ffn_up_shexp.weight"
            case .sharedDown: "blk.\(layer!).ffn_down_shexp.weight"
            case .sharedExpertGate: "blk.\(layer!).ffn_gate_inp_shexp.weight"
            case .expertBias: "blk.\(layer!).exp_probs_b.bias"
            case .qA: "blk.\(layer!).attn_q_a.weight"
            case .qANorm: "blk.\(layer!).attn_q_a_norm.weight"
            case .qB: "blk.\(layer!).attn_q_b.weight"
            case .kvA: "blk.\(layer!).attn_kv_a_mqa.weight"
            case .kvANorm: "blk.\(layer!).attn_kv_a_norm.weight"
            case .kvB: "blk.\(layer!).attn_kv_b.weight"
            case .kB: "blk.\(layer!).attn_k_b.weight"
            case .vB: "blk.\(layer!).attn_v_b.weight"
            }
        }

        func hfName(_ layer: Int?) -> String {
            let p = "model.layers.\(layer ?? 0)."
            return switch self {
            case .embedding: "model.embed_tokens.weight"
            case .outputNorm: "model.norm.weight"
            case .output: "lm_head.weight"
            case .attentionNorm: p + "input_layernorm.weight"
            case .q: p + "self_attn.q_proj.weight"
            case .k: p + "self_attn.k_proj.weight"
            case .v: p + "self_attn.v_proj.weight"
            case .attentionOutput: p + "self_attn.o_proj.weight"
            case .qBias: p + "self_attn.q_proj.bias"
            case .kBias: p + "self_attn.k_proj.bias"
            case .vBias: p + "self_attn.v_proj.bias"
            case .qNorm: p + "self_attn.q_norm.weight"
            case .kNorm: p + "self_attn.k_norm.weight"
            case .ffnNorm: p + "post_attention_layernorm.weight"
            case .gate: p + "mlp.gate_proj.weight"
            case .up: p + "mlp.up_proj.weight"
            case .down: p + "mlp.down_proj.weight"
            case .postAttentionNorm: p + "post_attention_layernorm.weight"
            case .postFFNNorm: p + "post_feedforward_layernorm.weight"
            case .qkv: p + "self_attn.qkv_proj.weight"
            case .gateUp: p + "mlp.gate_up_proj.weight"
            case .router: p + "mlp.gate.weight"
            case .expertGate, .expertUp, .expertDown: p + "mlp.experts"  // one per expert: hfExpertName
            case .sharedGate: p + "mlp.shared_expert.gate_proj.weight"
            case .sharedUp: p + "mlp.shared_expert.up_proj.weight"
            case .sharedDown: p + "mlp.shared_expert.down_proj.weight"
            case .sharedExpertGate: p + "mlp.shared_expert_gate.weight"
            case .expertBias: p + "mlp.gate.e_score_correction_bias"
            case .qA: p + "self_attn.q_a_proj.weight"
            case .qANorm: p + "self_attn.q_a_layernorm.weight"
            case .qB: p + "self_attn.q_b_proj.weight"
            case .kvA: p + "self_attn.kv_a_proj_with_mqa.weight"
            case .kvANorm: p + "self_attn.kv_a_layernorm.weight"
            case .kvB: p + "self_attn.kv_b_proj.weight"
            // GGUF's split of kv_b; never in a Hugging Face checkpoint.
            case .kB: p + "self_attn.k_b_proj.weight"
            case .vB: p + "self_attn.v_b_proj.weight"
            }
        }

        /// Expert `expert`'s matrix in a Hugging Face checkpoint (Mixtral: w1 gate, w3 up, w2 down).
        func hfExpertName(_ layer: Int, expert: Int, architecture: String) -> String {
            if architecture == "mixtral" {
                let w = self == .expertGate ? "w1" : self == .expertUp ? "w3" : "w2"
                return "model.layers.\(layer).block_sparse_moe.experts.\(expert).\(w).weight"
            }
            let projection = self == .expertGate ? "gate_proj" : self == .expertUp ? "up_proj" : "down_proj"
            return "model.layers.\(layer).mlp.experts.\(expert).\(projection).weight"
        }

        /// The Hugging Face name in `architecture`'s layout: Gemma 2/3 call the norm before the
        /// feed-forward `pre_feedforward_layernorm` (their `post_attention_layernorm` is the norm
        /// on the attention output).
        func hfName(_ layer: Int?, architecture: String) -> String {
            if self == .ffnNorm, architecture == "gemma2" || architecture == "gemma3" {
                return "model.layers.\(layer ?? 0).pre_feedforward_layernorm.weight"
            }
            if self == .router, architecture == "mixtral" { return "model.layers.\(layer ?? 0).block_sparse_moe.gate.weight" }
            if architecture == "deepseek2", [.sharedGate, .sharedUp, .sharedDown].contains(self) {
                // DeepSeek: `shared_experts` (their widths summed into one feed-forward).
                return hfName(layer).replacingOccurrences(of: "mlp.shared_expert.", with: "mlp.shared_experts.")
            }
            return hfName(layer)
        }
    }
}
