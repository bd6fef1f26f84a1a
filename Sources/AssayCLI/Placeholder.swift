import ArgumentParser
public struct AssayCommand: AsyncParsableCommand { public init() {} }
