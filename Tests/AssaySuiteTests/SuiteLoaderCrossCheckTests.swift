import AssayEvaluators
import AssaySuite
import AssayTestSupport
import Foundation
import Testing

/// What the loader refuses by reading across evaluations and models: gates on speed-ups that the
/// named throughput evaluations cannot give, and models of the wrong kind for their evaluator.
struct SuiteLoaderCrossCheckTests {
    /// quant-drift's speed-ups divide two earlier throughput evaluations' tokens/s: a gate on one is
    /// refused when a named evaluation runs no such test or the two run different ones (the run
    /// had said so only once both models were measured).
    @Test func gateOnASpeedupTheNamedThroughputsCannotGive() throws {
        let sandbox = try SuiteSandbox()
        try Data().write(to: sandbox.directory.appendingPathComponent("data/m.gguf"))
        let diagnostics = try sandbox.diagnostics("""
            version: 1
            name: speedups
            models: { m: { path: data/m.gguf }, q: { path: data/m.gguf } }
            datasets: { notes: { kind: text, path: data/hyp.txt } }
            evaluations:
              - { id: speed_m, evaluator: throughput, model: m, options: { prompt: 64, generate: 0 } }
              - { id: speed_q, evaluator: throughput, model: q, options: { prompt: 16, generate: 0 } }
              - { id: speed_q64, evaluator: throughput, model: q, options: { prompt: 64, generate: 0 } }
              - { id: drift, evaluator: quant-drift, model: q, reference: m, dataset: notes, options: { throughput_reference: speed_m, throughput_candidate: speed_q } }
              - { id: same, evaluator: quant-drift, model: q, reference: m, dataset: notes, options: { throughput_reference: speed_m, throughput_candidate: speed_q64 } }
            gates:
              - { metric: drift.tg_speedup, min: 1 }
              - { metric: drift.pp_speedup, min: 1 }
              - { metric: same.pp_speedup, min: 1 }
            """)
        #expect(diagnostics.map(\.keyPath) == ["gates[0].metric", "gates[1].metric"], "\(diagnostics.map(\.message))")
        #expect(diagnostics.first?.message == "gate on 'drift.tg_speedup': evaluation 'drift' gives it no value: 'speed_m' gives no tg_tokens_per_second: generate: 0 runs no tg test; give generate a token count")
        #expect(diagnostics.last?.message == "gate on 'drift.pp_speedup': evaluation 'drift' gives it no value: 'speed_m' and 'speed_q' run different tests (prompt: 64 against prompt: 16); give both the same prompt, generate and threads")
        #expect(diagnostics.last?.hint?.contains("pp_speedup") == false && diagnostics.last?.hint?.contains("mean_kld") == true, "\(diagnostics.last?.hint ?? "")")
    }

    /// A served model where the evaluator measures a local file, or the reverse, is refused where
    /// it is written (`validate` had passed such suites; the run failed on reaching them).
    @Test func aModelOfTheWrongKindIsRefused() throws {
        let sandbox = try SuiteSandbox()
        try Data().write(to: sandbox.directory.appendingPathComponent("data/m.gguf"))
        let diagnostics = try sandbox.diagnostics("""
            version: 1
            name: kinds
            models: { local: { path: data/m.gguf }, served: { endpoint: "http://127.0.0.1:8000/v1", model: m } }
            datasets:
              notes: { kind: text, path: data/hyp.txt }
              mt: { kind: parallel, hypotheses: data/hyp.txt, references: [data/hyp.txt] }
            evaluations:
              - { id: speed, evaluator: throughput, model: served }
              - { id: load, evaluator: serving, model: local, dataset: notes }
              - { id: rewrite, evaluator: generation, model: served, dataset: mt, options: { quantize: q4_0 } }
              - { id: drift, evaluator: quant-drift, model: served, reference: local, dataset: notes, options: { quantize: q8_0 } }
              - { id: fine, evaluator: generation, model: served, dataset: mt }
              - { id: local_speed, evaluator: throughput, model: local }
            """)
        #expect(diagnostics.map(\.keyPath) == ["evaluations[0].model", "evaluations[1].model", "evaluations[2].model", "evaluations[3].model"],
                "\(diagnostics.map(\.message))")
        #expect(diagnostics.first?.message == "model 'served': throughput needs a local model: a GGUF file or a Hugging Face directory")
        #expect(diagnostics[1].message.hasPrefix("model 'local': serving needs a model served over HTTP"))
        #expect(diagnostics[2].message.contains("a served model cannot be quantized by Assay"))
    }
}
