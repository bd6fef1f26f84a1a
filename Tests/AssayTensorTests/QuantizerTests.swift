import AssayTensor
import Foundation
import Testing

/// Quantizers against gguf-py's reference implementation (scripts/goldens/quantizer_goldens.py).
struct QuantizerTests {
    struct Golden: Decodable { var values: [Double]; var q8_0: String; var q4_0: String }

    @Test(arguments: [GGMLType.q8_0, .q4_0])
    func bytesEqualTheReferenceQuantizer(type: GGMLType) throws {
        let url = try #require(Bundle.module.url(forResource: "Golden/quantizer", withExtension: "json"))
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
        let values = golden.values.map(Float.init)
        let bytes = Quantizer.quantize(values, as: type)
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        #expect(hex == (type == .q8_0 ? golden.q8_0 : golden.q4_0))
        // The round trip stays within half a step of each value (Q4_0: one step, as 8 clamps to 7).
        let back = Quantizer.roundTrip(values, as: type)
        #expect(back.count == values.count)
        for block in stride(from: 0, to: values.count, by: 32) {
            let amax = values[block..<(block + 32)].map(abs).max()!
            let step = type == .q8_0 ? amax / 127 : amax / 8
            for i in block..<(block + 32) { #expect(abs(back[i] - values[i]) <= step * (type == .q4_0 ? 1.01 : 0.51) + 1e-3 * amax) }
        }
    }
}
