/// A GGUF metadata value.
public indirect enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array([GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    /// GGUF value type ids.
    enum TypeID: UInt32 {
        case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

        /// Smallest encoded size, for plausibility checks of counts.
        var minimumSize: Int {
            switch self {
            case .uint8, .int8, .bool: return 1
            case .uint16, .int16: return 2
            case .uint32, .int32, .float32: return 4
            case .uint64, .int64, .float64, .string: return 8
            case .array: return 12
            }
        }
    }

    /// The value as an integer, when it is one of the integer types.
    public var integer: Int64? {
        switch self {
        case let .uint8(v): return Int64(v)
        case let .int8(v): return Int64(v)
        case let .uint16(v): return Int64(v)
        case let .int16(v): return Int64(v)
        case let .uint32(v): return Int64(v)
        case let .int32(v): return Int64(v)
        case let .uint64(v): return v <= UInt64(Int64.max) ? Int64(v) : nil
        case let .int64(v): return v
        default: return nil
        }
    }

    /// The value as a Double, when it is numeric.
    public var number: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return integer.map(Double.init)
        }
    }

    /// The string, when it is one.
    public var string: String? { if case let .string(s) = self { return s } else { return nil } }

    /// The elements, when it is an array.
    public var array: [GGUFValue]? { if case let .array(a) = self { return a } else { return nil } }

    public var description: String {
        switch self {
        case let .string(s): return s.count > 60 ? "\"\(s.prefix(57))…\"" : "\"\(s)\""
        case let .array(a): return "[\(a.count) × \(a.first.map { String(describing: $0).prefix(20) } ?? "")…]"
        case let .bool(b): return String(b)
        case let .float32(f): return String(f)
        case let .float64(f): return String(f)
        case let .uint64(v): return String(v)  // above Int64.max too (`integer` is nil there)
        default: return integer.map(String.init) ?? "?"
        }
    }
}
