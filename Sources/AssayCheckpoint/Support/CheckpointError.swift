import AssayCore
import Foundation

/// Problems reading a checkpoint, each naming the file, where (byte offset, tensor name) and
/// what was expected, with a hint. Raised before any allocation sized by the file.
public enum CheckpointError: AssayError, Equatable {
    case unreadable(path: String, reason: String)
    case truncated(path: String, offset: Int, needed: Int, available: Int, reading: String)
    case badMagic(path: String, found: String)
    case unsupportedVersion(path: String, version: UInt32)
    case implausibleCount(path: String, offset: Int, what: String, count: UInt64, limit: UInt64)
    case unknownValueType(path: String, offset: Int, key: String, type: UInt32)
    case invalidString(path: String, offset: Int)
    case unknownTensorType(path: String, tensor: String, type: UInt32)
    case badShape(path: String, tensor: String, dimensions: [UInt64], reason: String)
    case tensorOutOfBounds(path: String, tensor: String, start: UInt64, end: UInt64, fileSize: UInt64)
    case misalignedTensor(path: String, tensor: String, offset: UInt64, alignment: UInt64)
    case overlappingTensors(path: String, first: String, second: String)
    case duplicateTensor(path: String, tensor: String)
    case invalidAlignment(path: String, alignment: UInt64)
    case invalidHeader(path: String, message: String)
    case unwritable(path: String, reason: String)
    /// A tensor read as a weight matrix whose type has no matrix kernels or whose rows do not hold whole blocks.
    case unusableMatrix(path: String, tensor: String, type: String, reason: String)
    /// A weight is NaN or infinite (element `index`, 0-based, in the tensor's storage order).
    case nonFiniteWeight(path: String, tensor: String, index: Int, value: Float)
    /// A finite weight that `type` cannot hold: written, it would be infinity or NaN (F16 ends at
    /// 65,504; a block's f16 scale overflows near that times the block's largest quantized value).
    case unrepresentableWeight(path: String, tensor: String, index: Int, value: Float, type: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .truncated(path, offset, needed, available, reading):
            return "\(path): truncated at byte \(offset) while reading \(reading): needs \(needed) bytes, \(available) left"
        case let .badMagic(path, found): return "\(path): not a GGUF file (starts with \(found), expected 'GGUF')"
        case let .unsupportedVersion(path, version): return "\(path): GGUF version \(version) is not supported (2 and 3 are)"
        case let .implausibleCount(path, offset, what, count, limit):
            return "\(path): byte \(offset): \(what) is \(count), more than the file can hold (at most \(limit))"
        case let .unknownValueType(path, offset, key, type): return "\(path): byte \(offset): metadata '\(key)' has unknown value type \(type)"
        case let .invalidString(path, offset): return "\(path): byte \(offset): string is not valid UTF-8"
        case let .unknownTensorType(path, tensor, type): return "\(path): tensor '\(tensor)' has unknown ggml type \(type)"
        case let .badShape(path, tensor, dimensions, reason): return "\(path): tensor '\(tensor)' shape \(dimensions): \(reason)"
        case let .tensorOutOfBounds(path, tensor, start, end, fileSize):
            return "\(path): tensor '\(tensor)' data at bytes \(start)..<\(end) lies beyond the end of the file (\(fileSize) bytes)"
        case let .misalignedTensor(path, tensor, offset, alignment):
            return "\(path): tensor '\(tensor)' data offset \(offset) is not a multiple of the alignment \(alignment)"
        case let .overlappingTensors(path, first, second): return "\(path): tensors '\(first)' and '\(second)' overlap"
        case let .duplicateTensor(path, tensor): return "\(path): tensor '\(tensor)' appears twice"
        case let .invalidAlignment(path, alignment): return "\(path): general.alignment \(alignment) is not a power of two"
        case let .invalidHeader(path, message): return "\(path): \(message)"
        case let .unwritable(path, reason): return "\(path): cannot write: \(reason)"
        case let .unusableMatrix(path, tensor, type, reason): return "\(path): tensor '\(tensor)' (\(type)) cannot be used as a weight matrix: \(reason)"
        case let .nonFiniteWeight(path, tensor, index, value):
            return "\(path): tensor '\(tensor)' element \(index) is \(value.isNaN ? "NaN" : value > 0 ? "infinity" : "-infinity"): a weight must be a finite number"
        case let .unrepresentableWeight(path, tensor, index, value, type):
            return "\(path): tensor '\(tensor)' element \(index) is \(value), beyond what \(type) holds: it would be written as infinity or NaN"
        }
    }

    public var recoverySuggestion: String? {
        switch self {
        case .truncated, .tensorOutOfBounds: return "the file is incomplete; download or convert it again and compare its checksum"
        case .badMagic: return "pass a .gguf file (safetensors directories are read through their config.json)"
        case .unsupportedVersion: return "convert the model again with a current llama.cpp (convert_hf_to_gguf.py)"
        case .unknownTensorType: return "this ggml type is not supported yet; re-quantize to a common type (Q4_K_M, Q8_0, F16)"
        case .unusableMatrix where isSafetensors: return "save the weights as F32, F16 or BF16 (save_pretrained with torch_dtype)"
        case .unusableMatrix: return "convert or quantize the model again with llama.cpp (F16, BF16, F32 and the Q4–Q8 and K formats work)"
        case .unwritable: return "check that the directory is writable and the disk has room; nothing was left behind"
        case .nonFiniteWeight: return "the checkpoint is damaged, or was converted with an overflow: convert it again from the original weights (nothing was written)"
        case .unrepresentableWeight:
            return "choose a type that holds it (bf16 keeps f32's range; q8_0's block scale holds values up to about 8 million), or check the checkpoint's weights (nothing was written)"
        // Not a malformed file: there is none, or it cannot be opened.
        case .unreadable: return "check the path (and that the file is readable); scripts/fetch-models.sh fetches the test models"
        default:
            return isSafetensors ? "the file is malformed or not written by a safetensors writer; save or download the model again"
                : "the file is malformed or not written by a GGUF writer; convert it again"
        }
    }

    /// Whether the file is a safetensors checkpoint or its config.json (whose hints differ from GGUF's).
    var isSafetensors: Bool {
        let path: String
        switch self {
        case let .unreadable(p, _), let .truncated(p, _, _, _, _), let .badMagic(p, _), let .unsupportedVersion(p, _),
             let .implausibleCount(p, _, _, _, _), let .unknownValueType(p, _, _, _), let .invalidString(p, _),
             let .unknownTensorType(p, _, _), let .badShape(p, _, _, _), let .tensorOutOfBounds(p, _, _, _, _),
             let .misalignedTensor(p, _, _, _), let .overlappingTensors(p, _, _), let .duplicateTensor(p, _),
             let .invalidAlignment(p, _), let .invalidHeader(p, _), let .unwritable(p, _), let .unusableMatrix(p, _, _, _),
             let .nonFiniteWeight(p, _, _, _), let .unrepresentableWeight(p, _, _, _, _):
            path = p
        }
        return path.hasSuffix(".safetensors") || path.hasSuffix(".json")
    }
}
