import AssayTestSupport
import Foundation
import Testing
