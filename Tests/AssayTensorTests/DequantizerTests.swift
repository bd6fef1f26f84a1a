import AssayTensor
import Foundation
import Testing

/// Dequantization against gguf-py 0.19 on blocks from scripts/goldens/dequant_goldens.py:
/// every output float must have the same bits.
struct DequantizerTests {
    struct Case: Decodable {
        var type: String
        var type_id: UInt32
        var block_size: Int
        var type_size: Int
        var bytes: String
        var expected_bits: [UInt32]
    }

    struct File: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        guard let url = Bundle.module.url(forResource: "Golden/dequant", withExtension: "json"),
              let data = try? Data(contentsOf: url) else { return [] }
        return (try? JSONDecoder().decode(File.self, from: data).cases) ?? []
    }()

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test func everyGoldenTypeIsPresent() {
        #expect(Set(Self.cases.map(\.type)) == ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"])
    }

    @Test(arguments: cases.map(\.type))
    func bitExactWithGGUFPy(_ name: String) throws {
        let c = try #require(Self.cases.first { $0.type == name })
        let type = try #require(GGMLType(rawValue: c.type_id))
        #expect(type.description == c.type)
        #expect(type.blockSize == c.block_size && type.typeSize == c.type_size)
        let raw = Self.bytes(c.bytes)
        let count = c.expected_bits.count
        #expect(type.byteCount(elements: count) == raw.count)
        let values = raw.withUnsafeBytes { Dequantizer.dequantize(type, $0, count: count) }
        let mismatches = zip(values, c.expected_bits).enumerated().filter { $0.element.0.bitPattern != $0.element.1 }
        #expect(mismatches.isEmpty, "\(name): \(mismatches.count) of \(count) differ, first at \(mismatches.first.map { "\($0.offset): \(String($0.element.0.bitPattern, radix: 16)) vs \(String($0.element.1, radix: 16))" } ?? "")")
    }

    @Test func kvCacheHalvesRoundToNearestEvenAndComeBackAsTheSameFloats() {
        // Every finite half comes back as itself through the bulk (F16C) conversion.
        let finite = (0...UInt16.max).filter { $0 & 0x7C00 != 0x7C00 }
        let floats = finite.map { HalfPrecision.float(half: $0) }
        var halves: [UInt16] = []
        HalfPrecision.appendHalves(of: floats, to: &halves)
        #expect(halves == finite)
        #expect(HalfPrecision.floats(halves: halves).map(\.bitPattern) == floats.map(\.bitPattern))
        // Ties go to even, beyond the largest half to infinity, and the portable path agrees.
        var rounded: [UInt16] = []
        HalfPrecision.appendHalves(of: [1 + 1.0 / 2048, 1 + 3.0 / 2048, 65_520, -70_000, 1e-8], to: &rounded)
        #expect(rounded == [0x3C00, 0x3C02, 0x7C00, 0xFC00, 0x0000])
        QuantizedKernels.forcePortable(true)
        defer { QuantizedKernels.forcePortable(false) }
        #expect(HalfPrecision.floats(halves: halves).map(\.bitPattern) == floats.map(\.bitPattern))
    }

    @Test func halfConversionMatchesFloat16ForEveryBitPattern() {
        for bits in UInt16.min...UInt16.max {
            let reference = Float(Float16(bitPattern: bits))
            let ours = HalfPrecision.float(half: bits)
            if reference.isNaN { #expect(ours.isNaN) } else { #expect(ours.bitPattern == reference.bitPattern, "\(bits)") }
        }
    }

    @Test func byteCountsRejectPartialBlocksAndOverflow() {
        #expect(GGMLType.q4_0.byteCount(elements: 64) == 36)
        #expect(GGMLType.q4_K.byteCount(elements: 100) == nil)
        #expect(GGMLType.q8_0.byteCount(elements: Int.max - Int.max % 32) == nil)
    }
}

/// Q8_K has no gguf-py dequantizer; its layout (f32 d, 256 int8 qs, 16 int16 bsums) is checked
/// against ggml's definition y = d · q on a hand-built block.
struct Q8KTests {
    @Test func handBuiltBlock() {
        var block = [UInt8](repeating: 0, count: GGMLType.q8_K.typeSize)
        let d: Float = 0.5
        withUnsafeBytes(of: d.bitPattern.littleEndian) { for (i, b) in $0.enumerated() { block[i] = b } }
        for i in 0..<256 { block[4 + i] = UInt8(bitPattern: Int8(truncatingIfNeeded: i - 128)) }
        let values = block.withUnsafeBytes { Dequantizer.dequantize(.q8_K, $0, count: 256) }
        #expect(values == (0..<256).map { d * Float($0 - 128) })
    }
}
