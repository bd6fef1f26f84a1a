@testable import AssayTensor
import Foundation
import Synchronization
import Testing

/// The pool's tasks (``Threads/forEachTask(_:parts:_:)``, ``Threads/forEachRange(of:rowLength:_:)``):
/// every task once, part indices below the parts asked for and the task count, tasks that ask for
/// tasks or products run them on their own thread (no deadlock: the time limit fails a hang), and
/// the row-parallel kernels give the one-thread values. (Other suites change the thread count
/// while these run: nothing here depends on the pool's count being the one set.)
@Suite(.serialized, .timeLimit(.minutes(2)))
struct PoolTasksTests {
    @Test func everyTaskRunsOnceOnAPartBelowTheLimit() {
        // A product large enough for the pool (64 rows of 4096 f32 values: 1 MiB).
        let matrix = WeightMatrix(values: (0..<(64 * 4096)).map { Float($0 % 7) - 3 }, rows: 64, columns: 4096)
        let vector = (0..<4096).map { Float($0 % 5) }
        let expectedProduct = matrix.linear(vector, rows: 1)
        let saved = Threads.count
        defer { Threads.count = saved }
        for threads in [1, 2, 3] {
            Threads.count = threads
            for (count, parts) in [(1, 4), (5, 2), (100, 1), (1000, 3), (70_000, 2)] {
                let runs = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
                runs.initialize(repeating: 0)
                defer { runs.deallocate() }
                let badPart = Atomic<Int>(0), nested = Atomic<Int>(0)
                Threads.forEachTask(count, parts: parts) { task, part in
                    if part >= min(parts, count) { badPart.add(1, ordering: .relaxed) }
                    runs[task] += 1
                    // A task asking for tasks (they run here, in order, as part 0) and for a product.
                    if task % 97 == 0 {
                        var order: [Int] = []
                        Threads.forEachTask(3, parts: 2) { inner, innerPart in order.append(inner * 10 + innerPart) }
                        let product = matrix.linear(vector, rows: 1)
                        if order == [0, 10, 20] && product == expectedProduct { nested.add(1, ordering: .relaxed) }
                    }
                }
                #expect(runs.allSatisfy { $0 == 1 }, "\(count) tasks, \(parts) parts, \(threads) threads")
                #expect(badPart.load(ordering: .relaxed) == 0)
                #expect(nested.load(ordering: .relaxed) == (count + 96) / 97)
            }
            for (count, rowLength) in [(0, 8), (1, 1 << 20), (7, 100), (513, 576), (100_000, 1)] {
                var covered = [Int](repeating: 0, count: count)
                covered.withUnsafeMutableBufferPointer { c in
                    let base = c.baseAddress
                    Threads.forEachRange(of: count, rowLength: rowLength) { range in for i in range { base![i] += 1 } }
                }
                #expect(covered.allSatisfy { $0 == 1 }, "\(count) rows of \(rowLength), \(threads) threads")
            }
        }
    }

    @Test func rowParallelKernelsGiveTheOneThreadValues() {
        var state: UInt64 = 7
        func random() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 40) % 20_001 - 10_000) / 1_000
        }
        let rows = 300, d = 576, heads = 9
        let x = (0..<(rows * d)).map { _ in random() }, weight = (0..<d).map { _ in random() }, up = x.reversed().map { $0 }
        // SwiGLU over a count that leaves a tail of five after the groups of eight.
        let odd = rows * d - 3
        let positions = Array(17..<(17 + rows))
        let saved = Threads.count
        defer { Threads.count = saved }
        var results: [[[Float]]] = []
        for threads in [1, 2, 3] {
            Threads.count = threads
            var rotated = x
            Kernels.rope(&rotated, positions: positions, heads: heads, headDimension: d / heads, rotaryDimension: d / heads, base: 10_000)
            results.append([Kernels.rmsNorm(x, weight: weight, dimension: d, epsilon: 1e-5), Kernels.swiglu(gate: Array(x[..<odd]), up: Array(up[..<odd])),
                            ActivationRounding.f16.apply(x, rowLength: d), rotated])
        }
        // One thread against the scalar definitions.
        let one = results[0]
        for row in [0, 123, rows - 1] {
            var sum = 0.0
            for i in 0..<d { sum += Double(x[row * d + i] * x[row * d + i]) }
            let scale = 1 / (Float(sum / Double(d)) + 1e-5).squareRoot()
            #expect((0..<d).allSatisfy { one[0][row * d + $0] == x[row * d + $0] * scale * weight[$0] })
        }
        #expect(one[2].indices.allSatisfy { one[2][$0] == Float(Float16(x[$0])) })
        #expect(one[1].count == odd && ((odd - 13)..<odd).allSatisfy { one[1][$0] == x[$0] / (1 + VectorMath.exp(-x[$0])) * up[$0] })
        for (threads, result) in zip([2, 3], results.dropFirst()) {
            for (name, (a, b)) in zip(["rmsNorm", "swiglu", "f16", "rope"], zip(result, one)) {
                #expect(zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(name), \(threads) threads")
            }
        }
    }
}
